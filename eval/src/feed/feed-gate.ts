import type { FeedReport } from "./feed-report";

/**
 * `eval/feed-thresholds.json`: floors per policy and metric, the comparisons that must hold (`a > b` on a
 * metric), and ceilings on arrival-to-feed latency and floors on near-duplicate precision and recall.
 */
export interface FeedThresholds {
  floors: Record<string, Record<string, number>>;
  comparisons?: Array<{ better: string; worse: string; metric: string; note?: string }>;
  dedup?: { precision?: number; recall?: number };
  maxArrivalToFeedP99Ms?: number;
}

/** Every way the report misses the thresholds, as a sentence with the figures; empty when it passes. */
export function gateFeedReport(report: FeedReport, thresholds: unknown): string[] {
  const t = thresholds as FeedThresholds;
  const problems: string[] = [];
  for (const [policy, floors] of Object.entries(t.floors ?? {})) {
    const measured = report.policies[policy] as unknown as Record<string, number> | undefined;
    if (measured === undefined) {
      problems.push(`${policy}: not in the report`);
      continue;
    }
    for (const [metric, floor] of Object.entries(floors)) {
      const value = measured[metric];
      if (value === undefined || !(value >= floor))
        problems.push(`${policy} ${metric} ${value?.toFixed(4)} < floor ${floor}`);
    }
  }
  for (const c of t.comparisons ?? []) {
    const better = (report.policies[c.better] as unknown as Record<string, number> | undefined)?.[c.metric];
    const worse = (report.policies[c.worse] as unknown as Record<string, number> | undefined)?.[c.metric];
    if (better === undefined || worse === undefined || !(better > worse)) {
      problems.push(
        `${c.better} ${c.metric} ${better?.toFixed(4)} is not above ${c.worse} ${worse?.toFixed(4)}`,
      );
    }
  }
  if (t.dedup?.precision !== undefined && !(report.dedup.precision >= t.dedup.precision)) {
    problems.push(`near-duplicate precision ${report.dedup.precision.toFixed(4)} < ${t.dedup.precision}`);
  }
  if (t.dedup?.recall !== undefined && !(report.dedup.recall >= t.dedup.recall)) {
    problems.push(`near-duplicate recall ${report.dedup.recall.toFixed(4)} < ${t.dedup.recall}`);
  }
  const p99 = report.latency_ms.arrivalToFeed.p99;
  if (t.maxArrivalToFeedP99Ms !== undefined && !(p99 <= t.maxArrivalToFeedP99Ms)) {
    problems.push(`arrival-to-feed p99 ${p99} ms > ${t.maxArrivalToFeedP99Ms} ms`);
  }
  return problems;
}
