/**
 * Lexical quality and speed on BEIR SciFact: builds a BM25 index over the corpus (one chunk per document:
 * title as title, text as body), runs the test queries and prints nDCG@10 (binary relevance, log2 discount,
 * ideal from the qrels), Recall@100, queries per second and build / persist / load times.
 *
 *   npx tsx packages/lexical/scripts/scifact-ndcg.ts [--dir /work/shared/datasets/scifact] [--title-weight 2]
 *     [--body-weight 1] [--k1 1.2] [--b 0.75]
 *
 * Reads the data in place; nothing is copied into the repository.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAnalyzer } from "@sift/text";
import { analyzeBm25Document, type Bm25Document, resolveBm25Config } from "../src/index";
import { WinkBm25Index as Bm25Index } from "../src/wink-reference-index";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: "/work/shared/datasets/scifact" },
    "title-weight": { type: "string" },
    "body-weight": { type: "string" },
    k1: { type: "string" },
    b: { type: "string" },
  },
});
const dir = values.dir;
const number = (value: string | undefined, fallback: number) =>
  value === undefined ? fallback : Number(value);
const base = resolveBm25Config();
const config = resolveBm25Config({
  k1: number(values.k1, base.k1),
  b: number(values.b, base.b),
  fieldWeights: {
    title: number(values["title-weight"], base.fieldWeights.title),
    body: number(values["body-weight"], base.fieldWeights.body),
  },
});
const analyzer = createAnalyzer();

function jsonl<T>(path: string): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as T);
}

// BEIR ids are strings; the index wants positive integers, so number the documents 1..n.
const corpus = jsonl<{ _id: string; title?: string; text: string }>(`${dir}/corpus.jsonl`);
const documents: Bm25Document[] = corpus.map((row, index) => ({
  id: index + 1,
  title: row.title ?? "",
  body: row.text,
}));
const externalIdOf = (id: number) => corpus[id - 1]?._id ?? "";

const queries = new Map(
  jsonl<{ _id: string; text: string }>(`${dir}/queries.jsonl`).map((q) => [q._id, q.text]),
);
const qrels = new Map<string, Set<string>>();
for (const line of readFileSync(`${dir}/qrels/test.tsv`, "utf8").split("\n").slice(1)) {
  const [queryId, corpusId, score] = line.trim().split("\t");
  if (queryId === undefined || corpusId === undefined || !(Number(score) > 0)) continue;
  const relevant = qrels.get(queryId) ?? new Set<string>();
  relevant.add(corpusId);
  qrels.set(queryId, relevant);
}

// Timed in two parts: the analyzer (tokenise, stop words, stemming) and wink's indexing + consolidation.
let started = performance.now();
const analyzed = documents.map((document) => analyzeBm25Document(document, analyzer));
const analyzeMs = performance.now() - started;
started = performance.now();
const index = Bm25Index.buildAnalyzed(analyzed, config, analyzer);
const indexMs = performance.now() - started;

started = performance.now();
const json = index.toJSON();
const exportMs = performance.now() - started;
started = performance.now();
Bm25Index.fromJSON(json, index.size, config, analyzer);
const importMs = performance.now() - started;

let ndcgSum = 0;
let recallSum = 0;
let evaluated = 0;
started = performance.now();
for (const [queryId, relevant] of qrels) {
  const text = queries.get(queryId);
  if (text === undefined) continue;
  const ranked = index.search(text, 100).map((hit) => externalIdOf(hit.chunkId));
  let dcg = 0;
  ranked.slice(0, 10).forEach((id, rank) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(rank + 2);
  });
  let ideal = 0;
  for (let rank = 0; rank < Math.min(10, relevant.size); rank += 1) ideal += 1 / Math.log2(rank + 2);
  ndcgSum += ideal > 0 ? dcg / ideal : 0;
  recallSum += ranked.filter((id) => relevant.has(id)).length / relevant.size;
  evaluated += 1;
}
const searchMs = performance.now() - started;

console.log(
  JSON.stringify(
    { documents: documents.length, queries: evaluated, config, analyzer: analyzer.name },
    null,
    0,
  ),
);
console.log(`nDCG@10     ${(ndcgSum / evaluated).toFixed(4)}`);
console.log(`Recall@100  ${(recallSum / evaluated).toFixed(4)}`);
console.log(`queries/s   ${((evaluated / searchMs) * 1000).toFixed(0)} (top-100, one thread)`);
console.log(
  `build       ${(analyzeMs + indexMs).toFixed(0)} ms (analyzer ${analyzeMs.toFixed(0)} ms, wink ${indexMs.toFixed(0)} ms)`,
);
console.log(
  `export      ${exportMs.toFixed(0)} ms (${(json.length / 1e6).toFixed(1)} MB)   import ${importMs.toFixed(0)} ms`,
);
