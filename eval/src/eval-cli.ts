/**
 * `pnpm eval --dataset ../shared/datasets/scifact --split test --out DIR [options]`
 *
 * Ingests a BEIR dataset through the real `sift` CLI into a fresh collection of a persistent eval data dir,
 * starts the real service on it, measures every configuration over HTTP, asks the answer route a subset of
 * the questions, runs the BM25 peers on the same corpus and queries, and writes DIR/report.json,
 * DIR/report.md and DIR/report.html. docs/eval.md describes every flag and figure.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { selectConfigs } from "./configs";
import { gateFiles } from "./gate";
import { type PeerName, peerNames, runEvaluation } from "./harness";
import { createProgress } from "./progress";
import { ensurePython } from "./python";
import { renderMarkdown, serializeReport } from "./report";
import { renderHtml } from "./report-html";

const evalDir = fileURLToPath(new URL("..", import.meta.url));
const usage = `Usage: pnpm eval --dataset DIR --split SPLIT --out DIR [options]

  --dataset DIR          BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv); default ../shared/datasets/scifact
  --split NAME           qrels split; default test
  --out DIR              where report.json, report.md and report.html go (required)
  --configs LIST         all (default), required (bm25,dense,hybrid,hybrid+rerank) or names, comma-separated
  --queries N            only the first N judged queries (file order); default all
  --rerank-queries N     configurations that rerank run on the first N queries only; default all
  --answers N|all        questions for the answer metrics (the first N queries); 0 skips; default all
  --peers LIST           bm25s,minisearch,lancedb (default; the first is the reference for ratios) or none
  --k N                  hits per search (documents for Recall@100/MAP@100); default 100
  --warmup N             warm-up searches per configuration, not measured; default 5
  --baseline NAME        configuration the per-query wins/losses compare against; default bm25
  --cache-dir DIR        parent of the eval data dir; default ~/.cache/sift/eval
  --data-dir DIR         the eval data dir itself; default <cache-dir>/<dataset>-<corpus hash>
  --embedding-model KEY  SIFT_EMBEDDING_MODEL for the CLI and service; default: the manifest's default
  --rerank-model KEY     SIFT_RERANK_MODEL; default: the environment's, else the service's default
  --generator NAME       SIFT_GENERATOR: extractive (default), local or openai
  --keep-collection      leave the eval collection in the data dir (default: deleted after the run)
  --skip-in-process      measure over HTTP only (default: every configuration also in process, the Engine called directly)
  --lock-wait SECONDS    wait this long for a data dir held by another eval run; default 1200
  --gate                 then hold the report to eval/thresholds.json and the committed baseline
  --thresholds FILE      with --gate; default eval/thresholds.json
  --gate-baseline FILE   with --gate; default eval/baseline/scifact-test.json
  -h, --help

Environment: SIFT_MODEL_STORE (default ~/.cache/sift/models) and the SIFT_* model variables are passed on.`;

function fail(message: string): never {
  process.stderr.write(`eval: ${message}\n\n${usage}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      dataset: { type: "string", default: "../shared/datasets/scifact" },
      split: { type: "string", default: "test" },
      out: { type: "string" },
      configs: { type: "string", default: "all" },
      queries: { type: "string" },
      "rerank-queries": { type: "string" },
      answers: { type: "string", default: "all" },
      peers: { type: "string", default: peerNames.join(",") },
      k: { type: "string", default: "100" },
      warmup: { type: "string", default: "5" },
      baseline: { type: "string", default: "bm25" },
      "cache-dir": { type: "string", default: path.join(homedir(), ".cache", "sift", "eval") },
      "data-dir": { type: "string" },
      "embedding-model": { type: "string" },
      "rerank-model": { type: "string" },
      generator: { type: "string" },
      "keep-collection": { type: "boolean", default: false },
      "skip-in-process": { type: "boolean", default: false },
      "lock-wait": { type: "string", default: "1200" },
      gate: { type: "boolean", default: false },
      thresholds: { type: "string", default: path.join(evalDir, "thresholds.json") },
      "gate-baseline": { type: "string", default: path.join(evalDir, "baseline", "scifact-test.json") },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const values = parsed.values;
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (values.out === undefined) fail("--out DIR is required");

const count = (flag: string, text: string | undefined, min = 1): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${flag} must be an integer ≥ ${min}, got ${text}`);
  return n;
};
let configs: ReturnType<typeof selectConfigs>;
try {
  configs = selectConfigs(values.configs);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const peers = values.peers === "none" ? [] : values.peers.split(",").map((p) => p.trim());
for (const peer of peers) {
  if (!(peerNames as readonly string[]).includes(peer))
    fail(`unknown peer ${peer}; known: ${peerNames.join(", ")}`);
}

// The model environment for the CLI and the service; names for the report.
const manifest = JSON.parse(
  readFileSync(path.join(evalDir, "..", "infra", "models", "manifest.json"), "utf8"),
) as {
  defaults?: { embedder?: string | null; reranker?: string | null };
};
const serviceEnv: Record<string, string> = {};
const modelStore = process.env.SIFT_MODEL_STORE;
if (modelStore !== undefined) serviceEnv.SIFT_MODEL_STORE = modelStore;
const embedding = values["embedding-model"] ?? process.env.SIFT_EMBEDDING_MODEL;
if (embedding !== undefined) serviceEnv.SIFT_EMBEDDING_MODEL = embedding;
const rerank = values["rerank-model"] ?? process.env.SIFT_RERANK_MODEL;
if (rerank !== undefined) serviceEnv.SIFT_RERANK_MODEL = rerank;
const generator = values.generator ?? process.env.SIFT_GENERATOR ?? "extractive";
serviceEnv.SIFT_GENERATOR = generator;
// The harness measures quality: time budgets are lifted so a loaded machine does not turn a slow leg or
// reranker into a degraded (first-stage) answer. Latency is still measured; degraded responses still count.
serviceEnv.SIFT_LEG_TIMEOUT_MS = process.env.SIFT_LEG_TIMEOUT_MS ?? "60000";
serviceEnv.SIFT_RERANK_TIMEOUT_MS = process.env.SIFT_RERANK_TIMEOUT_MS ?? "60000";

let python: string | undefined;
try {
  python = ensurePython();
} catch (error) {
  process.stderr.write(
    `eval: no Python venv (${error instanceof Error ? error.message : String(error)}): the bm25s peer and the pytrec_eval cross-check are skipped\n`,
  );
}

const progress = createProgress(process.stderr);
const outDir = path.resolve(values.out);
const evaluation = runEvaluation(
  {
    datasetDir: values.dataset,
    split: values.split,
    configs,
    queryLimit: count("queries", values.queries),
    rerankQueryLimit: count("rerank-queries", values["rerank-queries"]),
    answers: values.answers === "all" ? Number.POSITIVE_INFINITY : (count("answers", values.answers, 0) ?? 0),
    peers: peers as PeerName[],
    dataDir: values["data-dir"],
    cacheDir: values["cache-dir"],
    k: count("k", values.k) ?? 100,
    warmup: count("warmup", values.warmup, 0) ?? 5,
    baseline: values.baseline,
    serviceEnv,
    modelNames: {
      embedding: embedding ?? `${manifest.defaults?.embedder ?? "none"} (manifest default)`,
      rerank: rerank ?? `${manifest.defaults?.reranker ?? "none"} (manifest default)`,
      generator,
    },
    keepCollection: values["keep-collection"],
    inProcess: !values["skip-in-process"],
    lockWaitSeconds: count("lock-wait", values["lock-wait"], 0),
    python,
  },
  progress,
).catch((error: unknown) => {
  // A failure before any measurement (dataset, ingest, service start): no report to write.
  process.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
const { report, failures } = await evaluation;
await mkdir(outDir, { recursive: true });
const markdown = renderMarkdown(report);
await writeFile(path.join(outDir, "report.json"), serializeReport(report));
await writeFile(path.join(outDir, "report.md"), markdown);
await writeFile(path.join(outDir, "report.html"), renderHtml(report));
process.stdout.write(
  `${markdown}\nWrote ${outDir}/report.{json,md,html} in ${report.durationSeconds.toFixed(0)} s\n`,
);
let exitCode = 0;
for (const [step, message] of Object.entries(failures)) {
  process.stderr.write(`eval: ${step} failed: ${message}\n`);
  exitCode = 1;
}
if (values.gate) {
  const gateCode = await gateFiles({
    report: path.join(outDir, "report.json"),
    thresholds: values.thresholds,
    baseline: values["gate-baseline"],
  });
  exitCode = Math.max(exitCode, gateCode);
}
process.exit(exitCode);
