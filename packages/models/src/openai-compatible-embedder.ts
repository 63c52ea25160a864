import {
  type Embedder,
  type EmbeddingModelProfile,
  type EmbedOptions,
  type EmbedResult,
  UpstreamError,
} from "@sift/core";
import { z } from "zod";
import { postJsonWithRetries } from "./http-support";

export interface OpenAICompatibleEmbedderOptions {
  profile: EmbeddingModelProfile;
  /** Server root without `/v1`, e.g. `http://tei:8080`; requests go to `{baseUrl}/v1/embeddings`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
  /** The `model` field of the request (the server's name for it). */
  model: string;
  fetch?: typeof globalThis.fetch;
  /** Per attempt; default 30,000 ms. */
  timeoutMs?: number;
  /** Texts per request; default 64. */
  batchSize?: number;
  /** Retries after a 429, a 5xx, a timeout or a network error; default 3. */
  maxRetries?: number;
  /** First backoff delay (doubled per retry, with jitter) when the server sends no `retry-after`; default 250 ms. */
  retryDelayMs?: number;
}

export interface OpenAICompatibleEmbedder extends Embedder {
  readonly cacheKey: string;
}

// Tolerant by design (OpenAI, TEI and vLLM add different extra fields); only what we use is checked.
const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

/**
 * Embeddings from a server that speaks the OpenAI embeddings API (OpenAI, TEI, vLLM, llama.cpp server).
 * Prefixes come from the profile and are applied here; vectors are checked against the profile's
 * dimensions and normalised here when the profile asks for it and the server did not.
 */
export function createOpenAICompatibleEmbedder(
  options: OpenAICompatibleEmbedderOptions,
): OpenAICompatibleEmbedder {
  const { profile, model } = options;
  const fetch = options.fetch ?? globalThis.fetch;
  const url = `${options.baseUrl.replace(/\/+$/, "")}/v1/embeddings`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const batchSize = options.batchSize ?? 64;
  const maxRetries = options.maxRetries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const upstream = `embeddings ${url}`;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;

  const request = (input: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> =>
    postJsonWithRetries({
      fetch,
      url,
      headers,
      body: { model, input, encoding_format: "float" },
      timeoutMs,
      maxRetries,
      retryDelayMs,
      what: "embedding server",
      upstream,
      parse: (payload) => parse(payload, input.length),
      signal,
    });

  function parse(body: unknown, expected: number): Float32Array[] {
    const parsed = responseSchema.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamError("embedding server sent a malformed response", upstream, {
        cause: parsed.error,
      });
    }
    const vectors = new Array<Float32Array>(expected);
    for (const item of parsed.data.data) {
      if (item.index >= expected || vectors[item.index]) {
        throw new UpstreamError(`embedding server sent a stray or repeated index ${item.index}`, upstream);
      }
      if (item.embedding.length !== profile.dimensions) {
        throw new UpstreamError(
          `embedding server returned ${item.embedding.length} dims, profile ${profile.id} says ${profile.dimensions}`,
          upstream,
        );
      }
      vectors[item.index] = Float32Array.from(item.embedding);
    }
    if (parsed.data.data.length !== expected) {
      throw new UpstreamError(
        `embedding server returned ${parsed.data.data.length} of ${expected} vectors`,
        upstream,
      );
    }
    return vectors;
  }

  return {
    profile,
    cacheKey: `openai:${model}@${url}:${profile.normalize ? "l2" : "raw"}`,
    async embed({ texts, kind, signal }: EmbedOptions): Promise<EmbedResult> {
      const prefix = kind === "query" ? profile.queryPrefix : profile.passagePrefix;
      const embeddings: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        signal?.throwIfAborted();
        embeddings.push(
          ...(await request(
            texts.slice(start, start + batchSize).map((text) => prefix + text),
            signal,
          )),
        );
      }
      let normalised = 0;
      if (profile.normalize) {
        for (const vector of embeddings) {
          let sum = 0;
          for (const value of vector) sum += value * value;
          const norm = Math.sqrt(sum);
          if (norm > 0 && Math.abs(norm - 1) > 1e-4) {
            for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
            normalised++;
          }
        }
      }
      const warnings =
        normalised > 0
          ? [`${normalised} of ${texts.length} vectors came back unnormalised; normalised here`]
          : [];
      return { embeddings, warnings };
    },
  };
}
