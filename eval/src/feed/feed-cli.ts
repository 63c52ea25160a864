/**
 * `pnpm eval:feed --dataset DIR --split S --out DIR [--analysts N] [--seed N] [--policies a,b]
 *  [--max-documents N] [--gate] [--thresholds FILE]`: the feed simulator (docs/feed.md). Writes
 * `report.json`, `report.md` and `report.html` under `--out`; with `--gate`, exits 1 when a policy falls
 * under its floor in the thresholds file or a required comparison fails.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, homedir, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createJsonLogger } from "@sift/core";
import { embeddingEnvSchema, embeddingSettingsFromEnv } from "@sift/engine";
import { type LinearPreset, presetRanker, trainPairwiseLinear } from "@sift/feed";
import { loadBeirQueries } from "../beir";
import { corpusFingerprint, readBeirCorpus } from "../dataset";
import { percentile } from "../metrics";
import { createProgress } from "../progress";
import { SimEmbeddings } from "./feed-embeddings";
import { gateFeedReport } from "./feed-gate";
import { duplicateMetrics, type PolicyMetrics, policyMetrics } from "./feed-metrics";
import { prepareSimData } from "./feed-prepare";
import { type FeedReport, renderFeedHtml, renderFeedMarkdown } from "./feed-report";
import { type PolicyOutcome, type PolicySpec, simulatePolicy } from "./feed-simulator";
import { buildWorld, defaultWorldParameters, hourMs } from "./feed-world";
import { lightGbmTrainer } from "./lightgbm-trainer";

const evalDir = fileURLToPath(new URL("../..", import.meta.url));
export const policyNames = [
  "recency",
  "bm25",
  "dense",
  "hybrid",
  "hybrid+feedback",
  "hybrid+feedback+collab",
  "learned",
  "learned-lightgbm",
] as const;

function fail(message: string): never {
  process.stderr.write(`eval:feed: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    split: { type: "string", default: "test" },
    out: { type: "string" },
    analysts: { type: "string", default: String(defaultWorldParameters.analysts) },
    seed: { type: "string", default: String(defaultWorldParameters.seed) },
    policies: { type: "string", default: policyNames.join(",") },
    "max-documents": { type: "string" },
    "train-every-hours": { type: "string", default: "8" },
    "cache-dir": { type: "string", default: path.join(homedir(), ".cache", "sift", "eval") },
    "lock-wait": { type: "string", default: "1200" },
    gate: { type: "boolean", default: false },
    thresholds: { type: "string", default: path.join(evalDir, "feed-thresholds.json") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: pnpm eval:feed --dataset DIR --split S --out DIR [--analysts 200] [--seed 1] [--policies LIST]\n" +
      "  [--max-documents N] [--train-every-hours 8] [--cache-dir DIR] [--lock-wait S] [--gate] [--thresholds FILE]\n",
  );
  process.exit(0);
}
if (values.out === undefined) fail("--out DIR is required");
const integer = (flag: string, text: string | undefined, min: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${flag} must be an integer >= ${min}, got ${text}`);
  return n;
};
const policies = values.policies.split(",").map((p) => p.trim());
for (const p of policies)
  if (!(policyNames as readonly string[]).includes(p))
    fail(`unknown policy ${p}; known: ${policyNames.join(", ")}`);

const started = performance.now();
const progress = createProgress(process.stderr);
const datasetDir = path.resolve(values.dataset);
const dataset = path.basename(datasetDir);
const parameters = {
  ...defaultWorldParameters,
  analysts: integer("analysts", values.analysts, 1),
  seed: integer("seed", values.seed, 0),
};
const trainEveryHours = integer("train-every-hours", values["train-every-hours"], 1);

const { queries, qrels } = await loadBeirQueries(datasetDir, values.split);
let corpus = [];
for await (const document of readBeirCorpus(datasetDir)) corpus.push(document);
if (values["max-documents"] !== undefined)
  corpus = corpus.slice(0, integer("max-documents", values["max-documents"], 10));
const world = buildWorld(corpus, queries, qrels, parameters);
progress.note(
  `eval:feed: ${dataset} (${values.split}), ${world.analysts.length} analysts, ${world.documents.length} documents, ${world.queries.size} judged queries, seed ${parameters.seed}`,
);

const env = embeddingEnvSchema.parse(process.env);
const settings = embeddingSettingsFromEnv(env, process.cwd());
const embeddings = await SimEmbeddings.open({
  dataDir: path.join(values["cache-dir"], `${dataset}-${await corpusFingerprint(datasetDir)}`),
  settings,
  lockWaitSeconds: integer("lock-wait", values["lock-wait"], 0),
  logger: createJsonLogger("warn", (line) => process.stderr.write(line)),
  progress,
});
let data: Awaited<ReturnType<typeof prepareSimData>>;
try {
  data = await prepareSimData(world, embeddings, progress);
} finally {
  await embeddings.close();
}

const python = pythonWithLightGbm();
const unavailable: Record<string, string> = {};
const outcomes: PolicyOutcome[] = [];
// The report is rewritten after every policy, so a long run that is stopped keeps what it measured.
let report = buildReport([]);
for (const name of policies) {
  const spec = policySpec(name, python);
  if (spec === undefined) {
    unavailable[name] = "no eval Python venv with lightgbm (bash eval/scripts/python-env.sh)";
    continue;
  }
  outcomes.push(await simulatePolicy(data, spec, { trainEveryHours }, progress));
  report = buildReport(outcomes);
  await writeReports(report, outcomes);
}
await writeReports(report, outcomes);
process.stdout.write(renderFeedMarkdown(report));
if (values.gate) {
  const thresholds = JSON.parse(await readFile(values.thresholds, "utf8")) as unknown;
  const problems = gateFeedReport(report, thresholds);
  for (const problem of problems) process.stderr.write(`eval:feed gate: ${problem}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
  if (problems.length === 0) process.stderr.write("eval:feed gate: passed\n");
}

async function writeReports(current: FeedReport, runs: readonly PolicyOutcome[]): Promise<void> {
  const out = values.out!;
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, "report.json"), `${JSON.stringify(current, null, 2)}\n`);
  await writeFile(path.join(out, "report.md"), renderFeedMarkdown(current));
  await writeFile(path.join(out, "report.html"), renderFeedHtml(current));
  // Every scored read, so the figures can be recomputed or cut differently without a rerun.
  const reads = Object.fromEntries(runs.map((r) => [r.name, r.reads]));
  await writeFile(path.join(out, "reads.json"), JSON.stringify(reads));
}

function policySpec(name: string, python: string | undefined): PolicySpec | undefined {
  if (name === "learned") {
    return {
      name,
      ranker: presetRanker("hybrid+feedback+collab"),
      trainer: async (groups) => trainPairwiseLinear(groups, { trainedAt: Date.now() }),
    };
  }
  if (name === "learned-lightgbm") {
    if (python === undefined) return undefined;
    return {
      name,
      ranker: presetRanker("hybrid+feedback+collab"),
      trainer: lightGbmTrainer(python, Date.now),
    };
  }
  return { name, ranker: presetRanker(name as LinearPreset) };
}

function pythonWithLightGbm(): string | undefined {
  try {
    const venv = execFileSync("bash", [path.join(evalDir, "scripts", "python-env.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    const python = path.join(venv, "bin", "python");
    return existsSync(python) ? python : undefined;
  } catch {
    return undefined;
  }
}

function buildReport(runs: readonly PolicyOutcome[]): FeedReport {
  // Thirds and tenths of the stream (first to last arrival), as the issue defines the learning curve; the
  // last day without arrivals (so that late arrivals can be shown) counts in the overall means only.
  const lastArrival = Math.max(...world.documents.map((d) => d.arrivedAt));
  const span = { start: world.start, end: lastArrival };
  const policiesOut: Record<string, PolicyMetrics> = {};
  for (const run of runs) {
    policiesOut[run.name] = policyMetrics(run.reads, span, {
      relevantShownWithinDay:
        run.relevantArrivals === 0 ? 0 : run.relevantShownWithinDay / run.relevantArrivals,
      intraListDiversity: run.intraListDiversity,
      relevantArrivals: run.relevantArrivals,
      modelsTrained: run.models,
      seconds: run.seconds,
    });
  }
  const timed = runs.find((r) => r.name === "hybrid") ?? runs[0];
  const samples = timed?.matchMs ?? [];
  const dedup =
    timed === undefined
      ? { precision: 0, recall: 0, predictedPairs: 0, truePairs: 0 }
      : duplicateMetrics(world, timed.clusters);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    schema: 1,
    kind: "feed-simulation",
    dataset,
    split: values.split,
    parameters: { ...parameters, trainEveryHours },
    world: {
      analysts: world.analysts.length,
      documents: world.documents.length,
      backlog: world.documents.filter((d) => d.backlog).length,
      injectedCopies: world.copies.size,
      hiddenQueries: world.analysts[0]?.hidden.length ?? 0,
      hours: (world.end - world.start) / hourMs,
    },
    policies: policiesOut,
    latency_ms: {
      arrivalToFeed: {
        p50: round(percentile(samples, 50)),
        p99: round(percentile(samples, 99)),
        samples: samples.length,
        policy: timed?.name ?? "none",
      },
    },
    dedup,
    unavailable,
    embeddingModel: data.profile.id,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadAverage: loadavg(),
    },
    createdAt: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
  };
}
