/**
 * Ranking metrics with trec_eval conventions: `qrels` maps a document id to its graded relevance (> 0 is
 * relevant); a ranked list is best first, documents after the cut-off are ignored, documents not in the
 * qrels count as non-relevant, and nDCG uses linear gain (the relevance grade) with a log2(rank + 1)
 * discount, the ideal ranking being the qrels sorted by grade.
 */
export type Qrels = ReadonlyMap<string, number>;

export function ndcgAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  let dcg = 0;
  const seen = new Set<string>();
  let rank = 0;
  for (const id of ranked) {
    if (rank >= k) break;
    if (seen.has(id)) continue; // a document counts once, at its best rank
    seen.add(id);
    rank++;
    const gain = qrels.get(id) ?? 0;
    if (gain > 0) dcg += gain / Math.log2(rank + 1);
  }
  const ideal = [...qrels.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = ideal.reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

export function recallAt(ranked: readonly string[], qrels: Qrels, k: number): number {
  const relevant = [...qrels.entries()].filter(([, g]) => g > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
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
