import { rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import {
  type ChunkRecord,
  type DocumentStore,
  type IndexGeneration,
  type LexicalIndex,
  type LexicalSearchOptions,
  type Logger,
  matchesFilter,
  NotFoundError,
  SiftError,
  silentLogger,
  UnavailableError,
  writeFileAtomically,
} from "@sift/core";
import { type Analyzer, createAnalyzer } from "@sift/text";
import { analyzeChunk } from "./analyzed-document";
import { type Bm25Config, resolveBm25Config } from "./config";
import { BM25_GENERATION_KIND, collectGarbage, ownFileName } from "./lexical-files";
import { LexicalSnapshot, type LexicalSnapshotStats } from "./lexical-snapshot";
import { defaultMergePolicy, type MergePolicy, mergeNeeded } from "./merge-policy";
import type { Segment } from "./segment";
import { SegmentBuilder } from "./segment-builder";
import {
  encodeManifest,
  GENERATION_FORMAT,
  GENERATION_FORMAT_VERSION,
  InvalidGenerationError,
  type ManifestSegment,
  readForwardTerms,
  readManifest,
  readSegmentFile,
  sha256Hex,
  writeSegmentFile,
} from "./segment-file";
import { mergeSegments } from "./segment-merge";
import { type DeadDocument, SegmentView } from "./segment-view";
import { changeSnapshot, type ForwardReader } from "./snapshot-changes";

export { BM25_GENERATION_KIND } from "./lexical-files";
export { defaultMergePolicy, type MergePolicy } from "./merge-policy";

/** Steps of a write or a merge at which `faults` is called (tests inject crashes there). */
export type LexicalWriteStep =
  | "segment-written"
  | "manifest-written"
  | "generation-begun"
  | "generation-completed"
  | "merge-slice";

export interface LexicalManagerOptions {
  store: DocumentStore;
  /** Files live under `<dataDir>/lexical/<collectionId>/`. */
  dataDir: string;
  /** Must be the analyzer queries are meant to be analysed with; default `createAnalyzer()`. */
  analyzer?: Analyzer;
  config?: Partial<Bm25Config>;
  logger?: Logger;
  /** When `maybeMerge` (and `sync`) merge; see {@link MergePolicy}. */
  mergePolicy?: Partial<MergePolicy>;
  /** Page size of `scanChunks` when a collection is built from the store. Default 1000. */
  scanBatchSize?: number;
  /** Longest synchronous stretch of a merge between yields to the event loop, ms. Default 8. */
  mergeSliceMs?: number;
  /** Called at each step of a write or merge; a throw there acts as a crash at that point (tests only). */
  faults?: (step: LexicalWriteStep) => void | Promise<void>;
}

export interface LexicalIndexStats {
  /** Generation number of the current state (as numbered by the store). */
  generation: number;
  /** Collection revision the in-memory state corresponds to. */
  revision: number;
  /** Stored chunks of the first segment, and of the others. */
  baseChunks: number;
  deltaChunks: number;
  deltaSegments: number;
  tombstones: number;
  /** N and the average length the scores use (over live chunks). */
  liveChunks: number;
  averageLength: number;
}

/** The changes the refresher hands to `apply`: what it already read from the store. */
export interface LexicalChanges {
  /** The collection revision these changes bring the index to. */
  revision: number;
  /** New chunks; an id that is live already is replaced. */
  added: readonly ChunkRecord[];
  /** Chunk ids to delete; unknown ids are ignored. */
  removed: readonly number[];
}

/** A live handle (the `LexicalIndex` of core): each search reads the collection's current snapshot. */
export interface LexicalIndexHandle extends LexicalIndex {
  readonly snapshot: LexicalSnapshot;
}

interface CollectionState {
  readonly collectionId: number;
  snapshot: LexicalSnapshot;
  generation: IndexGeneration;
  /** Segment → its file name (relative to the collection directory) and sha256. */
  files: Map<Segment, { file: string; sha256: string }>;
  checkedAt: number;
  dropped: boolean;
  merging: Promise<LexicalSnapshot> | undefined;
}

/**
 * Keeps one BM25 index per collection as immutable segments (see `docs/adr/0007-pruning-bm25-engine.md`).
 *
 * THE SEAM for the collection catalog and its background refresher (they call only these):
 *
 * - `openSnapshot(id)`: loads the persisted state (or builds it from the store's chunks when there is none
 *   usable), reconciles it with the store by chunk-id diff, and returns the current {@link LexicalSnapshot}.
 * - `apply(id, { revision, added, removed })`: no store read; analyses `added` into one new delta segment,
 *   tombstones `removed` (and the old version of re-added ids), persists the delta segment and a manifest,
 *   registers the generation, returns the new snapshot. Serialised per collection.
 * - `maybeMerge(id)` / `merge(id)`: merges per the {@link MergePolicy} (or fully) off the hot path: builds
 *   from the segments themselves, yields to the event loop, never blocks `apply` or searches; the returned
 *   snapshot includes every `apply` that completed meanwhile.
 * - `current(id)`: the current snapshot, synchronously (undefined when not open).
 * - `drop(id)`, `close()`, `stats(id)`.
 *
 * Kept for the current callers until they move to the seam: `open(id)` (a live `LexicalIndex` handle with
 * `Filter` support, metadata from the segments), `sync(id)` (store diff → `apply` → `maybeMerge`) and
 * `refreshIfStale`.
 *
 * Files: one immutable `seg-*.bin` per segment, one `manifest-*.bm25` per state (its segments, their sha256,
 * their tombstones), registered as a `bm25` row whose checksum is the manifest's sha256. A write writes only
 * the new delta and a manifest. Each process deletes only files it wrote (or of processes gone).
 */
export class LexicalIndexManager {
  readonly #store: DocumentStore;
  readonly #dataDir: string;
  readonly #analyzer: Analyzer;
  readonly #config: Bm25Config;
  readonly #logger: Logger;
  readonly #policy: MergePolicy;
  readonly #scanBatchSize: number;
  readonly #mergeSliceMs: number;
  readonly #faults: (step: LexicalWriteStep) => void | Promise<void>;
  readonly #states = new Map<number, CollectionState>();
  readonly #opening = new Map<number, Promise<CollectionState>>();
  readonly #queues = new Map<number, Promise<unknown>>();
  /** Names of files this process wrote, per collection directory (the only ones it may delete). */
  readonly #written = new Map<number, Set<string>>();
  /**
   * Segment files written but not yet named by a committed manifest (a merge persists its segment before
   * it takes the collection's queue to commit): never garbage. A failed write's file stays here until the
   * process ends, and is collected as a gone process's leftover after that.
   */
  readonly #uncommitted = new Set<string>();
  /** Public operations in flight, which `close` waits for. */
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: LexicalManagerOptions) {
    this.#store = options.store;
    this.#dataDir = options.dataDir;
    this.#analyzer = options.analyzer ?? createAnalyzer();
    this.#config = resolveBm25Config(options.config);
    this.#logger = options.logger ?? silentLogger;
    this.#policy = { ...defaultMergePolicy, ...options.mergePolicy };
    this.#scanBatchSize = options.scanBatchSize ?? 1000;
    this.#mergeSliceMs = options.mergeSliceMs ?? 8;
    this.#faults = options.faults ?? (() => {});
  }

  // ---- the seam ----

  /** Loads (cached per collection; concurrent calls share one load) and returns the current snapshot. */
  async openSnapshot(collectionId: number): Promise<LexicalSnapshot> {
    return (await this.#state(collectionId)).snapshot;
  }

  current(collectionId: number): LexicalSnapshot | undefined {
    return this.#states.get(collectionId)?.snapshot;
  }

  /** Applies changes the caller read from the store (see the class comment). Opens the collection if needed. */
  apply(collectionId: number, changes: LexicalChanges): Promise<LexicalSnapshot> {
    return this.#track(
      (async () => {
        const state = await this.#state(collectionId);
        return this.#serialized(collectionId, () => this.#applyLocked(state, changes));
      })(),
    );
  }

  /** Merges when the policy says so; returns the new snapshot, or undefined when nothing was merged. */
  maybeMerge(collectionId: number): Promise<LexicalSnapshot | undefined> {
    return this.#track(this.#maybeMerge(collectionId));
  }

  async #maybeMerge(collectionId: number): Promise<LexicalSnapshot | undefined> {
    const state = await this.#state(collectionId);
    if (state.merging !== undefined) return state.merging;
    const kind = mergeNeeded(state.snapshot, this.#policy);
    if (kind === undefined) return undefined;
    return this.#merge(state, kind === "full" ? 0 : 1);
  }

  /** Merges every segment into a new base (no store read); returns the merged snapshot. */
  merge(collectionId: number): Promise<LexicalSnapshot> {
    return this.#track(
      (async () => {
        const state = await this.#state(collectionId);
        while (state.merging !== undefined) await state.merging.catch(() => {});
        return this.#merge(state, 0);
      })(),
    );
  }

  /** Forgets the collection and deletes its files. Handles opened earlier throw `NotFoundError` from then on. */
  async drop(collectionId: number): Promise<void> {
    await this.#serialized(collectionId, async () => {
      const state = this.#states.get(collectionId);
      await state?.merging?.catch(() => {});
      if (state !== undefined) state.dropped = true;
      this.#states.delete(collectionId);
      await rm(this.#collectionDir(collectionId), { recursive: true, force: true });
    });
  }

  stats(collectionId: number): LexicalIndexStats | undefined {
    const state = this.#states.get(collectionId);
    if (state === undefined) return undefined;
    const { snapshot } = state;
    const stats: LexicalSnapshotStats = snapshot.stats;
    const [base, ...deltas] = stats.segments;
    return {
      generation: state.generation.generation,
      revision: snapshot.revision,
      baseChunks: base?.documents ?? 0,
      deltaChunks: deltas.reduce((sum, segment) => sum + segment.documents, 0),
      deltaSegments: deltas.length,
      tombstones: stats.tombstones,
      liveChunks: stats.documents,
      averageLength: stats.averageLength,
    };
  }

  /** Waits for running writes and merges, then forgets every collection. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inflight.size > 0 || this.#queues.size > 0) {
      await Promise.allSettled([...this.#inflight, ...this.#opening.values(), ...this.#queues.values()]);
    }
    for (const state of this.#states.values()) state.dropped = true;
    this.#states.clear();
  }

  // ---- kept for current callers ----

  /** A live `LexicalIndex` handle: every search reads the then-current snapshot; `Filter`s use segment metadata. */
  async open(collectionId: number): Promise<LexicalIndexHandle> {
    const state = await this.#state(collectionId);
    const manager = this;
    return {
      get snapshot() {
        return state.snapshot;
      },
      async search(options: LexicalSearchOptions) {
        manager.#ensureUsable(state);
        return searchWithFilter(state.snapshot, options);
      },
    };
  }

  /**
   * Brings the index up to the store: one `getRevision` when nothing changed; else a chunk-id diff, the new
   * chunks fetched, `apply`, then `maybeMerge`.
   */
  sync(collectionId: number): Promise<void> {
    return this.#track(
      (async () => {
        const state = await this.#state(collectionId);
        await this.#serialized(collectionId, () => this.#reconcileLocked(state));
        await this.#maybeMerge(collectionId);
      })(),
    );
  }

  /** Syncs when the last revision check of this collection is older than `maxAgeMs` (opens it if needed). */
  async refreshIfStale(collectionId: number, maxAgeMs: number): Promise<void> {
    const state = this.#states.get(collectionId);
    if (state === undefined) {
      await this.#state(collectionId);
      return;
    }
    if (Date.now() - state.checkedAt < maxAgeMs) return;
    state.checkedAt = Date.now();
    await this.sync(collectionId);
  }

  // ---- loading ----

  #state(collectionId: number): Promise<CollectionState> {
    if (this.#closed) return Promise.reject(new UnavailableError("the lexical index manager is closed"));
    const state = this.#states.get(collectionId);
    if (state !== undefined) return Promise.resolve(state);
    let opening = this.#opening.get(collectionId);
    if (opening === undefined) {
      opening = this.#serialized(collectionId, async () => {
        const loaded = this.#states.get(collectionId) ?? (await this.#load(collectionId));
        this.#states.set(collectionId, loaded);
        return loaded;
      }).finally(() => this.#opening.delete(collectionId));
      this.#opening.set(collectionId, opening);
    }
    return opening;
  }

  #ensureUsable(state: CollectionState): void {
    if (!state.dropped) return;
    throw this.#closed
      ? new UnavailableError("the lexical index manager is closed")
      : new NotFoundError("collection", String(state.collectionId));
  }

  async #load(collectionId: number): Promise<CollectionState> {
    if ((await this.#store.getCollectionById(collectionId)) === undefined) {
      throw new NotFoundError("collection", String(collectionId));
    }
    const loaded = await this.#loadNewestValid(collectionId);
    if (loaded === undefined) return this.#buildFromStore(collectionId);
    await this.#reconcileLocked(loaded);
    return loaded;
  }

  /** The latest ready generation, else older ones (newest first) whose files still verify. */
  async #loadNewestValid(collectionId: number): Promise<CollectionState | undefined> {
    const latest = await this.#store.latestGeneration(collectionId, BM25_GENERATION_KIND);
    const all = await this.#store.listGenerations(collectionId, BM25_GENERATION_KIND);
    const candidates = [
      ...(latest === undefined ? [] : [latest]),
      ...all.filter((g) => g.id !== latest?.id && g.status !== "building" && g.checksum !== null),
    ];
    for (const generation of candidates) {
      try {
        const state = await this.#readState(generation);
        if (generation !== latest) {
          this.#logger.warn("lexical: loaded an older generation", {
            collectionId,
            generation: generation.generation,
          });
        }
        return state;
      } catch (error) {
        if (!SiftError.is(error) || error.code !== "invalid_generation") throw error;
        this.#logger.warn("lexical: generation unusable", {
          collectionId,
          generation: generation.generation,
          error: error.message,
        });
      }
    }
    if (candidates.length > 0)
      this.#logger.warn("lexical: no usable generation, rebuilding", { collectionId });
    return undefined;
  }

  async #readState(generation: IndexGeneration): Promise<CollectionState> {
    const expected = { analyzer: this.#analyzer.name, config: this.#config };
    const manifest = await readManifest(this.#resolve(generation.path), {
      ...expected,
      sha256: generation.checksum ?? "",
      collectionId: generation.collectionId,
      chunkCount: generation.chunkCount,
    });
    const directory = this.#collectionDir(generation.collectionId);
    const files = new Map<Segment, { file: string; sha256: string }>();
    const views: SegmentView[] = [];
    for (const entry of manifest.segments) {
      const segment = await readSegmentFile(join(directory, entry.file), {
        ...expected,
        sha256: entry.sha256,
      });
      if (segment.docCount !== entry.documents)
        throw new InvalidGenerationError(`${entry.file}: document count`);
      files.set(segment, { file: entry.file, sha256: entry.sha256 });
      const ordinals = [...entry.tombstones];
      if (ordinals.some((ordinal) => ordinal >= segment.docCount)) {
        throw new InvalidGenerationError(`${entry.file}: tombstone out of range`);
      }
      const terms = await readForward(segment, ordinals);
      views.push(
        SegmentView.of(segment).withDead(ordinals.map((ordinal, i) => ({ ordinal, terms: terms[i]! }))),
      );
    }
    const snapshot = new LexicalSnapshot(views, {
      analyzer: this.#analyzer,
      config: this.#config,
      revision: manifest.header.revision,
    });
    return { collectionId: generation.collectionId, snapshot, generation, files, ...freshState() };
  }

  /** Scans the collection, analyses every chunk, builds a base segment and persists it. */
  async #buildFromStore(collectionId: number): Promise<CollectionState> {
    const revision = await this.#store.getRevision(collectionId);
    const builder = new SegmentBuilder(this.#config);
    for (let afterId = 0; ; ) {
      const page = await this.#store.scanChunks(collectionId, { afterId, limit: this.#scanBatchSize });
      for (const chunk of page) {
        builder.add(analyzeChunk(chunk, this.#analyzer));
        // Analysis is synchronous CPU work: let searches and other I/O in between.
        if (builder.size % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const last = page.at(-1);
      if (last === undefined || page.length < this.#scanBatchSize) break;
      afterId = last.id;
    }
    const empty = new LexicalSnapshot([], { analyzer: this.#analyzer, config: this.#config, revision });
    const state: CollectionState = {
      collectionId,
      snapshot: empty,
      generation: undefined as unknown as IndexGeneration,
      files: new Map(),
      ...freshState(),
    };
    const segment = await this.#persistSegment(collectionId, builder.finish());
    const snapshot = new LexicalSnapshot([SegmentView.of(segment.segment)], {
      analyzer: this.#analyzer,
      config: this.#config,
      revision,
    });
    state.files.set(segment.segment, segment.ref);
    await this.#commit(state, snapshot, undefined);
    this.#logger.info("lexical: built from the store", { collectionId, chunks: segment.segment.docCount });
    return state;
  }

  // ---- writes (under the collection's queue) ----

  /** Store diff → apply. One `getRevision` when the revision did not move. */
  async #reconcileLocked(state: CollectionState): Promise<void> {
    const { collectionId } = state;
    state.checkedAt = Date.now();
    // Revision first: a write racing with the reads below bumps it again, and the next sync catches up.
    const revision = await this.#store.getRevision(collectionId);
    if (revision === state.snapshot.revision) return;
    const storeIds = await this.#store.listChunkIds(collectionId);
    const present = new Set(storeIds);
    const live = state.snapshot.liveChunkIds();
    const liveSet = new Set(live);
    const removed = live.filter((id) => !present.has(id));
    const addedIds = storeIds.filter((id) => !liveSet.has(id));
    // Chunks deleted since listChunkIds are simply missing here; the next sync sees them gone.
    const added = addedIds.length === 0 ? [] : await this.#store.getChunks(addedIds);
    await this.#applyLocked(state, { revision, added, removed });
  }

  async #applyLocked(state: CollectionState, changes: LexicalChanges): Promise<LexicalSnapshot> {
    this.#ensureUsable(state);
    const current = state.snapshot;
    const remove = new Set(changes.removed.filter((id) => current.has(id)));
    for (const chunk of changes.added) if (current.has(chunk.id)) remove.add(chunk.id);
    const byId = new Map(changes.added.map((chunk) => [chunk.id, chunk]));
    if (byId.size === 0 && remove.size === 0) {
      state.snapshot = current.atRevision(changes.revision);
      return state.snapshot;
    }
    let added: Segment[] = [];
    if (byId.size > 0) {
      const builder = new SegmentBuilder(this.#config);
      for (const chunk of [...byId.values()].sort((left, right) => left.id - right.id)) {
        builder.add(analyzeChunk(chunk, this.#analyzer));
        if (builder.size % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const persisted = await this.#persistSegment(state.collectionId, builder.finish());
      state.files.set(persisted.segment, persisted.ref);
      added = [persisted.segment];
    }
    const next = await changeSnapshot(
      current,
      { remove, add: added, revision: changes.revision },
      readForward,
    );
    await this.#commit(state, next, current);
    return next;
  }

  /** Writes a segment file; returns the segment backed by it (forward index on disk) and its reference. */
  async #persistSegment(collectionId: number, built: Segment) {
    const file = ownFileName("seg", ".bin");
    this.#writtenIn(collectionId).add(file);
    // Not yet named by any manifest: garbage collection of a concurrent commit must leave it alone.
    this.#uncommitted.add(file);
    const path = join(this.#collectionDir(collectionId), file);
    const { sha256, forwardFile } = await writeSegmentFile(path, built, {
      analyzer: this.#analyzer.name,
      config: this.#config,
    });
    await this.#faults("segment-written");
    return { segment: built.persistedAt(forwardFile), ref: { file, sha256 } };
  }

  /**
   * Writes the manifest of `snapshot`, registers it as the new generation, and only then swaps it in.
   * A crash before `completeGeneration` leaves the previous generation the latest ready one.
   */
  async #commit(
    state: CollectionState,
    snapshot: LexicalSnapshot,
    previous: LexicalSnapshot | undefined,
  ): Promise<void> {
    const { collectionId } = state;
    const segments: ManifestSegment[] = snapshot.views.map((view) => {
      const ref = state.files.get(view.segment);
      if (ref === undefined) throw new Error("lexical: a segment of the snapshot has no file");
      return { ...ref, documents: view.segment.docCount, tombstones: view.deadOrdinals() };
    });
    const data = encodeManifest({
      header: {
        format: GENERATION_FORMAT,
        version: GENERATION_FORMAT_VERSION,
        analyzer: this.#analyzer.name,
        config: this.#config,
        collectionId,
        revision: snapshot.revision,
        chunkCount: snapshot.stats.documents,
        createdAt: new Date().toISOString(),
      },
      segments,
    });
    const file = ownFileName("manifest", ".bm25");
    this.#writtenIn(collectionId).add(file);
    await writeFileAtomically(join(this.#collectionDir(collectionId), file), data);
    await this.#faults("manifest-written");
    const generation = await this.#store.beginGeneration({
      collectionId,
      kind: BM25_GENERATION_KIND,
      path: join("lexical", String(collectionId), file),
      revision: snapshot.revision,
    });
    await this.#faults("generation-begun");
    const ready = await this.#store.completeGeneration(generation.id, {
      checksum: sha256Hex(data),
      chunkCount: snapshot.stats.documents,
    });
    await this.#faults("generation-completed");
    const replaced = previous === undefined ? undefined : state.generation;
    state.generation = ready;
    state.snapshot = snapshot;
    for (const view of snapshot.views) {
      const ref = state.files.get(view.segment);
      if (ref !== undefined) this.#uncommitted.delete(ref.file);
    }
    for (const segment of state.files.keys()) {
      if (!snapshot.views.some((view) => view.segment === segment)) state.files.delete(segment);
    }
    await collectGarbage({
      store: this.#store,
      directory: this.#collectionDir(collectionId),
      collectionId,
      current: ready,
      previous: replaced,
      written: this.#writtenIn(collectionId),
      keep: this.#uncommitted,
      logger: this.#logger,
    });
  }

  // ---- merges ----

  /** Merges views `from…` of the current snapshot; runs once per collection at a time. */
  #merge(state: CollectionState, from: number): Promise<LexicalSnapshot> {
    const run = this.#runMerge(state, from).finally(() => {
      if (state.merging === run) state.merging = undefined;
    });
    state.merging = run;
    return run;
  }

  async #runMerge(state: CollectionState, from: number): Promise<LexicalSnapshot> {
    const { collectionId } = state;
    const started = state.snapshot;
    const merging = started.views.slice(from);
    const started_ms = performance.now();
    const merged = await mergeSegments(merging, this.#config, {
      sliceMs: this.#mergeSliceMs,
      onSlice: () => this.#faults("merge-slice"),
    });
    const persisted = await this.#persistSegment(collectionId, merged);
    return this.#serialized(collectionId, async () => {
      this.#ensureUsable(state);
      const now = state.snapshot;
      // Applies meanwhile only appended views and tombstoned more chunks of the merged ones.
      const newlyDead: DeadDocument[] = [];
      for (let index = from; index < started.views.length; index += 1) {
        const before = started.views[index]!;
        const after = now.views[index]!;
        if (after.deadCount === before.deadCount) continue;
        for (let ordinal = 0; ordinal < after.segment.docCount; ordinal += 1) {
          if (before.isLive(ordinal) && !after.isLive(ordinal)) {
            const at = merged.ordinalOf(after.segment.arrays.chunkIds[ordinal]!);
            newlyDead.push({ ordinal: at, terms: merged.documentTerms(at)! });
          }
        }
      }
      const views = [
        ...now.views.slice(0, from),
        SegmentView.of(persisted.segment).withDead(newlyDead),
        ...now.views.slice(started.views.length),
      ];
      state.files.set(persisted.segment, persisted.ref);
      const snapshot = new LexicalSnapshot(views, {
        analyzer: this.#analyzer,
        config: this.#config,
        revision: now.revision,
      });
      await this.#commit(state, snapshot, now);
      this.#logger.info("lexical: merged", {
        collectionId,
        segments: merging.length,
        chunks: merged.docCount,
        ms: Math.round(performance.now() - started_ms),
      });
      return snapshot;
    });
  }

  // ---- helpers ----

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    const forget = () => this.#inflight.delete(work);
    work.then(forget, forget);
    return work;
  }

  #writtenIn(collectionId: number): Set<string> {
    let written = this.#written.get(collectionId);
    if (written === undefined) {
      written = new Set();
      this.#written.set(collectionId, written);
    }
    return written;
  }

  #collectionDir(collectionId: number): string {
    return join(this.#dataDir, "lexical", String(collectionId));
  }

  /** Generation paths are stored relative to `dataDir`, so a data directory can be moved. */
  #resolve(path: string): string {
    return isAbsolute(path) ? path : join(this.#dataDir, path);
  }

  /** Runs `task` after every earlier task of the collection settled (a per-collection mutex). */
  #serialized<T>(collectionId: number, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(collectionId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    this.#queues.set(collectionId, tail);
    void tail.then(() => {
      if (this.#queues.get(collectionId) === tail) this.#queues.delete(collectionId);
    });
    return run;
  }
}

function freshState() {
  return { checkedAt: Date.now(), dropped: false, merging: undefined };
}

/** Forward-index entries from memory, or from the segment's file. */
const readForward: ForwardReader = async (segment, ordinals) => {
  if (segment.forward !== undefined || segment.forwardFile === undefined) {
    return ordinals.map((ordinal) => segment.documentTerms(ordinal) ?? new Uint32Array(0));
  }
  return readForwardTerms(segment.forwardFile, ordinals);
};

/** The legacy `LexicalIndex.search`: a core `Filter` evaluated against the segments' stored metadata. */
function searchWithFilter(
  snapshot: LexicalSnapshot,
  options: LexicalSearchOptions,
): { hits: { chunkId: number; score: number }[]; warnings: string[] } {
  const { filter } = options;
  const accept =
    filter === undefined
      ? undefined
      : (chunkId: number) => {
          const location = snapshot.locate(chunkId);
          if (location === undefined) return false;
          return matchesFilter(filter, snapshot.views[location.view]!.segment.metadataOf(location.ordinal));
        };
  return snapshot.search({ query: options.query, limit: options.limit, accept, signal: options.signal });
}
