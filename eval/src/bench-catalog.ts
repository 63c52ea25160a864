/**
 * `node --expose-gc --import tsx eval/src/bench-catalog.ts [--dataset DIR]`
 *
 * Ingests a BEIR dataset (BM25 only) into an in-memory PGlite store, then measures what one collection
 * snapshot's chunk catalog costs in JavaScript heap: bytes per chunk in all, and of those the chunk text
 * (held as the store gives it). Also times building the catalog from the store and one `with` (the
 * copy-on-write a refresh makes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type ChunkRecord, silentLogger } from "@sift/core";
import { Engine } from "@sift/engine";
import { readSource } from "@sift/ingest";
import { ChunkCatalog } from "@sift/retrieval";
import { openStore } from "@sift/store";

const { values } = parseArgs({
  options: { dataset: { type: "string", default: "../shared/datasets/scifact" } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const dataDir = await mkdtemp(path.join(tmpdir(), "sift-bench-catalog-"));
const store = await openStore({ driver: "pglite", dataDir: "memory://" });
try {
  await store.migrate();
  const engine = new Engine({ store, dataDir, logger: silentLogger });
  const { collection } = await store.ensureCollection({ tenant: "default", name: "bench" });
  await engine.ingest({
    collectionId: collection.id,
    source: readSource(path.resolve(values.dataset), { format: "beir" }),
    sourceLabel: values.dataset,
    batchSize: 500,
  });
  await engine.close();

  const before = heap();
  let records: ChunkRecord[] = [];
  for (let afterId = 0; ; ) {
    const page = await store.scanChunks(collection.id, { afterId, limit: 1000 });
    records.push(...page);
    if (page.length < 1000) break;
    afterId = page.at(-1)!.id;
  }
  const chunks = records.length;
  const textBytes = records.reduce((sum, record) => sum + record.text.length, 0); // one byte per Latin-1 char
  const documents = new Set(records.map((record) => record.documentId)).size;
  const started = performance.now();
  let catalog: ChunkCatalog | undefined = ChunkCatalog.of(records);
  const buildMs = performance.now() - started;
  // What the catalog keeps of the records (text, metadata, heading paths) stays; the rest is garbage.
  records = [];
  const after = heap();
  const t0 = performance.now();
  const next = catalog.with({ added: [], removed: [[...catalog.chunkIds()][0]!] });
  const withMs = performance.now() - t0;
  const total = after - before;
  console.log(
    `catalog: ${chunks} chunks of ${documents} documents; heap ${(total / 1024 / 1024).toFixed(1)} MB = ` +
      `${Math.round(total / chunks)} bytes/chunk (chunk text ${Math.round(textBytes / chunks)} chars/chunk on average, ` +
      `so about ${Math.round((total - textBytes) / chunks)} bytes/chunk of structure); built in ${buildMs.toFixed(0)} ms; ` +
      `one copy-on-write change in ${withMs.toFixed(1)} ms`,
  );
  catalog = undefined;
  void next;
} finally {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
