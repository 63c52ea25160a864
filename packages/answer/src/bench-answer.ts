// Answer latency with the local GGUF model: `pnpm tsx packages/answer/src/bench-answer.ts [options]`.
//
// For each of the first N judged SciFact test claims it asks "Is it true that <claim>?" with the claim's
// judged-relevant abstracts plus two unrelated ones as passages (no retrieval: this measures the answer
// half only; the passages' scores are synthetic), runs the whole `answer` pipeline with the local
// generator, and prints per-answer figures and p50/p99 of time to first token and total time. A short
// warm-up answer runs first; model load time is printed separately.
//
// Options: --queries N (20) --threads T (2) --max-tokens M (64) --context-tokens C (768)
//          --dataset DIR (../shared/datasets/scifact) --model PATH (the model store's gemma3-270m GGUF)
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { answer, collectAnswer } from "./answer";
import { createLlamaCppGenerator } from "./llama-cpp-generator";
import type { Passage } from "./passages";
import { localGenerationModelPath } from "./test-support";

const { values } = parseArgs({
  options: {
    queries: { type: "string", default: "20" },
    threads: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "64" },
    "context-tokens": { type: "string", default: "768" },
    dataset: {
      type: "string",
      default: path.resolve(import.meta.dirname, "../../../../shared/datasets/scifact"),
    },
    model: { type: "string", default: localGenerationModelPath },
  },
});
const queryCount = Number(values.queries);
const threads = Number(values.threads);
const maxTokens = Number(values["max-tokens"]);
const contextTokens = Number(values["context-tokens"]);

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
    return document ? [toPassage(document, 1 - index * 0.01, index + 1)] : [];
  });
  for (let index = 0; index < 2; index++) {
    passages.push(toPassage(corpus[Math.floor(random() * corpus.length)]!, 0.5 - index * 0.01, 100 + index));
  }
  return passages;
}

const generator = createLlamaCppGenerator({ modelPath: values.model, threads });
const info = await generator.load();
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  `model: ${path.basename(values.model)} (${info.mode}, ${info.architecture}), context ${info.contextSize}, threads ${threads}, loaded in ${info.loadMs.toFixed(0)} ms`,
);
console.log(
  `answers: ${queryCount} SciFact claims, maxTokens ${maxTokens}, contextTokens ${contextTokens}\n`,
);

const run = async (claim: string, relevant: string[]) =>
  collectAnswer(
    answer({
      question: `Is it true that ${claim.replace(/\.\s*$/, "")}?`,
      passages: passagesFor(relevant),
      generator,
      contextTokens,
      maxTokens,
      evidence: { threshold: 0 },
    }),
  );

await run(queries[0]!.text, queries[0]!.relevant);
const firstTokens: number[] = [];
const totals: number[] = [];
const perToken: number[] = [];
const promptTokens: number[] = [];
console.log("query  sources  prompt-tok  out-tok  first-token-ms  total-ms  ms/out-token  finish");
for (const query of queries.slice(0, queryCount)) {
  const result = await run(query.text, query.relevant);
  const { timings, usage } = result;
  if (timings.firstTokenMs !== null) firstTokens.push(timings.firstTokenMs);
  totals.push(timings.answerMs);
  if (timings.msPerOutputToken !== null) perToken.push(timings.msPerOutputToken);
  promptTokens.push(usage.promptTokens);
  console.log(
    [
      query.id.padStart(5),
      String(result.passages.length).padStart(8),
      String(usage.promptTokens).padStart(11),
      String(usage.completionTokens).padStart(8),
      fmt(timings.firstTokenMs).padStart(15),
      fmt(timings.answerMs).padStart(9),
      (timings.msPerOutputToken?.toFixed(1) ?? "-").padStart(13),
      `  ${result.finishReason}`,
    ].join(" "),
  );
}
await generator.dispose();

const sortedFirst = [...firstTokens].sort((a, b) => a - b);
const sortedTotal = [...totals].sort((a, b) => a - b);
const sortedPerToken = [...perToken].sort((a, b) => a - b);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log(
  `\ntime to first token: p50 ${fmt(percentile(sortedFirst, 50))} ms, p99 ${fmt(percentile(sortedFirst, 99))} ms`,
);
console.log(
  `total answer time:   p50 ${fmt(percentile(sortedTotal, 50))} ms, p99 ${fmt(percentile(sortedTotal, 99))} ms`,
);
console.log(
  `ms per output token: p50 ${percentile(sortedPerToken, 50).toFixed(1)}, p99 ${percentile(sortedPerToken, 99).toFixed(1)}; mean prompt ${mean(promptTokens).toFixed(0)} tokens`,
);
console.log(
  `load average after: ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
