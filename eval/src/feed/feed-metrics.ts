import { ndcgAt } from "../metrics";
import type { World } from "./feed-world";

/**
 * The metrics of one feed read, as MIND reports them per impression, with the human judgments as labels:
 * the read's whole ranked list of unread items (the policy's order), each labelled relevant when any copy
 * of its story is judged relevant (qrels grade > 0) to one of the analyst's hidden queries. Only reads with
 * at least one relevant item are scored (MIND scores impressions with at least one click).
 * - `auc`: probability that a relevant item ranks above a non-relevant one (1 when none is non-relevant);
 * - `mrr`: 1 / rank of the first relevant item;
 * - `ndcg@5`, `ndcg@10`: binary gain, log2 discount, ideal from the read's own labels.
 */
export interface ReadMetrics {
  at: number;
  auc: number;
  mrr: number;
  "ndcg@5": number;
  "ndcg@10": number;
}

export function readMetrics(labels: readonly boolean[], at: number, _world: World): ReadMetrics {
  const ids = labels.map((_, i) => String(i));
  const qrels = new Map(labels.flatMap((relevant, i) => (relevant ? [[String(i), 1] as const] : [])));
  let positives = 0;
  let negativesAbove = 0;
  let pairsOrdered = 0;
  let negativesSeen = 0;
  for (const relevant of labels) {
    if (relevant) {
      positives += 1;
      negativesAbove += negativesSeen;
    } else {
      negativesSeen += 1;
    }
  }
  const negatives = labels.length - positives;
  pairsOrdered = positives * negatives - negativesAbove;
  const first = labels.indexOf(true);
  return {
    at,
    auc: negatives === 0 ? 1 : pairsOrdered / (positives * negatives),
    mrr: first < 0 ? 0 : 1 / (first + 1),
    "ndcg@5": ndcgAt(ids, qrels, 5),
    "ndcg@10": ndcgAt(ids, qrels, 10),
  };
}

export interface PolicyMetrics {
  auc: number;
  mrr: number;
  "ndcg@5": number;
  "ndcg@10": number;
  "ndcg@10FirstThird": number;
  "ndcg@10LastThird": number;
  relevantShownWithinDay: number;
  intraListDiversity: number;
  /** Mean nDCG@10 of the reads in each tenth of the span (the learning curve; `null`: no scored read). */
  curve: Array<number | null>;
  reads: number;
  relevantArrivals: number;
  modelsTrained: number;
  seconds: number;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function policyMetrics(
  reads: readonly ReadMetrics[],
  span: { start: number; end: number },
  extra: Pick<
    PolicyMetrics,
    "relevantShownWithinDay" | "intraListDiversity" | "relevantArrivals" | "modelsTrained" | "seconds"
  >,
): PolicyMetrics {
  const length = span.end - span.start;
  const within = (from: number, to: number) =>
    reads.filter((r) => r.at >= span.start + from * length && r.at < span.start + to * length);
  const curve = Array.from({ length: 10 }, (_, i) => {
    const bucket = within(i / 10, (i + 1) / 10);
    return bucket.length === 0 ? null : mean(bucket.map((r) => r["ndcg@10"]));
  });
  return {
    auc: mean(reads.map((r) => r.auc)),
    mrr: mean(reads.map((r) => r.mrr)),
    "ndcg@5": mean(reads.map((r) => r["ndcg@5"])),
    "ndcg@10": mean(reads.map((r) => r["ndcg@10"])),
    "ndcg@10FirstThird": mean(within(0, 1 / 3).map((r) => r["ndcg@10"])),
    "ndcg@10LastThird": mean(within(2 / 3, 1 + 1e-9).map((r) => r["ndcg@10"])),
    curve,
    reads: reads.length,
    ...extra,
  };
}

/**
 * Pairwise precision and recall of the near-duplicate clusters against the injected copies: a pair of
 * stream documents is a true duplicate when one is a copy of the other or both copy the same original.
 */
export function duplicateMetrics(world: World, clusters: ReadonlyMap<string, string>) {
  const story = (id: string) => world.copies.get(id) ?? id;
  const byCluster = new Map<string, string[]>();
  for (const [id, cluster] of clusters) byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), id]);
  let predicted = 0;
  let correct = 0;
  for (const members of byCluster.values()) {
    for (let i = 0; i < members.length; i += 1) {
      for (let j = i + 1; j < members.length; j += 1) {
        predicted += 1;
        if (story(members[i]!) === story(members[j]!)) correct += 1;
      }
    }
  }
  const groups = new Map<string, number>();
  for (const id of clusters.keys()) groups.set(story(id), (groups.get(story(id)) ?? 0) + 1);
  const truePairs = [...groups.values()].reduce((s, n) => s + (n * (n - 1)) / 2, 0);
  return {
    precision: predicted === 0 ? 1 : correct / predicted,
    recall: truePairs === 0 ? 1 : correct / truePairs,
    predictedPairs: predicted,
    truePairs,
  };
}
