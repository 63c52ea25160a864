import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createExtractiveGenerator } from "@sift/answer";
import { type Embedder, silentLogger } from "@sift/core";
import { Engine } from "@sift/engine";
import type { RerankOptions } from "@sift/retrieval";
import { openStore } from "@sift/store";
import { createApp } from "./app";
import type { AnswerDependencies } from "./context";

/**
 * An app over a real in-memory PGlite store and real indexes in a temp dir: BM25 always, vectors (usearch)
 * when an embedder is given.
 */
export async function createTestApp(
  options: {
    maxBodyBytes?: number;
    embedder?: Embedder;
    rerank?: RerankOptions;
    /** Overrides of the answer settings; default: the extractive generator, every question answered. */
    answer?: Partial<AnswerDependencies>;
  } = {},
) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "sift-api-"));
  const store = await openStore({ driver: "pglite", dataDir: "memory://" });
  await store.migrate();
  const engine = new Engine({ store, dataDir, embedder: options.embedder, rerank: options.rerank });
  const app = createApp({
    store,
    engine,
    answer: {
      generator: createExtractiveGenerator(),
      fallback: createExtractiveGenerator(),
      evidence: { threshold: Number.NEGATIVE_INFINITY },
      candidates: 10,
      contextTokens: 1000,
      maxTokens: 128,
      timeoutMs: 30_000,
      ...options.answer,
    },
    logger: silentLogger,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    indexRefreshMs: 0,
    indexesLoaded: () => true,
  });
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await app.request(url, init);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? undefined : JSON.parse(text),
    };
  };
  return {
    app,
    store,
    engine,
    call,
    async close() {
      await engine.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
