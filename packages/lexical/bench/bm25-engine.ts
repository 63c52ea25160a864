/**
 * `pnpm tsx packages/lexical/bench/bm25-engine.ts [--synthetic 600000] [--rounds 3] [--skip-wink] [--skip-peers]`
 *
 * Prints, in one run (so that the shared machine's load hits every engine alike):
 * 1. BEIR SciFact test (chunks as ingestion makes them, 300 queries), in process, one client: queries/s and
 *    p50/p99 latency at k = 10 and k = 100 for the segment engine (MaxScore, block-max WAND, exhaustive),
 *    wink-bm25-text-search (the reference), MiniSearch 7.2.0 and, when the eval venv exists, bm25s (Python,
 *    in its own process, `eval/python/bm25s_peer.py`); nDCG@10 at document level.
 * 2. A synthetic corpus of `--synthetic` chunks (SciFact sentences recombined; terms keep SciFact's Zipfian
 *    frequencies): build time,
 *    memory, file size, write and load time, query p50/p99 per algorithm, and a merge of base + 1 % delta
 *    with the longest event-loop stall it caused.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, homedir, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createAnalyzer } from "@sift/text";
import MiniSearch from "minisearch";
import { analyzeChunk, type SegmentDocument } from "../src/analyzed-document";
import { defaultBm25Config } from "../src/config";
import { LexicalSnapshot, searchSnapshot } from "../src/lexical-snapshot";
import { dedupe, loadScifact, ndcgAt, scifactDirectory } from "../src/scifact-test-support";
import type { Segment } from "../src/segment";
import { buildSegment, SegmentBuilder } from "../src/segment-builder";
import { readSegmentFile, writeSegmentFile } from "../src/segment-file";
import { mergeSegments } from "../src/segment-merge";
import { SegmentView } from "../src/segment-view";
import type { TopKAlgorithm } from "../src/top-k-search";
import { WinkBm25Index } from "../src/wink-reference-index";

const { values } = parseArgs({
  options: {
    synthetic: { type: "string", default: "600000" },
    rounds: { type: "string", default: "3" },
    "skip-wink": { type: "boolean", default: false },
    "skip-peers": { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const analyzer = createAnalyzer();
const config = defaultBm25Config;
const algorithms: TopKAlgorithm[] = ["auto", "maxscore", "block-max-wand", "exhaustive"];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function summary(latencies: number[], seconds: number): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `${(latencies.length / seconds).toFixed(0).padStart(6)} q/s  p50 ${percentile(sorted, 50).toFixed(3)} ms  p99 ${percentile(sorted, 99).toFixed(3)} ms`;
}
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Runs every query `rounds` times; returns the summary line and the last round's ranking per query. */
function measure(
  queries: string[],
  search: (query: string) => number[],
  times = rounds,
): { line: string; ranked: number[][] } {
  const latencies: number[] = [];
  let ranked: number[][] = [];
  const started = performance.now();
  for (let round = 0; round < times; round += 1) {
    ranked = [];
    for (const query of queries) {
      const t0 = performance.now();
      ranked.push(search(query));
      latencies.push(performance.now() - t0);
    }
  }
  return { line: summary(latencies, (performance.now() - started) / 1000), ranked };
}

function snapshotOf(segments: Segment[]): LexicalSnapshot {
  return new LexicalSnapshot(segments.map(SegmentView.of), { analyzer, config, revision: 1 });
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);

// ---- 1. SciFact ----
const scifact = loadScifact();
const queryTexts = scifact.queries.map((query) => query.text);
let started = performance.now();
const documents = scifact.chunks.map((chunk) => analyzeChunk(chunk, analyzer));
const analyzeMs = performance.now() - started;
started = performance.now();
const segment = buildSegment(documents, config);
const buildMs = performance.now() - started;
const snapshot = snapshotOf([segment]);
console.log(
  `\nSciFact: ${scifact.chunks.length} chunks, ${scifact.queries.length} queries; analysis ${analyzeMs.toFixed(0)} ms, ` +
    `segment build ${buildMs.toFixed(0)} ms (${segment.termCount} terms, ${segment.postingCount} postings)`,
);
const externalIdOf = (chunkId: number) => scifact.chunks[chunkId - 1]!.externalId;
const ndcg = (ranked: number[][]) => {
  let sum = 0;
  ranked.forEach((ids, i) => {
    sum += ndcgAt(dedupe(ids.map(externalIdOf)), scifact.qrels.get(scifact.queries[i]!.id)!, 10);
  });
  return (sum / ranked.length).toFixed(4);
};
for (const k of [10, 100]) {
  for (const algorithm of algorithms) {
    const { line, ranked } = measure(queryTexts, (query) =>
      searchSnapshot(snapshot, { query, limit: k }, algorithm).result.hits.map((hit) => hit.chunkId),
    );
    console.log(`  k=${k} sift ${algorithm.padEnd(15)} ${line}  nDCG@10 ${ndcg(ranked)}`);
  }
}
if (!values["skip-wink"]) {
  started = performance.now();
  const wink = WinkBm25Index.buildAnalyzed(documents, config, analyzer);
  console.log(`  wink build ${(performance.now() - started).toFixed(0)} ms (from analysed chunks)`);
  for (const k of [10, 100]) {
    const { line, ranked } = measure(queryTexts, (query) => wink.search(query, k).map((hit) => hit.chunkId));
    console.log(`  k=${k} wink-bm25-text-search  ${line}  nDCG@10 ${ndcg(ranked)}`);
  }
}
if (!values["skip-peers"]) {
  started = performance.now();
  const mini = new MiniSearch<{ id: number; title: string; text: string }>({ fields: ["title", "text"] });
  mini.addAll(scifact.chunks.map((chunk) => ({ id: chunk.id, title: chunk.title ?? "", text: chunk.text })));
  console.log(
    `  MiniSearch 7.2.0 build ${(performance.now() - started).toFixed(0)} ms (its own tokenizer, no stemming)`,
  );
  for (const k of [10, 100]) {
    const { line, ranked } = measure(
      queryTexts,
      (query) =>
        mini
          .search(query)
          .slice(0, k)
          .map((result) => Number(result.id)),
      1,
    );
    console.log(`  k=${k} minisearch (1 round)   ${line}  nDCG@10 ${ndcg(ranked)}`);
  }
}
if (!values["skip-peers"]) await runBm25s();

// ---- 2. synthetic corpus ----
const target = Number(values.synthetic);
if (target > 0) await synthetic(target);

async function runBm25s(): Promise<void> {
  const evalDir = fileURLToPath(new URL("../../../eval", import.meta.url));
  const hash = createHash("sha256")
    .update(readFileSync(path.join(evalDir, "python", "requirements.txt")))
    .digest("hex")
    .slice(0, 12);
  const python = path.join(homedir(), ".cache", "sift", "py", `eval-${hash}`, "bin", "python");
  if (!existsSync(python)) {
    console.log(`  bm25s: skipped (no eval venv at ${python}; run eval/scripts/python-env.sh)`);
    return;
  }
  for (const k of [10, 100]) {
    const child = spawn(python, [path.join(evalDir, "python", "bm25s_peer.py")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (data: Buffer) => chunks.push(data));
    const exited = new Promise((resolve) => child.once("close", resolve));
    child.stdin.end(
      JSON.stringify({ corpus: scifactDirectory, k, queries: scifact.queries.map((q) => [q.id, q.text]) }),
    );
    await exited;
    const response = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      version: string;
      latenciesMs: number[];
      querySeconds: number;
      ranked: Record<string, string[]>;
    };
    let sum = 0;
    for (const query of scifact.queries)
      sum += ndcgAt(response.ranked[query.id] ?? [], scifact.qrels.get(query.id)!, 10);
    console.log(
      `  k=${k} bm25s ${response.version} (Python, 1 round) ${summary(response.latenciesMs, response.querySeconds)}  nDCG@10 ${(sum / scifact.queries.length).toFixed(4)}`,
    );
  }
}

/** Sentences of SciFact's analysed chunks (runs of ~12 terms), recombined into Zipf-distributed chunks. */
async function synthetic(count: number): Promise<void> {
  const sentences: string[][] = [];
  for (const document of documents) {
    for (let i = 0; i < document.body.length; i += 12)
      sentences.push(document.body.slice(i, i + 12) as string[]);
  }
  // mulberry32: a seeded 32-bit PRNG (integer arithmetic, full period).
  let seed = 42;
  const next = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Zipf over sentences (s = 1): popular sentences, hence terms, recur across many chunks.
  const pick = () =>
    Math.min(sentences.length - 1, Math.floor(Math.exp(next() * Math.log(sentences.length)) - 1));
  const chunkAt = (id: number): SegmentDocument => {
    const body: string[] = [];
    const length = 6 + Math.floor(next() * 12);
    for (let s = 0; s < length; s += 1) body.push(...sentences[pick()]!);
    return { id, title: documents[Math.floor(next() * documents.length)]!.title, body, documentId: id };
  };
  console.log(`\nsynthetic: ${count} chunks from ${sentences.length} SciFact sentences, drawn uniformly)`);
  const heapBefore = process.memoryUsage();
  started = performance.now();
  const builder = new SegmentBuilder(config);
  for (let id = 1; id <= count; id += 1) builder.add(chunkAt(id));
  const base = builder.finish();
  const buildSeconds = (performance.now() - started) / 1000;
  const memory = process.memoryUsage();
  console.log(
    `  build ${buildSeconds.toFixed(1)} s (from analysed chunks; analysis alone runs ~${(((analyzeMs / documents.length) * count) / 1000).toFixed(0)} s at SciFact's rate); ` +
      `${base.termCount} terms, ${base.postingCount} postings; rss ${mb(memory.rss)}, array buffers ${mb(memory.arrayBuffers - heapBefore.arrayBuffers)}`,
  );
  const directory = await mkdtemp(path.join(tmpdir(), "sift-bench-lexical-"));
  try {
    started = performance.now();
    const file = path.join(directory, "base.bin");
    const written = await writeSegmentFile(file, base, { analyzer: analyzer.name, config });
    const writeSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const loaded = await readSegmentFile(file, { sha256: written.sha256, analyzer: analyzer.name, config });
    const loadSeconds = (performance.now() - started) / 1000;
    const inMemory = Object.values(loaded.arrays).reduce((sum, array) => sum + (array?.byteLength ?? 0), 0);
    console.log(
      `  file ${mb(written.bytes)} written in ${writeSeconds.toFixed(2)} s; load (sha256 + views) ${loadSeconds.toFixed(2)} s; ` +
        `loaded arrays ${mb(inMemory)} (forward index left on disk)`,
    );
    const big = snapshotOf([loaded]);
    for (const k of [10, 100]) {
      for (const algorithm of algorithms) {
        const { line } = measure(queryTexts, (query) =>
          searchSnapshot(big, { query, limit: k }, algorithm).result.hits.map((hit) => hit.chunkId),
        );
        console.log(`  k=${k} ${algorithm.padEnd(15)} ${line}`);
      }
    }
    const shortQueries = queryTexts.map((query) => analyzer.analyze(query).slice(0, 2).join(" "));
    for (const algorithm of algorithms) {
      const { line } = measure(shortQueries, (query) =>
        searchSnapshot(big, { query, limit: 10 }, algorithm).result.hits.map((hit) => hit.chunkId),
      );
      console.log(`  k=10 two-term queries ${algorithm.padEnd(15)} ${line}`);
    }
    // Merge base + a 1 % delta: time, and the longest stretch without the event loop turning.
    const delta = buildSegment(
      Array.from({ length: Math.ceil(count / 100) }, (_, i) => chunkAt(count + 1 + i)),
      config,
    );
    let longest = 0;
    let last = performance.now();
    let ticking = true;
    const tick = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    started = performance.now();
    const merged = await mergeSegments([SegmentView.of(loaded), SegmentView.of(delta)], config);
    ticking = false;
    console.log(
      `  merge base + ${delta.docCount} chunks: ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `${merged.docCount} chunks, longest event-loop stall ${longest.toFixed(1)} ms`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
