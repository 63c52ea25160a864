import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect, Index, rerankers, type Table } from "@lancedb/lancedb";
import type { BeirQuery } from "../beir";
import type { PeerRun } from "./minisearch-peer";

/** Sift's chunks of the corpus with Sift's own passage vectors, and the queries' vectors. */
export interface VectorCorpus {
  model: string;
  chunks: Array<{ documentId: string; text: string; vector: Float32Array }>;
  /** Query id → the query's vector, embedded as Sift embeds a query. */
  queryVectors: Map<string, Float32Array>;
}

export const lanceDbModes = ["fts", "vector", "hybrid"] as const;

/**
 * LanceDB 0.31.0 (npm, embedded, in process) on the same chunks and the same vectors as Sift: one table
 * (document id, passage text, vector), its full-text index with its defaults, exact cosine search (no ANN
 * index: at SciFact's size a flat scan is LanceDB's own advice), and its hybrid query (full-text and
 * vector, fused by its RRF reranker, k 60). Chunks rank their document at its best chunk, as Sift's do.
 * Query vectors are given, so the timings exclude embedding, like Sift's with a warm query cache.
 */
export async function runLanceDbPeers(
  corpus: VectorCorpus,
  queries: readonly BeirQuery[],
  k: number,
  onQuery?: (mode: string, done: number) => void,
): Promise<PeerRun[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "sift-lancedb-"));
  try {
    const indexStarted = performance.now();
    const table = await buildTable(dir, corpus);
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    const reranker = await rerankers.RRFReranker.create(60);
    const runs: PeerRun[] = [];
    for (const mode of lanceDbModes) {
      const search = async (query: BeirQuery): Promise<Array<Record<string, unknown>>> => {
        const vector = corpus.queryVectors.get(query.id);
        if (vector === undefined && mode !== "fts") throw new Error(`no vector for query ${query.id}`);
        // Chunks, not documents: fetch more than k so that k documents remain after the first-hit cut.
        const limit = Math.min(corpus.chunks.length, 2 * k);
        if (mode === "fts") return table.query().fullTextSearch(query.text).limit(limit).toArray();
        const nearest = table.query().nearestTo(Array.from(vector!)).distanceType("cosine");
        if (mode === "vector") return nearest.limit(limit).toArray();
        return nearest.fullTextSearch(query.text).rerank(reranker).limit(limit).toArray();
      };
      runs.push(
        await measure(
          `lancedb-${mode}`,
          describe(mode, corpus.model),
          indexSeconds,
          queries,
          k,
          search,
          (done) => onQuery?.(mode, done),
        ),
      );
    }
    return runs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function buildTable(dir: string, corpus: VectorCorpus): Promise<Table> {
  const db = await connect(dir);
  const rows = corpus.chunks.map((c) => ({ doc: c.documentId, text: c.text, vector: Array.from(c.vector) }));
  const table = await db.createTable("chunks", rows);
  await table.createIndex("text", { config: Index.fts() });
  return table;
}

async function measure(
  name: string,
  description: string,
  indexSeconds: number,
  queries: readonly BeirQuery[],
  k: number,
  search: (query: BeirQuery) => Promise<Array<Record<string, unknown>>>,
  onQuery: (done: number) => void,
): Promise<PeerRun> {
  for (const query of queries.slice(0, 5))
    await search({ ...query, text: query.text.split(/\s+/).reverse().join(" ") });
  const ranked = new Map<string, string[]>();
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (const [i, query] of queries.entries()) {
    const t0 = performance.now();
    const rows = await search(query);
    latenciesMs.push(performance.now() - t0);
    ranked.set(query.id, [...new Set(rows.map((r) => String(r.doc)))].slice(0, k));
    onQuery(i + 1);
  }
  return {
    name,
    description,
    indexSeconds,
    latenciesMs,
    querySeconds: (performance.now() - started) / 1000,
    ranked,
  };
}

function describe(mode: (typeof lanceDbModes)[number], model: string): string {
  const what = {
    fts: "full-text search (its FTS index, defaults)",
    vector: `exact cosine search over Sift's ${model} vectors`,
    hybrid: `full-text + cosine search fused by its RRF reranker (k 60), ${model} vectors`,
  }[mode];
  return `LanceDB 0.31.0 (npm, embedded), ${what}, Sift's chunks, in process`;
}
