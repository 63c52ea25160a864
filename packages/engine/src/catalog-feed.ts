import type { ChunkRecord, Collection, DocumentStore, Filter, Logger } from "@sift/core";
import { silentLogger } from "@sift/core";
import { passageText } from "@sift/dense";
import {
  type ChangeResult,
  type DocumentRef,
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
import type { SnapshotChange } from "./collection-refresher";
import type { Engine } from "./engine";

export interface CatalogFeedOptions
  extends Omit<FeedOptions, "store" | "corpora" | "embedder" | "backfill" | "logger"> {
  /** The catalog: where documents, chunks and collections are read. */
  store: DocumentStore;
  /** Where the feed keeps its own state (`feedStoreOf(store)` for the durable one). */
  feedStore: FeedStore;
  /**
   * BM25 snapshots, the searcher (backfill), the analyser, the embedder (vectors, from its cache), and the
   * snapshot changes (`engine.onChange`): the one way document changes reach the feed.
   */
  engine: Engine;
  metadataFields?: MetadataFields;
  logger?: Logger;
}

/** What a catch-up did for one collection. */
export interface CatchUp {
  collection: string;
  tenant: string;
  /** The cursor before; `undefined`: the feed had never watched it (nothing replayed, the cursor set). */
  from: number | undefined;
  to: number;
  result: ChangeResult;
}

const noChange: ChangeResult = { candidates: 0, unchanged: 0, matchMs: [], removed: 0 };
/** Chunks read per page when a catch-up replays a collection past its cursor. */
const replayPage = 1_000;

/**
 * The feed over the catalog (docs/adr/0017, 0021): turns snapshot changes into feed arrivals, keeps each
 * collection's BM25 statistics (its current lexical snapshot) for matching, and backfills a new profile by
 * ordinary hybrid search. Everything else (reading, events, why, training) is `feed`'s own.
 *
 * - Every document change reaches the feed the same way, whoever wrote it (this process's routes, the CLI,
 *   another replica): the collection's refresher swaps a snapshot and `engine.onChange` reports it.
 * - Changes are applied one at a time in report order, so two changes never interleave their writes.
 * - After each change the collection's durable cursor advances to the highest chunk id applied; `catchUp`
 *   replays what lies past it (commits made while no service watched) and drops documents the store lost.
 * - A document version the feed already holds is skipped (`FeedDocument.version`: its highest chunk id), so
 *   a change met twice (live and in a catch-up) is applied once.
 */
export class CatalogFeed {
  readonly feed: Feed;
  readonly #options: CatalogFeedOptions;
  readonly #logger: Logger;
  readonly #fields: MetadataFields;
  /** `tenant\0collection` → the corpus over that collection's latest snapshot seen. */
  readonly #corpora = new Map<string, SnapshotFeedCorpus>();
  /** Collections whose last change failed: their next change is a catch-up from the cursor. */
  readonly #behind = new Set<number>();
  readonly #unsubscribe: () => void;
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
    this.#unsubscribe = engine.onChange((change) => {
      this.#enqueue(() => this.#applySnapshotChange(change)).catch((error) =>
        this.#logger.error("feed: a snapshot change did not reach the feed; the next one catches up", {
          collectionId: change.collectionId,
          revision: change.revision,
          added: change.added.length,
          updated: change.updated.length,
          removed: change.removed.length,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
      );
    });
  }

  /**
   * Resolves once every change reported before the call has been applied (or failed and was logged). A
   * writer that awaited its index sync and then this reads its own writes in the feed.
   */
  settled(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  /**
   * Brings the feed up to the store for every collection (call once the collections are loaded, at start):
   * per collection, the documents with chunks past its cursor are matched (new or changed while no service
   * watched), the feed's documents the store no longer has leave every feed, and the cursor advances. A
   * collection never watched before gets a cursor at its current highest chunk id and nothing replayed
   * (profiles are backfilled from the existing corpus by search). Documents of a collection dropped
   * meanwhile leave the feed too.
   */
  async catchUp(): Promise<CatchUp[]> {
    const collections = await this.#options.store.listCollections();
    const done: CatchUp[] = [];
    for (const tenant of new Set(collections.map((c) => c.tenant))) {
      const mine = collections.filter((c) => c.tenant === tenant);
      const held = await this.feed.heldDocuments(tenant);
      for (const collection of mine)
        done.push(await this.#enqueue(() => this.#catchUpCollection(collection, held)));
      const live = new Set(mine.map((c) => c.name));
      const removed = held.filter((ref) => !live.has(ref.collection));
      if (removed.length > 0)
        await this.#enqueue(() => this.feed.applyChanges({ tenant, upserted: [], removed }));
    }
    return done;
  }

  /** Stops listening to snapshot changes and waits for the ones already reported. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await this.settled();
  }

  /** Takes every document of a collection about to be dropped out of every feed. */
  async onCollectionDropped(collection: Collection, externalIds: readonly string[]): Promise<ChangeResult> {
    return this.#enqueue(() =>
      this.feed.applyChanges({
        tenant: collection.tenant,
        upserted: [],
        removed: externalIds.map((documentId) => ({ collection: collection.name, documentId })),
      }),
    );
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * `Feed.putProfile` with the followed collections loaded first: their refreshers then poll for other
   * processes' writes, and the backfill matches with their statistics.
   */
  async putProfile(tenant: string, user: string, input: unknown, signal?: AbortSignal): Promise<Profile> {
    const named = (input as { collections?: unknown } | null)?.collections;
    for (const name of Array.isArray(named) ? named : []) {
      if (typeof name !== "string") continue;
      const collection = await this.#options.store.getCollection(tenant, name);
      if (collection === undefined) continue;
      await this.#options.engine.load(collection.id);
      await this.#refreshCorpus(collection);
    }
    return this.feed.putProfile(tenant, user, input, signal);
  }

  /** One swap's documents (or a catch-up, when an earlier change of the collection failed). */
  async #applySnapshotChange(change: SnapshotChange): Promise<ChangeResult> {
    const collection = await this.#options.store.getCollectionById(change.collectionId);
    if (collection === undefined) return noChange;
    if (this.#behind.has(collection.id)) return (await this.#catchUpCollection(collection)).result;
    try {
      const { result, highestChunkId } = await this.#apply(
        collection,
        [...change.added, ...change.updated],
        change.removed,
      );
      if (highestChunkId > 0) await this.#advance(collection, highestChunkId);
      return result;
    } catch (error) {
      this.#behind.add(collection.id);
      throw error;
    }
  }

  /** Matches `upsertedIds` as stored now and removes `removedIds`; the cursor is the caller's. */
  async #apply(collection: Collection, upsertedIds: readonly string[], removedIds: readonly string[]) {
    await this.#refreshCorpus(collection);
    const { documents, highestChunkId } = await this.#load(collection, upsertedIds);
    const result = await this.feed.applyChanges({
      tenant: collection.tenant,
      upserted: documents,
      removed: removedIds.map((documentId) => ({ collection: collection.name, documentId })),
    });
    this.#logger.debug("feed: documents changed", {
      collection: `${collection.tenant}/${collection.name}`,
      upserted: documents.length,
      unchanged: result.unchanged,
      removed: removedIds.length,
      candidates: result.candidates,
    });
    return { result, highestChunkId };
  }

  #advance(collection: Collection, chunkId: number): Promise<void> {
    return this.#options.feedStore.advanceCursor(collection.tenant, collection.name, chunkId);
  }

  /**
   * See `catchUp`: one collection, run in the change queue. Replayed documents are matched in batches of
   * `replayPage`; the cursor advances once all are (a crash midway replays them, and the versions already
   * held are skipped).
   */
  async #catchUpCollection(collection: Collection, held?: readonly DocumentRef[]): Promise<CatchUp> {
    const { store, feedStore } = this.#options;
    const { tenant, name } = collection;
    const from = await feedStore.getCursor(tenant, name);
    this.#behind.delete(collection.id);
    try {
      if (from === undefined) {
        const to = (await store.listChunkIds(collection.id)).reduce((a, b) => Math.max(a, b), 0);
        await this.#advance(collection, to);
        return { tenant, collection: name, from, to, result: noChange };
      }
      const { changed, to } = await this.#changedSince(collection, from);
      const present = new Set(await store.listExternalIds(collection.id));
      const removed = (held ?? (await this.feed.heldDocuments(tenant)))
        .filter((ref) => ref.collection === name && !present.has(ref.documentId))
        .map((ref) => ref.documentId);
      const result: ChangeResult = { ...noChange, matchMs: [] };
      for (let i = 0; i === 0 || i < changed.length; i += replayPage) {
        const batch = await this.#apply(collection, changed.slice(i, i + replayPage), i === 0 ? removed : []);
        result.candidates += batch.result.candidates;
        result.unchanged += batch.result.unchanged;
        result.removed += batch.result.removed;
        result.matchMs.push(...batch.result.matchMs);
      }
      if (to > from) await this.#advance(collection, to);
      return { tenant, collection: name, from, to, result };
    } catch (error) {
      this.#behind.add(collection.id);
      throw error;
    }
  }

  /** Documents with a chunk past `afterId` (new or rewritten since), in chunk order, and the highest id. */
  async #changedSince(collection: Collection, afterId: number): Promise<{ changed: string[]; to: number }> {
    const changed = new Set<string>();
    let to = afterId;
    for (;;) {
      const page = await this.#options.store.scanChunks(collection.id, { afterId: to, limit: replayPage });
      for (const chunk of page) changed.add(chunk.externalId);
      to = page.at(-1)?.id ?? to;
      if (page.length < replayPage) return { changed: [...changed], to };
    }
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
  async #load(
    collection: Collection,
    externalIds: readonly string[],
  ): Promise<{ documents: FeedDocument[]; highestChunkId: number }> {
    if (externalIds.length === 0) return { documents: [], highestChunkId: 0 };
    const byDocument = new Map<string, ChunkRecord[]>();
    let highestChunkId = 0;
    for (const chunk of await this.#options.store.getDocumentChunks(collection.id, externalIds)) {
      highestChunkId = Math.max(highestChunkId, chunk.id);
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
            version: Math.max(...chunks.map((chunk) => chunk.id)),
          },
          this.#options.engine.analyzer,
          this.#fields,
        ),
      );
    }
    return { documents: out, highestChunkId };
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
    const found = await this.#load(collection, [...new Set(response.hits.map((hit) => hit.documentId))]);
    return found.documents;
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
