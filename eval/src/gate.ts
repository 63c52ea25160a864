import { z } from "zod";
import { type MetricName, metricNames } from "./metrics";
import { type EvalReport, perQueryValues } from "./report";

const metricFloors = z.partialRecord(z.enum(metricNames), z.number().min(0).max(1));

/** eval/thresholds.json: what CI holds every report to. */
export const thresholdsSchema = z.strictObject({
  $comment: z.string().optional(),
  dataset: z.string(),
  split: z.string(),
  /** Configurations a report must contain. */
  requiredConfigs: z.array(z.string()),
  /**
   * Required configurations that may be reported unavailable (the service refused them, e.g. no reranker in
   * the model store) with a warning instead of a failure. Each entry says why it is allowed.
   */
  allowUnavailable: z.record(z.string(), z.string()).default({}),
  /** Largest allowed drop of a metric against the committed baseline (absolute, e.g. 0.01). */
  baselineTolerance: z.number().min(0),
  /** Floors per configuration (or peer, under `peers`) and metric. */
  floors: z.record(z.string(), metricFloors),
  peers: z.record(z.string(), metricFloors).default({}),
  answers: z
    .strictObject({
      minQuestions: z.number().int().min(0).default(1),
      citationValidity: z.number().min(0).max(1).optional(),
      citationSupport: z.number().min(0).max(1).optional(),
      answersSupported: z.number().min(0).max(1).optional(),
      maxNoEvidenceRate: z.number().min(0).max(1).optional(),
      maxUncitedAnswers: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Responses naming a degraded leg that a configuration may have (default 0). */
  maxDegradedQueries: z.number().int().min(0).default(0),
});
export type Thresholds = z.output<typeof thresholdsSchema>;

export interface GateResult {
  failures: string[];
  warnings: string[];
  /** One line per check that passed or failed, for the log. */
  lines: string[];
}

/**
 * Holds a report to the thresholds (floors) and to a baseline report (no metric may drop by more than the
 * tolerance). Latency is reported, never gated: the CI machine is shared and its timings are noisy.
 */
export function checkGate(report: EvalReport, thresholds: Thresholds, baseline?: EvalReport): GateResult {
  const result: GateResult = { failures: [], warnings: [], lines: [] };
  const fail = (text: string) => {
    result.failures.push(text);
    result.lines.push(`FAIL ${text}`);
  };
  const pass = (text: string) => result.lines.push(`ok   ${text}`);
  if (report.dataset !== thresholds.dataset || report.split !== thresholds.split) {
    fail(
      `report is for ${report.dataset}/${report.split}, thresholds for ${thresholds.dataset}/${thresholds.split}`,
    );
  }
  for (const name of thresholds.requiredConfigs) {
    if (report.configs[name] !== undefined) continue;
    const refused = report.unavailable?.[name];
    const allowed = thresholds.allowUnavailable[name];
    if (refused !== undefined && allowed !== undefined) {
      result.warnings.push(`configuration ${name} was not measured: ${refused} (allowed: ${allowed})`);
    } else if (refused !== undefined) {
      fail(`configuration ${name} was not measured: the service refused it (${refused})`);
    } else fail(`configuration ${name} is missing from the report`);
  }
  const check = (
    kind: string,
    name: string,
    actual: Record<MetricName, number> | undefined,
    floors: Partial<Record<MetricName, number>>,
  ) => {
    if (actual === undefined) {
      fail(`${kind} ${name} has floors but is missing from the report`);
      return;
    }
    for (const [metric, floor] of Object.entries(floors) as Array<[MetricName, number]>) {
      const value = actual[metric];
      const text = `${kind} ${name} ${metric} ${value.toFixed(4)} (floor ${floor.toFixed(4)})`;
      if (!(value >= floor)) fail(`${text}: below its floor by ${(floor - value).toFixed(4)}`);
      else pass(text);
    }
  };
  for (const [name, floors] of Object.entries(thresholds.floors))
    check("config", name, report.configs[name], floors);
  for (const [name, floors] of Object.entries(thresholds.peers))
    check("peer", name, report.peers[name], floors);
  for (const [name, config] of Object.entries(report.configs)) {
    if (config.degradedQueries > thresholds.maxDegradedQueries) {
      fail(
        `config ${name}: ${config.degradedQueries} responses were degraded (a leg or the reranker failed); allowed ${thresholds.maxDegradedQueries}`,
      );
    }
  }
  if (thresholds.answers !== undefined) {
    const a = report.answers;
    const t = thresholds.answers;
    if (a === undefined || a.questions < t.minQuestions) {
      fail(`answers: ${a?.questions ?? 0} questions evaluated, at least ${t.minQuestions} required`);
    } else {
      const floor = (label: string, value: number, min: number | undefined) => {
        if (min === undefined) return;
        const text = `answers ${label} ${(100 * value).toFixed(1)} % (floor ${(100 * min).toFixed(1)} %)`;
        if (value < min) fail(text);
        else pass(text);
      };
      floor("citation validity", a.citationValidity, t.citationValidity);
      floor("citation support", a.citationSupport, t.citationSupport);
      floor("answers with a supported citation", a.answersSupported, t.answersSupported);
      if (t.maxUncitedAnswers !== undefined) {
        const text = `answers without citations ${(100 * a.uncitedAnswers).toFixed(1)} % (at most ${(100 * t.maxUncitedAnswers).toFixed(1)} %)`;
        if (a.uncitedAnswers > t.maxUncitedAnswers) fail(text);
        else pass(text);
      }
      if (t.maxNoEvidenceRate !== undefined) {
        const text = `answers no-evidence rate ${(100 * a.noEvidenceRate).toFixed(1)} % (at most ${(100 * t.maxNoEvidenceRate).toFixed(1)} %)`;
        if (a.noEvidenceRate > t.maxNoEvidenceRate) fail(text);
        else pass(text);
      }
    }
  }
  if (baseline !== undefined)
    compareToBaseline(report, baseline, thresholds.baselineTolerance, result, fail, pass);
  return result;
}

function compareToBaseline(
  report: EvalReport,
  baseline: EvalReport,
  tolerance: number,
  result: GateResult,
  fail: (text: string) => void,
  pass: (text: string) => void,
): void {
  if (baseline.dataset !== report.dataset || baseline.split !== report.split) {
    fail(
      `baseline is for ${baseline.dataset}/${baseline.split}, the report for ${report.dataset}/${report.split}`,
    );
    return;
  }
  const runs = [
    ...Object.entries(baseline.configs).map(
      ([name, b]) => ["config", name, b, report.configs[name]] as const,
    ),
    ...Object.entries(baseline.peers).map(([name, b]) => ["peer", name, b, report.peers[name]] as const),
  ];
  for (const [kind, name, before, now] of runs) {
    if (now === undefined) {
      result.warnings.push(`${kind} ${name} is in the baseline but not in this report: not compared`);
      continue;
    }
    if (now.queries !== before.queries) {
      result.warnings.push(
        `${kind} ${name} ran on ${now.queries} queries, the baseline on ${before.queries}: not compared`,
      );
      continue;
    }
    for (const metric of metricNames) {
      const drop = before[metric] - now[metric];
      const text = `${kind} ${name} ${metric} ${now[metric].toFixed(4)} vs baseline ${before[metric].toFixed(4)} (tolerance ${tolerance})`;
      if (drop > tolerance + 1e-12) {
        fail(`${text}: dropped by ${drop.toFixed(4)}${worstQueries(report, baseline, name, metric)}`);
      } else pass(text);
    }
  }
}

/** The queries that lost the most against the baseline, for the failure message. */
function worstQueries(report: EvalReport, baseline: EvalReport, run: string, metric: MetricName): string {
  if (!(run in report.perQuery.runs) || !(run in baseline.perQuery.runs)) return "";
  const now = perQueryValues(report, run, metric);
  const before = perQueryValues(baseline, run, metric);
  const drops = [...now]
    .map(([query, value]) => [query, (before.get(query) ?? value) - value] as const)
    .filter(([, drop]) => drop > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  return drops.length === 0
    ? ""
    : `; largest per-query drops: ${drops.map(([q, d]) => `${q} −${d.toFixed(3)}`).join(", ")}`;
}

/** Reads the three files, runs the gate and prints its lines; returns the process exit code (0 or 1). */
export async function gateFiles(
  paths: { report: string; thresholds: string; baseline?: string | undefined },
  out: { write(text: string): unknown } = process.stdout,
): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const { existsSync } = await import("node:fs");
  for (const [what, file] of Object.entries(paths)) {
    if (file !== undefined && !existsSync(file)) {
      out.write(
        `eval gate FAILED: the ${what} file ${file} does not exist` +
          (what === "baseline"
            ? ` (to record one: cp <out>/report.json ${file}, after reviewing it)\n`
            : "\n"),
      );
      return 1;
    }
  }
  const report = JSON.parse(await readFile(paths.report, "utf8")) as EvalReport;
  const thresholds = thresholdsSchema.parse(JSON.parse(await readFile(paths.thresholds, "utf8")));
  const baseline =
    paths.baseline === undefined
      ? undefined
      : (JSON.parse(await readFile(paths.baseline, "utf8")) as EvalReport);
  const result = checkGate(report, thresholds, baseline);
  out.write(
    `eval gate: ${paths.report} against ${paths.thresholds}${paths.baseline === undefined ? "" : ` and ${paths.baseline}`}\n`,
  );
  for (const line of result.lines) out.write(`  ${line}\n`);
  for (const warning of result.warnings) out.write(`  warn ${warning}\n`);
  if (result.failures.length > 0) {
    out.write(`eval gate FAILED: ${result.failures.length} check(s):\n`);
    for (const failure of result.failures) out.write(`  - ${failure}\n`);
    return 1;
  }
  out.write(`eval gate passed: ${result.lines.length} checks\n`);
  return 0;
}
