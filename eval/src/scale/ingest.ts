import type { DocumentStore, Embedder } from "@sift/core";
import { Engine } from "@sift/engine";
import type { SourceItem } from "@sift/ingest";
import { LexicalIndexManager } from "@sift/lexical";
import type { Progress } from "../progress";
import type { SyntheticDocument } from "./corpus";

export interface IngestFigures {
  docs: number;
  chunks: number;
  seconds: number;
  docsPerSecond: number;
  failed: number;
}

async function* asSource(documents: Iterable<SyntheticDocument>, count: number): AsyncIterable<SourceItem> {
  let i = 0;
  for (const { topic: _topic, ...document } of documents) {
    if (i++ >= count) return;
    yield { kind: "document", document: { ...document, format: "text" } };
  }
}

function rateDetail(
  counts: { documentsSeen: number; chunks: number },
  elapsedMs: number,
  total: number,
): string {
  const rate = counts.documentsSeen / Math.max(elapsedMs / 1000, 1e-3);
  const eta = rate > 0 ? Math.round((total - counts.documentsSeen) / rate) : Number.NaN;
  return `${counts.chunks} chunks, ${rate.toFixed(0)} docs/s, ETA ${eta} s`;
}

/**
 * Writes `count` documents through the engine's ingestion (what `sift ingest` runs: store batches, BM25
 * segments, vectors), with the CLI's sync cadence, and a progress line (docs/s, ETA).
 */
export async function ingestCorpus(options: {
  store: DocumentStore;
  dataDir: string;
  embedder: Embedder;
  collectionId: number;
  documents: Iterable<SyntheticDocument>;
  count: number;
  batchSize: number;
  progress: Progress;
}): Promise<IngestFigures> {
  const engine = new Engine({ store: options.store, dataDir: options.dataDir, embedder: options.embedder });
  const step = options.progress.step("ingest", options.count);
  const started = performance.now();
  try {
    const { job } = await engine.ingest({
      collectionId: options.collectionId,
      source: asSource(options.documents, options.count),
      sourceLabel: "bench:scale",
      batchSize: options.batchSize,
      // As `sift ingest`: nobody searches this process's index during the run.
      lexicalSyncIntervalMs: 60_000,
      onProgress: (p) =>
        step.update(p.counts.documentsSeen, rateDetail(p.counts, p.elapsedMs, options.count)),
    });
    const seconds = (performance.now() - started) / 1000;
    step.done(`${job.counts.created} documents, ${job.counts.chunks} chunks, ${job.status}`);
    if (job.status !== "succeeded")
      throw new Error(`ingestion ${job.status}: ${JSON.stringify(job.errors.slice(0, 3))}`);
    return {
      docs: job.counts.created,
      chunks: job.counts.chunks,
      seconds,
      docsPerSecond: job.counts.created / seconds,
      failed: job.counts.failed,
    };
  } finally {
    await engine.close();
  }
}

/** Seconds to build the collection's BM25 index from the store alone, in a scratch directory. */
export async function timeBm25Build(
  store: DocumentStore,
  collectionId: number,
  dataDir: string,
): Promise<number> {
  const manager = new LexicalIndexManager({ store, dataDir });
  const started = performance.now();
  try {
    await manager.openSnapshot(collectionId);
    return (performance.now() - started) / 1000;
  } finally {
    await manager.close();
  }
}
