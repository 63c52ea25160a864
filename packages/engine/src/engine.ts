import path from "node:path";
import {
  type DocumentStore,
  type Embedder,
  type IngestionJob,
  type Logger,
  silentLogger,
  UnavailableError,
  type VectorIndex,
} from "@sift/core";
import { DenseIndexManager, type DensePassage, type DenseSyncResult, passageText } from "@sift/dense";
import { type RunIngestionOptions, runIngestion } from "@sift/ingest";
import { LexicalIndexManager } from "@sift/lexical";
import {
  type EmbeddingCostEstimate,
  estimateEmbeddingCost,
  withEmbeddingCache,
  withQueryEmbeddingCache,
} from "@sift/models";
import {
  type CollectionSnapshot,
  type DenseHandle,
  type FusionOverrides,
  type RerankOptions,
  Searcher,
} from "@sift/retrieval";
import { type Analyzer, createAnalyzer } from "@sift/text";
import { openUsearchIndex } from "@sift/vector";
import { CollectionRefresher, type DenseSide, type SnapshotChange } from "./collection-refresher";

export type { SnapshotChange } from "./collection-refresher";

/**
 * The dense state of one collection for the configured model:
 * - `ready`: its vector index is in step with the store (or is being kept so);
 * - `needs-reindex`: the collection has chunks but no vectors from this model (the model changed, or the
 *   collection was indexed without one). Embedding it all is a deliberate step (`sift reindex --dense`,
 *   which prints the cost first); until then hybrid searches run on BM25 and say `degraded: ["dense"]`;
 * - `unavailable`: no embedding model is configured.
 */
export type DenseStatus = "ready" | "needs-reindex" | "unavailable";

export interface EngineOptions {
  /** Opened and migrated by the caller, who also closes it after `engine.close()`. */
  store: DocumentStore;
  /** BM25 generations live under `<dataDir>/lexical`, vectors under `<dataDir>/dense`. */
  dataDir: string;
  logger?: Logger | undefined;
  analyzer?: Analyzer | undefined;
  /**
   * The embedding model; without one the engine is BM25-only. Wrapped here: passages with the store's
   * persistent cache, queries with a bounded in-memory LRU (a search never writes to the store).
   */
  embedder?: Embedder | undefined;
  /** Query vectors the in-memory LRU holds. Default 4,096 (about 6 MB at 384 dimensions). */
  queryCacheSize?: number | undefined;
  /**
   * Opens a collection's vector index for the embedder's model. Default: the embedded usearch index in
   * `<dataDir>/dense/<collectionId>/<model>/vectors`.
   */
  openVectorIndex?: ((collectionId: number, directory: string) => Promise<VectorIndex>) | undefined;
  fusion?: FusionOverrides | undefined;
  /** The rerank stage (a reranker, candidate cap, time budget, blend); without it rerank requests are refused. */
  rerank?: RerankOptions | undefined;
  /** A leg slower than this is abandoned and reported in `degraded`. */
  legTimeoutMs?: number | undefined;
  /** Texts per embedding call during ingestion and reindexing. Default 64. */
  embedBatchSize?: number | undefined;
  /**
   * How often each loaded collection's refresher polls the store for writes made by other processes (the
   * CLI, another replica on a shared Postgres), ms; 0 or absent: no poll (this process's own writes are
   * always visible to the next search, since they refresh before returning).
   */
  refreshIntervalMs?: number | undefined;
  /**
   * The longest a vector change waits for the index to be flushed to disk, ms (ADR 23; default 30,000;
   * 0: after every write). A crash loses at most this much vector work, redone from the embedding cache.
   */
  denseFlushIntervalMs?: number | undefined;
  /** Called while chunks are being embedded (ingestion or reindex). */
  onEmbedProgress?:
    | ((progress: { collectionId: number; embedded: number; total: number }) => void)
    | undefined;
}

/** What `runIngestion` takes, minus what the engine supplies. */
export type EngineIngestOptions = Omit<RunIngestionOptions, "store" | "lexical"> & {
  /** Called when the run is done: the store and every index (BM25, vectors, the searched snapshot). */
  onIngested?: ((job: IngestionJob) => void) | undefined;
};

/**
 * One running Sift: the store's collections with their BM25 segments, their vector indexes for the
 * configured embedding model, one immutable snapshot per collection (catalog, lexical snapshot, vector
 * handle) kept by a refresher, and the searcher, which reads only those snapshots. The service, the CLI and
 * the eval harness each build one, so they index and search identically.
 */
export class Engine {
  readonly lexical: LexicalIndexManager;
  readonly dense: DenseIndexManager | undefined;
  readonly searcher: Searcher;
  readonly analyzer: Analyzer;
  readonly embedder: Embedder | undefined;
  /** The searcher's query embedder: the model behind an in-memory LRU of query vectors (its `stats`). */
  readonly queryEmbedder: Embedder | undefined;
  private readonly logger: Logger;
  private readonly denseStatuses = new Map<number, Exclude<DenseStatus, "unavailable">>();
  private readonly refreshers = new Map<number, CollectionRefresher>();
  private readonly listeners = new Set<(change: SnapshotChange) => void>();
  /** Vectors embedded and deleted by refreshes, per collection (what `ingest` reports). */
  private readonly denseCounts = new Map<number, DenseSyncResult>();
  private closed = false;
  /**
   * Every index the store's writes must reach, at once: a refresh of the collection's snapshot. The API's
   * write routes call it after their store write and before answering (read your writes).
   */
  readonly indexes: { sync: (collectionId: number) => Promise<void> };

  constructor(private readonly options: EngineOptions) {
    this.logger = options.logger ?? silentLogger;
    this.analyzer = options.analyzer ?? createAnalyzer();
    this.lexical = new LexicalIndexManager({
      store: options.store,
      dataDir: options.dataDir,
      analyzer: this.analyzer,
      logger: this.logger,
    });
    this.embedder =
      options.embedder === undefined ? undefined : withEmbeddingCache(options.embedder, options.store);
    this.dense = this.createDense(this.embedder);
    this.queryEmbedder =
      options.embedder === undefined
        ? undefined
        : withQueryEmbeddingCache(options.embedder, {
            ...(options.queryCacheSize === undefined ? {} : { capacity: options.queryCacheSize }),
          });
    this.searcher = new Searcher({
      snapshots: {
        current: (id) => this.refreshers.get(id)?.current,
        open: (id) => this.refresher(id).load(),
      },
      analyzer: this.analyzer,
      embedder: this.queryEmbedder,
      fusion: options.fusion,
      rerank: options.rerank,
      legTimeoutMs: options.legTimeoutMs,
    });
    this.indexes = {
      sync: async (collectionId) => {
        await this.refresh(collectionId);
      },
    };
  }

  private createDense(embedder: Embedder | undefined): DenseIndexManager | undefined {
    if (embedder === undefined) return undefined;
    const openVectorIndex =
      this.options.openVectorIndex ??
      ((_id: number, directory: string) =>
        openUsearchIndex({
          path: directory,
          dimensions: embedder.profile.dimensions,
          metric: "cos",
          logger: this.logger,
        }));
    const dense: DenseIndexManager = new DenseIndexManager({
      store: this.options.store,
      embedder,
      dataDir: this.options.dataDir,
      logger: this.logger,
      openIndex: (id) => openVectorIndex(id, path.join(dense.directory(id), "vectors")),
      ...(this.options.embedBatchSize === undefined ? {} : { batchSize: this.options.embedBatchSize }),
      ...(this.options.denseFlushIntervalMs === undefined
        ? {}
        : { flushIntervalMs: this.options.denseFlushIntervalMs }),
      ...(this.options.onEmbedProgress === undefined ? {} : { onProgress: this.options.onEmbedProgress }),
    });
    return dense;
  }

  /**
   * Whether the collection's vectors exist for the configured model. A collection with no chunks is
   * `ready` (its vectors are made as documents arrive); one with chunks but no record of embedded ids for
   * this model needs a deliberate reindex.
   */
  async denseStatus(collectionId: number): Promise<DenseStatus> {
    if (this.dense === undefined) return "unavailable";
    const known = this.denseStatuses.get(collectionId);
    if (known !== undefined) return known;
    let status: Exclude<DenseStatus, "unavailable">;
    if (await this.dense.hasRecord(collectionId)) status = "ready";
    else
      status = (await this.options.store.listChunkIds(collectionId)).length === 0 ? "ready" : "needs-reindex";
    this.denseStatuses.set(collectionId, status);
    return status;
  }

  /** Loads a collection's snapshot (BM25 always; vectors when ready, catching up on missed writes). */
  async load(collectionId: number): Promise<DenseStatus> {
    const status = await this.denseStatus(collectionId);
    await this.refresher(collectionId).load();
    if (status === "needs-reindex") {
      this.logger.warn("dense: the collection has no vectors from the configured model; run a reindex", {
        collectionId,
        model: this.embedder?.profile.id,
        command: "pnpm sift reindex --collection <name> --dense",
      });
    }
    return status;
  }

  /** The snapshot searches of the collection read now (undefined until it is loaded). */
  snapshot(collectionId: number): CollectionSnapshot | undefined {
    return this.refreshers.get(collectionId)?.current;
  }

  /**
   * Brings every index of the collection up to the store and swaps the new snapshot in; resolves when a
   * refresh that started after this call has swapped (so a write made before the call is visible).
   */
  refresh(collectionId: number): Promise<CollectionSnapshot> {
    return this.refresher(collectionId).refresh();
  }

  /**
   * Calls `listener` after each snapshot swap that changed documents (their ids, by collection); returns a
   * function that unsubscribes. Listeners run synchronously after the swap; one that throws is logged.
   */
  onChange(listener: (change: SnapshotChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ingests a source: the store through `runIngestion`, each sync a refresh of every index. */
  async ingest(options: EngineIngestOptions): Promise<{ job: IngestionJob; dense?: DenseSyncResult }> {
    const { collectionId } = options;
    const status = await this.denseStatus(collectionId);
    await this.refresher(collectionId).load();
    const before = { ...(this.denseCounts.get(collectionId) ?? { added: 0, removed: 0 }) };
    const { onIngested, ...ingestion } = options;
    const job = await runIngestion({ ...ingestion, store: this.options.store, lexical: this.indexes });
    onIngested?.(job);
    if (status === "needs-reindex") {
      this.logger.warn("dense: new chunks were not embedded because the collection needs a reindex", {
        collectionId,
        command: "pnpm sift reindex --collection <name> --dense",
      });
      return { job };
    }
    if (status !== "ready") return { job };
    const after = this.denseCounts.get(collectionId) ?? { added: 0, removed: 0 };
    return { job, dense: { added: after.added - before.added, removed: after.removed - before.removed } };
  }

  /** What embedding the whole collection with the configured model would cost (cache hits are free). */
  async estimateReindex(collectionId: number, signal?: AbortSignal): Promise<EmbeddingCostEstimate> {
    const embedder = this.options.embedder;
    if (embedder === undefined) throw new UnavailableError("no embedding model is configured");
    const store = this.options.store;
    const ids = await store.listChunkIds(collectionId);
    async function* chunks() {
      for (let i = 0; i < ids.length; i += 512) {
        signal?.throwIfAborted();
        for (const chunk of await store.getChunks(ids.slice(i, i + 512))) yield chunk;
      }
    }
    async function* texts() {
      for await (const chunk of chunks()) yield { text: passageText(chunk) };
    }
    return estimateEmbeddingCost({
      chunks: texts(),
      store,
      embedder,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** Merges the collection's BM25 segments into one base and swaps the merged snapshot in. */
  async mergeLexical(collectionId: number): Promise<void> {
    const refresher = this.refresher(collectionId);
    await refresher.load();
    await this.lexical.merge(collectionId);
    await refresher.adoptLexical();
  }

  /** Embeds every chunk of the collection that has no vector for the configured model yet. */
  async reindexDense(collectionId: number, signal?: AbortSignal): Promise<DenseSyncResult> {
    if (this.dense === undefined) throw new UnavailableError("no embedding model is configured");
    const result = await this.dense.sync(collectionId, signal);
    this.denseStatuses.set(collectionId, "ready");
    const refresher = this.refreshers.get(collectionId);
    if (refresher !== undefined) {
      // The snapshot's dense handle changes: rebuild it (and diff every index in full).
      refresher.markStale();
      await refresher.refresh();
    }
    return result;
  }

  /** Forgets a collection's indexes and deletes their files (the caller deletes it from the store). */
  async drop(collectionId: number): Promise<void> {
    const refresher = this.refreshers.get(collectionId);
    this.refreshers.delete(collectionId);
    await refresher?.stop();
    await this.lexical.drop(collectionId);
    await this.dense?.drop(collectionId);
    this.denseStatuses.delete(collectionId);
    this.denseCounts.delete(collectionId);
  }

  /** Per-index figures for a collection: BM25 generation stats, and the dense status, model and size. */
  async stats(collectionId: number) {
    const status = await this.denseStatus(collectionId);
    return {
      bm25: this.lexical.stats(collectionId) ?? null,
      dense:
        this.dense === undefined
          ? { status }
          : { status, model: this.dense.modelId, ...(this.dense.stats(collectionId) ?? {}) },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.refreshers.values()].map((refresher) => refresher.stop()));
    this.refreshers.clear();
    await this.options.rerank?.reranker.close?.();
    await this.dense?.close();
    await this.lexical.close();
  }

  /** The collection's refresher, created (and its poll started) on first use. */
  private refresher(collectionId: number): CollectionRefresher {
    let refresher = this.refreshers.get(collectionId);
    if (refresher !== undefined) return refresher;
    if (this.closed) throw new UnavailableError("the engine is closed");
    refresher = new CollectionRefresher({
      collectionId,
      store: this.options.store,
      lexical: this.lexical,
      dense: this.denseSide(collectionId),
      logger: this.logger,
      onSwap: (change) => {
        for (const listener of this.listeners) listener(change);
      },
      onGone: () => {
        this.logger.info("collection deleted from the store; dropping its indexes", { collectionId });
        void this.drop(collectionId).catch(() => {});
      },
    });
    this.refreshers.set(collectionId, refresher);
    refresher.startPolling(this.options.refreshIntervalMs ?? 0);
    return refresher;
  }

  /** The collection's vectors as its refresher sees them: the manager's when ready, else nothing. */
  private denseSide(collectionId: number): DenseSide {
    const ready = async () =>
      this.dense !== undefined && (await this.denseStatus(collectionId)) === "ready" ? this.dense : undefined;
    const counts = () => {
      let entry = this.denseCounts.get(collectionId);
      if (entry === undefined) {
        entry = { added: 0, removed: 0 };
        this.denseCounts.set(collectionId, entry);
      }
      return entry;
    };
    return {
      handle: async (): Promise<DenseHandle> => {
        const dense = await ready();
        if (dense !== undefined) return { index: (await dense.handle(collectionId)).index };
        return {
          unavailable:
            this.dense === undefined
              ? "dense retrieval is not configured on this service (no embedding model)"
              : `the collection has no vectors from ${this.embedder?.profile.id}; run 'pnpm sift reindex --collection <name> --dense'`,
        };
      },
      held: async () => {
        const dense = await ready();
        return dense === undefined ? new Set<number>() : (await dense.handle(collectionId)).ids;
      },
      add: async (passages: readonly DensePassage[]) => {
        const dense = await ready();
        if (dense !== undefined) counts().added += await dense.add(collectionId, passages);
      },
      remove: async (chunkIds, revision) => {
        const dense = await ready();
        if (dense !== undefined) counts().removed += await dense.remove(collectionId, chunkIds, revision);
      },
    };
  }
}
