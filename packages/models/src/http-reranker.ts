import { type Reranker, UpstreamError } from "@sift/core";
import { z } from "zod";
import { postJsonWithRetries, vendorMessage } from "./http-support";

/**
 * Which wire protocol the server speaks:
 * - `tei`: Hugging Face Text Embeddings Inference, `POST /rerank` with `{query, texts, raw_scores, truncate}`,
 *   answered by `[{index, score}]` (sorted by score). Errors are `{error, error_type}`.
 * - `vllm`: the Jina/Cohere shape that vLLM, Infinity and hosted APIs serve, `POST /v1/rerank` with
 *   `{model, query, documents}`, answered by `{results: [{index, relevance_score}]}`. Errors are
 *   `{error: {message, …}}` or (older vLLM) `{object: "error", message, …}`.
 */
export type RerankApi = "tei" | "vllm";

export interface HttpRerankerOptions {
  /** Server root, e.g. `http://tei:8080`; `/rerank` (tei) or `/v1/rerank` (vllm) is appended unless the URL already ends in `/rerank`. */
  url: string;
  api: RerankApi;
  /** The `model` field (vllm: required by most servers; tei: ignored, a TEI server serves one model). */
  model?: string;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
  /** Per attempt; default 10,000 ms. */
  timeoutMs?: number;
  /** Passages per request; default 32 (TEI's default `--max-client-batch-size`). */
  batchSize?: number;
  /** Retries after a 429, a 5xx, a timeout or a network error; default 2. */
  maxRetries?: number;
  /** First backoff delay (doubled per retry, with jitter) when the server sends no `retry-after`; default 100 ms. */
  retryDelayMs?: number;
  /** tei only: ask for raw logits (default true) rather than sigmoid-squashed scores. */
  rawScores?: boolean;
  fetch?: typeof globalThis.fetch;
}

// Tolerant by design: servers add fields (document echo, usage, id, model); only what we use is checked.
const teiResponse = z.array(z.object({ index: z.number().int().nonnegative(), score: z.number() }));
const vllmResponse = z.object({
  results: z.array(z.object({ index: z.number().int().nonnegative(), relevance_score: z.number() })),
});

/** vLLM's older error body is `{object: "error", message}`; the rest are handled by `vendorMessage`. */
function rerankVendorMessage(body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message === "string" && (body as { error?: unknown }).error === undefined) return message;
  return vendorMessage(body);
}

/** Scores from a rerank server (TEI, vLLM, or anything speaking the Jina/Cohere `/v1/rerank` shape). */
export function createHttpReranker(options: HttpRerankerOptions): Reranker {
  const { api, model } = options;
  const fetch = options.fetch ?? globalThis.fetch;
  const root = options.url.replace(/\/+$/, "");
  const endpoint = /\/rerank$/.test(root) ? root : `${root}${api === "tei" ? "/rerank" : "/v1/rerank"}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const batchSize = options.batchSize ?? 32;
  const maxRetries = options.maxRetries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const rawScores = options.rawScores ?? true;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be >= 1");
  const upstream = `rerank ${endpoint}`;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;

  const body = (query: string, passages: string[]) =>
    api === "tei"
      ? { query, texts: passages, raw_scores: rawScores, truncate: true, return_text: false }
      : { ...(model === undefined ? {} : { model }), query, documents: passages };

  function parse(payload: unknown, expected: number): number[] {
    const items =
      api === "tei"
        ? teiResponse.safeParse(payload)
        : vllmResponse
            .transform((r) => r.results.map((item) => ({ index: item.index, score: item.relevance_score })))
            .safeParse(payload);
    if (!items.success) {
      throw new UpstreamError("rerank server sent a malformed response", upstream, { cause: items.error });
    }
    const scores = new Array<number>(expected);
    for (const { index, score } of items.data) {
      if (index >= expected || scores[index] !== undefined) {
        throw new UpstreamError(`rerank server sent a stray or repeated index ${index}`, upstream);
      }
      scores[index] = score;
    }
    if (items.data.length !== expected) {
      throw new UpstreamError(`rerank server scored ${items.data.length} of ${expected} passages`, upstream);
    }
    return scores;
  }

  const request = (query: string, passages: string[], signal: AbortSignal | undefined) =>
    postJsonWithRetries({
      fetch,
      url: endpoint,
      headers,
      body: body(query, passages),
      timeoutMs,
      maxRetries,
      retryDelayMs,
      what: "rerank server",
      upstream,
      parse: (payload) => parse(payload, passages.length),
      errorMessage: rerankVendorMessage,
      signal,
    });

  return {
    id: `http:${api}:${model ?? "-"}@${endpoint}${api === "tei" && !rawScores ? ":sigmoid" : ""}`,
    async score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]> {
      signal?.throwIfAborted();
      const scores: number[] = [];
      for (let start = 0; start < passages.length; start += batchSize) {
        scores.push(...(await request(query, passages.slice(start, start + batchSize), signal)));
      }
      return scores;
    },
  };
}
