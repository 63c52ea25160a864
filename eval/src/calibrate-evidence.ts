/**
 * `pnpm eval:calibrate [--dataset DIR] [--split test] [--min-precision 0.7] [--out FILE]`
 *
 * Learns the answer route's evidence threshold on a judged dataset, as the service will use it: the corpus
 * is ingested through the real CLI into a fresh collection of the eval data dir (the embedding cache makes
 * that cheap after the first run), the real service answers every judged question (extractive generator,
 * no threshold), and each answer's best passage score is labelled by whether that passage's document is
 * judged relevant. `calibrateEvidenceThreshold` then picks the lowest score at which the answers above it
 * rest on a relevant passage with at least the requested precision. The result, with its figures, goes to
 * infra/calibration/evidence.json, which the service reads at start (SIFT_ANSWER_CALIBRATION).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type CalibrationSample, calibrateEvidenceThreshold } from "@sift/answer";
import { z } from "zod";
import { loadBeirQueries } from "./beir";
import { corpusFingerprint } from "./dataset";
import { deleteCollection } from "./http-client";
import { runSiftCli } from "./indexer-process";
import { startServiceProcess } from "./service-process";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    split: { type: "string", default: "test" },
    "min-precision": { type: "string", default: "0.7" },
    out: {
      type: "string",
      default: fileURLToPath(new URL("../../infra/calibration/evidence.json", import.meta.url)),
    },
    "cache-dir": { type: "string", default: path.join(homedir(), ".cache", "sift", "eval") },
  },
});
const minPrecision = Number(values["min-precision"]);
if (!(minPrecision > 0 && minPrecision <= 1)) {
  console.error(`--min-precision must be in (0, 1], got ${values["min-precision"]}`);
  process.exit(2);
}
const datasetDir = path.resolve(values.dataset);
const dataset = path.basename(datasetDir);
const { queries, qrels } = await loadBeirQueries(datasetDir, values.split);
const dataDir = path.join(values["cache-dir"], `${dataset}-${await corpusFingerprint(datasetDir)}`);
await mkdir(dataDir, { recursive: true });
const collection = `calibrate-${Date.now()}`;
const env = {
  SIFT_DATA_DIR: dataDir,
  SIFT_GENERATOR: "extractive",
  // No threshold while calibrating: every question is answered and its best passage score recorded.
  SIFT_ANSWER_CALIBRATION: path.join(dataDir, "no-calibration.json"),
};

console.error(`calibrate: ${dataset} (${values.split}), ${queries.length} questions; data dir ${dataDir}`);
const ingest = await runSiftCli(["ingest", datasetDir, "--collection", collection, "--format", "beir"], {
  ...env,
  SIFT_LOG_LEVEL: "warn",
});
if (ingest.code !== 0)
  throw new Error(`sift ingest exited with ${ingest.code}:\n${ingest.log.slice(-20).join("\n")}`);

const answerSchema = z.object({
  mode: z.string(),
  rerank: z.object({ reranker: z.string() }).nullable(),
  passages: z.array(z.object({ documentId: z.string(), score: z.number(), scoreKind: z.string() })),
  evidence: z.object({ topScore: z.number().nullable(), scoreKind: z.string().nullable() }),
  degraded: z.array(z.string()),
});

const service = await startServiceProcess({
  ...env,
  PORT: "0",
  SIFT_SAMPLE_CORPUS: "0",
  SIFT_LOG_LEVEL: "warn",
});
const samples: CalibrationSample[] = [];
const kinds = new Set<string>();
let reranker: string | null = null;
let mode = "";
try {
  for (const [i, query] of queries.entries()) {
    const response = await fetch(`${service.url}/v1/collections/${collection}/answer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: query.text }),
    });
    if (!response.ok) throw new Error(`POST /answer answered ${response.status}: ${await response.text()}`);
    const body = answerSchema.parse(await response.json());
    if (body.degraded.length > 0)
      throw new Error(`degraded answer (${body.degraded.join(", ")}): not calibrating`);
    mode = body.mode;
    reranker = body.rerank?.reranker ?? null;
    const top = [...body.passages].sort((a, b) => b.score - a.score)[0];
    if (top === undefined || body.evidence.topScore === null) continue;
    kinds.add(top.scoreKind);
    samples.push({ score: top.score, relevant: (qrels.get(query.id)?.get(top.documentId) ?? 0) > 0 });
    if ((i + 1) % 50 === 0) console.error(`calibrate: ${i + 1}/${queries.length} answered`);
  }
  await deleteCollection(service.url, collection);
} finally {
  await service.stop();
}
if (kinds.size !== 1) throw new Error(`expected one score kind, saw ${[...kinds].join(", ")}`);
const scoreKind = [...kinds][0]!;
const calibration = calibrateEvidenceThreshold(samples, { minPrecision });
const relevantShare = samples.filter((s) => s.relevant).length / samples.length;
console.log(
  `samples ${samples.length} (best passage relevant in ${(100 * relevantShare).toFixed(1)}%), score kind ${scoreKind}: ` +
    `threshold ${calibration.threshold} at precision ${calibration.precision.toFixed(3)}, ` +
    `recall ${calibration.recall.toFixed(3)}, answering ${calibration.support} of ${samples.length}`,
);
if (calibration.threshold === null) {
  console.error(`no threshold reaches precision ${minPrecision} on these scores; nothing written`);
  process.exit(1);
}
const record = {
  $comment:
    "Written by `pnpm eval:calibrate` (eval/src/calibrate-evidence.ts); read by the service at start. The answer route answers when its best passage scores at least `threshold` (same scoreKind and reranker), else says there is not enough evidence.",
  threshold: calibration.threshold,
  scoreKind,
  reranker,
  mode,
  method: `lowest threshold whose answered set has precision >= ${minPrecision} (best passage judged relevant), calibrateEvidenceThreshold`,
  minPrecision,
  precision: calibration.precision,
  recall: calibration.recall,
  answered: calibration.support,
  samples: calibration.samples,
  dataset: `${dataset}/${values.split}`,
  calibratedAt: new Date().toISOString().slice(0, 10),
};
await mkdir(path.dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(record, null, 2)}\n`);
console.log(`wrote ${values.out}`);
