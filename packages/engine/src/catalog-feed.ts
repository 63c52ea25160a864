import type { ChunkRecord, Collection, DocumentStore, Filter, Logger } from "@sift/core";
import { silentLogger } from "@sift/core";
import { passageText } from "@sift/dense";
import {
  type ChangeResult,
  defaultMetadataFields,
  Feed,
  type FeedDocument,
  type FeedOptions,
  type FeedStore,
  type MetadataFields,
  type Profile,
  prepareFeedDocument,
  SnapshotFeedCorpus,
} from "@sift/feed";
import type { Engine } from "./engine";

/** One committed change of a collection's documents, by external id (what the feed is told after a write). */
export interface DocumentsChanged {
  collectionId: number;
  added: readonly string[];
  updated: readonly string[];
  removed: readonly string[];
}

export interface CatalogFeedOptions
  extends Omit<FeedOptions, "store" | "corpora" | "embedder" | "backfill" | "logger"> {
  /** The catalog: where documents, chunks and collections are read. */
  store: DocumentStore;
  /** Where the feed keeps its own state (`feedStoreOf(store)` for the durable one). */
  feedStore: FeedStore;
  /** BM25 snapshots, the searcher (backfill), the analyser and the embedder (vectors, from its cache). */
  engine: Engine;
  metadataFields?: MetadataFields;
  logger?: Logger;
}

const noChange: ChangeResult = { candidates: 0, matchMs: [], removed: 0 };

/**
 * The feed over the catalog (docs/adr/0017): turns committed document changes into feed arrivals, keeps
 * each collection's BM25 statistics (its current lexical snapshot) for matching, and backfills a new profile
 * by ordinary hybrid search. Everything else (reading, events, why, training) is `feed`'s own.
 *
 * Changes are applied one at a time in the order they were reported, so two batches of one collection
 * never interleave their candidate writes.
 */
export class CatalogFeed {
  readonly feed: Feed;
  readonly #options: CatalogFeedOptions;
  readonly #logger: Logger;
  readonly #fields: MetadataFields;
  /** `tenant\0collection` → the corpus over that collection's latest snapshot seen. */
  readonly #corpora = new Map<string, SnapshotFeedCorpus>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CatalogFeedOptions) {
    const { store: _store, feedStore, engine, metadataFields, logger, ...feedOptions } = options;
    this.#options = options;
    this.#logger = logger ?? silentLogger;
    this.#fields = metadataFields ?? defaultMetadataFields;
    this.feed = new Feed({
      ...feedOptions,
      store: feedStore,
      corpora: { corpus: (tenant, collection) => this.#corpora.get(corpusKey(tenant, collection)) },
      embedder: engine.embedder,
      backfill: { search: (request) => this.#backfillSearch(request) },
      logger: this.#logger,
    });
  }

  /**
   * Matches added and changed documents against every following profile and takes removed ones out of every
   * feed. Call it after the write committed and the collection's indexes were synced (the BM25 statistics
   * then include the new documents). An unknown collection (deleted since) changes nothing.
   */
  onDocumentsChanged(change: DocumentsChanged): Promise<ChangeResult> {
    const run = this.#queue.then(() => this.#apply(change));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Takes every document of a collection about to be dropped out of every feed. */
  async onCollectionDropped(collection: Collection, externalIds: readonly string[]): Promise<ChangeResult> {
    const run = this.#queue.then(() =>
      this.feed.applyChanges({
        tenant: collection.tenant,
        upserted: [],
        removed: externalIds.map((documentId) => ({ collection: collection.name, documentId })),
      }),
    );
    this.#queue = run.catch(() => {});
    return run;
  }

  /** `Feed.putProfile` with the followed collections' statistics loaded first (the backfill matches with them). */
  async putProfile(tenant: string, user: string, input: unknown, signal?: AbortSignal): Promise<Profile> {
    const named = (input as { collections?: unknown } | null)?.collections;
    for (const name of Array.isArray(named) ? named : []) {
      if (typeof name !== "string") continue;
      const collection = await this.#options.store.getCollection(tenant, name);
      if (collection !== undefined) await this.#refreshCorpus(collection);
    }
    return this.feed.putProfile(tenant, user, input, signal);
  }

  async #apply(change: DocumentsChanged): Promise<ChangeResult> {
    const collection = await this.#options.store.getCollectionById(change.collectionId);
    if (collection === undefined) return noChange;
    await this.#refreshCorpus(collection);
    const upserted = await this.#load(collection, [...change.added, ...change.updated]);
    const result = await this.feed.applyChanges({
      tenant: collection.tenant,
      upserted,
      removed: change.removed.map((documentId) => ({ collection: collection.name, documentId })),
    });
    this.#logger.debug("feed: documents changed", {
      collection: `${collection.tenant}/${collection.name}`,
      upserted: upserted.length,
      removed: change.removed.length,
      candidates: result.candidates,
    });
    return result;
  }

  async #refreshCorpus(collection: Collection): Promise<void> {
    const snapshot = await this.#options.engine.lexical.openSnapshot(collection.id);
    const key = corpusKey(collection.tenant, collection.name);
    if (this.#corpora.get(key)?.snapshot !== snapshot)
      this.#corpora.set(key, new SnapshotFeedCorpus(snapshot));
  }

  /**
   * The stored documents as feed arrivals, in the order asked, from one chunk query (a chunk carries its
   * document's title and metadata). Missing documents, and documents without text (no chunks), are skipped.
   */
  async #load(collection: Collection, externalIds: readonly string[]): Promise<FeedDocument[]> {
    if (externalIds.length === 0) return [];
    const byDocument = new Map<string, ChunkRecord[]>();
    for (const chunk of await this.#options.store.getDocumentChunks(collection.id, externalIds)) {
      const list = byDocument.get(chunk.externalId) ?? [];
      list.push(chunk);
      byDocument.set(chunk.externalId, list);
    }
    const vectors = await this.#chunkVectors(collection.id, [...byDocument.values()].flat());
    const now = Date.now();
    const out: FeedDocument[] = [];
    for (const id of new Set(externalIds)) {
      const chunks = byDocument.get(id);
      if (chunks === undefined) continue;
      out.push(
        prepareFeedDocument(
          {
            tenant: collection.tenant,
            collection: collection.name,
            documentId: id,
            title: chunks[0]!.title,
            text: textOfChunks(chunks),
            chunks,
            chunkVectors: vectors === undefined ? [] : chunks.map((chunk) => vectors.get(chunk.id)!),
            metadata: chunks[0]!.metadata,
            arrivedAt: now,
          },
          this.#options.engine.analyzer,
          this.#fields,
        ),
      );
    }
    return out;
  }

  /**
   * The chunks' passage vectors, as the dense index holds them: embedded through the engine's cached
   * embedder, so after the index sync these are cache reads. None without a model or with the collection's
   * vectors awaiting a reindex.
   */
  async #chunkVectors(collectionId: number, chunks: ChunkRecord[]) {
    const { engine } = this.#options;
    if (engine.embedder === undefined || chunks.length === 0) return undefined;
    if ((await engine.denseStatus(collectionId)) !== "ready") return undefined;
    const { embeddings } = await engine.embedder.embed({ texts: chunks.map(passageText), kind: "passage" });
    return new Map(chunks.map((chunk, i) => [chunk.id, embeddings[i]!]));
  }

  async #backfillSearch(request: {
    tenant: string;
    collection: string;
    query: string;
    filter: Filter | null;
    limit: number;
    signal?: AbortSignal | undefined;
  }): Promise<FeedDocument[]> {
    const { store, engine } = this.#options;
    const collection = await store.getCollection(request.tenant, request.collection);
    if (collection === undefined) return [];
    const dense = engine.searcher.denseAvailable && (await engine.denseStatus(collection.id)) === "ready";
    const response = await engine.searcher.search({
      collectionId: collection.id,
      query: request.query,
      k: request.limit,
      offset: 0,
      filter: request.filter ?? undefined,
      mode: dense ? "hybrid" : "bm25",
      signal: request.signal,
    });
    return this.#load(collection, [...new Set(response.hits.map((hit) => hit.documentId))]);
  }
}

/**
 * A document's text from its chunks in order (overlaps taken once, a gap between chunks as one space): what
 * the near-duplicate shingles are made of, without reading the document row.
 */
export function textOfChunks(chunks: readonly ChunkRecord[]): string {
  let text = "";
  let end = 0;
  for (const chunk of [...chunks].sort((a, b) => a.ordinal - b.ordinal)) {
    if (chunk.charEnd <= end) continue;
    const fresh = chunk.charStart >= end ? chunk.text : chunk.text.slice(end - chunk.charStart);
    text += text !== "" && chunk.charStart > end ? ` ${fresh}` : fresh;
    end = chunk.charEnd;
  }
  return text;
}

function corpusKey(tenant: string, collection: string): string {
  return `${tenant}\u0000${collection}`;
}
