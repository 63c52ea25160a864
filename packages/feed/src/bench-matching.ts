/**
 * `pnpm --filter @sift/feed bench:matching [--queries 2000,20000,100000] [--documents 200]`: how matching
 * scales with the number of saved queries when every arriving document is scored against every profile
 * (no presearcher). Synthetic but shaped like the deployment: 200-word documents and 8-word queries over a
 * Zipf(1) vocabulary of 20,000 words, 384-dimensional unit vectors, 10 queries per profile. Prints the
 * milliseconds per document (median and p99 over the documents) per query count, and the burst estimate
 * (10,000 documents). docs/adr/0014-feed-presearcher-line.md reads its figures.
 */
import { parseArgs } from "node:util";
import { createAnalyzer } from "@sift/text";
import { CollectionStatisticsCorpus } from "./corpus";
import { matchDocument } from "./matcher";
import type { FeedDocument, Profile } from "./types";

const { values } = parseArgs({
  options: {
    queries: { type: "string", default: "2000,20000,100000" },
    documents: { type: "string", default: "200" },
  },
});

let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}x`);
const weights = vocabulary.map((_, i) => 1 / (i + 1));
const total = weights.reduce((a, b) => a + b, 0);
const word = () => {
  let u = random() * total;
  for (const [i, w] of weights.entries()) {
    u -= w;
    if (u <= 0) return vocabulary[i]!;
  }
  return vocabulary.at(-1)!;
};
const text = (n: number) => Array.from({ length: n }, word).join(" ");
const unit = () => {
  const v = new Float32Array(384).map(() => random() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

const analyzer = createAnalyzer({ stem: false, stopWords: false });
const corpus = new CollectionStatisticsCorpus(analyzer);
const documents: FeedDocument[] = Array.from({ length: Number(values.documents) }, (_, i) => {
  const body = text(200);
  const chunk = { title: analyzer.analyze(text(8)), body: analyzer.analyze(body) };
  corpus.add(chunk);
  return {
    tenant: "t",
    collection: "c",
    documentId: `d${i}`,
    title: `d${i}`,
    text: body,
    chunks: [chunk],
    embedding: unit(),
    source: null,
    tags: [],
    metadata: {},
    publishedAt: 0,
    arrivedAt: 0,
  };
});

function profiles(queryCount: number): Profile[] {
  return Array.from({ length: Math.ceil(queryCount / 10) }, (_, p) => ({
    tenant: "t",
    user: `u${p}`,
    savedQueries: Array.from({ length: 10 }, (_, q) => ({ id: `q${q}`, text: text(8), vector: unit() })),
    coverage: null,
    collections: ["c"],
    mutes: { sources: [], tags: [], documents: [] },
    learned: { centroids: [], saved: [], avoided: [] },
    createdAt: 0,
    updatedAt: 0,
    version: 1,
  }));
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
process.stdout.write(
  "saved queries | profiles | ms/document p50 | ms/document p99 | 10,000-document burst (s)\n",
);
for (const count of values.queries.split(",").map(Number)) {
  const all = profiles(count);
  const times: number[] = [];
  for (const document of documents) {
    const started = performance.now();
    for (const profile of all) matchDocument(profile, document, corpus, "x", 0);
    times.push(performance.now() - started);
  }
  const p50 = quantile(times, 0.5);
  process.stdout.write(
    `${count} | ${all.length} | ${p50.toFixed(2)} | ${quantile(times, 0.99).toFixed(2)} | ${((p50 * 10_000) / 1000).toFixed(1)}\n`,
  );
}
