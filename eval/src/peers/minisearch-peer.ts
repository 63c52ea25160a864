import MiniSearch from "minisearch";
import type { BeirQuery } from "../beir";
import type { BeirDocument } from "../dataset";

/** A peer's run: per query, documents best first, with in-process timings. */
export interface PeerRun {
  name: string;
  description: string;
  indexSeconds: number;
  /** Per-query search latency in milliseconds, one client, sequential, in process. */
  latenciesMs: number[];
  /** Wall time over all queries (seconds). */
  querySeconds: number;
  ranked: Map<string, string[]>;
}

/**
 * MiniSearch 7.2.0 (npm) with its defaults: its own tokenizer, lowercase terms, no stemming or stop words,
 * BM25 (k 1.2, b 0.7, d 0.5), OR semantics; fields title and text, equal boosts. Top `k` documents.
 */
export function runMiniSearchPeer(
  documents: readonly BeirDocument[],
  queries: readonly BeirQuery[],
  k = 100,
  onQuery?: (done: number) => void,
): PeerRun {
  const indexStarted = performance.now();
  const index = new MiniSearch<BeirDocument>({ fields: ["title", "text"], idField: "id" });
  index.addAll(documents);
  const indexSeconds = (performance.now() - indexStarted) / 1000;
  const ranked = new Map<string, string[]>();
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (const [i, query] of queries.entries()) {
    const t0 = performance.now();
    const results = index.search(query.text).slice(0, k);
    latenciesMs.push(performance.now() - t0);
    ranked.set(
      query.id,
      results.map((r) => String(r.id)),
    );
    onQuery?.(i + 1);
  }
  return {
    name: "minisearch",
    description: "MiniSearch 7.2.0 (npm), default BM25 and tokenizer, title+text, in process",
    indexSeconds,
    latenciesMs,
    querySeconds: (performance.now() - started) / 1000,
    ranked,
  };
}
