import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore } from "@sift/store";
import { describe, expect, it } from "vitest";
import { selectConfigs } from "./configs";
import { runEvaluation } from "./harness";
import { createProgress } from "./progress";
import { readyPython } from "./python";
import { renderMarkdown } from "./report";

// A tiny BEIR dataset: each query has one relevant document that shares its words.
const topics = [
  ["d-fusion", "Rank fusion", "Reciprocal rank fusion merges the BM25 ranking with the dense ranking."],
  ["d-bread", "Baking", "Bake the sourdough bread for forty minutes in a hot oven."],
  ["d-tomato", "Gardening", "Plant the tomato seedlings after the last spring frost."],
  ["d-comet", "Astronomy", "A comet grows a bright tail of dust and gas near the sun."],
  ["d-violin", "Music", "The violin has four strings tuned in perfect fifths."],
  ["d-glacier", "Geology", "A glacier carves a valley into a U shape as it moves."],
] as const;
const questions = [
  ["q1", "how does rank fusion merge bm25 and dense rankings", "d-fusion", 2],
  ["q2", "how long to bake sourdough bread in the oven", "d-bread", 1],
  ["q3", "when to plant tomato seedlings after frost", "d-tomato", 1],
  ["q4", "what gives a comet its tail near the sun", "d-comet", 1],
] as const;

describe("the harness end to end (real sift CLI and service, BM25 only)", () => {
  it("ingests, measures configurations over HTTP, marks refused ones unavailable, runs a peer and answers", {
    timeout: 240_000,
  }, async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), "sift-harness-"));
    try {
      const dataset = path.join(scratch, "tiny");
      await mkdir(path.join(dataset, "qrels"), { recursive: true });
      await writeFile(
        path.join(dataset, "corpus.jsonl"),
        topics.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join("\n"),
      );
      await writeFile(
        path.join(dataset, "queries.jsonl"),
        [
          ...questions.map(([id, text]) => JSON.stringify({ _id: id, text })),
          JSON.stringify({ _id: "q-unjudged", text: "x" }),
        ].join("\n"),
      );
      await writeFile(
        path.join(dataset, "qrels", "test.tsv"),
        `query-id\tcorpus-id\tscore\n${questions.map(([q, , d, grade]) => `${q}\t${d}\t${grade}`).join("\n")}\n`,
      );
      const lines: string[] = [];
      const { report, failures } = await runEvaluation(
        {
          datasetDir: dataset,
          split: "test",
          configs: selectConfigs("bm25,dense,hybrid+rerank"),
          answers: 2,
          peers: ["minisearch"],
          cacheDir: path.join(scratch, "cache"),
          k: 10,
          warmup: 1,
          baseline: "bm25",
          serviceEnv: {
            SIFT_EMBEDDING_MODEL: "none",
            SIFT_RERANK_MODEL: "none",
            SIFT_GENERATOR: "extractive",
          },
          modelNames: { embedding: "none", rerank: "none", generator: "extractive" },
          keepCollection: false,
          inProcess: true,
          python: readyPython(),
        },
        createProgress({ write: (t: string) => lines.push(t) }),
      );
      expect(failures).toEqual({});
      expect(report.queries).toBe(4);
      const bm25 = report.configs.bm25!;
      expect(bm25.queries).toBe(4);
      // Every query's relevant document shares its words: BM25 ranks it first.
      expect(bm25["mrr@10"]).toBe(1);
      expect(bm25["ndcg@10"]).toBe(1);
      expect(bm25.latency_ms.p50).toBeGreaterThan(0);
      expect(bm25.degradedQueries).toBe(0);
      // The same configuration in process: the Engine on the same collection ranks exactly as the service.
      expect(bm25.inProcess).toMatchObject({ queries: 4, identicalRankings: 4, degradedQueries: 0 });
      expect(bm25.inProcess!.latency_ms.p50).toBeGreaterThan(0);
      expect(bm25.inProcess!.latency_ms.p99).toBeGreaterThanOrEqual(bm25.inProcess!.latency_ms.p50);
      expect(bm25.inProcess!.qps).toBeGreaterThan(0);
      // Without an embedding model or a reranker the service refuses these: reported, not measured.
      expect(Object.keys(report.unavailable ?? {}).sort()).toEqual(["dense", "hybrid+rerank"]);
      expect(report.configs.dense).toBeUndefined();
      expect(report.peers.minisearch?.queries).toBe(4);
      expect(Object.keys(report.perQuery.runs).sort()).toEqual(["bm25", "minisearch"]);
      expect(report.answers?.questions).toBe(2);
      expect(report.answers?.citationValidity ?? 0).toBeGreaterThanOrEqual(0);
      expect(report.settings.dataDir.startsWith(path.join(scratch, "cache", "tiny-"))).toBe(true);
      if (readyPython() !== undefined && "maxAbsDiff" in report.crossCheck!) {
        expect(report.crossCheck.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      }
      expect(lines.join("")).toContain("bm25: nDCG@10 1.0000");
      expect(renderMarkdown(report)).toContain("dense: not measured, the service refused it");
      expect(renderMarkdown(report)).toMatch(
        /\| bm25 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \| 4 \/ 4 \|/,
      );
      // The in-process step deleted the collection afterwards, as the HTTP step does without it.
      await expect(collectionsIn(report.settings.dataDir)).resolves.toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

async function collectionsIn(dataDir: string): Promise<string[]> {
  const store = await openStore({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
  try {
    return (await store.listCollections()).map((c) => c.name);
  } finally {
    await store.close();
  }
}
