/**
 * `pnpm bench:scale [--docs 500000] --out DIR [--database-url URL] [--keep] [--store postgres|pglite]
 *   [--embedder hash|model] [--queries 300] [--recall-queries 50] [--duration 15] [--trickle 20] [--burst 10000] [--burst-batch 100] [--seed 1]`
 *
 * Sift at scale: generates the synthetic corpus (`corpus.ts`: SciFact sentences, Zipfian topics, metadata),
 * ingests it through the engine's write path into a fresh database (`sift_scale_<random>` on the Postgres of
 * `--database-url`, dropped afterwards unless `--keep`; or PGlite with `--store pglite`), starts the real
 * service on it and measures: ingest rate, BM25 build time, latency per mode at 1 and 16 clients over HTTP,
 * filtered dense search with recall against brute force, resident memory, restart to ready, and freshness
 * (write → first appearance in a search) for a trickle of single writes and a burst. Writes DIR/scale.json
 * and prints a summary. docs/benchmarks.md ("Scale") has the figures and the contract.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { DocumentStore, Embedder } from "@sift/core";
import { createEmbedder, defaultManifestPath, defaultModelStore } from "@sift/engine";
import { openStore } from "@sift/store";
import { loadBeirQueries } from "../beir";
import { createProgress } from "../progress";
import { generateDocuments, loadTopics, scaleFilters, type Topic, takeDocuments } from "./corpus";
import { createScratchDatabase, type ScratchDatabase } from "./database";
import { createHashingEmbedder } from "./hashing-embedder";
import { ingestCorpus, timeBm25Build } from "./ingest";
import { exactFilteredTopK } from "./recall";
import { type Measurements, measureService, type ServiceSetup } from "./service-measure";

const { values } = parseArgs({
  options: {
    docs: { type: "string", default: "500000" },
    out: { type: "string" },
    "database-url": { type: "string", default: "postgres://root@127.0.0.1:5432/postgres" },
    keep: { type: "boolean", default: false },
    store: { type: "string", default: "postgres" },
    embedder: { type: "string", default: "hash" },
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    seed: { type: "string", default: "1" },
    batch: { type: "string", default: "500" },
    duration: { type: "string", default: "15" },
    queries: { type: "string", default: "300" },
    "recall-queries": { type: "string", default: "50" },
    trickle: { type: "string", default: "20" },
    burst: { type: "string", default: "10000" },
    "burst-batch": { type: "string", default: "100" },
  },
});

function positive(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:scale: --${flag} must be an integer ≥ ${min}, got ${text}`);
    process.exit(2);
  }
  return n;
}
if (values.out === undefined) {
  console.error("bench:scale: --out DIR is required");
  process.exit(2);
}
if (!["postgres", "pglite"].includes(values.store) || !["hash", "model"].includes(values.embedder)) {
  console.error("bench:scale: --store is postgres or pglite, --embedder is hash or model");
  process.exit(2);
}

const settings = {
  docs: positive("docs", values.docs),
  seed: positive("seed", values.seed, 0),
  batchSize: positive("batch", values.batch),
  durationMs: positive("duration", values.duration) * 1000,
  queries: positive("queries", values.queries),
  recallQueries: positive("recall-queries", values["recall-queries"]),
  trickle: positive("trickle", values.trickle),
  burst: positive("burst", values.burst, 0),
  burstBatch: positive("burst-batch", values["burst-batch"]),
  store: values.store as "postgres" | "pglite",
  embedder: values.embedder as "hash" | "model",
};
const outDir = path.resolve(values.out);
const progress = createProgress(process.stderr);

async function openEmbedder(): Promise<Embedder> {
  if (settings.embedder === "hash") return createHashingEmbedder();
  const embedder = await createEmbedder(
    { kind: "local", model: undefined, modelStore: defaultModelStore, manifestPath: defaultManifestPath },
    { debug() {}, info() {}, warn: (m) => console.error(m), error: (m) => console.error(m) },
    "batch-embedding",
  );
  if (embedder === undefined) throw new Error("--embedder model: no embedding model in the model store");
  return embedder;
}

/** Ingest, BM25 build and the exact filtered neighbours: everything done in this process on the store. */
async function buildPhase(
  store: DocumentStore,
  dataDir: string,
  topics: Topic[],
  embedder: Embedder,
  queries: string[],
) {
  await store.migrate();
  const { collection } = await store.ensureCollection({ tenant: "default", name: "scale" });
  const ingest = await ingestCorpus({
    store,
    dataDir,
    embedder,
    collectionId: collection.id,
    documents: generateDocuments(topics, { seed: settings.seed }),
    count: settings.docs,
    batchSize: settings.batchSize,
    progress,
  });
  const scratch = await mkdtemp(path.join(tmpdir(), "sift-scale-bm25-"));
  const bm25BuildSeconds = await timeBm25Build(store, collection.id, scratch).finally(() =>
    rm(scratch, { recursive: true, force: true }),
  );
  progress.note(`bench:scale: BM25 built from the store in ${bm25BuildSeconds.toFixed(1)} s`);
  const exact = await exactFilteredTopK({
    store,
    collectionId: collection.id,
    embedder,
    queries: queries.slice(0, settings.recallQueries),
    filters: scaleFilters,
    k: 10,
  });
  progress.note(
    `bench:scale: exact filtered top-10 over ${exact.chunks} chunks: ${JSON.stringify(exact.allowed)}`,
  );
  return { ingest, bm25BuildSeconds, exact };
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<void> {
  const topics = await loadTopics(path.resolve(values.dataset));
  const queries = (await loadBeirQueries(path.resolve(values.dataset), "test")).queries
    .slice(0, settings.queries)
    .map((q) => q.text);
  const embedder = await openEmbedder();
  const scratch = await mkdtemp(path.join(tmpdir(), "sift-scale-"));
  const dataDir = path.join(scratch, "data");
  let database: ScratchDatabase | undefined;
  const machineBefore = machine();
  try {
    if (settings.store === "postgres") database = await createScratchDatabase(values["database-url"]);
    progress.note(`bench:scale: ${settings.docs} documents into ${database?.name ?? `PGlite in ${dataDir}`}`);
    const store = await openStore(
      database === undefined
        ? { driver: "pglite", dataDir: path.join(dataDir, "pglite") }
        : { driver: "postgres", url: database.url },
    );
    const built = await buildPhase(store, dataDir, topics, embedder, queries).finally(() => store.close());
    const setup: ServiceSetup = {
      env: {
        SIFT_DATA_DIR: dataDir,
        ...(database === undefined ? {} : { DATABASE_URL: database.url }),
      },
      scratch,
      embedder: settings.embedder,
    };
    // Writes after the corpus: the same generator's next documents under other ids.
    const fresh = takeDocuments(
      topics,
      { seed: settings.seed + 1, idPrefix: "fresh-" },
      settings.trickle + settings.burst,
    );
    const measured = await measureService(setup, {
      queries,
      recallQueries: queries.slice(0, settings.recallQueries),
      exact: built.exact.topK,
      durationMs: settings.durationMs,
      trickle: fresh.slice(0, settings.trickle),
      burst: fresh.slice(settings.trickle),
      burstBatch: settings.burstBatch,
      embedder,
      progress,
    });
    await writeReport(built, measured, machineBefore, database?.name);
  } finally {
    if (database !== undefined && !values.keep) await database.drop();
    if (database !== undefined && values.keep) console.error(`bench:scale: kept database ${database.name}`);
    await rm(scratch, { recursive: true, force: true });
  }
}

async function writeReport(
  built: Awaited<ReturnType<typeof buildPhase>>,
  measured: Measurements,
  machineBefore: ReturnType<typeof machine>,
  databaseName: string | undefined,
): Promise<void> {
  const report = {
    docs: built.ingest.docs,
    chunks: built.ingest.chunks,
    ingestDocsPerSecond: Math.round(built.ingest.docsPerSecond * 10) / 10,
    ingestSeconds: Math.round(built.ingest.seconds * 10) / 10,
    bm25BuildSeconds: Math.round(built.bm25BuildSeconds * 100) / 100,
    ...measured.figures,
    filteredAllowedChunks: built.exact.allowed,
    store: settings.store === "postgres" ? `postgres (${databaseName})` : "pglite",
    embedder: settings.embedder === "hash" ? "term-hashing-384 (stand-in, see corpus docs)" : "model",
    machine: { before: machineBefore, after: machine() },
    command: `pnpm bench:scale ${process.argv.slice(2).join(" ")}`,
    settings,
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "scale.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
