import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiKeys, ConcurrencyGate, IdCodec, KeyUsage, TokenBuckets } from "@sift/access";
import { createExtractiveGenerator } from "@sift/answer";
import { type Embedder, type Filter, type Logger, type Role, silentLogger } from "@sift/core";
import { CatalogFeed, type CatalogFeedOptions, Engine } from "@sift/engine";
import type { RerankOptions } from "@sift/retrieval";
import { feedStoreOf, openStore } from "@sift/store";
import { createApp } from "./app";
import type { AnswerDependencies } from "./context";
import { ServiceMetrics, timedEmbedder } from "./metrics";
import type { PagesDependencies } from "./pages";

export interface TestAppOptions {
  maxBodyBytes?: number;
  maxQueryBodyBytes?: number;
  requestTimeoutMs?: number;
  maxCollectionsPerTenant?: number;
  feedStreamMs?: number;
  /** The refreshers' poll for writes made past the engine (`SIFT_INDEX_REFRESH_MS`); default none. */
  refreshIntervalMs?: number;
  embedder?: Embedder;
  rerank?: RerankOptions;
  /** Default `off` (tenant from `x-sift-tenant`), as most route tests are about the routes, not keys. */
  auth?: "required" | "off";
  /** Per-key rate limit; default none. */
  rateLimit?: { ratePerSecond: number; burst: number };
  logger?: Logger;
  /** Overrides of the answer settings; default: the extractive generator, every question answered. */
  answer?: Partial<AnswerDependencies>;
  /** Collect metrics and serve `/metrics` (with this token, when given); the query embeddings are timed. */
  metrics?: { token?: string };
  /** Whether a shutdown is draining the service (readiness). */
  draining?: () => boolean;
  /** Serve the playground, the reference page and the eval report. */
  pages?: PagesDependencies;
  /** Feed settings (a clock, ranking options); the feed always runs, on the store's own tables. */
  feed?: Partial<Omit<CatalogFeedOptions, "store" | "feedStore" | "engine">>;
}

/**
 * An app over a real in-memory PGlite store and real indexes in a temp dir: BM25 always, vectors (usearch)
 * when an embedder is given.
 */
export async function createTestApp(options: TestAppOptions = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "sift-api-"));
  const store = await openStore({ driver: "pglite", dataDir: "memory://" });
  await store.migrate();
  const metrics = options.metrics === undefined ? undefined : new ServiceMetrics({ processMetrics: false });
  const embedder =
    options.embedder === undefined || metrics === undefined
      ? options.embedder
      : timedEmbedder(options.embedder, metrics);
  const engine = new Engine({
    store,
    dataDir,
    embedder,
    rerank: options.rerank,
    refreshIntervalMs: options.refreshIntervalMs,
  });
  metrics?.bind({ engine, store });
  const keys = new ApiKeys({ store, cacheMs: 0 });
  const usage = new KeyUsage({ store });
  const feed = new CatalogFeed({ store, feedStore: feedStoreOf(store), engine, ...options.feed });
  const app = createApp({
    store,
    engine,
    feed,
    answer: {
      generator: createExtractiveGenerator(),
      fallback: createExtractiveGenerator(),
      evidence: { threshold: Number.NEGATIVE_INFINITY },
      candidates: 10,
      contextTokens: 1000,
      maxTokens: 128,
      timeoutMs: 30_000,
      gate: new ConcurrencyGate({ concurrency: 4, queue: 16, retryAfterSeconds: 1 }),
      ...options.answer,
    },
    access: {
      mode: options.auth ?? "off",
      keys,
      usage,
      ids: new IdCodec(await store.serviceSecret("id-permutation", 32)),
      rateLimit: options.rateLimit === undefined ? undefined : new TokenBuckets(options.rateLimit),
    },
    limits: {
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      maxQueryBodyBytes: options.maxQueryBodyBytes ?? 64 * 1024,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxCollectionsPerTenant: options.maxCollectionsPerTenant ?? 100,
      // Short, so that a generated request (fuzz.test.ts) to a live stream ends.
      feedStreamMs: options.feedStreamMs ?? 3_000,
    },
    logger: options.logger ?? silentLogger,
    indexesLoaded: () => true,
    metrics: metrics === undefined ? undefined : { registry: metrics, token: options.metrics?.token },
    draining: options.draining,
    pages: options.pages,
  });
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await app.request(url, init);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body:
        text === "" || !(response.headers.get("content-type") ?? "").includes("json")
          ? undefined
          : JSON.parse(text),
    };
  };
  /** A new key; `bearer` is the header to send with it. */
  const createKey = async (tenant: string, role: Role, extra: { filter?: Filter; user?: string } = {}) => {
    const { key, record } = await keys.create({ tenant, role, createdBy: "test", ...extra });
    return { key, record, bearer: { authorization: `Bearer ${key}` } };
  };
  return {
    app,
    dataDir,
    store,
    engine,
    feed,
    keys,
    usage,
    call,
    createKey,
    async close() {
      await usage.close();
      await feed.close();
      await engine.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
