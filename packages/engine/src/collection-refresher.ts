import { type ChunkRecord, type DocumentStore, type Logger, SiftError, UnavailableError } from "@sift/core";
import type { DensePassage } from "@sift/dense";
import type { LexicalIndexManager, LexicalSnapshot } from "@sift/lexical";
import {
  type CatalogChanges,
  ChunkCatalog,
  type CollectionSnapshot,
  type DenseHandle,
} from "@sift/retrieval";

/** What one snapshot swap changed, by document (the caller's ids). */
export interface SnapshotChange {
  collectionId: number;
  /** The store revision the new snapshot corresponds to. */
  revision: number;
  /** Documents new to the collection, updated (their chunks replaced), and gone. */
  added: string[];
  updated: string[];
  removed: string[];
}

/** The dense side of one collection, as the engine configured it (a no-op side when it has no vectors). */
export interface DenseSide {
  /** What snapshots carry: the vector index when it is in step, else why a search cannot use it. */
  handle(): Promise<DenseHandle>;
  /** Ids the vector index holds (empty when there is none). */
  held(): Promise<ReadonlySet<number>>;
  /** Embeds and upserts passages the index does not hold. */
  add(passages: readonly DensePassage[]): Promise<void>;
  /** Deletes vectors and records what the index holds as of `revision`. */
  remove(chunkIds: readonly number[], revision: number): Promise<void>;
}

export interface RefresherOptions {
  collectionId: number;
  store: DocumentStore;
  lexical: LexicalIndexManager;
  dense: DenseSide;
  logger: Logger;
  /** Page size when the catalog is read from the store on load. Default 1000. */
  scanBatchSize?: number | undefined;
  /** Called after each swap that changed documents. A throwing listener is logged, never propagated. */
  onSwap: (change: SnapshotChange) => void;
  /** Called when the store no longer has the collection (another process deleted it). */
  onGone: () => void;
}

/** Backoff of the poll after failures: interval × 2^failures, at most this. */
const maxBackoffMs = 30_000;

/**
 * Owns one collection's snapshot: loads it, turns store changes (a revision bump, then a chunk-id diff) into
 * a new snapshot for every index at once, and swaps it in with one assignment. Loads, refreshes and merge
 * swaps run one at a time; a refresh requested while another waits to start joins it, so a writer that asks
 * after its commit always gets a refresh that starts after that commit (read your writes).
 *
 * Order of one refresh: store reads (revision, chunk ids, new chunks); lexical `apply` (a new immutable
 * snapshot, the current one untouched); new vectors upserted (the live index, not yet in any catalog, so no
 * search returns them); the swap; then vanished vectors deleted (no catalog holds them any more). A failure
 * before the swap leaves the last snapshot serving; the next refresh diffs the indexes in full (they may
 * have moved ahead of the catalog).
 */
export class CollectionRefresher {
  readonly collectionId: number;
  #snapshot: CollectionSnapshot | undefined;
  #loading: Promise<CollectionSnapshot> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The refresh that is queued and not yet started, which later callers join. */
  #queued: Promise<CollectionSnapshot> | undefined;
  /** An index moved past the catalog in a failed refresh: the next one diffs each index in full. */
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #closed = false;

  constructor(private readonly options: RefresherOptions) {
    this.collectionId = options.collectionId;
  }

  /** The snapshot searches read now (undefined until loaded). */
  get current(): CollectionSnapshot | undefined {
    return this.#snapshot;
  }

  /** Loads the collection once (concurrent callers share the load) and returns its snapshot. */
  load(): Promise<CollectionSnapshot> {
    if (this.#snapshot !== undefined) return Promise.resolve(this.#snapshot);
    if (this.#loading === undefined) {
      this.#loading = this.#serialized(async () => this.#snapshot ?? (await this.#loadNow()));
      this.#loading.catch(() => {}).finally(() => (this.#loading = undefined));
    }
    return this.#loading;
  }

  /** Brings every index up to the store and swaps the new snapshot in (loading first if needed). */
  refresh(): Promise<CollectionSnapshot> {
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#serialized(async () => {
      this.#queued = undefined;
      if (this.#snapshot === undefined) return this.#loadNow();
      return this.#refreshNow(this.#snapshot);
    });
    this.#queued = run;
    return run;
  }

  /**
   * Refreshes every `intervalMs` in the background (writes by other processes). A failed refresh keeps the
   * last snapshot serving and is retried with exponential backoff; the collection gone from the store
   * stops the poll and calls `onGone`.
   */
  startPolling(intervalMs: number): void {
    if (this.#closed || intervalMs <= 0) return;
    const schedule = (delay: number) => {
      this.#timer = setTimeout(tick, delay);
      this.#timer.unref();
    };
    const tick = async () => {
      if (this.#closed) return;
      try {
        await this.refresh();
        if (this.#failures > 0) {
          this.options.logger.info("index refresh recovered", {
            collectionId: this.collectionId,
            failures: this.#failures,
          });
        }
        this.#failures = 0;
      } catch (error) {
        if (SiftError.is(error) && error.code === "not_found") {
          this.stop();
          this.options.onGone();
          return;
        }
        this.#failures += 1;
        this.options.logger.warn("index refresh failed; serving the last snapshot", {
          collectionId: this.collectionId,
          failures: this.#failures,
          error: (error as Error)?.message ?? String(error),
        });
      }
      if (!this.#closed) schedule(Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(this.#failures, 16)));
    };
    schedule(intervalMs);
  }

  /** Makes the next refresh rebuild the snapshot and diff every index in full, even at the same revision. */
  markStale(): void {
    this.#dirty = true;
  }

  /** Stops the poll; the snapshot stays readable. Waits for a refresh in progress. */
  async stop(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#queue.catch(() => {});
  }

  /** Runs `lexical.maybeMerge` off the hot path and swaps the merged lexical snapshot in. */
  mergeInBackground(): void {
    const { lexical, collectionId, logger } = this.options;
    lexical
      .maybeMerge(collectionId)
      .then((merged) => (merged === undefined ? undefined : this.adoptLexical()))
      .catch((error) => {
        if (this.#closed) return;
        logger.warn("lexical merge failed", {
          collectionId,
          error: (error as Error)?.message ?? String(error),
        });
      });
  }

  /**
   * Swaps in the lexical manager's current snapshot (after a merge: the same chunks in fewer segments),
   * only when it holds exactly the catalog's chunks (same revision, no failed refresh in between).
   */
  adoptLexical(): Promise<void> {
    return this.#serialized(async () => {
      const current = this.#snapshot;
      const now = this.options.lexical.current(this.collectionId);
      if (current === undefined || now === undefined || this.#dirty) return;
      if (now.revision !== current.revision || now === current.lexical) return;
      this.#snapshot = { ...current, lexical: now };
    });
  }

  // ---- one step at a time ----

  async #loadNow(): Promise<CollectionSnapshot> {
    const { store, lexical, collectionId, dense } = this.options;
    const revision = await store.getRevision(collectionId);
    const loaded = await lexical.openSnapshot(collectionId);
    const catalog = ChunkCatalog.of(await this.#scan());
    const lexicalSnapshot = await this.#alignLexical(loaded, catalog, revision);
    const held = await dense.held();
    const passages = [...catalog.chunkIds()]
      .filter((id) => !held.has(id))
      .map((id) => passageOf(catalog, id));
    await dense.add(passages);
    const extra = [...held].filter((id) => !catalog.has(id));
    if (passages.length > 0 || extra.length > 0) await dense.remove(extra, revision);
    this.#dirty = false;
    this.#snapshot = {
      collectionId,
      revision,
      catalog,
      lexical: lexicalSnapshot,
      dense: await dense.handle(),
    };
    this.mergeInBackground();
    // Writes during the scan moved the revision: the first refresh makes the catalog exact.
    return this.#refreshNow(this.#snapshot);
  }

  async #refreshNow(previous: CollectionSnapshot): Promise<CollectionSnapshot> {
    const { store, collectionId, dense } = this.options;
    const revision = await store.getRevision(collectionId);
    const full = this.#dirty;
    if (revision === previous.revision && !full) return previous;
    const storeIds = await store.listChunkIds(collectionId);
    const present = new Set(storeIds);
    const addedIds = storeIds.filter((id) => !previous.catalog.has(id));
    const removed = [...previous.catalog.chunkIds()].filter((id) => !present.has(id));
    // Chunks deleted since listChunkIds are missing here (a document's chunks go together); the revision
    // moved, so the next refresh settles them.
    const added = addedIds.length === 0 ? [] : await store.getChunks(addedIds);
    const catalog = previous.catalog.with({ added, removed });
    this.#dirty = true;
    const lexical = await this.#applyLexical(previous, catalog, { revision, added, removed });
    await dense.add(added);
    const next: CollectionSnapshot = {
      collectionId,
      revision,
      catalog,
      lexical,
      dense: await dense.handle(),
    };
    this.#snapshot = next;
    // Deleted after the swap: until then the previous snapshot may still return them.
    const gone = full ? [...(await dense.held())].filter((id) => !catalog.has(id)) : removed;
    if (added.length > 0 || gone.length > 0) await dense.remove(gone, revision);
    this.#dirty = false;
    if (added.length > 0 || removed.length > 0) {
      this.#announce(previous.catalog, catalog, { added, removed }, revision);
      this.mergeInBackground();
    }
    return next;
  }

  /** The lexical snapshot for `catalog`: from the catalog diff, or in full when a failed refresh moved it. */
  async #applyLexical(
    previous: CollectionSnapshot,
    catalog: ChunkCatalog,
    changes: { revision: number; added: ChunkRecord[]; removed: number[] },
  ): Promise<LexicalSnapshot> {
    const { lexical, collectionId } = this.options;
    const now = lexical.current(collectionId);
    if (now === previous.lexical) return lexical.apply(collectionId, changes);
    return this.#alignLexical(now ?? (await lexical.openSnapshot(collectionId)), catalog, changes.revision);
  }

  /** Brings a lexical snapshot to exactly the catalog's chunks, at `revision`. */
  async #alignLexical(
    snapshot: LexicalSnapshot,
    catalog: ChunkCatalog,
    revision: number,
  ): Promise<LexicalSnapshot> {
    const live = snapshot.liveChunkIds();
    const removed = live.filter((id) => !catalog.has(id));
    const liveSet = new Set(live);
    const missing = [...catalog.chunkIds()].filter((id) => !liveSet.has(id));
    if (removed.length === 0 && missing.length === 0 && snapshot.revision === revision) return snapshot;
    const added = missing.length === 0 ? [] : await this.options.store.getChunks(missing);
    return this.options.lexical.apply(this.collectionId, { revision, added, removed });
  }

  async #scan(): Promise<ChunkRecord[]> {
    const { store, collectionId } = this.options;
    const limit = this.options.scanBatchSize ?? 1000;
    const chunks: ChunkRecord[] = [];
    for (let afterId = 0; ; ) {
      const page = await store.scanChunks(collectionId, { afterId, limit });
      chunks.push(...page);
      const last = page.at(-1);
      if (last === undefined || page.length < limit) return chunks;
      afterId = last.id;
    }
  }

  #announce(before: ChunkCatalog, after: ChunkCatalog, changes: CatalogChanges, revision: number): void {
    const change = documentChanges(before, after, changes);
    if (change.added.length + change.updated.length + change.removed.length === 0) return;
    try {
      this.options.onSwap({ collectionId: this.collectionId, revision, ...change });
    } catch (error) {
      this.options.logger.error("a snapshot listener threw", {
        collectionId: this.collectionId,
        error: (error as Error)?.message ?? String(error),
      });
    }
  }

  /** Runs `task` after every earlier task of this collection settled. */
  #serialized<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new UnavailableError("the engine is closed"));
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function passageOf(catalog: ChunkCatalog, chunkId: number): DensePassage {
  const chunk = catalog.get(chunkId)!;
  const { document } = chunk;
  return {
    id: chunk.id,
    title: document.title,
    text: chunk.text,
    metadata: document.metadata,
    headingPath: chunk.headingPath,
  };
}

/** Documents (external ids) that `changes` made new in `after`, changed (a chunk added or removed), or removed. */
export function documentChanges(
  before: ChunkCatalog,
  after: ChunkCatalog,
  changes: CatalogChanges,
): { added: string[]; updated: string[]; removed: string[] } {
  const touched = new Set<number>(changes.added.map((chunk) => chunk.documentId));
  for (const id of changes.removed) {
    const chunk = before.get(id);
    if (chunk !== undefined) touched.add(chunk.document.id);
  }
  const added: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  for (const documentId of touched) {
    const old = before.document(documentId);
    const now = after.document(documentId);
    if (old === undefined && now !== undefined) added.push(now.externalId);
    else if (old !== undefined && now === undefined) removed.push(old.externalId);
    else if (old !== undefined && now !== undefined) updated.push(now.externalId);
  }
  return { added, updated, removed };
}
