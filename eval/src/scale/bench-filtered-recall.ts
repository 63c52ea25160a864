/**
 * `tsx eval/src/scale/bench-filtered-recall.ts [--docs 20000] [--queries 100] [--expansion 64,128,256]`
 *
 * Dense recall@10 of the embedded usearch index against brute force, unfiltered and under the scale
 * bench's 1 % / 10 % / 50 % filters, for each search expansion given: the scale corpus (ADR 19), its
 * term-hashing stand-in vectors, and the same number of random unit vectors as a control. Prints recall and
 * latency p50/p99 per setting; no store, no service.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { compileFilter, type Filter, seededRandom } from "@sift/core";
import { dot, openUsearchIndex } from "@sift/vector";
import { percentile } from "../metrics";
import { loadTopics, scaleFilters, takeDocuments } from "./corpus";
import { hashEmbed, hashingProfile } from "./hashing-embedder";

const { values } = parseArgs({
  options: {
    docs: { type: "string", default: "20000" },
    queries: { type: "string", default: "100" },
    expansion: { type: "string", default: "64,128,256" },
    dataset: { type: "string", default: "../shared/datasets/scifact" },
  },
});
const docs = Number(values.docs);
const queryCount = Number(values.queries);
const expansions = values.expansion.split(",").map(Number);
const dimensions = hashingProfile.dimensions;

function randomUnit(random: () => number): Float32Array {
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
    v[i] = x;
    norm += x * x;
  }
  for (let i = 0; i < dimensions; i++) v[i]! /= Math.sqrt(norm);
  return v;
}

function exactTop(query: Float32Array, vectors: Float32Array[], allowed: (i: number) => boolean): number[] {
  const scored: [number, number][] = [];
  for (let i = 0; i < vectors.length; i++) if (allowed(i)) scored.push([i, dot(query, vectors[i]!)]);
  return scored
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 10)
    .map(([i]) => i);
}

async function measure(kind: string, vectors: Float32Array[], queries: Float32Array[], metadata: object[]) {
  for (const expansionSearch of expansions) {
    const dir = await mkdtemp(path.join(tmpdir(), "sift-recall-"));
    const index = await openUsearchIndex({ path: dir, dimensions, metric: "cos", expansionSearch });
    await index.upsert(
      vectors.map((vector, i) => ({ chunkId: i + 1, vector, metadata: metadata[i] as never })),
    );
    const cases: [string, Filter | undefined][] = [["none", undefined], ...Object.entries(scaleFilters)];
    for (const [name, filter] of cases) {
      const matches = filter === undefined ? () => true : compileFilter(filter);
      const recalls: number[] = [];
      const times: number[] = [];
      for (const query of queries) {
        const exact = exactTop(query, vectors, (i) => matches(metadata[i] as never));
        const started = performance.now();
        const { hits } = await index.search({ vector: query, limit: 10, ...(filter ? { filter } : {}) });
        times.push(performance.now() - started);
        const found = new Set(hits.map((h) => h.chunkId - 1));
        recalls.push(exact.filter((i) => found.has(i)).length / Math.max(1, exact.length));
      }
      const mean = recalls.reduce((a, b) => a + b, 0) / recalls.length;
      console.log(
        `${kind} expansion ${expansionSearch} filter ${name}: recall@10 ${mean.toFixed(3)}, p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`,
      );
    }
    console.log(`  strategies: ${JSON.stringify(index.stats())}`);
    await index.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const topics = await loadTopics(path.resolve(values.dataset));
const corpus = takeDocuments(topics, { seed: 1 }, docs + queryCount);
const texts = corpus.map((d) => `${d.title}\n${d.text}`);
const hashed = texts.map((t) => hashEmbed(t));
// Queries: held-out documents' first sentence, as the scale bench's queries are sentences.
const hashedQueries = corpus.slice(docs).map((d) => hashEmbed(d.text.split(". ")[0]!));
const metadata = corpus.slice(0, docs).map((d) => d.metadata);
await measure("hashing", hashed.slice(0, docs), hashedQueries, metadata);
const random = seededRandom(7);
const randomVectors = Array.from({ length: docs }, () => randomUnit(random));
const randomQueries = Array.from({ length: queryCount }, () => randomUnit(random));
await measure("random", randomVectors, randomQueries, metadata);
