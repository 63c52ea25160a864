import { answer, collectAnswer, type Passage } from "@sift/answer";
import { filterSchema } from "@sift/core";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import {
  type AnswerDependencies,
  type AppDependencies,
  type AppEnv,
  readBody,
  resolveCollection,
  retrievalOf,
} from "../context";

export const answerRequestSchema = z.strictObject({
  question: z.string().trim().min(1, "must not be empty").max(4096),
  filter: filterSchema.optional(),
  /** Default: `hybrid` when the service has an embedding model, else `bm25`. */
  mode: z.enum(["bm25", "dense", "hybrid"]).optional(),
  /** Default: true when the service has a reranker. */
  rerank: z.boolean().optional(),
  /** Passages retrieved before packing; default the service's setting. */
  candidates: z.number().int().min(1).max(100).optional(),
  /** Output token budget; default the service's setting. */
  maxTokens: z.number().int().min(1).max(4096).optional(),
  /** Server-Sent Events instead of one JSON body (also chosen by `Accept: text/event-stream`). */
  stream: z.boolean().optional(),
});

export function answerRoute(deps: AppDependencies & { answer: AnswerDependencies }) {
  const app = new Hono<AppEnv>();

  app.post("/:collection/answer", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const body = await readBody(c, answerRequestSchema);
    const searcher = deps.engine.searcher;
    const { mode, rerank } = retrievalOf(searcher, body, searcher.rerankAvailable);
    const streaming = body.stream ?? (c.req.header("accept") ?? "").includes("text/event-stream");

    // One signal for the whole answer: the client going away, or the time budget running out.
    const controller = new AbortController();
    const onClientGone = () => controller.abort(new Error("the client disconnected"));
    c.req.raw.signal.addEventListener("abort", onClientGone, { once: true });
    const timer = setTimeout(
      () => controller.abort(new Error(`answer time budget of ${deps.answer.timeoutMs} ms ran out`)),
      deps.answer.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      c.req.raw.signal.removeEventListener("abort", onClientGone);
    };

    try {
      await deps.engine.refreshIfStale(collection.id, deps.indexRefreshMs);
      const retrievalStarted = performance.now();
      const result = await searcher.search({
        collectionId: collection.id,
        query: body.question,
        k: body.candidates ?? deps.answer.candidates,
        offset: 0,
        filter: body.filter,
        mode,
        rerank,
        signal: controller.signal,
      });
      const searchMs = performance.now() - retrievalStarted;
      const rerankMs = result.timings.rerankMs;
      const chunks = new Map(
        (await deps.store.getChunks(result.hits.map((h) => h.chunkId))).map((chunk) => [chunk.id, chunk]),
      );
      const passages: Passage[] = result.hits.flatMap((hit) => {
        const chunk = chunks.get(hit.chunkId);
        return chunk === undefined
          ? []
          : [
              {
                chunkId: hit.chunkId,
                documentId: hit.documentId,
                title: hit.title,
                text: chunk.text,
                charStart: hit.charStart,
                charEnd: hit.charEnd,
                score: hit.score,
                scoreKind: hit.scoreKind,
              },
            ];
      });
      const events = answer({
        question: body.question,
        passages,
        generator: deps.answer.generator,
        fallback: deps.answer.fallback,
        contextTokens: deps.answer.contextTokens,
        maxTokens: body.maxTokens ?? deps.answer.maxTokens,
        evidence: deps.answer.evidence,
        signal: controller.signal,
        timings: {
          retrievalMs: rerankMs === undefined ? searchMs : searchMs - rerankMs,
          ...(rerankMs === undefined ? {} : { rerankMs }),
        },
        degraded: result.degraded,
      });
      const context = {
        collection: collection.name,
        mode,
        rerank: result.rerank ?? null,
        warnings: result.warnings,
      };

      if (!streaming) {
        const answered = await collectAnswer(events);
        cleanup();
        return c.json({ question: body.question, ...context, ...answered });
      }
      return streamSSE(
        c,
        async (stream) => {
          stream.onAbort(() => controller.abort(new Error("the client disconnected")));
          try {
            let id = 0;
            for await (const event of events) {
              const data = event.type === "retrieval" ? { ...event, ...context } : event;
              await stream.writeSSE({ event: event.type, data: JSON.stringify(data), id: String(id++) });
            }
          } finally {
            cleanup();
          }
        },
        async (error, stream) => {
          deps.logger.error("answer stream failed", {
            requestId: c.get("requestId"),
            error: error.stack ?? error.message,
          });
          await stream.writeSSE({
            event: "error",
            data: JSON.stringify({
              error: { code: "internal", message: error.message, requestId: c.get("requestId") },
            }),
          });
        },
      );
    } catch (error) {
      cleanup();
      throw error;
    }
  });

  return app;
}
