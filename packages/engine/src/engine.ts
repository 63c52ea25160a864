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
import { DenseIndexManager, type DenseSyncResult, passageText } from "@sift/dense";
import { type RunIngestionOptions, runIngestion } from "@sift/ingest";
import { LexicalIndexManager } from "@sift/lexical";
import { type EmbeddingCostEstimate, estimateEmbeddingCost, withEmbeddingCache } from "@sift/models";
import { type FusionOverrides, type RerankOptions, Searcher } from "@sift/retrieval";
import { type Analyzer, createAnalyzer } from "@sift/text";
import { openUsearchIndex } from "@sift/vector";

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
  /** The embedding model; without one the engine is BM25-only. Wrapped here with the store's cache. */
  embedder?: Embedder | undefined;
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
  /** Called while chunks are being embedded (ingestion or reindex). */
  onEmbedProgress?:
    | ((progress: { collectionId: number; embedded: number; total: number }) => void)
    | undefined;
}

/** What `runIngestion` takes, minus what the engine supplies. */
export type EngineIngestOptions = Omit<RunIngestionOptions, "store" | "lexical"> & {
  /** Called when the store and BM25 are done, before the new chunks are embedded. */
  onIngested?: ((job: IngestionJob) => void) | undefined;
};

/**
 * One running Sift: the store's collections with their BM25 generations, their vector indexes for the
 * configured embedding model, and the searcher over both. The service, the CLI and the eval harness each
 * build one, so they index and search identically.
 */
export class Engine {
  readonly lexical: LexicalIndexManager;
  readonly dense: DenseIndexManager | undefined;
  readonly searcher: Searcher;
  readonly analyzer: Analyzer;
  readonly embedder: Embedder | undefined;
  private readonly logger: Logger;
  private readonly denseStatuses = new Map<number, Exclude<DenseStatus, "unavailable">>();
  /** Every index the store's writes must reach: BM25 always, vectors when the collection's are ready. */
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
    const embedder = this.embedder;
    if (embedder !== undefined) {
      const openVectorIndex =
        options.openVectorIndex ??
        ((_id: number, directory: string) =>
          openUsearchIndex({
            path: directory,
            dimensions: embedder.profile.dimensions,
            metric: "cos",
            logger: this.logger,
          }));
      this.dense = new DenseIndexManager({
        store: options.store,
        embedder,
        dataDir: options.dataDir,
        logger: this.logger,
        openIndex: (id) => openVectorIndex(id, path.join(this.dense!.directory(id), "vectors")),
        ...(options.embedBatchSize === undefined ? {} : { batchSize: options.embedBatchSize }),
        ...(options.onEmbedProgress === undefined ? {} : { onProgress: options.onEmbedProgress }),
      });
    }
    this.searcher = new Searcher({
      store: options.store,
      lexical: (id) => this.lexical.open(id),
      analyzer: this.analyzer,
      dense: embedder === undefined ? undefined : { embedder, vectors: (id) => this.vectorsForSearch(id) },
      fusion: options.fusion,
      rerank: options.rerank,
      legTimeoutMs: options.legTimeoutMs,
    });
    this.indexes = {
      sync: async (collectionId) => {
        await this.lexical.sync(collectionId);
        if ((await this.denseStatus(collectionId)) === "ready") await this.dense!.sync(collectionId);
      },
    };
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

  /** Loads a collection's indexes (BM25 always; vectors when ready, catching up on missed writes). */
  async load(collectionId: number): Promise<DenseStatus> {
    await this.lexical.open(collectionId);
    const status = await this.denseStatus(collectionId);
    if (status === "ready") await this.dense!.sync(collectionId);
    else if (status === "needs-reindex") {
      this.logger.warn("dense: the collection has no vectors from the configured model; run a reindex", {
        collectionId,
        model: this.embedder?.profile.id,
        command: "pnpm sift reindex --collection <name> --dense",
      });
    }
    return status;
  }

  /**
   * Picks up writes other processes made (the CLI against the same Postgres): BM25 when its generation is
   * older than `maxAgeMs`, vectors at most once per `maxAgeMs` (a sync is one revision query when nothing
   * changed, and embeds only chunks it has not seen, mostly from the embedding cache).
   */
  async refreshIfStale(collectionId: number, maxAgeMs: number): Promise<void> {
    await this.lexical.refreshIfStale(collectionId, maxAgeMs);
    if ((await this.denseStatus(collectionId)) !== "ready") return;
    const now = Date.now();
    if (now - (this.denseCheckedAt.get(collectionId) ?? 0) < maxAgeMs) return;
    this.denseCheckedAt.set(collectionId, now);
    await this.dense!.sync(collectionId);
  }

  private readonly denseCheckedAt = new Map<number, number>();

  /** Ingests a source: store and BM25 through `runIngestion`, then the new chunks' vectors. */
  async ingest(options: EngineIngestOptions): Promise<{ job: IngestionJob; dense?: DenseSyncResult }> {
    await this.lexical.open(options.collectionId);
    const status = await this.denseStatus(options.collectionId);
    // Vectors are synced once, after the run: mid-run syncs would interleave embedding with writes.
    const { onIngested, ...ingestion } = options;
    const job = await runIngestion({ ...ingestion, store: this.options.store, lexical: this.lexical });
    onIngested?.(job);
    if (status === "needs-reindex") {
      this.logger.warn("dense: new chunks were not embedded because the collection needs a reindex", {
        collectionId: options.collectionId,
        command: "pnpm sift reindex --collection <name> --dense",
      });
      return { job };
    }
    if (status === "ready" && job.status !== "interrupted") {
      return { job, dense: await this.dense!.sync(options.collectionId, options.signal) };
    }
    return { job };
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

  /** Embeds every chunk of the collection that has no vector for the configured model yet. */
  async reindexDense(collectionId: number, signal?: AbortSignal): Promise<DenseSyncResult> {
    if (this.dense === undefined) throw new UnavailableError("no embedding model is configured");
    const result = await this.dense.sync(collectionId, signal);
    this.denseStatuses.set(collectionId, "ready");
    return result;
  }

  /** Forgets a collection's indexes and deletes their files (the caller deletes it from the store). */
  async drop(collectionId: number): Promise<void> {
    await this.lexical.drop(collectionId);
    await this.dense?.drop(collectionId);
    this.denseStatuses.delete(collectionId);
    this.denseCheckedAt.delete(collectionId);
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
    await this.options.rerank?.reranker.close?.();
    await this.dense?.close();
    await this.lexical.close();
  }

  private async vectorsForSearch(collectionId: number): Promise<VectorIndex> {
    if ((await this.denseStatus(collectionId)) === "needs-reindex") {
      throw new UnavailableError(
        `the collection has no vectors from ${this.embedder?.profile.id}; run 'pnpm sift reindex --collection <name> --dense'`,
      );
    }
    return this.dense!.open(collectionId);
  }
}
