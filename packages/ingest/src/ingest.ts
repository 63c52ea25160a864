import type {
  DocumentInput,
  DocumentStore,
  DocumentWrite,
  IngestionJob,
  JobCounts,
  JobError,
  Logger,
} from "@sift/core";
import { emptyJobCounts, silentLogger } from "@sift/core";
import { type ChunkerOptions, chunkDocument, contentHash, parseDocument } from "@sift/text";
import type { SourceDocument, SourceFormat, SourceItem } from "./sources/types";

/** The part of the lexical index manager ingestion needs: bring a collection's BM25 index up to the store. */
export interface LexicalSyncTarget {
  sync(collectionId: number): Promise<unknown>;
}

/** `syncing`: the source is done and the lexical index is being brought up to the store. */
export type IngestionPhase = "ingesting" | "pruning" | "syncing" | "finished";

/** A snapshot handed to `onProgress` after every committed batch and at the end. */
export interface IngestionProgress {
  jobId: number;
  collectionId: number;
  phase: IngestionPhase;
  /** Counts of committed work (a batch still in flight is not included). */
  counts: JobCounts;
  /** Committed batches so far. */
  batches: number;
  /** Milliseconds since the job started. */
  elapsedMs: number;
}

export interface RunIngestionOptions {
  store: DocumentStore;
  lexical: LexicalSyncTarget;
  collectionId: number;
  source: AsyncIterable<SourceItem>;
  /** Recorded as the job's `source` (e.g. the path or `api`). */
  sourceLabel: string;
  /** Source items per batch; each batch is one store transaction. Default 100. */
  batchSize?: number | undefined;
  /**
   * How often the lexical index is synced during the run. After a committed batch it is synced when at
   * least this many milliseconds have passed since the last sync ended and at least 4 times as long as
   * that sync took (so syncing costs at most about a fifth of the run however slow a sync gets); the
   * end of the run (and a prune) always syncs, so the index matches the store when the job resolves.
   * 0 syncs after every batch. Default 5000.
   */
  lexicalSyncIntervalMs?: number | undefined;
  /**
   * After the source is exhausted (never after an abort or an error), delete the collection's documents
   * whose external ids the source did not yield. Default false.
   */
  prune?: boolean | undefined;
  /** Chunker settings; the `@sift/text` defaults when absent. */
  chunker?: Partial<ChunkerOptions> | undefined;
  /** Stops the run between batches: the batch in flight commits, the rest is left for a rerun. */
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: IngestionProgress) => void) | undefined;
  logger?: Logger | undefined;
  /** The job row's kind. Default `ingest`. */
  jobKind?: string | undefined;
}

/** At most this many errors are stored on a job; the last slot then says how many more there were. */
export const maxStoredErrors = 100;

const duplicateReason = "duplicate external id in the source; the last occurrence wins";

interface PendingDocument {
  document: SourceDocument;
  /** False for a re-occurrence of an id committed in an earlier batch: its outcome was counted there. */
  countOutcome: boolean;
}

type Timings = {
  readMs: number;
  hashMs: number;
  parseChunkMs: number;
  writeMs: number;
  lexicalSyncMs: number;
  pruneMs: number;
  totalMs: number;
};

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function addCounts(into: JobCounts, delta: JobCounts): void {
  for (const key of Object.keys(into) as (keyof JobCounts)[]) into[key] += delta[key];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Runs one ingestion job: reads `source`, parses, chunks and writes documents in batches, keeps the
 * collection's lexical index in step, and records progress on a job row.
 *
 * Per batch: content hashes first, and documents whose stored hash is equal are counted `unchanged`
 * without being parsed or chunked; the rest are parsed, chunked and written in one transaction, the
 * lexical index is synced when due (see `lexicalSyncIntervalMs`; always at the end) and the job row is
 * updated. Every committed batch is durable, and job counts only describe committed work (after a hard
 * crash they can lag one batch behind the store: the commit and the job update are two statements), so
 * a rerun of the same source after a crash or an abort finishes the job: what was committed is
 * `unchanged`, nothing is duplicated.
 *
 * Counting: every source item counts once in `documentsSeen` and once in exactly one of `created`,
 * `updated`, `unchanged`, `skipped` (source entries that are not documents, and re-occurrences of an
 * external id: the last occurrence's content is what gets stored) and `failed` (a document whose
 * parsing or chunking threw; its error is recorded and the batch goes on).
 *
 * The content hash covers the document as the source gave it (title, raw text, source URI, metadata),
 * so a change of parser or chunker settings does not by itself re-chunk unchanged documents.
 *
 * Resolves with the final job: `succeeded`, or `interrupted` when `signal` aborted the run. Rejects
 * (after marking the job `failed` with the error) when the source, the store or the index throws.
 */
export async function runIngestion(options: RunIngestionOptions): Promise<IngestionJob> {
  const { store, lexical, collectionId, signal } = options;
  const logger = options.logger ?? silentLogger;
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError("batchSize must be an integer >= 1");

  const startedAt = performance.now();
  const job = await store.createJob({
    collectionId,
    kind: options.jobKind ?? "ingest",
    source: options.sourceLabel,
  });
  logger.info("ingestion started", { jobId: job.id, collectionId, source: options.sourceLabel, batchSize });

  const counts = emptyJobCounts();
  const errors: JobError[] = [];
  let errorsDropped = 0;
  const timings: Timings = {
    readMs: 0,
    hashMs: 0,
    parseChunkMs: 0,
    writeMs: 0,
    lexicalSyncMs: 0,
    pruneMs: 0,
    totalMs: 0,
  };
  let batches = 0;
  let phase: IngestionPhase = "ingesting";

  // Lexical sync pacing (see `lexicalSyncIntervalMs`). The store is the source of truth: a crash between
  // a commit and a sync loses nothing, the next sync or open of the index catches up.
  const syncIntervalMs = options.lexicalSyncIntervalMs ?? 5000;
  let unsynced = false;
  let lastSyncEnded = performance.now();
  let lastSyncTook = 0;
  const syncDue = () => {
    if (syncIntervalMs === 0) return true;
    const since = performance.now() - lastSyncEnded;
    return since >= syncIntervalMs && since >= 4 * lastSyncTook;
  };
  const syncLexical = async () => {
    const mark = performance.now();
    await lexical.sync(collectionId);
    lastSyncEnded = performance.now();
    lastSyncTook = lastSyncEnded - mark;
    timings.lexicalSyncMs += lastSyncTook;
    unsynced = false;
  };

  // The batch being assembled: its documents, its counts and errors. Merged into the job on commit and
  // dropped on abort, so the job row never claims work that was not committed.
  const pending = new Map<string, PendingDocument>();
  let batchItems = 0;
  let batchCounts = emptyJobCounts();
  let batchErrors: JobError[] = [];
  // Every external id the source yielded (committed or pending): duplicates and pruning.
  const seen = new Set<string>();

  const recordErrors = (list: JobError[]) => {
    for (const error of list) {
      if (errors.length < maxStoredErrors) errors.push(error);
      else errorsDropped += 1;
    }
  };
  // Errors about the job as a whole (prune skipped, interrupted, failed): always kept, within the cap.
  const jobErrors: JobError[] = [];
  const storedErrors = (): JobError[] => {
    const room = maxStoredErrors - jobErrors.length;
    if (errorsDropped === 0 && errors.length <= room) return [...errors, ...jobErrors];
    const notRecorded = errors.length + errorsDropped - (room - 1);
    return [
      ...errors.slice(0, room - 1),
      {
        source: "(job)",
        message: `${notRecorded} more errors not recorded (at most ${maxStoredErrors} are kept)`,
      },
      ...jobErrors,
    ];
  };
  const snapshotTimings = (): Record<string, number> => {
    timings.totalMs = performance.now() - startedAt;
    return Object.fromEntries(Object.entries(timings).map(([key, value]) => [key, round(value)]));
  };
  const progress = () =>
    options.onProgress?.({
      jobId: job.id,
      collectionId,
      phase,
      counts: { ...counts },
      batches,
      elapsedMs: performance.now() - startedAt,
    });

  const fail = (entry: PendingDocument, error: unknown) => {
    const message = errorMessage(error);
    logger.warn("document failed", { jobId: job.id, externalId: entry.document.externalId, error: message });
    if (entry.countOutcome) batchCounts.failed += 1;
    batchErrors.push({ source: entry.document.externalId, message });
  };

  const flush = async () => {
    if (batchItems === 0) return;
    const entries = [...pending.values()];
    pending.clear();

    let mark = performance.now();
    const hashed: { entry: PendingDocument; hash: string }[] = [];
    for (const entry of entries) {
      try {
        hashed.push({ entry, hash: hashOf(entry.document) });
      } catch (error) {
        fail(entry, error);
      }
    }
    const stored =
      hashed.length === 0
        ? new Map<string, string>()
        : await store.getContentHashes(
            collectionId,
            hashed.map((h) => h.entry.document.externalId),
          );
    timings.hashMs += performance.now() - mark;

    mark = performance.now();
    const writes: DocumentWrite[] = [];
    const countOutcome = new Map<string, boolean>();
    for (const { entry, hash } of hashed) {
      const { document } = entry;
      if (stored.get(document.externalId) === hash) {
        if (entry.countOutcome) batchCounts.unchanged += 1;
        continue;
      }
      try {
        writes.push(prepareWrite(document, hash, options.chunker));
        countOutcome.set(document.externalId, entry.countOutcome);
      } catch (error) {
        fail(entry, error);
      }
    }
    timings.parseChunkMs += performance.now() - mark;

    let changed = 0;
    if (writes.length > 0) {
      mark = performance.now();
      const results = await store.writeDocuments(collectionId, writes);
      timings.writeMs += performance.now() - mark;
      const chunkCounts = new Map(writes.map((w) => [w.document.externalId, w.chunks.length]));
      for (const result of results) {
        if (result.outcome !== "unchanged") {
          changed += 1;
          batchCounts.chunks += chunkCounts.get(result.externalId) ?? 0;
        }
        if (countOutcome.get(result.externalId) === true) batchCounts[result.outcome] += 1;
      }
    }
    if (changed > 0) unsynced = true;
    if (unsynced && syncDue()) await syncLexical();

    addCounts(counts, batchCounts);
    recordErrors(batchErrors);
    batchCounts = emptyJobCounts();
    batchErrors = [];
    batchItems = 0;
    batches += 1;
    await store.updateJob(job.id, { counts, errors: storedErrors(), timings: snapshotTimings() });
    progress();
  };

  const accept = (item: SourceItem) => {
    batchItems += 1;
    batchCounts.documentsSeen += 1;
    if (item.kind === "skipped") {
      logger.debug("source entry skipped", { jobId: job.id, source: item.source, reason: item.reason });
      batchCounts.skipped += 1;
      batchErrors.push({ source: item.source, message: `skipped: ${item.reason}` });
      // Keep the stored document of an entry that may only be failing for now (see SourceItem).
      if (item.externalId !== undefined) seen.add(item.externalId);
      return;
    }
    const { document } = item;
    const id = document.externalId;
    const earlier = pending.get(id);
    if (earlier !== undefined || seen.has(id)) {
      batchCounts.skipped += 1;
      batchErrors.push({ source: id, message: `skipped: ${duplicateReason}` });
    }
    // Last occurrence wins. Within the batch it replaces the earlier one, whose outcome it inherits; an
    // id committed in an earlier batch is written again but not counted again.
    pending.delete(id);
    pending.set(id, { document, countOutcome: earlier?.countOutcome ?? !seen.has(id) });
    seen.add(id);
  };

  let finalStatus: "succeeded" | "interrupted" = "succeeded";
  try {
    const iterator = options.source[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (signal?.aborted) break;
        const mark = performance.now();
        const next = await iterator.next();
        timings.readMs += performance.now() - mark;
        if (next.done === true) break;
        if (signal?.aborted) break;
        accept(next.value);
        if (batchItems >= batchSize) await flush();
      }
    } finally {
      await iterator.return?.();
    }

    if (signal?.aborted) {
      finalStatus = "interrupted";
    } else {
      await flush();
      if (options.prune === true) {
        phase = "pruning";
        const mark = performance.now();
        await prune();
        timings.pruneMs += performance.now() - mark;
      }
    }
    // Committed work is searchable when the job resolves. Not after an abort: whoever aborted wants the
    // run to stop now, and the next sync (or opening the index) catches up with the store.
    if (unsynced && finalStatus === "succeeded") {
      phase = "syncing";
      progress();
      await syncLexical();
    }
  } catch (error) {
    const message = errorMessage(error);
    logger.error("ingestion failed", { jobId: job.id, error: message });
    jobErrors.push({ source: "(job)", message: `failed: ${message}` });
    try {
      await store.updateJob(job.id, {
        status: "failed",
        counts,
        errors: storedErrors(),
        timings: snapshotTimings(),
        finished: true,
      });
    } catch (updateError) {
      logger.error("could not mark the job failed", { jobId: job.id, error: errorMessage(updateError) });
    }
    throw error;
  }

  if (finalStatus === "interrupted") {
    const reason = signal?.reason === undefined ? "aborted" : errorMessage(signal.reason);
    jobErrors.push({ source: "(job)", message: `interrupted: ${reason}; rerun the same source to finish` });
  }
  phase = "finished";
  await store.updateJob(job.id, {
    status: finalStatus,
    counts,
    errors: storedErrors(),
    timings: snapshotTimings(),
    finished: true,
  });
  progress();
  logger.info(finalStatus === "succeeded" ? "ingestion finished" : "ingestion interrupted", {
    jobId: job.id,
    ...counts,
    elapsedMs: round(timings.totalMs),
  });
  const finished = await store.getJob(job.id);
  if (finished === undefined) throw new Error(`job ${job.id} vanished`);
  return finished;

  async function prune() {
    if (seen.size === 0) {
      // An empty source is far more often a wrong path than a wish to empty the collection.
      jobErrors.push({ source: "(job)", message: "prune skipped: the source yielded no documents" });
      logger.warn("prune skipped: the source yielded no documents", { jobId: job.id });
      return;
    }
    const storedIds = await store.listExternalIds(collectionId);
    const gone = storedIds.filter((id) => !seen.has(id));
    const deleted = await deleteInSlices(store, collectionId, gone);
    counts.deleted += deleted;
    if (deleted > 0) unsynced = true;
    logger.info("pruned documents missing from the source", { jobId: job.id, deleted: counts.deleted });
  }
}

/** The content hash of a document as the source gave it (before parsing). */
function hashOf(document: SourceDocument): string {
  const input: Parameters<typeof contentHash>[0] = { text: document.text };
  if (document.title !== undefined) input.title = document.title;
  if (document.sourceUri !== undefined) input.sourceUri = document.sourceUri;
  if (document.metadata !== undefined) input.metadata = document.metadata;
  return contentHash(input);
}

/** Parses and chunks one document into what the store writes. Throws on a bad document. */
function prepareWrite(
  document: SourceDocument,
  hash: string,
  chunker: Partial<ChunkerOptions> | undefined,
): DocumentWrite {
  const parsed = parseDocument(document.text, document.format);
  const chunks = chunkDocument(parsed, chunker);
  const title = document.title ?? parsed.title ?? document.fallbackTitle;
  const input: DocumentInput = { externalId: document.externalId, text: parsed.text };
  if (title !== undefined) input.title = title;
  if (document.sourceUri !== undefined) input.sourceUri = document.sourceUri;
  if (document.metadata !== undefined) input.metadata = document.metadata;
  return { document: input, contentHash: hash, chunks };
}

const deleteSlice = 1000;

async function deleteInSlices(
  store: DocumentStore,
  collectionId: number,
  externalIds: string[],
): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < externalIds.length; start += deleteSlice) {
    deleted += (await store.deleteDocuments(collectionId, externalIds.slice(start, start + deleteSlice)))
      .length;
  }
  return deleted;
}

export interface DeleteDocumentsOptions {
  store: DocumentStore;
  lexical: LexicalSyncTarget;
  collectionId: number;
  externalIds: string[];
}

/**
 * Deletes documents from the store (with their chunks) and then from the lexical index, so a search
 * no longer finds them once this resolves. Returns the ids that existed and the ones that did not.
 */
export async function deleteDocuments(
  options: DeleteDocumentsOptions,
): Promise<{ deleted: string[]; missing: string[] }> {
  const unique = [...new Set(options.externalIds)];
  const deleted: string[] = [];
  for (let start = 0; start < unique.length; start += deleteSlice) {
    deleted.push(
      ...(await options.store.deleteDocuments(
        options.collectionId,
        unique.slice(start, start + deleteSlice),
      )),
    );
  }
  if (deleted.length > 0) await options.lexical.sync(options.collectionId);
  const existed = new Set(deleted);
  return { deleted, missing: unique.filter((id) => !existed.has(id)) };
}

export type PushedDocument = DocumentInput & { format?: SourceFormat | undefined };

export interface IngestDocumentsOptions extends Omit<RunIngestionOptions, "source" | "sourceLabel"> {
  documents: PushedDocument[];
  /** Default `api`. */
  sourceLabel?: string | undefined;
}

/**
 * Ingests an array of documents (an HTTP push) as one job: the same path as a source run, with each
 * document's format defaulting to `text`.
 */
export function ingestDocuments(options: IngestDocumentsOptions): Promise<IngestionJob> {
  const { documents, sourceLabel, ...rest } = options;
  return runIngestion({ ...rest, sourceLabel: sourceLabel ?? "api", source: arraySource(documents) });
}

async function* arraySource(documents: PushedDocument[]): AsyncGenerator<SourceItem> {
  for (const document of documents) {
    yield { kind: "document", document: { ...document, format: document.format ?? "text" } };
  }
}
