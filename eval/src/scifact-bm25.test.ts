import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "@sift/engine";
import { readSource } from "@sift/ingest";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { loadBeirQueries } from "./beir";
import { dedupe, mean, ndcgAt, recallAt } from "./metrics";

const scifact = fileURLToPath(new URL("../../../shared/datasets/scifact", import.meta.url));
const present = existsSync(path.join(scifact, "corpus.jsonl"));
if (!present) {
  // CI always has ../shared; elsewhere say why the quality check did not run.
  console.warn(`skipping the SciFact BM25 quality check: no dataset at ${scifact}`);
  if (process.env.CI === "true") throw new Error(`CI must provide ${scifact}`);
}

describe.skipIf(!present)("BM25 quality on BEIR SciFact (test split), through the real pipeline", () => {
  it("reaches nDCG@10 >= 0.68 (Anserini Lucene BM25: 0.679)", { timeout: 300_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sift-scifact-"));
    const store = await openStore({ driver: "pglite", dataDir: "memory://" });
    try {
      await store.migrate();
      const analyzer = createAnalyzer();
      const engine = new Engine({ store, dataDir, analyzer });
      const { collection } = await store.ensureCollection({ tenant: "default", name: "scifact" });
      const { job } = await engine.ingest({
        collectionId: collection.id,
        source: readSource(scifact, { format: "beir" }),
        sourceLabel: scifact,
        batchSize: 500,
      });
      expect(job.status).toBe("succeeded");
      expect(job.counts.created).toBe(5183);

      const searcher = engine.searcher;
      const { queries, qrels } = await loadBeirQueries(scifact, "test");
      expect(queries).toHaveLength(300);
      const ndcg: number[] = [];
      const recall: number[] = [];
      for (const query of queries) {
        const result = await searcher.search({
          collectionId: collection.id,
          query: query.text,
          k: 100,
          offset: 0,
          mode: "bm25",
        });
        const ranked = dedupe(result.hits.map((h) => h.documentId));
        const judged = qrels.get(query.id)!;
        ndcg.push(ndcgAt(ranked, judged, 10));
        recall.push(recallAt(ranked, judged, 100));
      }
      console.log(`SciFact BM25: nDCG@10 ${mean(ndcg).toFixed(4)}, Recall@100 ${mean(recall).toFixed(4)}`);
      expect(mean(ndcg)).toBeGreaterThanOrEqual(0.68);
      expect(mean(recall)).toBeGreaterThanOrEqual(0.9);
      await engine.close();
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
