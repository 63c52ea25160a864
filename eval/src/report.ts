import type { AnswerMetrics } from "./answers";
import type { SearchSettings } from "./http-client";
import { type MetricName, metricNames, type QueryMetrics } from "./metrics";
import type { TrecComparison } from "./trec-check";

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The same configuration measured in process after the HTTP run: the Engine's searcher called directly on
 * the same data dir and collection (no HTTP, no JSON), same queries and warm-up.
 */
export interface InProcessResult {
  latency_ms: LatencySummary;
  /** Queries per second, one caller, sequential searches. */
  qps: number;
  queries: number;
  /** Queries whose document ranking is the HTTP run's, exactly (the same engine: all of them, normally). */
  identicalRankings: number;
  degradedQueries: number;
}

/** One configuration of Sift, measured through the HTTP API (and, in `inProcess`, without it). */
export interface ConfigResult extends QueryMetrics {
  latency_ms: LatencySummary;
  /** Queries per second, one client, sequential requests (queries / wall time). */
  qps: number;
  /** Queries this configuration was measured on (fewer than the report's when it ran on a subset). */
  queries: number;
  description: string;
  request: SearchSettings;
  /** Responses that named a degraded leg (the figures then do not measure this configuration). */
  degradedQueries: number;
  /** Set when the configuration ran on a subset of the queries: which one. */
  subset?: string;
  /** Absent when the in-process step was skipped or failed. */
  inProcess?: InProcessResult;
}

/** An independent implementation run on the same corpus and queries. */
export interface PeerResult extends QueryMetrics {
  latency_ms: LatencySummary;
  qps: number;
  queries: number;
  description: string;
  indexSeconds: number;
  /** Where latency was measured: peers run in process (no HTTP), unlike the configurations. */
  measuredIn: string;
}

export interface EvalReport {
  schema: 1;
  dataset: string;
  split: string;
  /** Judged queries of the split that the run evaluated. */
  queries: number;
  configs: Record<string, ConfigResult>;
  peers: Record<string, PeerResult>;
  answers?: AnswerMetrics & { subset: string; generator: string };
  /** Configurations the service refused to run (e.g. no reranker in the model store): name → its reason. */
  unavailable?: Record<string, string>;
  /** The configuration the per-query wins/losses compare against. */
  baseline: string;
  perQuery: {
    /** The order of the numbers in each run's per-query array. */
    metrics: MetricName[];
    queries: Array<{ id: string; text: string }>;
    /** run name (config or peer) → query id → figures in `metrics` order. */
    runs: Record<string, Record<string, number[]>>;
  };
  /** Our metrics against pytrec_eval on every run of this report (absent without the Python venv). */
  crossCheck?: TrecComparison | { skipped: string };
  settings: {
    k: number;
    collection: string;
    dataDir: string;
    embeddingModel: string;
    rerankModel: string;
    generator: string;
    warmupQueries: number;
  };
  ingest?: { seconds: number; log: string[] };
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
  createdAt: string;
  durationSeconds: number;
}

export function perQueryValues(report: EvalReport, run: string, metric: MetricName): Map<string, number> {
  const index = report.perQuery.metrics.indexOf(metric);
  const values = report.perQuery.runs[run] ?? {};
  return new Map(Object.entries(values).map(([q, figures]) => [q, figures[index] ?? 0]));
}

export interface WinsLosses {
  run: string;
  wins: number;
  losses: number;
  ties: number;
  /** Queries both runs were measured on. */
  compared: number;
}

/** Per run: queries where `metric` beats / loses to / ties the baseline's (|difference| ≤ `epsilon` is a tie). */
export function winsAndLosses(
  report: EvalReport,
  metric: MetricName = "ndcg@10",
  epsilon = 1e-9,
): WinsLosses[] {
  const base = perQueryValues(report, report.baseline, metric);
  return Object.keys(report.perQuery.runs)
    .filter((run) => run !== report.baseline)
    .map((run) => {
      const other = perQueryValues(report, run, metric);
      const tally: WinsLosses = { run, wins: 0, losses: 0, ties: 0, compared: 0 };
      for (const [query, value] of other) {
        const b = base.get(query);
        if (b === undefined) continue;
        tally.compared++;
        if (value > b + epsilon) tally.wins++;
        else if (value < b - epsilon) tally.losses++;
        else tally.ties++;
      }
      return tally;
    });
}

/**
 * report.json's text: indented, with arrays of numbers or short strings on one line (as Biome formats JSON,
 * so a report committed as the baseline passes `pnpm lint` unchanged).
 */
export function serializeReport(report: EvalReport): string {
  const scalar = String.raw`(?:-?[\d.e+-]+|"[^"\\\n]*")`;
  const array = new RegExp(String.raw`\[\s+(${scalar}(?:,\s+${scalar})*)\s+\]`, "g");
  return `${JSON.stringify(report, null, 2).replace(
    array,
    (whole, items: string, offset: number, text: string) => {
      const line = `[${(items.match(new RegExp(scalar, "g")) ?? []).join(", ")}]`;
      const indent = offset - text.lastIndexOf("\n", offset) - 1;
      return indent + line.length <= 110 ? line : whole;
    },
  )}\n`;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "–");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The report as Markdown for the CI log. */
export function renderMarkdown(report: EvalReport): string {
  const lines: string[] = [];
  const referencePeer = Object.keys(report.peers)[0];
  lines.push(
    `# Sift eval: ${report.dataset} (${report.split}), ${report.queries} queries`,
    "",
    `k = ${report.settings.k}; embedding ${report.settings.embeddingModel}, reranker ${report.settings.rerankModel}, ` +
      `generator ${report.settings.generator}; ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}, ` +
      `load average ${report.machine.loadAverage.map((l) => l.toFixed(1)).join(" ")} (timings are noisy on a shared machine). ` +
      `Run took ${f1(report.durationSeconds)} s.`,
    "",
    "Configurations are measured through the HTTP API (one client, sequential requests, after " +
      `${report.settings.warmupQueries} warm-up queries); peers in their own process, without HTTP.`,
    "",
  );
  const head = ["run", ...metricNames, "p50 ms", "p95 ms", "p99 ms", "q/s", "queries"];
  if (referencePeer !== undefined) head.push(`nDCG@10 vs ${referencePeer}`);
  lines.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
  const ref = referencePeer === undefined ? undefined : report.peers[referencePeer];
  const row = (
    name: string,
    r: QueryMetrics & { latency_ms: LatencySummary; qps: number; queries: number },
  ) => {
    const cells = [
      name,
      ...metricNames.map((m) => f4(r[m])),
      f1(r.latency_ms.p50),
      f1(r.latency_ms.p95),
      f1(r.latency_ms.p99),
      f1(r.qps),
      String(r.queries),
    ];
    if (ref !== undefined) cells.push(`${(r["ndcg@10"] / ref["ndcg@10"]).toFixed(3)}×`);
    return `| ${cells.join(" | ")} |`;
  };
  for (const [name, r] of Object.entries(report.configs)) lines.push(row(name, r));
  for (const [name, r] of Object.entries(report.peers)) lines.push(row(`peer: ${name}`, r));
  lines.push("");
  const notes = Object.entries(report.configs).filter(
    ([, r]) => r.subset !== undefined || r.degradedQueries > 0,
  );
  for (const [name, r] of notes) {
    if (r.subset !== undefined) lines.push(`- ${name}: measured on ${r.subset}.`);
    if (r.degradedQueries > 0) lines.push(`- ${name}: **${r.degradedQueries} responses were degraded**.`);
  }
  for (const [name, reason] of Object.entries(report.unavailable ?? {})) {
    lines.push(`- **${name}: not measured, the service refused it** (${reason}).`);
  }
  for (const [name, p] of Object.entries(report.peers)) lines.push(`- peer ${name}: ${p.description}.`);
  lines.push(...inProcessMarkdown(report));
  lines.push("", `## Per query, nDCG@10 against \`${report.baseline}\``, "");
  lines.push("| run | wins | losses | ties |", "|---|---|---|---|");
  for (const w of winsAndLosses(report)) lines.push(`| ${w.run} | ${w.wins} | ${w.losses} | ${w.ties} |`);
  if (report.answers !== undefined) {
    const a = report.answers;
    lines.push(
      "",
      `## Answers (${a.subset}, generator ${a.generator})`,
      "",
      "| questions | no-evidence rate | citations | citation validity | citation support | answers with a supported citation | answers without citations | removed by the verifier | p50 ms | p95 ms |",
      "|---|---|---|---|---|---|---|---|---|---|",
      `| ${a.questions} | ${pct(a.noEvidenceRate)} | ${a.citations} | ${pct(a.citationValidity)} | ${pct(a.citationSupport)} | ${pct(a.answersSupported)} | ${pct(a.uncitedAnswers)} | ${a.removedCitations} | ${f1(a.latency_ms.p50)} | ${f1(a.latency_ms.p95)} |`,
    );
    if (!a.passagesListed) {
      lines.push(
        "",
        "Validity checked spans against the cited documents only: the responses did not list their passages.",
      );
    }
  }
  if (report.crossCheck !== undefined) {
    lines.push(
      "",
      "skipped" in report.crossCheck
        ? `Metric cross-check skipped: ${report.crossCheck.skipped}.`
        : `Metric cross-check: every run re-scored by ${report.crossCheck.tool}; largest difference ${report.crossCheck.maxAbsDiff.toExponential(2)} over ${report.crossCheck.compared} figures.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The in-process table: each configuration's latency without HTTP, beside its HTTP p50. */
function inProcessMarkdown(report: EvalReport): string[] {
  const measured = Object.entries(report.configs).filter(([, r]) => r.inProcess !== undefined);
  if (measured.length === 0) return [];
  const lines = [
    "",
    "## In process (the Engine's searcher called directly: no HTTP, no JSON)",
    "",
    "| run | p50 ms | p95 ms | p99 ms | q/s | HTTP p50 ms | HTTP p50 / in-process p50 | rankings identical to HTTP |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, r] of measured) {
    const p = r.inProcess!;
    lines.push(
      `| ${name} | ${f2(p.latency_ms.p50)} | ${f2(p.latency_ms.p95)} | ${f2(p.latency_ms.p99)} | ${f1(p.qps)} | ${f1(r.latency_ms.p50)} | ${f1(r.latency_ms.p50 / p.latency_ms.p50)}× | ${p.identicalRankings} / ${p.queries} |`,
    );
  }
  for (const [name, r] of measured) {
    if (r.inProcess!.degradedQueries > 0)
      lines.push("", `- ${name} in process: **${r.inProcess!.degradedQueries} responses were degraded**.`);
  }
  return lines;
}
