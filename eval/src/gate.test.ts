import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configCatalog, requiredConfigNames, selectConfigs } from "./configs";
import { checkGate, gateFiles, type Thresholds, thresholdsSchema } from "./gate";
import { summarizeLogLine } from "./indexer-process";
import { serializeReport } from "./report";
import { fixtureReport } from "./report-test-support";

const thresholds = (overrides: Partial<Thresholds> = {}): Thresholds =>
  thresholdsSchema.parse({
    dataset: "fixture",
    split: "test",
    requiredConfigs: ["bm25", "dense", "hybrid", "hybrid+rerank"],
    baselineTolerance: 0.01,
    floors: { bm25: { "ndcg@10": 0.6, "recall@100": 0.8 }, hybrid: { "ndcg@10": 0.75 } },
    answers: { minQuestions: 10, citationValidity: 1, citationSupport: 0.7, maxNoEvidenceRate: 0.2 },
    ...overrides,
  });

describe("the CI gate", () => {
  it("passes a report that meets every floor and matches its baseline", () => {
    const report = fixtureReport();
    const result = checkGate(report, thresholds(), fixtureReport());
    expect(result.failures).toEqual([]);
    expect(result.lines.some((l) => l.startsWith("ok   config bm25 ndcg@10"))).toBe(true);
  });

  it("fails on a metric below its floor, naming configuration, metric, value and floor", () => {
    const result = checkGate(fixtureReport(), thresholds({ floors: { bm25: { "ndcg@10": 0.7 } } }));
    expect(result.failures).toEqual(["config bm25 ndcg@10 0.6316 (floor 0.7000): below its floor by 0.0684"]);
  });

  it("fails on a drop against the baseline beyond the tolerance, with the worst queries", () => {
    const baseline = fixtureReport();
    const report = fixtureReport();
    report.configs.hybrid!["ndcg@10"] -= 0.02;
    report.perQuery.runs.hybrid!.q6![0]! -= 0.24;
    const result = checkGate(report, thresholds(), baseline);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatch(
      /^config hybrid ndcg@10 0\.7994 vs baseline 0\.8194 \(tolerance 0\.01\): dropped by 0\.0200; largest per-query drops: q6 −0\.240$/,
    );
    // within the tolerance: passes
    report.configs.hybrid!["ndcg@10"] += 0.015;
    expect(checkGate(report, thresholds(), baseline).failures).toEqual([]);
  });

  it("fails on missing required configurations, degraded responses and weak answers", () => {
    const report = fixtureReport();
    delete report.configs["hybrid+rerank"];
    report.configs.dense!.degradedQueries = 3;
    report.answers!.citationValidity = 0.9;
    const failures = checkGate(report, thresholds()).failures;
    expect(failures).toContain("configuration hybrid+rerank is missing from the report");
    expect(failures.some((f) => f.startsWith("config dense: 3 responses were degraded"))).toBe(true);
    expect(failures).toContain("answers citation validity 90.0 % (floor 100.0 %)");
  });

  it("a refused required configuration fails unless the thresholds allow it, with the reason", () => {
    const report = fixtureReport();
    delete report.configs["hybrid+rerank"];
    report.unavailable = { "hybrid+rerank": "503: no reranker is configured" };
    expect(checkGate(report, thresholds()).failures).toEqual([
      "configuration hybrid+rerank was not measured: the service refused it (503: no reranker is configured)",
    ]);
    const allowed = checkGate(
      report,
      thresholds({ allowUnavailable: { "hybrid+rerank": "no reranker on PyPI" } }),
    );
    expect(allowed.failures).toEqual([]);
    expect(allowed.warnings).toEqual([
      "configuration hybrid+rerank was not measured: 503: no reranker is configured (allowed: no reranker on PyPI)",
    ]);
  });

  it("does not compare runs measured on different query sets against the baseline, and says so", () => {
    const baseline = fixtureReport();
    const report = fixtureReport();
    report.configs.bm25!.queries = 5;
    report.configs.bm25!["ndcg@10"] = 0.61;
    const result = checkGate(report, thresholds(), baseline);
    expect(result.failures).toEqual([]);
    expect(result.warnings).toContain("config bm25 ran on 5 queries, the baseline on 12: not compared");
  });

  it("gateFiles reads the files and returns exit code 1 with a clear message on failure", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sift-gate-"));
    try {
      const report = path.join(dir, "report.json");
      const limits = path.join(dir, "thresholds.json");
      await writeFile(report, JSON.stringify(fixtureReport()));
      await writeFile(limits, JSON.stringify({ ...thresholds(), floors: { dense: { "mrr@10": 0.9 } } }));
      const out: string[] = [];
      const code = await gateFiles({ report, thresholds: limits }, { write: (t: string) => out.push(t) });
      expect(code).toBe(1);
      expect(out.join("")).toContain(
        "eval gate FAILED: 1 check(s):\n  - config dense mrr@10 0.6042 (floor 0.9000)",
      );
      await writeFile(limits, JSON.stringify(thresholds()));
      expect(await gateFiles({ report, thresholds: limits, baseline: report }, { write: () => {} })).toBe(0);
      const missing: string[] = [];
      const baseline = path.join(dir, "nope.json");
      expect(
        await gateFiles({ report, thresholds: limits, baseline }, { write: (t: string) => missing.push(t) }),
      ).toBe(1);
      expect(missing.join("")).toContain(`the baseline file ${baseline} does not exist (to record one: cp`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the committed thresholds file parses and requires the four configurations", async () => {
    const { readFile } = await import("node:fs/promises");
    const file = new URL("../thresholds.json", import.meta.url);
    const parsed = thresholdsSchema.parse(JSON.parse(await readFile(file, "utf8")));
    expect(parsed.requiredConfigs).toEqual([...requiredConfigNames]);
    for (const name of Object.keys(parsed.floors)) expect(configCatalog.map((c) => c.name)).toContain(name);
  });
});

describe("harness helpers", () => {
  it("serializes a report losslessly, with short arrays on one line as Biome formats them", () => {
    const report = fixtureReport();
    const text = serializeReport(report);
    expect(JSON.parse(text)).toEqual(report);
    expect(text).toContain('"metrics": ["ndcg@10", "recall@100", "mrr@10", "map@100"],');
    expect(text).toMatch(/"q1": \[1, 1, 1, 1\]/);
    expect(text.split("\n").every((line) => line.length <= 110 || !line.trimStart().startsWith("["))).toBe(
      true,
    );
  });

  it("selects configurations by name, 'required' or 'all', and rejects unknown names", () => {
    expect(selectConfigs("required").map((c) => c.name)).toEqual([...requiredConfigNames]);
    expect(selectConfigs("all")).toHaveLength(configCatalog.length);
    expect(selectConfigs("dense, bm25").map((c) => c.name)).toEqual(["bm25", "dense"]);
    expect(() => selectConfigs("bm25,hybird")).toThrow(
      /unknown configuration\(s\) hybird; known: all, required, bm25/,
    );
  });

  it("condenses the CLI's JSON log lines", () => {
    expect(
      summarizeLogLine(
        JSON.stringify({
          level: "info",
          time: "t",
          msg: "progress",
          step: "embedding",
          counts: { done: 64, total: 100 },
          list: [1],
        }),
      ),
    ).toBe("info progress step=embedding counts.done=64 counts.total=100");
    expect(summarizeLogLine("plain text")).toBe("plain text");
  });
});
