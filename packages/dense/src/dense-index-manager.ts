import { access, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  type ChunkRecord,
  type DocumentStore,
  type Embedder,
  type Logger,
  silentLogger,
  type VectorIndex,
  writeFileAtomically,
} from "@sift/core";

export interface DenseManagerOptions {
  store: DocumentStore;
  /** Wrap it with the embedding cache in the wiring, so unchanged text is never embedded twice. */
  embedder: Embedder;
  /** Opens (or creates) the persisted vector index of a collection for the embedder's model. */
  openIndex: (collectionId: number) => Promise<VectorIndex>;
  /** The list of embedded chunk ids lives under `<dataDir>/dense/<collectionId>/<model>/`. */
  dataDir: string;
  /** Texts per embed call. Default 64. */
  batchSize?: number;
  /**
   * Vectors added or deleted between two flushes of the index and its id record (a crash loses at most
   * this much work, redone at the next load from the embedding cache). Default 2048.
   */
  flushEvery?: number;
  /**
   * The longest a change waits for its flush when fewer than `flushEvery` vectors changed: a timer flushes
   * then (ADR 23). Default 30,000 ms; 0 flushes after every write, as before.
   */
  flushIntervalMs?: number;
  logger?: Logger;
  onProgress?: (progress: { collectionId: number; embedded: number; total: number }) => void;
}

export interface DenseSyncResult {
  added: number;
  removed: number;
}

/** What a vector is made from and filtered by: a chunk's id, its passage text's parts and its document metadata. */
export type DensePassage = Pick<ChunkRecord, "id" | "title" | "text" | "metadata"> & {
  headingPath: readonly string[];
};

interface State {
  index: VectorIndex;
  ids: Set<number>;
  revision: number;
  /** Vectors added or deleted since the last persist. */
  unpersisted: number;
  /** Whether the id record exists on disk (its absence means "needs a reindex" to the engine). */
  recorded: boolean;
  /** The timer that persists unflushed changes after `flushIntervalMs`. */
  timer?: NodeJS.Timeout | undefined;
}

/**
 * The text embedded for a chunk: its document title and heading path give the passage its context.
 * Headings equal to the title are not repeated.
 */
export function passageText(chunk: {
  title: string | null;
  headingPath: readonly string[];
  text: string;
}): string {
  const context = [chunk.title ?? "", ...chunk.headingPath.filter((h) => h !== chunk.title)].filter(
    (s) => s !== "",
  );
  return context.length === 0 ? chunk.text : `${context.join("\n")}\n${chunk.text}`;
}

/**
 * Keeps each collection's vector index equal to the store's chunks, like the BM25 generations: a sync
 * diffs chunk ids (the store gives a replaced chunk a fresh id), embeds the new chunks in batches, upserts
 * them, deletes the vanished ones and records the embedded ids beside the index, after a flush. Syncs of
 * one collection run one at a time.
 */
export class DenseIndexManager {
  private readonly states = new Map<number, Promise<State>>();
  private readonly chains = new Map<number, Promise<unknown>>();
  private readonly logger: Logger;
  /** How many times an index and its id record were persisted (tests and benchmarks read it). */
  persists = 0;

  constructor(private readonly options: DenseManagerOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  get modelId(): string {
    return this.options.embedder.profile.id;
  }

  /** The collection's vector index, synced with the store on first open. */
  async open(collectionId: number): Promise<VectorIndex> {
    if (!this.settled.has(collectionId)) await this.sync(collectionId);
    return (await this.load(collectionId)).index;
  }

  /** Brings the collection's vector index up to the store's current chunks. */
  sync(collectionId: number, signal?: AbortSignal): Promise<DenseSyncResult> {
    return this.serialize(collectionId, async () =>
      this.reconcile(collectionId, await this.load(collectionId), signal),
    );
  }

  stats(collectionId: number): { model: string; vectors: number; revision: number } | undefined {
    const settled = this.settled.get(collectionId);
    return settled === undefined
      ? undefined
      : { model: this.modelId, vectors: settled.ids.size, revision: settled.revision };
  }

  /** Forgets the collection and deletes its id list (the caller deletes the index files). */
  async drop(collectionId: number): Promise<void> {
    await this.serialize(collectionId, async () => {
      const state = await this.states.get(collectionId)?.catch(() => undefined);
      clearTimeout(state?.timer);
      await state?.index.close();
      this.states.delete(collectionId);
      this.settled.delete(collectionId);
      await rm(path.join(this.options.dataDir, "dense", String(collectionId)), {
        recursive: true,
        force: true,
      });
    });
  }

  /** Persists what changed since the last flush (index, then id record) and closes every index. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    for (const [collectionId, state] of this.states) {
      const s = await state.catch(() => undefined);
      if (s === undefined) continue;
      clearTimeout(s.timer);
      if (s.unpersisted > 0) await this.persist(collectionId, s, s.revision);
      await s.index.close();
    }
    this.states.clear();
    this.settled.clear();
  }

  private readonly settled = new Map<number, State>();

  /** Opens the index and reads the recorded ids once (no reconciling: that is `sync`'s job). */
  private load(collectionId: number): Promise<State> {
    let state = this.states.get(collectionId);
    if (state === undefined) {
      state = (async () => {
        const index = await this.options.openIndex(collectionId);
        const recorded = await this.readIds(collectionId);
        if (recorded === undefined && (await index.count()) > 0) {
          this.logger.warn("dense: no record of embedded chunks; re-upserting every chunk", { collectionId });
        }
        return {
          index,
          ids: new Set(recorded?.ids ?? []),
          revision: -1,
          unpersisted: 0,
          recorded: recorded !== undefined,
        };
      })();
      state.catch(() => this.states.delete(collectionId));
      this.states.set(collectionId, state);
    }
    return state;
  }

  private async reconcile(
    collectionId: number,
    state: State,
    signal?: AbortSignal,
  ): Promise<DenseSyncResult> {
    const revision = await this.options.store.getRevision(collectionId);
    if (revision === state.revision) return { added: 0, removed: 0 };
    const current = await this.options.store.listChunkIds(collectionId);
    const currentSet = new Set(current);
    const removed = [...state.ids].filter((id) => !currentSet.has(id));
    const added = current.filter((id) => !state.ids.has(id));
    if (removed.length > 0) {
      await state.index.delete(removed);
      for (const id of removed) state.ids.delete(id);
    }
    const batchSize = this.options.batchSize ?? 64;
    const flushEvery = this.options.flushEvery ?? 2048;
    let sinceFlush = removed.length;
    let embedded = 0;
    for (let i = 0; i < added.length; i += batchSize) {
      signal?.throwIfAborted();
      const chunks = await this.options.store.getChunks(added.slice(i, i + batchSize));
      await this.embedInto(state, chunks, signal);
      embedded += chunks.length;
      sinceFlush += chunks.length;
      this.options.onProgress?.({ collectionId, embedded, total: added.length });
      if (sinceFlush >= flushEvery) {
        await this.persist(collectionId, state, -1);
        sinceFlush = 0;
      }
    }
    state.revision = revision;
    await this.persist(collectionId, state, revision);
    this.settled.set(collectionId, state);
    if (added.length + removed.length > 0) {
      this.logger.info("dense: synced", {
        collectionId,
        model: this.modelId,
        added: added.length,
        removed: removed.length,
      });
    }
    return { added: added.length, removed: removed.length };
  }

  /** Embeds and upserts one batch of passages. */
  private async embedInto(state: State, passages: readonly DensePassage[], signal?: AbortSignal) {
    if (passages.length === 0) return;
    const { embeddings } = await this.options.embedder.embed({
      texts: passages.map(passageText),
      kind: "passage",
      signal,
    });
    await state.index.upsert(
      passages.map((chunk, j) => ({ chunkId: chunk.id, vector: embeddings[j]!, metadata: chunk.metadata })),
    );
    for (const chunk of passages) state.ids.add(chunk.id);
    state.unpersisted += passages.length;
  }

  // ---- the seam for the engine's refresher: it diffs the store once for every index ----

  /** The collection's vector index and the ids it holds (opened on first use, without reconciling). */
  async handle(collectionId: number): Promise<{ index: VectorIndex; ids: ReadonlySet<number> }> {
    return this.load(collectionId);
  }

  /**
   * Embeds and upserts the passages the index does not hold yet (the cache makes unchanged text free), in
   * batches, flushing every `flushEvery`. Serialised with the collection's other writes.
   */
  add(collectionId: number, passages: readonly DensePassage[], signal?: AbortSignal): Promise<number> {
    return this.serialize(collectionId, async () => {
      const state = await this.load(collectionId);
      const missing = passages.filter((passage) => !state.ids.has(passage.id));
      const batchSize = this.options.batchSize ?? 64;
      const flushEvery = this.options.flushEvery ?? 2048;
      let sinceFlush = 0;
      for (let i = 0; i < missing.length; i += batchSize) {
        signal?.throwIfAborted();
        const batch = missing.slice(i, i + batchSize);
        await this.embedInto(state, batch, signal);
        sinceFlush += batch.length;
        this.options.onProgress?.({ collectionId, embedded: i + batch.length, total: missing.length });
        if (sinceFlush >= flushEvery) {
          await this.persist(collectionId, state, -1);
          sinceFlush = 0;
        }
      }
      return missing.length;
    });
  }

  /**
   * Deletes the vectors of `chunkIds` (unknown ids ignored) and marks the index in step with `revision`.
   * The index and its id record are persisted when `flushEvery` vectors changed since the last persist,
   * else by a timer within `flushIntervalMs` (ADR 23): a write no longer rewrites the whole index.
   */
  remove(collectionId: number, chunkIds: readonly number[], revision: number): Promise<number> {
    return this.serialize(collectionId, async () => {
      const state = await this.load(collectionId);
      const present = chunkIds.filter((id) => state.ids.has(id));
      if (present.length > 0) await state.index.delete(present);
      for (const id of present) state.ids.delete(id);
      state.unpersisted += present.length;
      state.revision = revision;
      this.settled.set(collectionId, state);
      await this.persistWhenDue(collectionId, state);
      return present.length;
    });
  }

  /**
   * Persists now when enough changed, no interval is set or the collection has no id record yet (the
   * engine reads a missing record as "needs a reindex", so the first vectors are recorded at once); else
   * makes sure a timer will.
   */
  private async persistWhenDue(collectionId: number, state: State): Promise<void> {
    const interval = this.options.flushIntervalMs ?? 30_000;
    const due = state.unpersisted >= (this.options.flushEvery ?? 2048) || interval <= 0;
    if (due || (!state.recorded && state.unpersisted > 0)) {
      await this.persist(collectionId, state, state.revision);
      return;
    }
    if (state.unpersisted === 0 || state.timer !== undefined) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.serialize(collectionId, async () => {
        if (this.states.has(collectionId) && state.unpersisted > 0) {
          await this.persist(collectionId, state, state.revision);
        }
      }).catch((error) =>
        this.logger.warn("dense: a timed flush failed; the next write or close retries", {
          collectionId,
          error: (error as Error)?.message ?? String(error),
        }),
      );
    }, interval);
    state.timer.unref();
  }

  /** The folder of a collection's files for the embedder's model: `<dataDir>/dense/<collectionId>/<model>`. */
  directory(collectionId: number): string {
    const model = this.modelId.replace(/[^A-Za-z0-9._-]+/g, "_");
    return path.join(this.options.dataDir, "dense", String(collectionId), model);
  }

  /** Whether the embedded-id record of the collection exists for this model (it has been synced once). */
  async hasRecord(collectionId: number): Promise<boolean> {
    try {
      await access(this.idsPath(collectionId));
      return true;
    } catch {
      return false;
    }
  }

  private idsPath(collectionId: number): string {
    return path.join(this.directory(collectionId), "ids.json");
  }

  private async readIds(collectionId: number): Promise<{ ids: number[] } | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.idsPath(collectionId), "utf8")) as {
        model?: string;
        ids?: unknown;
      };
      if (parsed.model !== this.modelId || !Array.isArray(parsed.ids)) return undefined;
      return { ids: parsed.ids.filter((x): x is number => typeof x === "number") };
    } catch {
      return undefined;
    }
  }

  /**
   * Flushes the index, then records the ids it holds (in that order, so the record never overstates: after
   * a crash the index and the record are those of one persist, or the index is newer and the next load's
   * diff against the store re-adds what the record lacks).
   */
  private async persist(collectionId: number, state: State, revision: number): Promise<void> {
    clearTimeout(state.timer);
    state.timer = undefined;
    await state.index.flush();
    await writeFileAtomically(
      this.idsPath(collectionId),
      JSON.stringify({ model: this.modelId, revision, ids: [...state.ids] }),
    );
    state.unpersisted = 0;
    state.recorded = true;
    this.persists += 1;
  }

  private serialize<T>(collectionId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(collectionId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.chains.set(
      collectionId,
      next.catch(() => {}),
    );
    return next;
  }
}
