import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readBeirCorpus } from "../dataset";
import { readyPython } from "../python";
import { runBm25sPeer } from "./bm25s-peer";
import { runMiniSearchPeer } from "./minisearch-peer";

const corpus = [
  { _id: "d1", title: "Hybrid search", text: "Reciprocal rank fusion combines BM25 and dense vectors." },
  { _id: "d2", title: "Cooking", text: "Bake the bread for forty minutes at a high temperature." },
  {
    _id: "d3",
    title: "Vectors",
    text: "Dense retrieval embeds passages as vectors for nearest neighbour search.",
  },
  { _id: 4, text: "Gardening in spring: plant tomatoes after the frost." },
];
const queries = [
  { id: "q1", text: "rank fusion of bm25 and vectors" },
  { id: "q2", text: "how long to bake bread" },
  { id: "q3", text: "zzz qqq" },
];

async function withDataset<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "sift-peer-"));
  try {
    await writeFile(path.join(dir, "corpus.jsonl"), `${corpus.map((d) => JSON.stringify(d)).join("\n")}\n`);
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("BM25 peers on a tiny corpus", () => {
  it("MiniSearch ranks the matching documents first, returns nothing for unknown words, and times each query", async () => {
    await withDataset(async (dir) => {
      const documents = [];
      for await (const d of readBeirCorpus(dir)) documents.push(d);
      expect(documents.map((d) => d.id)).toEqual(["d1", "d2", "d3", "4"]);
      const run = runMiniSearchPeer(documents, queries, 2);
      expect(run.ranked.get("q1")?.[0]).toBe("d1");
      expect(run.ranked.get("q1")).toHaveLength(2);
      expect(run.ranked.get("q2")).toEqual(["d2"]);
      expect(run.ranked.get("q3")).toEqual([]);
      expect(run.latenciesMs).toHaveLength(3);
    });
  });

  const python = readyPython();
  it.skipIf(python === undefined)(
    "bm25s (Python) ranks the same way and drops zero-score documents",
    async () => {
      await withDataset(async (dir) => {
        const run = await runBm25sPeer(python!, dir, queries, 3);
        expect(run.ranked.get("q1")?.[0]).toBe("d1");
        expect(run.ranked.get("q2")).toEqual(["d2"]);
        expect(run.ranked.get("q3")).toEqual([]);
        expect(run.latenciesMs).toHaveLength(3);
        expect(run.description).toMatch(/^bm25s 0\.3\./);
      });
    },
  );
});
