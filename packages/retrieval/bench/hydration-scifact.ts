/**
 * `npx tsx packages/retrieval/bench/hydration-scifact.ts [--mode bm25|hybrid] [--k 100] [--rounds 3]
 * [--snippet-cache-bytes N]`
 *
 * The Searcher alone on BEIR SciFact held in memory (no store, no HTTP): the corpus chunked as ingestion
 * chunks it, one lexical segment, the catalog, and for `hybrid` a stand-in dense leg (a deterministic
 * pseudo-random ranking per query: no model, no graph), so what is measured is everything but embedding.
 * Prints per round (the first round analyses each chunk text for its snippets; later rounds read them from
 * the snippet cache unless `--snippet-cache-bytes 0`) search p50/p99, hydration p50, BM25 leg p50, the
 * JSON.stringify of the response, and queries/s. A dev bench: it builds the segment from the lexical
 * package's internals.
 */
import { parseArgs } from "node:util";
import type { Embedder, VectorIndex, VectorSearchResult } from "@sift/core";
import { createAnalyzer } from "@sift/text";
import { analyzeChunk } from "../../lexical/src/analyzed-document";
import { defaultBm25Config } from "../../lexical/src/config";
import { LexicalSnapshot } from "../../lexical/src/lexical-snapshot";
import { loadScifact } from "../../lexical/src/scifact-test-support";
import { buildSegment } from "../../lexical/src/segment-builder";
import { SegmentView } from "../../lexical/src/segment-view";
import { ChunkCatalog } from "../src/chunk-catalog";
import type { CollectionSnapshot } from "../src/collection-snapshot";
import { Searcher } from "../src/search";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "bm25" },
    k: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    "snippet-cache-bytes": { type: "string" },
  },
});
const mode = values.mode as "bm25" | "hybrid";
const cacheBytes = values["snippet-cache-bytes"];

const analyzer = createAnalyzer();
const scifact = loadScifact();
const segment = buildSegment(
  scifact.chunks.map((chunk) => analyzeChunk(chunk, analyzer)),
  defaultBm25Config,
);
const lexical = new LexicalSnapshot([SegmentView.of(segment)], {
  analyzer,
  config: defaultBm25Config,
  revision: 1,
});
const chunkIds = scifact.chunks.map((chunk) => chunk.id);
const standInIndex = {
  async search({ vector, limit }: { vector: Float32Array; limit: number }): Promise<VectorSearchResult> {
    let seed = Math.floor(vector[0]! * 1e6) >>> 0;
    const seen = new Set<number>();
    const hits: VectorSearchResult["hits"] = [];
    for (let i = 0; hits.length < Math.min(limit, chunkIds.length); i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const chunkId = chunkIds[seed % chunkIds.length]!;
      if (!seen.has(chunkId)) seen.add(chunkId) && hits.push({ chunkId, score: 1 - i / 10_000 });
    }
    return { hits, warnings: [] };
  },
} as unknown as VectorIndex;
const standInEmbedder = {
  async embed({ texts }: { texts: string[] }) {
    return {
      embeddings: texts.map((text) => new Float32Array([((text.length * 7919) % 1000) / 1000])),
      warnings: [],
    };
  },
} as unknown as Embedder;
const snapshot: CollectionSnapshot = {
  collectionId: 1,
  revision: 1,
  catalog: ChunkCatalog.of(scifact.chunks),
  lexical,
  dense: { index: standInIndex },
};
const searcher = new Searcher({
  snapshots: { current: () => snapshot, open: async () => snapshot },
  analyzer,
  embedder: standInEmbedder,
  ...(cacheBytes === undefined ? {} : { snippetCacheBytes: Number(cacheBytes) }),
});

const at = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
for (let round = 1; round <= Number(values.rounds); round++) {
  const latencies: number[] = [];
  const hydrate: number[] = [];
  const leg: number[] = [];
  const json: number[] = [];
  const started = performance.now();
  for (const query of scifact.queries) {
    const t0 = performance.now();
    const response = await searcher.search({
      collectionId: 1,
      query: query.text,
      k: Number(values.k),
      offset: 0,
      mode,
    });
    const t1 = performance.now();
    JSON.stringify(response);
    json.push(performance.now() - t1);
    latencies.push(t1 - t0);
    hydrate.push(response.timings.hydrateMs);
    leg.push(response.timings.bm25Ms ?? 0);
  }
  const qps = scifact.queries.length / ((performance.now() - started) / 1000);
  console.log(
    `${mode} k=${values.k} round ${round}: search p50 ${at(latencies, 50).toFixed(2)} / p99 ` +
      `${at(latencies, 99).toFixed(2)} ms; hydration p50 ${at(hydrate, 50).toFixed(2)} ms; BM25 leg p50 ` +
      `${at(leg, 50).toFixed(2)} ms; JSON.stringify p50 ${at(json, 50).toFixed(2)} ms; ${qps.toFixed(0)} q/s (stringify included)`,
  );
}
