/**
 * `pnpm bench:hybrid [--dataset DIR] [--split test] [--model KEY]`
 *
 * Ingests a BEIR dataset into a fresh embedded store, embeds every chunk with the default (or given)
 * embedding model from the offline model store, builds the usearch index, then runs the judged queries in
 * every retrieval mode and fusion method and prints nDCG@10, Recall@100 and latency per configuration,
 * plus embedding throughput and index build time. A measurement, not a gate.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { silentLogger } from "@sift/core";
import { DenseIndexManager } from "@sift/dense";
import { readSource, runIngestion } from "@sift/ingest";
import { LexicalIndexManager } from "@sift/lexical";
import { createTransformersEmbedder, loadModelProfiles, withEmbeddingCache } from "@sift/models";
import { type FusionMethod, Searcher, type SearchMode } from "@sift/retrieval";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { openUsearchIndex } from "@sift/vector";
import { loadBeirQueries } from "./beir";
import { dedupe, mean, ndcgAt, percentile, recallAt } from "./metrics";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    split: { type: "string", default: "test" },
    model: { type: "string" },
  },
});
const datasetDir = path.resolve(values.dataset);
const manifest = fileURLToPath(new URL("../../infra/models/manifest.json", import.meta.url));
const modelStore = process.env.SIFT_MODEL_STORE ?? path.join(homedir(), ".cache", "sift", "models");

const dataDir = await mkdtemp(path.join(tmpdir(), "sift-hybrid-"));
const store = await openStore({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
try {
  await store.migrate();
  const analyzer = createAnalyzer();
  const lexical = new LexicalIndexManager({ store, dataDir, analyzer, logger: silentLogger });
  const { collection } = await store.ensureCollection({ tenant: "default", name: "bench" });
  const entry = (await loadModelProfiles(manifest)).resolveEmbeddingProfile(values.model);
  const embedder = withEmbeddingCache(
    createTransformersEmbedder({ profile: entry.profile, modelStore }),
    store,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}; model ${entry.profile.id}`,
  );

  const ingestStarted = performance.now();
  const job = await runIngestion({
    store,
    lexical,
    collectionId: collection.id,
    source: readSource(datasetDir, { format: "beir" }),
    sourceLabel: datasetDir,
    batchSize: 500,
    logger: silentLogger,
  });
  console.log(
    `ingest (store + BM25): ${job.counts.created} documents, ${job.counts.chunks} chunks in ${((performance.now() - ingestStarted) / 1000).toFixed(1)} s`,
  );

  const dense = new DenseIndexManager({
    store,
    embedder,
    dataDir,
    batchSize: 64,
    openIndex: (id) =>
      openUsearchIndex({
        path: path.join(dataDir, "vectors", String(id)),
        dimensions: entry.profile.dimensions,
        metric: "cos",
      }),
    onProgress: ({ embedded, total }) => {
      if (embedded % 1024 < 64 || embedded === total)
        process.stderr.write(`\rembedding ${embedded}/${total}`);
    },
  });
  const embedStarted = performance.now();
  const sync = await dense.sync(collection.id);
  const embedSeconds = (performance.now() - embedStarted) / 1000;
  process.stderr.write("\n");
  console.log(
    `embed + index: ${sync.added} chunks in ${embedSeconds.toFixed(1)} s = ${(sync.added / embedSeconds).toFixed(1)} passages/s (including usearch upserts and flush)`,
  );

  const searcher = new Searcher({
    store,
    lexical: (id) => lexical.open(id),
    analyzer,
    dense: { embedder, vectors: (id) => dense.open(id) },
    legTimeoutMs: 60_000,
  });
  const { queries, qrels } = await loadBeirQueries(datasetDir, values.split);
  const configs: Array<{ name: string; mode: SearchMode; method?: FusionMethod }> = [
    { name: "bm25", mode: "bm25" },
    { name: "dense", mode: "dense" },
    { name: "hybrid (rrf k=60)", mode: "hybrid", method: "rrf" },
    { name: "hybrid (minmax)", mode: "hybrid", method: "minmax" },
    { name: "hybrid (zscore)", mode: "hybrid", method: "zscore" },
    { name: "hybrid (dbsf)", mode: "hybrid", method: "dbsf" },
  ];
  for (const config of configs) {
    const ndcg: number[] = [];
    const recall: number[] = [];
    const latencies: number[] = [];
    for (const query of queries) {
      const t0 = performance.now();
      const result = await searcher.search({
        collectionId: collection.id,
        query: query.text,
        k: 100,
        offset: 0,
        mode: config.mode,
        fusion: { method: config.method },
      });
      latencies.push(performance.now() - t0);
      if (result.degraded.length > 0) throw new Error(`degraded: ${result.warnings.join("; ")}`);
      const ranked = dedupe(result.hits.map((h) => h.documentId));
      const judged = qrels.get(query.id)!;
      ndcg.push(ndcgAt(ranked, judged, 10));
      recall.push(recallAt(ranked, judged, 100));
    }
    console.log(
      `${config.name.padEnd(20)} nDCG@10 ${mean(ndcg).toFixed(4)}  Recall@100 ${mean(recall).toFixed(4)}  ` +
        `latency p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms (k=100, in process)`,
    );
  }
  await dense.close();
  await lexical.close();
} finally {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
