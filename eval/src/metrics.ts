/**
 * Ranking metrics with trec_eval conventions (the figures match `trec_eval -c` and pytrec_eval, checked by
 * `trec-agreement.test.ts`):
 *
 * - `qrels` maps a document id to its graded relevance; a grade > 0 is relevant (trec_eval's default
 *   relevance level 1 for integer grades). Documents missing from the qrels are non-relevant.
 * - A ranked list is best first and is taken as given: ranks are positions in the list, so a list has no
 *   ties. A document that occurs twice counts once, at its first (best) position. Documents after the
 *   cut-off are ignored.
 * - When a run is a set of scored documents rather than a list, `trecOrder` ranks it the way trec_eval does
 *   (score descending, ties broken by document id descending, byte-wise), which is how a tie is resolved.
 *   The harness passes ranked lists (the API's order) and hands the independent implementation scores that
 *   strictly decrease with rank, so trec_eval's tie-breaking never reorders them.
 * - nDCG@k uses linear gain (the grade) and a log2(rank + 1) discount; the ideal DCG is the qrels' grades
 *   sorted descending, cut at k (trec_eval `ndcg_cut`). Recall@k, MAP@k and MRR@k use binary relevance:
 *   MAP@k is the sum of precision at each relevant document's rank within the first k, divided by the number
 *   of relevant documents in the qrels (trec_eval `map_cut`); MRR@k is 1 / rank of the first relevant
 *   document within the first k, else 0 (trec_eval `recip_rank` on the run cut to k).
 * - A query with no relevant document in the qrels scores 0 on every metric; a query with an empty run
 *   scores 0. Means are over every judged query (trec_eval `-c`).
 */
export type Qrels = ReadonlyMap<string, number>;

/** The document ids of `ranked` in rank order, each once (its first occurrence), at most `k` of them. */
function topK(ranked: readonly string[], k: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ranked) {
    if (out.length >= k) break;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out;
}

function relevantCount(qrels: Qrels): number {
  let count = 0;
  for (const grade of qrels.values()) if (grade > 0) count++;
  return count;
}

export function ndcgAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  let dcg = 0;
  for (const [i, id] of topK(ranked, k).entries()) {
    const gain = qrels.get(id) ?? 0;
    if (gain > 0) dcg += gain / Math.log2(i + 2);
  }
  const ideal = [...qrels.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = ideal.reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

export function recallAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  const relevant = relevantCount(qrels);
  if (relevant === 0) return 0;
  return topK(ranked, k).filter((id) => (qrels.get(id) ?? 0) > 0).length / relevant;
}

/** Mean average precision's per-query term, cut at k (trec_eval `map_cut.k`). */
export function averagePrecisionAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  const relevant = relevantCount(qrels);
  if (relevant === 0) return 0;
  let found = 0;
  let sum = 0;
  for (const [i, id] of topK(ranked, k).entries()) {
    if ((qrels.get(id) ?? 0) > 0) {
      found++;
      sum += found / (i + 1);
    }
  }
  return sum / relevant;
}

/** Reciprocal rank of the first relevant document within the first k, else 0. */
export function reciprocalRankAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  for (const [i, id] of topK(ranked, k).entries()) {
    if ((qrels.get(id) ?? 0) > 0) return 1 / (i + 1);
  }
  return 0;
}

/** The four figures the harness reports for one query. */
export interface QueryMetrics {
  "ndcg@10": number;
  "recall@100": number;
  "mrr@10": number;
  "map@100": number;
}

export const metricNames = ["ndcg@10", "recall@100", "mrr@10", "map@100"] as const;
export type MetricName = (typeof metricNames)[number];

export function evaluateQuery(ranked: readonly string[], qrels: Qrels): QueryMetrics {
  return {
    "ndcg@10": ndcgAt(ranked, qrels, 10),
    "recall@100": recallAt(ranked, qrels, 100),
    "mrr@10": reciprocalRankAt(ranked, qrels, 10),
    "map@100": averagePrecisionAt(ranked, qrels, 100),
  };
}

/** Means of each metric over the given per-query figures (0 for none). */
export function meanMetrics(perQuery: readonly QueryMetrics[]): QueryMetrics {
  return {
    "ndcg@10": mean(perQuery.map((m) => m["ndcg@10"])),
    "recall@100": mean(perQuery.map((m) => m["recall@100"])),
    "mrr@10": mean(perQuery.map((m) => m["mrr@10"])),
    "map@100": mean(perQuery.map((m) => m["map@100"])),
  };
}

/**
 * Ranks a scored run as trec_eval does: score descending, ties by document id descending (byte order, as
 * C `strcmp` on UTF-8). An id given twice keeps its highest score.
 */
export function trecOrder(scored: Iterable<readonly [id: string, score: number]>): string[] {
  const best = new Map<string, number>();
  for (const [id, score] of scored) {
    const previous = best.get(id);
    if (previous === undefined || score > previous) best.set(id, score);
  }
  return [...best.entries()]
    .sort((a, b) => b[1] - a[1] || Buffer.compare(Buffer.from(b[0]), Buffer.from(a[0])))
    .map(([id]) => id);
}

/** Keeps the first (best) occurrence of each id: chunk hits → document ranking. */
export function dedupe(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
