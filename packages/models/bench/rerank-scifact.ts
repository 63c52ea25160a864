/**
 * Reranking on a BEIR dataset (SciFact by default): nDCG@10 of hybrid retrieval (BM25 + dense, RRF k=60)
 * against hybrid + rerank over the top 20/30/50 candidates, for each blend (`none`: the reranker's order;
 * `rrf`: RRF of rerank rank and fused rank; `minmax`: 0.5/0.5 mix of min-max normalised scores), plus the
 * reranker's throughput (pairs/s) and per-query rerank latency p50/p99. A measurement, not a gate.
 *
 *   npx tsx packages/models/bench/rerank-scifact.ts [--reranker KEY | --reranker http --url U --api tei|vllm
 *     [--http-model M] | --reranker bi-encoder] [--candidates 20,30,50] [--blends none,rrf,minmax]
 *     [--data-dir DIR] [--prepare-only] [--queries N]
 *
 * The corpus is ingested and embedded (all-MiniLM-L6-v2, ~9 minutes on 2 cores) into a kept data directory
 * ($SIFT_BENCH_DIR, default /tmp/sift-bench-scifact) once; later runs reuse it (ingestion finds every
 * document unchanged and the embedding cache lives in the same store). `--reranker` defaults to the
 * manifest's default reranker; `bi-encoder` is a stand-in that rescores candidates by the embedder's cosine
 * (NOT a cross-encoder: it checks the pipeline and the blends when no cross-encoder is available).
 * Reads SciFact from $SIFT_SCIFACT_DIR (default /work/shared/datasets/scifact) and models from
 * $SIFT_MODEL_STORE (default ~/.cache/sift/models).
 *
 * Last run (2026-11-26, shared 2-core box, noisy): no cross-encoder exists in the store (none on PyPI), so
 * only the bi-encoder stand-in could be measured: hybrid 0.7176; stand-in rerank@20/30/50 none 0.6597 /
 * 0.6546 / 0.6497, rrf 0.6929 / 0.6901 / 0.6862, minmax 0.7000 / 0.6957 / 0.6970. A reranker weaker than
 * the first stage loses about 0.06 on its own and a third to a half of that blended.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { cpus, homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Reranker, silentLogger } from "@sift/core";
import { openStore } from "@sift/store";
// Sibling packages by path: @sift/models does not depend on them, only this bench does.
import { DenseIndexManager } from "../../dense/src/index";
import { readSource, runIngestion } from "../../ingest/src/index";
import { LexicalIndexManager } from "../../lexical/src/index";
import { type RerankBlend, Searcher } from "../../retrieval/src/index";
import { createAnalyzer } from "../../text/src/index";
import { openUsearchIndex } from "../../vector/src/index";
import {
  createHttpReranker,
  createTransformersEmbedder,
  createTransformersReranker,
  loadModelProfiles,
  type RerankApi,
  withEmbeddingCache,
  withRerankCache,
} from "../src/index";

const { values } = parseArgs({
  options: {
    reranker: { type: "string" },
    url: { type: "string" },
    api: { type: "string", default: "tei" },
    "http-model": { type: "string" },
    candidates: { type: "string", default: "20,30,50" },
    blends: { type: "string", default: "none,rrf,minmax" },
    "data-dir": { type: "string" },
    split: { type: "string", default: "test" },
    queries: { type: "string" },
    "prepare-only": { type: "boolean", default: false },
  },
});
const datasetDir = process.env.SIFT_SCIFACT_DIR ?? "/work/shared/datasets/scifact";
const modelStore = process.env.SIFT_MODEL_STORE ?? path.join(homedir(), ".cache", "sift", "models");
const dataDir = values["data-dir"] ?? process.env.SIFT_BENCH_DIR ?? "/tmp/sift-bench-scifact";
const manifest = fileURLToPath(new URL("../../../infra/models/manifest.json", import.meta.url));
const candidateCaps = values.candidates.split(",").map(Number);
const blends = values.blends.split(",") as RerankBlend[];

// --- judgements and nDCG@10 (linear gain, log2 discount, trec_eval ndcg_cut conventions) ------------------
function loadJudged(split: string) {
  const qrels = new Map<string, Map<string, number>>();
  for (const [i, line] of readFileSync(path.join(datasetDir, "qrels", `${split}.tsv`), "utf8")
    .split("\n")
    .entries()) {
    if (line.trim() === "" || (i === 0 && line.startsWith("query-id"))) continue;
    const [queryId, docId, grade] = line.split("\t") as [string, string, string];
    qrels.set(queryId, (qrels.get(queryId) ?? new Map()).set(docId, Number(grade)));
  }
  const queries = readFileSync(path.join(datasetDir, "queries.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { _id: string; text: string })
    .filter((q) => qrels.has(q._id));
  return { queries, qrels };
}
function ndcg10(ranked: string[], judged: Map<string, number>): number {
  const top = [...new Set(ranked)].slice(0, 10);
  const dcg = top.reduce((sum, id, i) => sum + (judged.get(id) ?? 0) / Math.log2(i + 2), 0);
  const ideal = [...judged.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

/** Counts pairs and time of every call that reaches the model (below the cache). */
function timed(reranker: Reranker) {
  const calls: Array<{ pairs: number; ms: number }> = [];
  const wrapped: Reranker = {
    id: reranker.id,
    async score(query, passages, signal) {
      const t0 = performance.now();
      const scores = await reranker.score(query, passages, signal);
      calls.push({ pairs: passages.length, ms: performance.now() - t0 });
      return scores;
    },
  };
  return { wrapped, calls };
}

await mkdir(dataDir, { recursive: true });
const store = await openStore({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
try {
  await store.migrate();
  const analyzer = createAnalyzer();
  const lexical = new LexicalIndexManager({ store, dataDir, analyzer, logger: silentLogger });
  const { collection } = await store.ensureCollection({ tenant: "default", name: "bench" });
  const profiles = await loadModelProfiles(manifest);
  const entry = profiles.resolveEmbeddingProfile();
  const embedder = withEmbeddingCache(
    createTransformersEmbedder({ profile: entry.profile, modelStore }),
    store,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}; embedder ${entry.profile.id}; data ${dataDir}`,
  );

  let t0 = performance.now();
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
    `ingest: ${job.counts.created} created, ${job.counts.unchanged} unchanged, ${job.counts.chunks} chunks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
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
  t0 = performance.now();
  const sync = await dense.sync(collection.id);
  console.log(
    `dense sync: ${sync.added} chunks embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (values["prepare-only"]) {
    await dense.close();
    await lexical.close();
    process.exit(0);
  }

  // --- the reranker under test ---------------------------------------------------------------------------
  let base: Reranker | undefined;
  let label = "";
  try {
    if (values.reranker === "http") {
      if (values.url === undefined) throw new Error("--reranker http needs --url");
      base = createHttpReranker({
        url: values.url,
        api: values.api as RerankApi,
        ...(values["http-model"] === undefined ? {} : { model: values["http-model"] }),
        timeoutMs: 60_000,
      });
      label = base.id;
    } else if (values.reranker === "bi-encoder") {
      base = {
        id: `bi-encoder:${entry.profile.id}`,
        async score(query, passages, signal) {
          const [q] = (await embedder.embed({ texts: [query], kind: "query", signal })).embeddings;
          const { embeddings } = await embedder.embed({ texts: passages, kind: "passage", signal });
          return embeddings.map((v) => v.reduce((s, x, i) => s + x * q![i]!, 0));
        },
      };
      label = `${base.id} (stand-in, NOT a cross-encoder)`;
    } else {
      const reranker = profiles.resolveRerankerProfile(values.reranker);
      const local = createTransformersReranker({ modelStore, profile: reranker.profile });
      await local.load();
      base = local;
      label = `${local.id} (in process)`;
    }
  } catch (error) {
    console.log(`no reranker: ${(error as Error).message}`);
  }

  const { queries: allQueries, qrels } = loadJudged(values.split);
  const queries = values.queries === undefined ? allQueries : allQueries.slice(0, Number(values.queries));
  const searcherFor = (rerank?: ConstructorParameters<typeof Searcher>[0]["rerank"]) =>
    new Searcher({
      store,
      lexical: (id) => lexical.open(id),
      analyzer,
      dense: { embedder, vectors: (id) => dense.open(id) },
      legTimeoutMs: 60_000,
      rerank,
    });
  const run = async (searcher: Searcher, rerank: boolean) => {
    const scores: number[] = [];
    const latencies: number[] = [];
    for (const query of queries) {
      const result = await searcher.search({
        collectionId: collection.id,
        query: query.text,
        k: 10,
        offset: 0,
        mode: "hybrid",
        rerank,
      });
      if (result.degraded.length > 0) throw new Error(`degraded: ${result.warnings.join("; ")}`);
      if (result.timings.rerankMs !== undefined) latencies.push(result.timings.rerankMs);
      scores.push(
        ndcg10(
          result.hits.map((h) => h.documentId),
          qrels.get(query._id)!,
        ),
      );
    }
    return { ndcg: mean(scores), latencies };
  };

  console.log(
    `queries: ${queries.length} (${values.split}); reranker: ${base === undefined ? "none" : label}`,
  );
  const hybrid = await run(searcherFor(), false);
  console.log(`${"hybrid (rrf k=60)".padEnd(34)} nDCG@10 ${hybrid.ndcg.toFixed(4)}`);
  if (base !== undefined) {
    for (const candidates of candidateCaps) {
      // A fresh cache per cap: the first blend pays for the model (and is timed), the others reuse its scores.
      const { wrapped, calls } = timed(base);
      const cached = withRerankCache(wrapped, { maxEntries: 1_000_000 });
      for (const blend of blends) {
        const before = calls.length;
        const result = await run(
          searcherFor({ reranker: cached, candidates, timeoutMs: 600_000, blend }),
          true,
        );
        const fresh = calls.slice(before);
        const pairs = fresh.reduce((s, c) => s + c.pairs, 0);
        const ms = fresh.reduce((s, c) => s + c.ms, 0);
        const speed =
          fresh.length === 0
            ? "(scores from the cache)"
            : `${((pairs / ms) * 1000).toFixed(1)} pairs/s, rerank latency p50 ${percentile(result.latencies, 50).toFixed(0)} ms p99 ${percentile(result.latencies, 99).toFixed(0)} ms`;
        console.log(
          `${`hybrid + rerank@${candidates} (${blend})`.padEnd(34)} nDCG@10 ${result.ndcg.toFixed(4)}  Δ ${(result.ndcg - hybrid.ndcg >= 0 ? "+" : "") + (result.ndcg - hybrid.ndcg).toFixed(4)}  ${speed}`,
        );
      }
    }
    await base.close?.();
  }
  await dense.close();
  await lexical.close();
} finally {
  await store.close();
}
