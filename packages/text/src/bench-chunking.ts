/**
 * Chunking throughput on a BEIR-style corpus (JSONL with `_id`, `title`, `text`), default options.
 *
 *   pnpm --filter @sift/text bench:chunking [path/to/corpus.jsonl]
 *
 * Prints figures; asserts nothing. The default path is the SciFact corpus in the shared datasets.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chunkDocument } from "./chunker";
import { estimateTokens } from "./estimate-tokens";
import { parseDocument } from "./parse-document";

const path = resolve(
  process.argv[2] ?? new URL("../../../../shared/datasets/scifact/corpus.jsonl", import.meta.url).pathname,
);
const documents = readFileSync(path, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as { _id: string; title?: string; text: string });
const characters = documents.reduce((sum, document) => sum + document.text.length, 0);

function pass() {
  let chunks = 0;
  let multiple = 0;
  let maxChunks = 0;
  for (const document of documents) {
    const produced = chunkDocument(parseDocument(document.text, "text")).length;
    chunks += produced;
    if (produced > 1) multiple++;
    maxChunks = Math.max(maxChunks, produced);
  }
  return { chunks, multiple, maxChunks };
}

/** Wall-clock and CPU milliseconds of one pass (CPU time is steadier on a busy machine). */
function timed<T>(work: () => T): { result: T; wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = work();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { result, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

const cold = timed(pass);
const result = cold.result;
const warm = Array.from({ length: 7 }, () => timed(pass));
const wallSorted = warm.map((run) => run.wallMs).sort((left, right) => left - right);
const cpuSorted = warm.map((run) => run.cpuMs).sort((left, right) => left - right);
const tokens = documents.map((document) => estimateTokens(document.text)).sort((left, right) => left - right);

console.log(`corpus            ${path}`);
console.log(`documents         ${documents.length} (${(characters / 1e6).toFixed(2)} M UTF-16 code units)`);
console.log(
  `estimated tokens  median ${tokens[tokens.length >> 1]}, p99 ${tokens[Math.floor(tokens.length * 0.99)]}, max ${tokens[tokens.length - 1]}`,
);
console.log(
  `chunks            ${result.chunks}; documents with more than one: ${result.multiple}; most in one: ${result.maxChunks}`,
);
console.log(
  `first pass        ${cold.wallMs.toFixed(1)} ms wall, ${cold.cpuMs.toFixed(1)} ms CPU (includes JIT warm-up)`,
);
console.log(
  `7 warm passes     wall median ${wallSorted[3]!.toFixed(1)} ms (best ${wallSorted[0]!.toFixed(1)}); CPU median ${cpuSorted[3]!.toFixed(1)} ms (best ${cpuSorted[0]!.toFixed(1)})`,
);
console.log(
  `throughput        ${(characters / 1e6 / (wallSorted[3]! / 1000)).toFixed(1)} M code units/s (wall median)`,
);
