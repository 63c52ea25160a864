// Answer quality and latency with a local GGUF model: `pnpm tsx packages/answer/src/bench-answer.ts [options]`.
//
// For each of the first N judged SciFact test claims it asks "Is it true that <claim>?" with the claim's
// judged-relevant abstracts plus two unrelated ones as passages (no retrieval: this measures the answer
// half only). Passage scores are random (seeded), so a source's number says nothing about its relevance;
// the same passages go to every variant. Variants run interleaved, question by question, so they share the
// machine's load:
//   before  the full prompt, up to 8 sources in 1,500 tokens (the answer route's settings), no inference
//   after   the generator's prompt hints (compact prompt, 3 sources, 640 tokens, temperature 0) and
//           post-hoc inferred citations (reported apart from the model's own)
//   claims  the same hints, the model constrained to JSON claims by a grammar (output "claims"), no inference
// Per variant it prints outcome counts, citations per answer, the share of answers with ≥ 1 citation, the
// share of cited documents judged relevant (qrels) next to the chance rate (relevant share of the sources
// given), the uncited-sentence rate, p50/p99 of first-token and total time, and ms per output token.
//
// Options: --queries N (15) --threads T (2) --max-tokens M (64) --variants before,after,claims
//          --dataset DIR (../shared/datasets/scifact) --model PATH (the manifest's default generator, else SmolLM2)
//          --device cpu|cuda|auto (cpu; cuda falls back to the CPU and says so) --json FILE (the summary figures)
//          --show (print each answer's text)
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type AnswerRequest, type AnswerResult, answer, collectAnswer } from "./answer";
import type { Generator } from "./generator";
import { createLlamaCppGenerator } from "./llama-cpp-generator";
import type { Passage } from "./passages";
import { modelStore } from "./test-support";

/**
 * The manifest's default generator, or SmolLM2-135M-Instruct while it names none (the store always holds
 * it), as the model store lays it out (`<id>/<profile.file>`).
 */
async function defaultModelPath(): Promise<string> {
  const manifestPath = path.resolve(import.meta.dirname, "../../../infra/models/manifest.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as {
    defaults: { generator: string | null };
    models: Record<string, { id: string; profile?: { file?: string } }>;
  };
  const key = manifest.defaults.generator ?? "smollm2-135m-instruct";
  const entry = manifest.models[key];
  if (!entry?.profile?.file) throw new Error(`no default generator with a file in ${manifestPath}`);
  return path.join(modelStore, entry.id, entry.profile.file);
}

const { values } = parseArgs({
  options: {
    queries: { type: "string", default: "15" },
    threads: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "64" },
    variants: { type: "string", default: "before,after" },
    dataset: {
      type: "string",
      default: path.resolve(import.meta.dirname, "../../../../shared/datasets/scifact"),
    },
    model: { type: "string" },
    device: { type: "string", default: "cpu" },
    json: { type: "string" },
    show: { type: "boolean", default: false },
  },
});
const queryCount = Number(values.queries);
const threads = Number(values.threads);
const maxTokens = Number(values["max-tokens"]);
const modelPath = values.model ?? (await defaultModelPath());

const device = values.device;
if (device !== "cpu" && device !== "cuda" && device !== "auto")
  throw new Error(`--device must be cpu, cuda or auto`);

interface Variant {
  name: string;
  /** Decode JSON claims under the grammar (the claims generator). */
  claims?: boolean;
  settings: Pick<AnswerRequest, "contextTokens" | "maxPassages" | "promptStyle" | "inferCitations">;
  /** Give the generator to `answer` without its prompt hints (the behaviour before they existed). */
  withoutHints?: boolean;
}
const allVariants: Variant[] = [
  {
    name: "before",
    settings: { contextTokens: 1500, maxPassages: 8, promptStyle: "full", inferCitations: false },
    withoutHints: true,
  },
  // The route's contextTokens; the generator's hints cap it and pick the style and source count.
  { name: "after", settings: { contextTokens: 1500 } },
  { name: "claims", settings: { contextTokens: 1500, inferCitations: false }, claims: true },
];
const variants = values.variants.split(",").map((name) => {
  const found = allVariants.find((variant) => variant.name === name.trim());
  if (!found) throw new Error(`unknown variant ${name}; known: ${allVariants.map((v) => v.name).join(", ")}`);
  return found;
});

interface CorpusDocument {
  id: string;
  title: string;
  text: string;
}

async function loadCorpus(dir: string): Promise<CorpusDocument[]> {
  const documents: CorpusDocument[] = [];
  const lines = createInterface({ input: createReadStream(path.join(dir, "corpus.jsonl")) });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const parsed = JSON.parse(line) as { _id: string; title: string; text: string };
    documents.push({ id: parsed._id, title: parsed.title, text: parsed.text });
  }
  return documents;
}

async function loadQueries(dir: string) {
  const qrels = new Map<string, string[]>();
  for (const line of (await readFile(path.join(dir, "qrels", "test.tsv"), "utf8")).split("\n").slice(1)) {
    const [query, document] = line.split("\t");
    if (query && document) qrels.set(query, [...(qrels.get(query) ?? []), document]);
  }
  const queries: Array<{ id: string; text: string; relevant: string[] }> = [];
  const lines = createInterface({ input: createReadStream(path.join(dir, "queries.jsonl")) });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const parsed = JSON.parse(line) as { _id: string; text: string };
    const relevant = qrels.get(parsed._id);
    if (relevant) queries.push({ id: parsed._id, text: parsed.text, relevant });
  }
  return queries;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const fmt = (ms: number | null) => (ms === null ? "-" : ms.toFixed(0));

const [corpus, queries] = await Promise.all([loadCorpus(values.dataset), loadQueries(values.dataset)]);
const byId = new Map(corpus.map((document) => [document.id, document]));
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const toPassage = (document: CorpusDocument, score: number, chunkId: number): Passage => ({
  chunkId,
  documentId: document.id,
  title: document.title,
  text: document.text,
  charStart: 0,
  charEnd: document.text.length,
  score,
  scoreKind: "synthetic",
});
function passagesFor(relevant: string[]): Passage[] {
  const passages = relevant.flatMap((id, index) => {
    const document = byId.get(id);
    return document ? [toPassage(document, random(), index + 1)] : [];
  });
  for (let index = 0; index < 2; index++) {
    passages.push(toPassage(corpus[Math.floor(random() * corpus.length)]!, random(), 100 + index));
  }
  return passages;
}

const gpu = device === "cpu" ? false : device;
const generator = createLlamaCppGenerator({ modelPath, threads, gpu });
const info = await generator.load();
// The claims variant: the same model file, decoding under the claims grammar (loaded only when asked for).
const claimsGenerator = variants.some((variant) => variant.claims)
  ? createLlamaCppGenerator({ modelPath, threads, gpu, output: "claims" })
  : undefined;
await claimsGenerator?.load();
const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, load average ${loadAverage()}`);
console.log(
  `model: ${path.basename(modelPath)} (${info.mode}, ${info.architecture}), context ${info.contextSize}, threads ${threads}, loaded in ${info.loadMs.toFixed(0)} ms`,
);
console.log(
  `device: asked ${device}, runs on ${info.gpu === "cuda" ? `cuda (${info.gpuDevices.join(", ")})` : "cpu"}` +
    (info.gpuFallback === undefined ? "" : ` (fallback: ${info.gpuFallback})`),
);
console.log(
  `answers: ${queryCount} SciFact claims × ${variants.map((v) => v.name).join(", ")}, maxTokens ${maxTokens}\n`,
);

// The same model, without the hints that would otherwise cap the "before" variant's budget and sources.
const withoutHints: Generator = { id: generator.id, kind: generator.kind, generate: generator.generate };
const run = (variant: Variant, claim: string, passages: Passage[]) =>
  collectAnswer(
    answer({
      question: `Is it true that ${claim.replace(/\.\s*$/, "")}?`,
      passages,
      generator: variant.claims ? claimsGenerator! : variant.withoutHints ? withoutHints : generator,
      maxTokens,
      evidence: { threshold: 0 },
      ...variant.settings,
    }),
  );

interface Row {
  result: AnswerResult;
  relevant: Set<string>;
}
const rows = new Map<string, Row[]>(variants.map((variant) => [variant.name, []]));
await run(variants[0]!, queries[0]!.text, passagesFor(queries[0]!.relevant));
console.log(
  "variant  query  sources  prompt-tok  out-tok  first-token-ms  total-ms  ms/out-tok  cites  inferred  uncited/sentences  finish",
);
for (const query of queries.slice(0, queryCount)) {
  const passages = passagesFor(query.relevant);
  for (const variant of variants) {
    const result = await run(variant, query.text, passages);
    rows.get(variant.name)!.push({ result, relevant: new Set(query.relevant) });
    const { timings, usage } = result;
    console.log(
      [
        variant.name.padEnd(7),
        query.id.padStart(5),
        String(result.passages.length).padStart(8),
        String(usage.promptTokens).padStart(11),
        String(usage.completionTokens).padStart(8),
        fmt(timings.firstTokenMs).padStart(15),
        fmt(timings.answerMs).padStart(9),
        (timings.msPerOutputToken?.toFixed(1) ?? "-").padStart(11),
        String(result.citations.length).padStart(6),
        String(result.inferredCitations.length).padStart(9),
        `${result.uncitedSentences}/${result.sentences.length}`.padStart(18),
        `  ${result.finishReason}`,
      ].join(" "),
    );
    if (values.show) console.log(`         ${JSON.stringify(result.text)}`);
  }
}
await generator.dispose();
await claimsGenerator?.dispose();

const share = (part: number, whole: number) => (whole === 0 ? "-" : `${((100 * part) / whole).toFixed(0)}%`);
const sum = (numbers: number[]) => numbers.reduce((total, value) => total + value, 0);
const p = (numbers: number[], q: number, digits = 0) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length === 0 ? "-" : percentile(sorted, q).toFixed(digits);
};
const summaries: Record<string, unknown> = {};
for (const variant of variants) {
  const list = rows.get(variant.name)!;
  const results = list.map((row) => row.result);
  const outcomes = new Map<string, number>();
  for (const { outcome, finishReason } of results) {
    const key = `${outcome}/${finishReason}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const cited = list.flatMap((row) => row.result.citations.map((c) => row.relevant.has(c.documentId)));
  const inferred = list.flatMap((row) =>
    row.result.inferredCitations.map((c) => row.relevant.has(c.documentId)),
  );
  const given = list.flatMap((row) => row.result.passages.map((s) => row.relevant.has(s.documentId)));
  const sentences = sum(results.map((r) => r.sentences.length));
  const uncited = sum(results.map((r) => r.uncitedSentences));
  const stillUncited = sum(results.map((r) => r.uncitedSentences - r.inferredSentences.length));
  const firstTokens = results.flatMap((r) =>
    r.timings.firstTokenMs === null ? [] : [r.timings.firstTokenMs],
  );
  const totals = results.map((r) => r.timings.answerMs);
  const perToken = results.flatMap((r) =>
    r.timings.msPerOutputToken === null ? [] : [r.timings.msPerOutputToken],
  );
  console.log(`\n== ${variant.name} (${results.length} answers) ==`);
  console.log(`outcomes: ${[...outcomes].map(([key, count]) => `${key} ${count}`).join(", ")}`);
  console.log(
    `model-written citations: ${cited.length} (${(cited.length / results.length).toFixed(2)} per answer); ` +
      `answers with ≥ 1: ${share(results.filter((r) => r.citations.length > 0).length, results.length)}; ` +
      `cited documents judged relevant: ${share(cited.filter(Boolean).length, cited.length)}`,
  );
  console.log(
    `inferred citations: ${inferred.length}; answers with ≥ 1 citation, written or inferred: ` +
      `${share(results.filter((r) => r.citations.length + r.inferredCitations.length > 0).length, results.length)}; ` +
      `inferred documents judged relevant: ${share(inferred.filter(Boolean).length, inferred.length)}`,
  );
  console.log(
    `chance: relevant share of the sources given ${share(given.filter(Boolean).length, given.length)}`,
  );
  console.log(
    `uncited sentences: ${share(uncited, sentences)} of ${sentences} (after inference ${share(stillUncited, sentences)}); ` +
      `mean prompt ${(sum(results.map((r) => r.usage.promptTokens)) / results.length).toFixed(0)} tokens, ` +
      `mean output ${(sum(results.map((r) => r.usage.completionTokens)) / results.length).toFixed(1)} tokens`,
  );
  console.log(
    `first token p50 ${p(firstTokens, 50)} ms, p99 ${p(firstTokens, 99)} ms; total p50 ${p(totals, 50)} ms, ` +
      `p99 ${p(totals, 99)} ms; ms per output token p50 ${p(perToken, 50, 1)}, p99 ${p(perToken, 99, 1)}`,
  );
  const sortedPerToken = [...perToken].sort((a, b) => a - b);
  summaries[variant.name] = {
    answers: results.length,
    answersWithCitation: results.filter((r) => r.citations.length > 0).length / Math.max(1, results.length),
    citationsPerAnswer: cited.length / Math.max(1, results.length),
    citedRelevant: cited.length === 0 ? null : cited.filter(Boolean).length / cited.length,
    chanceRelevant: given.length === 0 ? null : given.filter(Boolean).length / given.length,
    firstTokenMs: { p50: Number(p(firstTokens, 50)), p99: Number(p(firstTokens, 99)) },
    totalMs: { p50: Number(p(totals, 50)), p99: Number(p(totals, 99)) },
    msPerOutputToken: { p50: Number(p(perToken, 50, 2)), p99: Number(p(perToken, 99, 2)) },
    outputTokensPerSecond: sortedPerToken.length === 0 ? null : 1000 / percentile(sortedPerToken, 50),
    meanOutputTokens: sum(results.map((r) => r.usage.completionTokens)) / Math.max(1, results.length),
  };
}
console.log(`\nload average after: ${loadAverage()}`);
if (values.json !== undefined) {
  const figures = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}`,
    model: path.basename(modelPath),
    device: {
      asked: device,
      runs: info.gpu === "cuda" ? "cuda" : "cpu",
      gpus: info.gpuDevices,
      fallback: info.gpuFallback ?? null,
    },
    threads,
    maxTokens,
    queries: queryCount,
    loadAverageAfter: os.loadavg(),
    variants: summaries,
  };
  await writeFile(values.json, `${JSON.stringify(figures, null, 2)}\n`);
}
