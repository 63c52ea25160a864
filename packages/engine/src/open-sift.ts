import path from "node:path";
import {
  type AnswerResult,
  answer,
  collectAnswer,
  createExtractiveGenerator,
  type EvidencePolicy,
  type Generator,
  type Passage,
} from "@sift/answer";
import {
  type Collection,
  type Filter,
  type IngestionJob,
  type Logger,
  type Metadata,
  NotFoundError,
  type SiftStore,
  type StoredDocument,
  silentLogger,
} from "@sift/core";
import { ingestDocuments, readSource, type SourceFormatOption } from "@sift/ingest";
import type { FusionOverrides, SearchMode, SearchResponse } from "@sift/retrieval";
import { acquireDataDirLock, openStore } from "@sift/store";
import { Engine } from "./engine";
import { createEmbedder, defaultManifestPath, defaultModelStore, type EmbeddingSettings } from "./models";

export interface OpenSiftOptions {
  /** Where the embedded store (PGlite), the BM25 generations and the vectors live; one process at a time. */
  dataDir: string;
  /** A `postgres://` URL to keep documents in a Postgres server instead of the embedded store. */
  databaseUrl?: string | undefined;
  /**
   * `default` (the manifest's default embedder from the offline model store, BM25 only with a warning when
   * the store lacks it), `none` (BM25 only), a manifest key such as `all-minilm-l6-v2`, or full settings.
   */
  embedding?: "default" | "none" | string | EmbeddingSettings | undefined;
  /** The offline model store (default `~/.cache/sift/models`). */
  modelStore?: string | undefined;
  /** Writes answers; default the extractive generator (no model: the best-supported sentences, cited). */
  generator?: Generator | undefined;
  /** Answers below this evidence are `no-evidence`; default: every question is answered. */
  evidence?: EvidencePolicy | undefined;
  /** Tenant of every collection this handle touches (default `default`). */
  tenant?: string | undefined;
  logger?: Logger | undefined;
}

/** A document as the library takes it: the HTTP API's shape. */
export interface SiftDocumentInput {
  id: string;
  title?: string | undefined;
  text: string;
  sourceUri?: string | undefined;
  metadata?: Metadata | undefined;
}

/** A stored document as the library returns it (the HTTP API's shape): citation offsets index `text`. */
export interface SiftDocument {
  id: string;
  title: string | null;
  text: string;
  sourceUri: string | null;
  metadata: Metadata;
  version: number;
  contentHash: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SiftSearchOptions {
  query: string;
  k?: number | undefined;
  offset?: number | undefined;
  filter?: Filter | undefined;
  /** Default `hybrid` with an embedding model, else `bm25`. */
  mode?: SearchMode | undefined;
  fusion?: FusionOverrides | undefined;
  signal?: AbortSignal | undefined;
}

export interface SiftAnswerOptions {
  question: string;
  filter?: Filter | undefined;
  mode?: SearchMode | undefined;
  /** Passages retrieved before packing (default 20). */
  candidates?: number | undefined;
  /** Output budget (default 256). */
  maxTokens?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Sift in-process: ingest, search and answer with no HTTP. Close it to release the data directory. */
export interface Sift {
  readonly engine: Engine;
  readonly store: SiftStore;
  /** The collections of this handle's tenant. */
  collections(): Promise<Collection[]>;
  /** Creates or replaces documents (unchanged ones are skipped) in `collection`, created when missing. */
  ingest(collection: string, documents: SiftDocumentInput[]): Promise<IngestionJob>;
  /** Ingests a folder, a file, a JSONL file or a BEIR folder, as `sift ingest` does. */
  ingestPath(collection: string, source: string, format?: SourceFormatOption): Promise<IngestionJob>;
  /** Hits best first, with per-leg provenance and snippets; offsets index the document's `text`. */
  search(collection: string, options: SiftSearchOptions): Promise<SearchResponse>;
  /** A grounded answer with checked citations (chunk, document, character offsets). */
  answer(collection: string, options: SiftAnswerOptions): Promise<AnswerResult>;
  getDocument(collection: string, id: string): Promise<SiftDocument>;
  close(): Promise<void>;
}

/**
 * Opens Sift on a data directory: the store (migrated), every collection's indexes, and the embedding
 * model when there is one. The same engine the service and the CLI run, so results match theirs.
 */
export async function openSift(options: OpenSiftOptions): Promise<Sift> {
  const dataDir = path.resolve(options.dataDir);
  const logger = options.logger ?? silentLogger;
  const lock = acquireDataDirLock(dataDir);
  let store: SiftStore | undefined;
  try {
    store = await openStore(
      options.databaseUrl === undefined
        ? { driver: "pglite", dataDir: path.join(dataDir, "pglite") }
        : { driver: "postgres", url: options.databaseUrl },
    );
    await store.migrate();
    const embedder = await createEmbedder(embeddingSettings(options), logger);
    const engine = new Engine({ store, dataDir, logger, embedder });
    for (const collection of await store.listCollections()) await engine.load(collection.id);
    return siftHandle(engine, store, options, () => lock.release());
  } catch (error) {
    await store?.close().catch(() => {});
    lock.release();
    throw error;
  }
}

function embeddingSettings(options: OpenSiftOptions): EmbeddingSettings {
  const embedding = options.embedding ?? "default";
  if (typeof embedding !== "string") return embedding;
  if (embedding === "none") return { kind: "none" };
  return {
    kind: "local",
    model: embedding === "default" ? undefined : embedding,
    modelStore: options.modelStore ?? defaultModelStore,
    manifestPath: defaultManifestPath,
  };
}

function siftHandle(engine: Engine, store: SiftStore, options: OpenSiftOptions, release: () => void): Sift {
  const tenant = options.tenant ?? "default";
  const logger = options.logger ?? silentLogger;
  const generator = options.generator ?? createExtractiveGenerator();
  const existing = async (name: string) => {
    const found = await store.getCollection(tenant, name);
    if (found === undefined) throw new NotFoundError("collection", name);
    return found;
  };
  const ensure = async (name: string) => {
    const { collection, created } = await store.ensureCollection({ tenant, name });
    // A new, empty collection's vectors are made as its documents arrive (as the service does on PUT).
    if (created) await engine.load(collection.id);
    else await engine.denseStatus(collection.id);
    return collection;
  };
  const search = async (name: string, o: SiftSearchOptions) =>
    engine.searcher.search({
      collectionId: (await existing(name)).id,
      query: o.query,
      k: o.k ?? 10,
      offset: o.offset ?? 0,
      filter: o.filter,
      mode: o.mode ?? (engine.searcher.denseAvailable ? "hybrid" : "bm25"),
      fusion: o.fusion,
      signal: o.signal,
    });
  return {
    engine,
    store,
    collections: () => store.listCollections(tenant),
    async ingest(name, documents) {
      const collection = await ensure(name);
      return ingestDocuments({
        store,
        lexical: engine.indexes,
        collectionId: collection.id,
        documents: documents.map(({ id, ...rest }) => ({ externalId: id, ...rest })),
        sourceLabel: "library",
        logger,
      });
    },
    async ingestPath(name, source, format = "auto") {
      const collection = await ensure(name);
      const { job } = await engine.ingest({
        collectionId: collection.id,
        source: readSource(source, { format }),
        sourceLabel: source,
        logger,
      });
      return job;
    },
    search,
    async answer(name, o) {
      const started = performance.now();
      const result = await search(name, { ...o, query: o.question, k: o.candidates ?? 20 });
      const collection = await existing(name);
      const passages = await passagesOf(store, collection.id, result);
      return collectAnswer(
        answer({
          question: o.question,
          passages,
          generator,
          fallback: createExtractiveGenerator(),
          contextTokens: 1500,
          maxTokens: o.maxTokens ?? 256,
          evidence: options.evidence ?? { threshold: Number.NEGATIVE_INFINITY },
          ...(o.signal === undefined ? {} : { signal: o.signal }),
          timings: { retrievalMs: performance.now() - started },
          degraded: result.degraded,
        }),
      );
    },
    async getDocument(name, id) {
      const document = await store.getDocument((await existing(name)).id, id);
      if (document === undefined) throw new NotFoundError("document", id);
      return documentOf(document);
    },
    async close() {
      await engine.close();
      await store.close();
      release();
    },
  };
}

function documentOf(document: StoredDocument): SiftDocument {
  const { externalId, content, title, sourceUri, metadata, version, contentHash, createdAt, updatedAt } =
    document;
  return {
    id: externalId,
    title,
    text: content,
    sourceUri,
    metadata,
    version,
    contentHash,
    createdAt,
    updatedAt,
  };
}

/** The hits as the answer pipeline takes them, each with its chunk's text. */
async function passagesOf(
  store: SiftStore,
  collectionId: number,
  result: SearchResponse,
): Promise<Passage[]> {
  const chunks = new Map(
    (
      await store.getCollectionChunks(
        collectionId,
        result.hits.map((h) => h.chunkId),
      )
    ).map((c) => [c.id, c]),
  );
  return result.hits
    .filter((hit) => chunks.has(hit.chunkId))
    .map((hit) => ({
      chunkId: hit.chunkId,
      documentId: hit.documentId,
      title: hit.title,
      text: chunks.get(hit.chunkId)!.text,
      charStart: hit.charStart,
      charEnd: hit.charEnd,
      score: hit.score,
      scoreKind: hit.scoreKind,
    }));
}
