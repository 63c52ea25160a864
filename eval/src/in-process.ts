/**
 * The configurations measured in process: the same Engine the service builds, on the same data dir and
 * collection, with its searcher called directly (no HTTP, no JSON). Run after the service has stopped (one
 * process per data dir), with the same warm-up and query order as the HTTP run.
 */
import path from "node:path";
import { type DocumentStore, silentLogger } from "@sift/core";
import { passageText } from "@sift/dense";
import {
  createEmbedder,
  createRerankStage,
  Engine,
  embeddingEnvSchema,
  embeddingSettingsFromEnv,
  rerankEnvSchema,
  rerankSettingsFromEnv,
} from "@sift/engine";
import type { SearchRequest } from "@sift/retrieval";
import { acquireDataDirLock, openStore } from "@sift/store";
import type { BeirQuery } from "./beir";
import type { EvalConfig } from "./configs";
import type { SearchSettings } from "./http-client";
import { percentile } from "./metrics";
import type { VectorCorpus } from "./peers/lancedb-peer";
import type { Progress } from "./progress";
import type { InProcessResult } from "./report";

export interface InProcessOptions {
  dataDir: string;
  /** The collection the CLI ingested (tenant `default`). */
  collection: string;
  /** The service's model environment (SIFT_EMBEDDING_MODEL, SIFT_RERANK_MODEL, SIFT_MODEL_STORE, …). */
  env: Record<string, string>;
  k: number;
  warmup: number;
  /** Delete the collection (store and index files) afterwards. */
  deleteCollection: boolean;
  /** Also hand back the collection's chunks with their vectors and the queries' vectors (for peers). */
  exportVectors?: readonly BeirQuery[] | undefined;
}

/** What one configuration's in-process run measured, with its rankings to compare with the HTTP run's. */
export interface InProcessRun {
  ranked: Map<string, string[]>;
  latenciesMs: number[];
  seconds: number;
  degraded: number;
}

/**
 * Opens the data dir as the service does, runs every configuration's queries (each with the subset of
 * queries its HTTP run used), and closes it. A configuration the engine refuses is skipped (its HTTP run
 * already reported it unavailable).
 */
export async function measureInProcess(
  options: InProcessOptions,
  configs: ReadonlyArray<{ config: EvalConfig; queries: readonly BeirQuery[] }>,
  progress: Progress,
): Promise<{ runs: Map<string, InProcessRun>; corpus?: VectorCorpus }> {
  const lock = acquireDataDirLock(options.dataDir);
  const store = await openStore({ driver: "pglite", dataDir: path.join(options.dataDir, "pglite") });
  let engine: Engine | undefined;
  try {
    const cwd = process.cwd();
    const embedder = await createEmbedder(
      embeddingSettingsFromEnv(embeddingEnvSchema.parse(options.env), cwd),
      silentLogger,
    );
    const rerank = await createRerankStage(
      rerankSettingsFromEnv(
        { ...rerankEnvSchema.parse(options.env), ...embeddingEnvSchema.parse(options.env) },
        cwd,
      ),
      silentLogger,
    );
    engine = new Engine({
      store,
      dataDir: options.dataDir,
      embedder,
      rerank,
      legTimeoutMs: Number(options.env.SIFT_LEG_TIMEOUT_MS ?? 60_000),
    });
    const collection = await store.getCollection("default", options.collection);
    if (collection === undefined)
      throw new Error(`no collection ${options.collection} in ${options.dataDir}`);
    await engine.load(collection.id);
    const runs = new Map<string, InProcessRun>();
    for (const { config, queries } of configs) {
      runs.set(config.name, await runInProcess(engine, collection.id, config, queries, options, progress));
    }
    const corpus =
      options.exportVectors === undefined
        ? undefined
        : await exportVectors(engine, store, collection.id, options.exportVectors);
    if (options.deleteCollection) {
      await store.deleteCollection(collection.id);
      await engine.drop(collection.id);
    }
    return { runs, ...(corpus === undefined ? {} : { corpus }) };
  } finally {
    await engine?.close();
    await store.close();
    lock.release();
  }
}

async function runInProcess(
  engine: Engine,
  collectionId: number,
  config: EvalConfig,
  queries: readonly BeirQuery[],
  options: InProcessOptions,
  progress: Progress,
): Promise<InProcessRun> {
  const search = (query: string) =>
    engine.searcher.search(searchRequest(collectionId, query, options.k, config.settings));
  for (const query of queries.slice(0, options.warmup))
    await search(query.text.split(/\s+/).reverse().join(" "));
  const step = progress.step(`${config.name} (in process)`, queries.length);
  const ranked = new Map<string, string[]>();
  const latenciesMs: number[] = [];
  let degraded = 0;
  const started = performance.now();
  for (const [i, query] of queries.entries()) {
    const before = performance.now();
    const response = await search(query.text);
    latenciesMs.push(performance.now() - before);
    if (response.degraded.length > 0) degraded++;
    ranked.set(query.id, [...new Set(response.hits.map((h) => h.documentId))]);
    step.update(i + 1);
  }
  const seconds = (performance.now() - started) / 1000;
  step.done(`p50 ${percentile(latenciesMs, 50).toFixed(2)} ms`);
  return { ranked, latenciesMs, seconds, degraded };
}

/** The Searcher request an HTTP search with these settings becomes (as the search route builds it). */
export function searchRequest(
  collectionId: number,
  query: string,
  k: number,
  settings: SearchSettings,
): SearchRequest {
  const { weights, ...fusion } = settings.fusion ?? {};
  return {
    collectionId,
    query,
    k,
    offset: 0,
    mode: settings.mode,
    fusion: {
      ...fusion,
      ...(weights === undefined ? {} : { weights: { bm25: weights.bm25 ?? 1, dense: weights.dense ?? 1 } }),
    },
    rerank: settings.rerank ?? false,
  };
}

/** Summarises an in-process run against its HTTP run's rankings. */
export function inProcessResult(
  run: InProcessRun,
  httpRanked: ReadonlyMap<string, string[]>,
  summarise: (samples: readonly number[]) => InProcessResult["latency_ms"],
): InProcessResult {
  let identical = 0;
  for (const [query, ranking] of run.ranked) {
    const http = httpRanked.get(query);
    if (http !== undefined && http.length === ranking.length && http.every((d, i) => d === ranking[i]))
      identical++;
  }
  return {
    latency_ms: summarise(run.latenciesMs),
    qps: run.latenciesMs.length / run.seconds,
    queries: run.latenciesMs.length,
    identicalRankings: identical,
    degradedQueries: run.degraded,
  };
}

/**
 * The collection's chunks with the vectors Sift indexed them by, and the queries' vectors, through the
 * engine's embedder: both come from the store's embedding cache, filled by ingestion and the HTTP run.
 */
async function exportVectors(
  engine: Engine,
  store: DocumentStore,
  collectionId: number,
  queries: readonly BeirQuery[],
): Promise<VectorCorpus | undefined> {
  const embedder = engine.embedder;
  if (embedder === undefined) return undefined;
  const ids = await store.listChunkIds(collectionId);
  const chunks: VectorCorpus["chunks"] = [];
  for (let i = 0; i < ids.length; i += 256) {
    const batch = await store.getChunks(ids.slice(i, i + 256));
    const texts = batch.map((chunk) => passageText(chunk));
    const { embeddings } = await embedder.embed({ texts, kind: "passage" });
    batch.forEach((chunk, j) => {
      chunks.push({ documentId: chunk.externalId, text: texts[j]!, vector: embeddings[j]! });
    });
  }
  const { embeddings } = await embedder.embed({ texts: queries.map((q) => q.text), kind: "query" });
  return {
    model: embedder.profile.id,
    chunks,
    queryVectors: new Map(queries.map((q, i) => [q.id, embeddings[i]!])),
  };
}
