import { readdir, rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import {
  type DocumentStore,
  type IndexGeneration,
  type LexicalHit,
  type LexicalIndex,
  type LexicalSearchOptions,
  type Logger,
  type Metadata,
  matchesFilter,
  NotFoundError,
  SiftError,
  silentLogger,
  UnavailableError,
  writeFileAtomically,
} from "@sift/core";
import { type Analyzer, createAnalyzer } from "@sift/text";
import { type AnalyzedBm25Document, analyzeBm25Document, chunkToBm25Document } from "./analyzed-document";
import { type Bm25Config, resolveBm25Config } from "./config";
import {
  GENERATION_FORMAT,
  GENERATION_FORMAT_VERSION,
  type GenerationContents,
  readGeneration,
  serializeGeneration,
  sha256Hex,
} from "./generation-file";
import { WinkBm25Index as Bm25Index, WinkBm25IndexBuilder as Bm25IndexBuilder } from "./wink-reference-index";

/** The `kind` of BM25 generations in the store's generation table. */
export const BM25_GENERATION_KIND = "bm25";

export interface LexicalManagerOptions {
  store: DocumentStore;
  /** Generation files live under `<dataDir>/lexical/<collectionId>/`. */
  dataDir: string;
  /** Must be the analyzer queries are meant to be analysed with; default `createAnalyzer()`. */
  analyzer?: Analyzer;
  config?: Partial<Bm25Config>;
  logger?: Logger;
  /**
   * A sync merges (rebuilds the base generation) once the changes since the base, added chunks plus deleted
   * base chunks, exceed `max(minChunks, ratio × base chunks)`. Default `{ minChunks: 2000, ratio: 0.1 }`.
   */
  mergeThreshold?: { minChunks: number; ratio: number };
  /**
   * Collections with fewer chunks than this are rebuilt in full on every sync that finds a change, so their
   * scores are always exact. Default 5000.
   */
  smallCollectionChunks?: number;
  /** Page size of `scanChunks` during a merge. Default 1000. */
  scanBatchSize?: number;
}

export interface LexicalIndexStats {
  /** Generation number of the base (as numbered by the store). */
  generation: number;
  /** Collection revision the in-memory state corresponds to. */
  revision: number;
  baseChunks: number;
  deltaChunks: number;
  tombstones: number;
}

/** The persisted, consolidated part of a collection's lexical state. */
interface Base {
  generation: IndexGeneration;
  index: Bm25Index;
  ids: ReadonlySet<number>;
  /** Chunk id → its document's metadata (one object per document, shared by its chunks). */
  metadata: ReadonlyMap<number, Metadata>;
}

/** A chunk of the delta, kept analysed so that rebuilding the delta on each sync does not analyse it again. */
interface DeltaChunk {
  document: AnalyzedBm25Document;
  metadata: Metadata;
}

/** Chunks added since the base, indexed on their own in memory (rebuilt on every sync that changes them). */
interface Delta {
  index: Bm25Index;
  chunks: ReadonlyMap<number, DeltaChunk>;
}

/** Immutable; a sync or merge replaces the whole object, so a search works on one consistent view. */
interface Snapshot {
  base: Base;
  delta: Delta | undefined;
  /** Base chunk ids that no longer exist in the store. */
  tombstones: ReadonlySet<number>;
  revision: number;
}

interface CollectionState {
  readonly collectionId: number;
  snapshot: Snapshot;
  /** `Date.now()` of the last revision check, for `refreshIfStale`. */
  checkedAt: number;
  dropped: boolean;
  /** The load found no usable generation (or a small collection had changed) and built the base. */
  builtOnLoad: boolean;
}

/**
 * Keeps one BM25 index per collection in step with the store, in generations:
 *
 * - a **base**: a consolidated wink index over the chunks present when it was built, persisted as
 *   `<dataDir>/lexical/<collectionId>/gen-<n>.json` and registered in the store's generation table;
 * - a **delta**: a wink index rebuilt in memory over the chunks added since the base. Delta scores use
 *   the delta's own statistics (document count, document frequencies, average length), so until the next
 *   merge they are only roughly comparable with base scores; hits from the delta are flagged in `warnings`;
 * - **tombstones**: base chunk ids that the store no longer has, dropped from results at query time.
 *
 * A search queries base and delta with the tombstone check and the metadata filter inside wink's filter
 * callback (before the top-k cut, so `limit` hits come back whenever that many chunks match), then merges
 * by score. Sync and merge are serialised per collection; a search never waits for them and never sees a
 * half-built state.
 */
export class LexicalIndexManager {
  readonly #store: DocumentStore;
  readonly #dataDir: string;
  readonly #analyzer: Analyzer;
  readonly #config: Bm25Config;
  readonly #logger: Logger;
  readonly #mergeThreshold: { minChunks: number; ratio: number };
  readonly #smallCollectionChunks: number;
  readonly #scanBatchSize: number;
  readonly #states = new Map<number, CollectionState>();
  readonly #opening = new Map<number, Promise<LexicalIndex>>();
  readonly #queues = new Map<number, Promise<unknown>>();
  #closed = false;

  constructor(options: LexicalManagerOptions) {
    this.#store = options.store;
    this.#dataDir = options.dataDir;
    this.#analyzer = options.analyzer ?? createAnalyzer();
    this.#config = resolveBm25Config(options.config);
    this.#logger = options.logger ?? silentLogger;
    this.#mergeThreshold = options.mergeThreshold ?? { minChunks: 2000, ratio: 0.1 };
    this.#smallCollectionChunks = options.smallCollectionChunks ?? 5000;
    this.#scanBatchSize = options.scanBatchSize ?? 1000;
  }

  /**
   * Loads the collection's latest valid generation (or builds one when there is none), reconciles it with
   * the store, and returns a live handle: later syncs and merges are visible through it. Cached per
   * collection; concurrent calls share one load. Throws `NotFoundError` for an unknown collection.
   */
  open(collectionId: number): Promise<LexicalIndex> {
    if (this.#closed) return Promise.reject(new UnavailableError("the lexical index manager is closed"));
    const state = this.#states.get(collectionId);
    if (state !== undefined) return Promise.resolve(this.#handle(state));
    let opening = this.#opening.get(collectionId);
    if (opening === undefined) {
      opening = this.#serialized(collectionId, async () => {
        const loaded = this.#states.get(collectionId) ?? (await this.#load(collectionId));
        return this.#handle(loaded);
      }).finally(() => this.#opening.delete(collectionId));
      this.#opening.set(collectionId, opening);
    }
    return opening;
  }

  /**
   * Brings the in-memory state up to the store's current revision: new chunks go to the delta, deleted ones
   * become tombstones; merges when over the threshold, rebuilds when the collection is small. One
   * `getRevision` round trip when nothing changed. Opens the collection when it is not open yet.
   */
  async sync(collectionId: number): Promise<void> {
    // Even right after a load: a load already in flight may have read the store before the caller's write.
    await this.open(collectionId);
    await this.#serialized(collectionId, async () => {
      const state = this.#states.get(collectionId);
      if (state !== undefined) await this.#syncLocked(state);
    });
  }

  /**
   * Builds a new base generation from the store, persists it, swaps it in and clears delta and tombstones.
   * When the collection was not open and opening it had to build a base anyway, that build is the merge.
   */
  async merge(collectionId: number): Promise<void> {
    const wasOpen = this.#states.has(collectionId);
    await this.open(collectionId);
    await this.#serialized(collectionId, async () => {
      const state = this.#states.get(collectionId);
      if (state === undefined) return;
      const { delta, tombstones } = state.snapshot;
      if (!wasOpen && state.builtOnLoad && delta === undefined && tombstones.size === 0) return;
      state.snapshot = await this.#buildBase(collectionId, state.snapshot.base);
    });
  }

  /** Syncs when the last revision check of this collection is older than `maxAgeMs` (opens it if needed). */
  async refreshIfStale(collectionId: number, maxAgeMs: number): Promise<void> {
    const state = this.#states.get(collectionId);
    if (state === undefined) {
      await this.open(collectionId);
      return;
    }
    if (Date.now() - state.checkedAt < maxAgeMs) return;
    state.checkedAt = Date.now();
    await this.sync(collectionId);
  }

  /**
   * Forgets the collection and deletes its generation files (for a deleted collection; the store drops the
   * generation rows with it). Handles opened earlier throw `NotFoundError` from then on.
   */
  async drop(collectionId: number): Promise<void> {
    await this.#serialized(collectionId, async () => {
      const state = this.#states.get(collectionId);
      if (state !== undefined) state.dropped = true;
      this.#states.delete(collectionId);
      await rm(this.#collectionDir(collectionId), { recursive: true, force: true });
    });
  }

  stats(collectionId: number): LexicalIndexStats | undefined {
    const snapshot = this.#states.get(collectionId)?.snapshot;
    if (snapshot === undefined) return undefined;
    return {
      generation: snapshot.base.generation.generation,
      revision: snapshot.revision,
      baseChunks: snapshot.base.index.size,
      deltaChunks: snapshot.delta?.index.size ?? 0,
      tombstones: snapshot.tombstones.size,
    };
  }

  /** Waits for running syncs and merges, then forgets every collection. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#opening.values(), ...this.#queues.values()]);
    for (const state of this.#states.values()) state.dropped = true;
    this.#states.clear();
  }

  // ---- search ----

  #handle(state: CollectionState): LexicalIndex {
    return {
      search: async (options) => {
        if (state.dropped) {
          throw this.#closed
            ? new UnavailableError("the lexical index manager is closed")
            : new NotFoundError("collection", String(state.collectionId));
        }
        return search(state.snapshot, options);
      },
    };
  }

  // ---- loading and syncing (always under the collection's queue) ----

  async #load(collectionId: number): Promise<CollectionState> {
    if ((await this.#store.getCollectionById(collectionId)) === undefined) {
      throw new NotFoundError("collection", String(collectionId));
    }
    const base = await this.#loadNewestValidBase(collectionId);
    let snapshot: Snapshot;
    if (base === undefined) {
      snapshot = await this.#buildBase(collectionId, undefined);
    } else {
      snapshot = { base, delta: undefined, tombstones: new Set(), revision: base.generation.revision };
    }
    const state: CollectionState = {
      collectionId,
      snapshot,
      checkedAt: Date.now(),
      dropped: false,
      builtOnLoad: false,
    };
    if (base !== undefined) await this.#syncLocked(state);
    state.builtOnLoad = state.snapshot.base !== base;
    this.#states.set(collectionId, state);
    return state;
  }

  /** The latest ready generation, else older ones (newest first) whose file still verifies. */
  async #loadNewestValidBase(collectionId: number): Promise<Base | undefined> {
    const latest = await this.#store.latestGeneration(collectionId, BM25_GENERATION_KIND);
    const all = await this.#store.listGenerations(collectionId, BM25_GENERATION_KIND);
    const candidates = [
      ...(latest === undefined ? [] : [latest]),
      ...all.filter((g) => g.id !== latest?.id && g.status !== "building" && g.checksum !== null),
    ];
    for (const generation of candidates) {
      try {
        const base = await this.#readBase(generation);
        if (generation !== latest) {
          this.#logger.warn("lexical: loaded an older generation", {
            collectionId,
            generation: generation.generation,
          });
        }
        return base;
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

  async #readBase(generation: IndexGeneration): Promise<Base> {
    const contents = await readGeneration(this.#resolve(generation.path), {
      checksum: generation.checksum ?? "",
      analyzer: this.#analyzer.name,
      config: this.#config,
      collectionId: generation.collectionId,
      chunkCount: generation.chunkCount,
    });
    const index = Bm25Index.fromJSON(
      contents.winkJson,
      contents.chunkIds.length,
      this.#config,
      this.#analyzer,
    );
    const metadata = new Map<number, Metadata>();
    contents.chunkIds.forEach((chunkId, i) => {
      metadata.set(chunkId, contents.documentMetadata[String(contents.documentIds[i])] ?? {});
    });
    return { generation, index, ids: new Set(contents.chunkIds), metadata };
  }

  async #syncLocked(state: CollectionState): Promise<void> {
    const { collectionId } = state;
    const current = state.snapshot;
    state.checkedAt = Date.now();
    // Revision first: a write racing with the reads below bumps it again, and the next sync catches up.
    const revision = await this.#store.getRevision(collectionId);
    if (revision === current.revision) return;
    const storeIds = await this.#store.listChunkIds(collectionId);
    const changes = diff(current, storeIds);
    if (
      changes.added.length === 0 &&
      changes.removedFromBase.size === current.tombstones.size &&
      changes.removedFromDelta.length === 0
    ) {
      state.snapshot = { ...current, revision };
      return;
    }
    // Changes since the base once this sync is applied: chunks in the delta plus deleted base chunks.
    const deltaSize = current.delta?.index.size ?? 0;
    const pending =
      deltaSize + changes.added.length - changes.removedFromDelta.length + changes.removedFromBase.size;
    const threshold = Math.max(
      this.#mergeThreshold.minChunks,
      this.#mergeThreshold.ratio * current.base.index.size,
    );
    if (storeIds.length < this.#smallCollectionChunks || pending > threshold) {
      this.#logger.info("lexical: rebuilding base", { collectionId, chunks: storeIds.length, pending });
      state.snapshot = await this.#buildBase(collectionId, current.base);
      return;
    }
    const deltaChunks = new Map(current.delta?.chunks);
    for (const id of changes.removedFromDelta) deltaChunks.delete(id);
    // Chunks deleted since listChunkIds are simply missing here; the next sync sees them gone.
    for (const chunk of await this.#store.getChunks(changes.added)) {
      const document = analyzeBm25Document(chunkToBm25Document(chunk), this.#analyzer);
      deltaChunks.set(chunk.id, { document, metadata: chunk.metadata });
    }
    const delta =
      deltaChunks.size === 0
        ? undefined
        : {
            index: Bm25Index.buildAnalyzed(
              [...deltaChunks.values()].map((chunk) => chunk.document),
              this.#config,
              this.#analyzer,
            ),
            chunks: deltaChunks,
          };
    state.snapshot = { base: current.base, delta, tombstones: changes.removedFromBase, revision };
  }

  /**
   * Scans the collection, builds a base, persists it and returns the snapshot to swap in. The generation row
   * is completed only after the file is durable; on failure the row and file are removed and the caller
   * keeps its current snapshot.
   */
  async #buildBase(collectionId: number, previous: Base | undefined): Promise<Snapshot> {
    const revision = await this.#store.getRevision(collectionId);
    const chunkIds: number[] = [];
    const documentIds: number[] = [];
    const documentMetadata = new Map<number, Metadata>();
    const metadata = new Map<number, Metadata>();
    const builder = new Bm25IndexBuilder(this.#config, this.#analyzer);
    for (let afterId = 0; ; ) {
      const page = await this.#store.scanChunks(collectionId, { afterId, limit: this.#scanBatchSize });
      for (const chunk of page) {
        chunkIds.push(chunk.id);
        documentIds.push(chunk.documentId);
        let shared = documentMetadata.get(chunk.documentId);
        if (shared === undefined) {
          shared = chunk.metadata;
          documentMetadata.set(chunk.documentId, shared);
        }
        metadata.set(chunk.id, shared);
        builder.add(chunkToBm25Document(chunk));
        // Analysis is synchronous CPU work: let searches and other I/O in between.
        if (builder.size % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const last = page.at(-1);
      if (last === undefined || page.length < this.#scanBatchSize) break;
      afterId = last.id;
    }
    const index = builder.finish();

    const generation = await this.#beginGeneration(collectionId, revision);
    const path = this.#resolve(generation.path);
    let ready: IndexGeneration;
    try {
      const contents: GenerationContents = {
        header: {
          format: GENERATION_FORMAT,
          version: GENERATION_FORMAT_VERSION,
          analyzer: this.#analyzer.name,
          config: this.#config,
          collectionId,
          generation: generation.generation,
          revision,
          chunkCount: chunkIds.length,
          createdAt: new Date().toISOString(),
        },
        chunkIds,
        documentIds,
        documentMetadata: Object.fromEntries(documentMetadata),
        winkJson: index.toJSON(),
      };
      const data = serializeGeneration(contents);
      await writeFileAtomically(path, data);
      ready = await this.#store.completeGeneration(generation.id, {
        checksum: sha256Hex(data),
        chunkCount: chunkIds.length,
      });
    } catch (error) {
      await rm(path, { force: true }).catch(() => {});
      await this.#store.deleteGeneration(generation.id).catch(() => {});
      throw error;
    }
    this.#logger.info("lexical: generation ready", {
      collectionId,
      generation: ready.generation,
      chunks: chunkIds.length,
    });
    await this.#removeOldGenerations(collectionId, ready, previous?.generation);
    return {
      base: { generation: ready, index, ids: new Set(chunkIds), metadata },
      delta: undefined,
      tombstones: new Set(),
      revision,
    };
  }

  /**
   * The store numbers generations; the file name carries the number, and the store records the path at
   * `beginGeneration`. So predict the number, and retry if another writer took it meanwhile.
   */
  async #beginGeneration(collectionId: number, revision: number): Promise<IndexGeneration> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const existing = await this.#store.listGenerations(collectionId, BM25_GENERATION_KIND);
      const next = (existing[0]?.generation ?? 0) + 1;
      const generation = await this.#store.beginGeneration({
        collectionId,
        kind: BM25_GENERATION_KIND,
        path: join("lexical", String(collectionId), `gen-${next}.json`),
        revision,
      });
      if (generation.generation === next) return generation;
      await this.#store.deleteGeneration(generation.id);
    }
    throw new UnavailableError(`could not reserve a BM25 generation number for collection ${collectionId}`);
  }

  /** Keeps the new generation and the one it replaces (a fallback); deletes older rows and stray files. */
  async #removeOldGenerations(
    collectionId: number,
    ready: IndexGeneration,
    previous: IndexGeneration | undefined,
  ): Promise<void> {
    try {
      const keep = new Set([ready.id, previous?.id]);
      const keepFiles = new Set(
        [ready.path, previous?.path].filter((p) => p !== undefined).map((p) => this.#resolve(p)),
      );
      for (const generation of await this.#store.listGenerations(collectionId, BM25_GENERATION_KIND)) {
        if (keep.has(generation.id) || generation.generation > ready.generation) continue;
        await this.#store.deleteGeneration(generation.id);
      }
      const directory = this.#collectionDir(collectionId);
      for (const name of await readdir(directory)) {
        const file = join(directory, name);
        if (!keepFiles.has(file)) await rm(file, { force: true });
      }
    } catch (error) {
      this.#logger.warn("lexical: could not remove old generations", { collectionId, error: String(error) });
    }
  }

  // ---- helpers ----

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

/** What changed between a snapshot and the store's chunk ids. */
function diff(
  snapshot: Snapshot,
  storeIds: number[],
): { added: number[]; removedFromBase: Set<number>; removedFromDelta: number[] } {
  const present = new Set(storeIds);
  const deltaChunks = snapshot.delta?.chunks;
  const added = storeIds.filter((id) => !snapshot.base.ids.has(id) && !deltaChunks?.has(id));
  const removedFromBase = new Set<number>();
  for (const id of snapshot.base.ids) if (!present.has(id)) removedFromBase.add(id);
  const removedFromDelta =
    deltaChunks === undefined ? [] : [...deltaChunks.keys()].filter((id) => !present.has(id));
  return { added, removedFromBase, removedFromDelta };
}

async function search(
  snapshot: Snapshot,
  options: LexicalSearchOptions,
): Promise<{ hits: LexicalHit[]; warnings: string[] }> {
  options.signal?.throwIfAborted();
  const { base, delta, tombstones } = snapshot;
  const { filter } = options;
  const limit = Math.floor(options.limit);
  if (!(limit >= 1) || options.query.trim().length === 0) return { hits: [], warnings: [] };

  const metadataOf = (id: number) => delta?.chunks.get(id)?.metadata ?? base.metadata.get(id);
  // wink calls the filter once per (query term, posting), so remember each chunk's verdict.
  const verdicts = new Map<number, boolean>();
  const accepts = (id: number) => {
    let verdict = verdicts.get(id);
    if (verdict === undefined) {
      const metadata = metadataOf(id);
      verdict =
        !tombstones.has(id) &&
        metadata !== undefined &&
        (filter === undefined || matchesFilter(filter, metadata));
      verdicts.set(id, verdict);
    }
    return verdict;
  };
  const accept = filter === undefined && tombstones.size === 0 ? undefined : accepts;

  const baseHits = base.index.search(options.query, limit, accept);
  const deltaHits = delta?.index.search(options.query, limit, accept) ?? [];
  if (deltaHits.length === 0) return { hits: baseHits, warnings: [] };
  const hits = [...baseHits, ...deltaHits]
    .sort((left, right) => right.score - left.score || left.chunkId - right.chunkId)
    .slice(0, limit);
  const fromDelta = hits.filter((hit) => delta?.chunks.has(hit.chunkId)).length;
  const warnings =
    fromDelta === 0
      ? []
      : [
          `bm25: ${fromDelta} of ${hits.length} hits come from chunks indexed since the last merge; ` +
            "their scores use delta-local statistics until the next merge",
        ];
  return { hits, warnings };
}
