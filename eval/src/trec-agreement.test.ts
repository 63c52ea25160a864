import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "@sift/core";
import { Engine } from "@sift/engine";
import { readSource } from "@sift/ingest";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { loadBeirQueries } from "./beir";
import { evaluateQuery, meanMetrics, type Qrels, trecOrder } from "./metrics";
import { readyPython } from "./python";
import { compareWithPytrecEval, pytrecEvalScores, rankedToScored, type ScoredRun } from "./trec-check";

// pytrec_eval lives in the venv made by eval/scripts/python-env.sh (infra/scripts/test.sh runs it first).
const python = readyPython();
if (python === undefined) {
  console.warn("skipping the pytrec_eval agreement tests: run `bash eval/scripts/python-env.sh` first");
  if (process.env.CI === "true") throw new Error("CI must set up the eval venv (eval/scripts/python-env.sh)");
}
const scifact = fileURLToPath(new URL("../../../shared/datasets/scifact", import.meta.url));
const haveScifact = existsSync(path.join(scifact, "corpus.jsonl"));
if (!haveScifact) console.warn(`skipping the SciFact agreement test: no dataset at ${scifact}`);

const tolerance = 1e-4;
const grades = (entries: Record<string, number>): Qrels => new Map(Object.entries(entries));
const scored = (entries: Record<string, number>) => Object.entries(entries);

/** Hand-made cases, each one query: a name, its qrels and a scored run. */
const edgeCases: Array<[string, Qrels, Array<[string, number]>]> = [
  ["no relevant document retrieved", grades({ a: 1, b: 1 }), scored({ x: 3, y: 2, z: 1 })],
  [
    "graded relevance, a judged non-relevant document ranked first, one relevant never retrieved",
    grades({ a: 3, b: 2, c: 1, d: 0 }),
    scored({ d: 5, c: 4, x: 3, a: 2 }),
  ],
  [
    "every score tied: trec_eval orders by document id descending",
    grades({ d1: 1, d2: 2 }),
    scored({ d1: 1, d2: 1, d3: 1, d10: 1, d0: 0.5 }),
  ],
  [
    "ties across the nDCG cut-off at 10",
    grades({ t9: 1, t10: 2, t11: 3 }),
    [
      ...Array.from({ length: 8 }, (_, i): [string, number] => [`h${i}`, 10 - i]),
      ...scored({ t9: 1, t10: 1, t11: 1, t12: 1 }),
    ],
  ],
  [
    "more relevant documents than the cut-off; relevant ones past rank 100",
    new Map(Array.from({ length: 15 }, (_, i) => [`r${i}`, (i % 3) + 1] as const)),
    Array.from({ length: 120 }, (_, i): [string, number] => [i % 8 === 0 ? `r${i / 8}` : `n${i}`, 200 - i]),
  ],
  ["only non-relevant judgements", grades({ a: 0 }), scored({ a: 1, b: 0.5 })],
  ["empty run", grades({ a: 1 }), []],
  ["negative and zero scores", grades({ a: 1, b: 1 }), scored({ x: 0, a: -1, b: -2 })],
];

/** Deterministic pseudo-random runs with many ties and graded qrels. */
function randomCases(count: number, seed: number): Array<[string, Qrels, Array<[string, number]>]> {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  return Array.from({ length: count }, (_, q) => {
    const judged = new Map<string, number>();
    for (let i = int(25); i >= 0; i--) judged.set(`d${int(300)}`, int(4));
    const run = new Map<string, number>();
    for (let i = int(150); i > 0; i--) run.set(`d${int(300)}`, int(6) / 2);
    return [`random ${q}`, judged, [...run]];
  });
}

describe.skipIf(python === undefined)("metrics agree with pytrec_eval (trec_eval's C code) to 1e-4", () => {
  it("on hand-made edge cases, query by query", async () => {
    const qrels = new Map(edgeCases.map(([name, judged]) => [name, judged]));
    const run: ScoredRun = new Map(edgeCases.map(([name, , docs]) => [name, docs]));
    const theirs = await pytrecEvalScores(python!, qrels, new Map([["edge", run]]));
    for (const [name, judged, docs] of edgeCases) {
      const ours = evaluateQuery(trecOrder(docs), judged);
      const other = theirs.runs.get("edge")!.get(name)!;
      for (const metric of Object.keys(ours) as Array<keyof typeof ours>) {
        expect(Math.abs(ours[metric] - other[metric]), `${name}: ${metric}`).toBeLessThanOrEqual(tolerance);
      }
    }
    // The cases are not vacuous: the tie case and the graded case score strictly between 0 and 1.
    const tie = theirs.runs.get("edge")!.get("every score tied: trec_eval orders by document id descending")!;
    expect(tie["mrr@10"]).toBe(0.5); // order d3, d2, d10, d1, d0: d2 (grade 2) ranks second
    expect(tie["ndcg@10"]).toBeGreaterThan(0);
    expect(tie["ndcg@10"]).toBeLessThan(1);
  });

  it("on 300 random runs with graded qrels and heavy score ties", async () => {
    const cases = randomCases(300, 20261126);
    const comparison = await compareWithPytrecEval(
      python!,
      new Map(cases.map(([name, judged]) => [name, judged])),
      new Map([["random", new Map(cases.map(([name, , docs]) => [name, docs]))]]),
    );
    expect(comparison.compared).toBe(300 * 4);
    expect(comparison.maxAbsDiff, JSON.stringify(comparison.worst)).toBeLessThanOrEqual(tolerance);
  });

  it.skipIf(!haveScifact)(
    "on SciFact BM25 runs from the real pipeline, as ranked lists and as raw (tied) scores",
    { timeout: 300_000 },
    async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "sift-trec-"));
      const store = await openStore({ driver: "pglite", dataDir: "memory://" });
      try {
        await store.migrate();
        const analyzer = createAnalyzer();
        const engine = new Engine({ store, dataDir, analyzer });
        const { collection } = await store.ensureCollection({ tenant: "default", name: "scifact" });
        await engine.ingest({
          collectionId: collection.id,
          source: readSource(scifact, { format: "beir" }),
          sourceLabel: scifact,
          batchSize: 500,
        });
        const searcher = engine.searcher;
        const { queries, qrels } = await loadBeirQueries(scifact, "test");
        const ranked = new Map<string, Array<[string, number]>>();
        const raw = new Map<string, Array<[string, number]>>();
        for (const query of queries) {
          const { hits } = await searcher.search({
            collectionId: collection.id,
            query: query.text,
            k: 100,
            offset: 0,
            mode: "bm25",
          });
          ranked.set(query.id, rankedToScored(hits.map((h) => h.documentId)));
          raw.set(
            query.id,
            hits.map((h) => [h.documentId, h.score]),
          );
        }
        await engine.close();
        const comparison = await compareWithPytrecEval(
          python!,
          qrels,
          new Map([
            ["ranked", ranked],
            ["raw scores", raw],
          ]),
        );
        expect(comparison.compared).toBe(2 * queries.length * 4);
        expect(comparison.maxAbsDiff, JSON.stringify(comparison.worst)).toBeLessThanOrEqual(tolerance);
        const means = meanMetrics(
          queries.map((q) => evaluateQuery(trecOrder(ranked.get(q.id)!), qrels.get(q.id)!)),
        );
        console.log(`SciFact BM25 (agreement run): ${JSON.stringify(means)}; ${comparison.tool}`);
        expect(means["ndcg@10"]).toBeGreaterThan(0.6);
      } finally {
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
