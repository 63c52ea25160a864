/**
 * `pnpm bench:bm25 [--dataset DIR] [--split test] [--database-url URL]`
 *
 * Ingests a BEIR dataset through the real ingestion job into a fresh store (embedded PGlite in a temp
 * dir unless --database-url is given), then runs every judged query in-process through the Searcher and
 * again over HTTP through the service, and prints ingestion throughput, search latency p50/p99, queries per
 * second and nDCG@10 / Recall@100 (document level: a document ranks at its best chunk).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { silentLogger } from "@sift/core";
import { Engine } from "@sift/engine";
import { readSource } from "@sift/ingest";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { loadBeirQueries } from "./beir";
import { dedupe, mean, ndcgAt, percentile, recallAt } from "./metrics";
import { startServiceProcess } from "./service-process";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    split: { type: "string", default: "test" },
    "database-url": { type: "string" },
    rounds: { type: "string", default: "3" },
  },
});
const datasetDir = path.resolve(values.dataset);
const rounds = Number(values.rounds);

const dataDir = await mkdtemp(path.join(tmpdir(), "sift-bench-"));
let databaseName: string | undefined;
let storeUrl = values["database-url"];
if (storeUrl !== undefined) {
  // A fresh database per run, so figures never include an earlier run's data.
  const postgres = (await import("postgres")).default;
  databaseName = `sift_bench_${Date.now()}`;
  const admin = postgres(storeUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${databaseName}`);
  await admin.end();
  const url = new URL(storeUrl);
  url.pathname = `/${databaseName}`;
  storeUrl = url.toString();
}
const store = await openStore(
  storeUrl === undefined
    ? { driver: "pglite", dataDir: path.join(dataDir, "pglite") }
    : { driver: "postgres", url: storeUrl },
);
try {
  await store.migrate();
  const analyzer = createAnalyzer();
  const engine = new Engine({ store, dataDir, analyzer, logger: silentLogger });
  const { collection } = await store.ensureCollection({ tenant: "default", name: "bench" });

  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}`);
  console.log(
    `store: ${storeUrl === undefined ? "PGlite (embedded)" : "Postgres server"}; dataset: ${datasetDir}`,
  );
  const ingestStarted = performance.now();
  const { job } = await engine.ingest({
    collectionId: collection.id,
    source: readSource(datasetDir, { format: "beir" }),
    sourceLabel: datasetDir,
    batchSize: 200,
    logger: silentLogger,
  });
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  const mergeStarted = performance.now();
  await engine.mergeLexical(collection.id);
  const mergeSeconds = (performance.now() - mergeStarted) / 1000;
  console.log(
    `ingest: ${job.counts.created} documents, ${job.counts.chunks} chunks in ${ingestSeconds.toFixed(1)} s ` +
      `= ${(job.counts.created / ingestSeconds).toFixed(0)} documents/s (BM25 generation rebuild: ${mergeSeconds.toFixed(2)} s)`,
  );

  const { queries, qrels } = await loadBeirQueries(datasetDir, values.split);
  const searcher = engine.searcher;

  const run = async (label: string, search: (query: string) => Promise<string[]>) => {
    const latencies: number[] = [];
    let ndcg: number[] = [];
    let recall: number[] = [];
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      ndcg = [];
      recall = [];
      for (const query of queries) {
        const t0 = performance.now();
        const ranked = dedupe(await search(query.text));
        latencies.push(performance.now() - t0);
        const judged = qrels.get(query.id) ?? new Map<string, number>();
        ndcg.push(ndcgAt(ranked, judged, 10));
        recall.push(recallAt(ranked, judged, 100));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${label}: ${queries.length} queries × ${rounds} rounds; latency p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(2)} ms; ${(latencies.length / seconds).toFixed(0)} queries/s (1 client); ` +
        `nDCG@10 ${mean(ndcg).toFixed(4)}, Recall@100 ${mean(recall).toFixed(4)}`,
    );
  };

  const snapshot = engine.snapshot(collection.id)!;
  await run("bm25 index only (k=100)", async (query) => {
    const { hits } = snapshot.lexical.search({ query, limit: 100 });
    return hits.map((h) => snapshot.catalog.get(h.chunkId)!.document.externalId);
  });
  for (const k of [10, 100]) {
    await run(`searcher, with hydration + snippets (k=${k})`, async (query) => {
      const result = await searcher.search({
        collectionId: collection.id,
        query,
        k,
        offset: 0,
        mode: "bm25",
      });
      return result.hits.map((h) => h.documentId);
    });
  }
  await engine.close();
  await store.close();

  // Over HTTP: the real service (a child process) on the same data, one client, sequential requests.
  const service = await startServiceProcess({
    SIFT_DATA_DIR: dataDir,
    PORT: "0",
    SIFT_SAMPLE_CORPUS: "false",
    SIFT_LOG_LEVEL: "warn",
    // BM25 only: no embedding model to load (the default service would answer hybrid, degraded).
    SIFT_EMBEDDING_MODEL: "none",
    SIFT_RERANK_MODEL: "none",
    ...(storeUrl === undefined ? {} : { DATABASE_URL: storeUrl }),
  });
  try {
    for (const k of [10, 100]) {
      await run(`HTTP POST /search (k=${k})`, async (query) => {
        const response = await fetch(`${service.url}/v1/collections/bench/search`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query, k, mode: "bm25" }),
        });
        if (!response.ok) throw new Error(`search failed: ${response.status} ${await response.text()}`);
        const body = (await response.json()) as { hits: Array<{ documentId: string }> };
        return body.hits.map((h) => h.documentId);
      });
    }
  } finally {
    await service.stop();
  }
} finally {
  await store.close().catch(() => {});
  await rm(dataDir, { recursive: true, force: true });
  if (databaseName !== undefined && values["database-url"] !== undefined) {
    const postgres = (await import("postgres")).default;
    const admin = postgres(values["database-url"], { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${databaseName}`);
    await admin.end();
  }
}
