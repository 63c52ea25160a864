import { evaluateQuery, meanMetrics, metricNames, type QueryMetrics } from "./metrics";
import type { ConfigResult, EvalReport, PeerResult } from "./report";

/**
 * A small, internally consistent report for the renderer and gate tests: real metrics computed from
 * hand-made ranked lists over 12 queries (each query has one relevant document, "rel-<n>"), so the means,
 * the per-query figures and the wins/losses agree with each other.
 */
export function fixtureReport(): EvalReport {
  const queryIds = Array.from({ length: 12 }, (_, i) => `q${i + 1}`);
  const qrels = new Map(queryIds.map((q, i) => [q, new Map([[`rel-${i}`, 1]])]));
  // The relevant document's rank per query (0: not retrieved), per run.
  const ranks: Record<string, number[]> = {
    bm25: [1, 2, 3, 1, 0, 5, 1, 2, 1, 4, 0, 1],
    dense: [2, 1, 1, 3, 4, 0, 1, 1, 2, 1, 6, 2],
    hybrid: [1, 1, 1, 1, 3, 5, 1, 1, 1, 2, 8, 1],
    "hybrid+rerank": [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 3, 1],
    "hybrid:minmax": [1, 1, 2, 1, 2, 6, 1, 1, 1, 2, 7, 1],
    minisearch: [2, 3, 3, 1, 0, 0, 1, 4, 2, 4, 0, 1],
    bm25s: [1, 2, 2, 1, 0, 6, 1, 2, 1, 3, 0, 1],
  };
  const perRun = Object.fromEntries(
    Object.entries(ranks).map(([run, positions]) => {
      const perQuery = queryIds.map((q, i) => {
        const ranked = Array.from({ length: 10 }, (_, j) => `other-${j}`);
        const rank = positions[i]!;
        if (rank > 0) ranked.splice(rank - 1, 0, `rel-${i}`);
        return [q, evaluateQuery(ranked, qrels.get(q)!)] as const;
      });
      return [run, perQuery];
    }),
  ) as Record<string, Array<readonly [string, QueryMetrics]>>;
  const latency = (p50: number) => ({ p50, p95: p50 * 2, p99: p50 * 3 });
  const config = (run: string, mode: ConfigResult["request"]["mode"], p50: number): ConfigResult => ({
    ...meanMetrics(perRun[run]!.map(([, m]) => m)),
    latency_ms: latency(p50),
    qps: 1000 / p50,
    queries: queryIds.length,
    description: run,
    request: { mode },
    degradedQueries: 0,
  });
  const peer = (run: string, p50: number): PeerResult => ({
    ...meanMetrics(perRun[run]!.map(([, m]) => m)),
    latency_ms: latency(p50),
    qps: 1000 / p50,
    queries: queryIds.length,
    description: `${run} <peer> & "quotes"`,
    indexSeconds: 1,
    measuredIn: "in process",
  });
  return {
    schema: 1,
    dataset: "fixture",
    split: "test",
    queries: queryIds.length,
    configs: {
      bm25: {
        ...config("bm25", "bm25", 20),
        inProcess: {
          latency_ms: latency(2),
          qps: 500,
          queries: queryIds.length,
          identicalRankings: queryIds.length,
          degradedQueries: 0,
        },
      },
      dense: config("dense", "dense", 30),
      hybrid: {
        ...config("hybrid", "hybrid", 35),
        inProcess: {
          latency_ms: latency(4),
          qps: 250,
          queries: queryIds.length,
          identicalRankings: queryIds.length - 1,
          degradedQueries: 0,
        },
      },
      "hybrid+rerank": config("hybrid+rerank", "hybrid", 300),
      "hybrid:minmax": config("hybrid:minmax", "hybrid", 34),
    },
    peers: { minisearch: peer("minisearch", 50), bm25s: peer("bm25s", 1) },
    answers: {
      subset: "first 12 queries",
      generator: "extractive",
      questions: 12,
      noEvidenceRate: 1 / 12,
      citations: 20,
      citationValidity: 1,
      citationSupport: 0.75,
      answersSupported: 10 / 11,
      uncitedAnswers: 1 / 11,
      removedCitations: 1,
      degradedAnswers: 0,
      latency_ms: latency(100),
      passagesListed: true,
    },
    baseline: "bm25",
    perQuery: {
      metrics: [...metricNames],
      queries: queryIds.map((id, i) => ({ id, text: `question <${i}> about "things" & more` })),
      runs: Object.fromEntries(
        Object.entries(perRun).map(([run, perQuery]) => [
          run,
          Object.fromEntries(perQuery.map(([q, m]) => [q, metricNames.map((name) => m[name])])),
        ]),
      ),
    },
    crossCheck: { tool: "pytrec_eval-terrier 0.5.11", maxAbsDiff: 0, compared: 336 },
    settings: {
      k: 100,
      collection: "eval-fixture",
      dataDir: "/tmp/fixture",
      embeddingModel: "all-minilm-l6-v2",
      rerankModel: "fixture-reranker",
      generator: "extractive",
      warmupQueries: 5,
    },
    machine: { cpus: 2, cpuModel: "fixture cpu", node: "v20", loadAverage: [1, 1, 1] },
    createdAt: "2026-11-26T00:00:00.000Z",
    durationSeconds: 1,
  };
}
