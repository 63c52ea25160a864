import { describe, expect, it } from "vitest";
import { gateFeedReport } from "./feed-gate";
import type { PolicyMetrics } from "./feed-metrics";
import { type FeedReport, renderFeedHtml, renderFeedMarkdown } from "./feed-report";
import { defaultWorldParameters } from "./feed-world";

const metrics = (ndcg: number): PolicyMetrics => ({
  auc: 0.6,
  mrr: 0.2,
  "ndcg@5": ndcg,
  "ndcg@10": ndcg,
  "ndcg@10FirstThird": ndcg,
  "ndcg@10LastThird": ndcg,
  relevantShownWithinDay: 0.3,
  intraListDiversity: 0.6,
  curve: [ndcg, null, ndcg, ndcg, ndcg, ndcg, ndcg, ndcg, ndcg, ndcg],
  reads: 10,
  relevantArrivals: 5,
  modelsTrained: 0,
  seconds: 1,
});

const report: FeedReport = {
  schema: 1,
  kind: "feed-simulation",
  dataset: "tiny",
  split: "test",
  parameters: { ...defaultWorldParameters, trainEveryHours: 8 },
  world: { analysts: 2, documents: 10, backlog: 2, injectedCopies: 1, hiddenQueries: 6, hours: 30 },
  policies: { hybrid: metrics(0.1), "hybrid+feedback": metrics(0.12) },
  latency_ms: { arrivalToFeed: { p50: 1, p99: 5, samples: 8, policy: "hybrid" } },
  dedup: { precision: 1, recall: 0.9, predictedPairs: 9, truePairs: 10 },
  unavailable: { "learned-lightgbm": "no venv" },
  embeddingModel: "test",
  machine: { cpus: 2, cpuModel: "cpu", node: "v20", loadAverage: [1, 1, 1] },
  createdAt: "2026-12-01T00:00:00Z",
  durationSeconds: 3,
};

describe("feed report", () => {
  it("renders a table per policy and one learning-curve line per policy", () => {
    const html = renderFeedHtml(report);
    expect(html.match(/<polyline class="curve"/g)).toHaveLength(2);
    expect(html).toContain('data-policy="hybrid+feedback"');
    expect(html).toContain('data-chart="ndcg@10LastThird"');
    const markdown = renderFeedMarkdown(report);
    expect(markdown).toContain("| hybrid+feedback | 0.6000 | 0.2000 | 0.1200");
    expect(markdown).toContain("learned-lightgbm: not measured (no venv)");
  });

  it("gates on floors, comparisons, dedup and latency, naming the figures", () => {
    const thresholds = {
      floors: { hybrid: { "ndcg@10": 0.09 }, learned: { auc: 0.5 } },
      comparisons: [{ better: "hybrid", worse: "hybrid+feedback", metric: "ndcg@10" }],
      dedup: { precision: 0.95, recall: 0.95 },
      maxArrivalToFeedP99Ms: 4,
    };
    expect(gateFeedReport(report, thresholds)).toEqual([
      "learned: not in the report",
      "hybrid ndcg@10 0.1000 is not above hybrid+feedback 0.1200",
      "near-duplicate recall 0.9000 < 0.95",
      "arrival-to-feed p99 5 ms > 4 ms",
    ]);
    expect(gateFeedReport(report, { floors: { hybrid: { "ndcg@10": 0.05 } } })).toEqual([]);
  });
});
