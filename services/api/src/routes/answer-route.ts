import { type AnswerEvent, answer, collectAnswer, type Passage } from "@sift/answer";
import { andFilters } from "@sift/core";
import type { CollectionSnapshot } from "@sift/retrieval";
import { streamSSE } from "hono/streaming";
import { authOf } from "../auth";
import {
  type AnswerDependencies,
  type AppDependencies,
  requestDeadline,
  resolveCollection,
  retrievalOf,
  underDeadline,
} from "../context";
import type { HeldCollections } from "../held-collections";
import type { RouteTable } from "../route-table";
import { answerEventSchemas, answerRequestSchema, answerResponseSchema, collectionParams } from "../schemas";
import { answerView, chunkDomain } from "../views";

/**
 * The answer route retrieves with RRF k 60, not the search default (z-score, ADR 0016): its evidence
 * threshold must mean the same on a collection of 20 chunks as on one of 6,000. A fused z-score grows with
 * the number of candidates a leg returns (SciFact's calibrated 3.20 is above every top score of the sample
 * corpus, 1.10-1.88), while an RRF score depends on ranks only.
 */
const answerFusion = { method: "rrf" } as const;

export function answerRoute(
  routes: RouteTable,
  deps: AppDependencies & { answer: AnswerDependencies },
  held: HeldCollections,
): void {
  routes.define(
    {
      method: "post",
      path: "/v1/collections/{collection}/answer",
      operationId: "answer",
      summary: "Answer a question from the collection, with checked citations",
      description:
        "JSON by default; Server-Sent Events with `stream: true` or `Accept: text/event-stream` (events " +
        "`retrieval`, `delta`, `citations`, `done`, or `error`). At most SIFT_ANSWER_CONCURRENCY answers run " +
        "at once and SIFT_ANSWER_QUEUE wait; beyond, 503 with Retry-After. A scoped key's filter is ANDed in.",
      tag: "answer",
      role: "reader",
      params: collectionParams,
      body: { schema: answerRequestSchema, required: true, limit: "query", filterAt: "filter" },
      responses: {
        200: { description: "the answer", schema: answerResponseSchema, events: answerEventSchemas },
      },
      errors: [504],
    },
    async (c, { body }) => {
      const collection = await resolveCollection(c, held);
      const searcher = deps.engine.searcher;
      const { mode, rerank } = retrievalOf(searcher, body, searcher.rerankAvailable);
      const streaming = body.stream ?? (c.req.header("accept") ?? "").includes("text/event-stream");
      // One deadline for the whole answer: the wait for a slot, retrieval and generation.
      const deadline = requestDeadline(c, deps.answer.timeoutMs);
      const release = await underDeadline(deadline, "waiting for an answer slot", () =>
        deps.answer.gate.acquire(deadline),
      );
      try {
        const retrievalStarted = performance.now();
        const { response: result, snapshot } = await underDeadline(deadline, "retrieval", async () =>
          searcher.retrieve({
            collectionId: collection.id,
            query: body.question,
            k: body.candidates ?? deps.answer.candidates,
            offset: 0,
            filter: andFilters(authOf(c).filter, body.filter),
            mode,
            fusion: answerFusion,
            rerank,
            signal: deadline,
          }),
        );
        const searchMs = performance.now() - retrievalStarted;
        deps.metrics?.registry.observeSearch(result.timings, result.mode);
        const rerankMs = result.timings.rerankMs;
        const passages = passagesOf(deps, snapshot, result.hits);
        const context = {
          collection: collection.name,
          mode,
          rerank: result.rerank ?? null,
          warnings: result.warnings,
        };
        const run = (signal: AbortSignal) =>
          observed(
            deps,
            answer({
              question: body.question,
              passages,
              generator: deps.answer.generator,
              fallback: deps.answer.fallback,
              contextTokens: deps.answer.contextTokens,
              maxTokens: body.maxTokens ?? deps.answer.maxTokens,
              evidence: deps.answer.evidence,
              signal,
              timings: {
                retrievalMs: rerankMs === undefined ? searchMs : searchMs - rerankMs,
                ...(rerankMs === undefined ? {} : { rerankMs }),
              },
              degraded: result.degraded,
            }),
          );

        if (!streaming) {
          const answered = await collectAnswer(run(deadline));
          release();
          return c.json({ question: body.question, ...context, ...answerView(answered) });
        }
        return streamSSE(
          c,
          async (stream) => {
            const gone = new AbortController();
            stream.onAbort(() => gone.abort(new Error("the client disconnected")));
            try {
              let id = 0;
              for await (const event of run(AbortSignal.any([deadline, gone.signal]))) {
                const data = event.type === "retrieval" ? { ...event, ...context } : event;
                await stream.writeSSE({ event: event.type, data: JSON.stringify(data), id: String(id++) });
              }
            } finally {
              release();
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
                error: {
                  code: "internal",
                  message: "the answer failed; quote the request id when reporting it",
                  requestId: c.get("requestId"),
                },
              }),
            });
          },
        );
      } catch (error) {
        release();
        throw error;
      }
    },
  );
}

/** The answer's events as they are, recording its generation timings when it is done. */
async function* observed(
  deps: AppDependencies,
  events: AsyncIterable<AnswerEvent>,
): AsyncGenerator<AnswerEvent> {
  for await (const event of events) {
    if (event.type === "done") deps.metrics?.registry.observeGeneration(event.timings, event.degraded);
    yield event;
  }
}

/**
 * The hits as the answer pipeline takes them, text from the snapshot the search read (no store round
 * trip), with public chunk ids: everything the pipeline reports about a passage (citations, drops) is then
 * public already.
 */
function passagesOf(
  deps: AppDependencies,
  snapshot: CollectionSnapshot,
  hits: ReadonlyArray<{ chunkId: number } & Omit<Passage, "chunkId" | "text">>,
): Passage[] {
  const publicIds = deps.access.ids.encodeMany(
    chunkDomain(snapshot.collectionId),
    hits.map((hit) => hit.chunkId),
  );
  return hits.map((hit, i) => ({
    chunkId: publicIds[i]!,
    documentId: hit.documentId,
    title: hit.title,
    // The searcher returns only chunks of the snapshot's catalog.
    text: snapshot.catalog.get(hit.chunkId)!.text,
    charStart: hit.charStart,
    charEnd: hit.charEnd,
    score: hit.score,
    scoreKind: hit.scoreKind,
  }));
}
