import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import {
  ConflictError,
  DeadlineExceededError,
  SiftError,
  UnavailableError,
  UpstreamError,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
  type VectorSearchOptions,
} from "@sift/core";
import { METADATA_KEY, scopeConditions, toQdrantFilter } from "./qdrant-filter";
import { compareHits, validateChunkId, validateVector } from "./vector-math";

/** Name of the sparse BM25 vector in collections created with `sparse: true`. */
export const QDRANT_BM25_VECTOR = "bm25";

export interface QdrantVectorIndexOptions {
  /** A client the caller built (URL, API key, timeout); the index never creates one. */
  client: QdrantClient;
  /** The Qdrant collection (shared by many tenants and Sift collections). */
  collection: string;
  tenant: string;
  /** The Sift collection id; stored as `collection_id` and part of every filter. */
  collectionId: number;
  dimensions: number;
  /** HNSW ef at query time. Default 128. */
  hnswEf?: number;
  /** Ask Qdrant for an exact (brute-force) search: for tests and recall baselines. Default false. */
  exact?: boolean;
  /** Points per upsert request. Default 256. */
  batchSize?: number;
}

/** A metadata field to index in Qdrant, so that filters on it stay fast (`field` is inside `metadata`). */
export interface QdrantFilterField {
  field: string;
  type: "keyword" | "integer" | "float" | "datetime" | "bool";
}

export interface QdrantCollectionSetup {
  filterFields?: readonly QdrantFilterField[];
  /** Also configure the `bm25` sparse vector with the IDF modifier. Default false. */
  sparse?: boolean;
}

export interface SparseVector {
  /** Term ids (unique). */
  indices: number[];
  /** Term weights (e.g. term frequencies: with the IDF modifier Qdrant applies the IDF at query time). */
  values: number[];
}

export interface QdrantVectorIndex extends VectorIndex {
  /**
   * Creates the collection if it does not exist (dense vectors of `dimensions` with Cosine distance, and
   * optionally the `bm25` sparse vector), then the payload indexes: `tenant` (keyword, `is_tenant`),
   * `collection_id` (integer) and the declared filter fields. Throws `ConflictError` when the collection
   * exists with another vector size or distance. Idempotent.
   */
  ensureCollection(setup?: QdrantCollectionSetup): Promise<void>;
  /** Sets the `bm25` sparse vectors of existing points (after their dense upsert, which replaces whole points). */
  upsertSparse(records: ReadonlyArray<{ chunkId: number; sparse: SparseVector }>): Promise<void>;
}

/** The body of `PUT /collections/{name}/points/vectors` that sets `bm25` sparse vectors. */
export function sparseUpsertBody(
  records: ReadonlyArray<{ chunkId: number; sparse: SparseVector }>,
): Schemas["UpdateVectors"] {
  return {
    points: records.map((record, i) => {
      validateChunkId(record.chunkId, `records.${i}.chunkId`);
      return {
        id: record.chunkId,
        vector: { [QDRANT_BM25_VECTOR]: { indices: record.sparse.indices, values: record.sparse.values } },
      };
    }),
  };
}

/** The sparse-vector part of the collection config: BM25 term weights, IDF computed by Qdrant. */
export function bm25SparseConfig(): Record<string, Schemas["SparseVectorParams"]> {
  return { [QDRANT_BM25_VECTOR]: { modifier: "idf" } };
}

interface QdrantErrorShape {
  status: number;
  statusText?: string;
  data?: unknown;
}

function isQdrantApiError(error: unknown): error is QdrantErrorShape & Error {
  return error instanceof Error && typeof (error as Partial<QdrantErrorShape>).status === "number";
}

/** Qdrant's error documents are `{"status": {"error": "..."}, "time": ...}`. */
function qdrantMessage(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const status = (data as { status?: unknown }).status;
  if (typeof status === "object" && status !== null) {
    const message = (status as { error?: unknown }).error;
    if (typeof message === "string") return message;
  }
  return undefined;
}

/**
 * Maps a client failure to Sift's errors, keeping the vendor error as `cause`: an HTTP error answer →
 * `UpstreamError` (retryable for 429 and 5xx), the client's timeout → `DeadlineExceededError`, a failure
 * to connect → `UnavailableError`. A 404 says which collection is missing (the caller may run
 * `ensureCollection`); it is never confused with a network failure.
 */
function translateError(error: unknown, operation: string, collection: string): unknown {
  if (SiftError.is(error)) return error;
  if (isQdrantApiError(error)) {
    const detail = qdrantMessage(error.data) ?? error.statusText ?? error.message;
    const retryable = error.status === 429 || error.status >= 500;
    const what =
      error.status === 404
        ? `qdrant: ${operation}: collection '${collection}' or the resource does not exist (404): ${detail}`
        : `qdrant: ${operation} on collection '${collection}' failed with ${error.status}: ${detail}`;
    return new UpstreamError(what, "qdrant", { cause: error, retryable });
  }
  if (error instanceof Error) {
    if (error.name === "QdrantClientTimeoutError") {
      return new DeadlineExceededError(`qdrant: ${operation} timed out`, { cause: error });
    }
    if (error.name === "QdrantClientResourceExhaustedError") {
      return new UpstreamError(`qdrant: ${operation}: ${error.message}`, "qdrant", {
        cause: error,
        retryable: true,
      });
    }
    if (error.name === "TypeError" || "code" in error) {
      return new UnavailableError(`qdrant: ${operation}: cannot reach the server (${error.message})`, {
        cause: error,
      });
    }
  }
  return error;
}

/**
 * A {@link VectorIndex} over a Qdrant collection shared by tenants: point id = chunk id, payload
 * `{ tenant, collection_id, metadata }`, and every read, count and delete scoped by `tenant` and
 * `collection_id`. Filters run inside Qdrant's filterable HNSW (its planner switches to exact scans for
 * selective filters), so `limit` hits come back whenever that many points match. Writes use `wait: true`,
 * so they are applied (and visible to the next search) when the call returns; `flush` has nothing left to
 * do. Scores are Qdrant's cosine similarities (higher is better); hits are ordered by score, then chunk id.
 * `signal` is checked before and after each request; an in-flight request is bounded by the client's
 * `timeout`, not cancelled.
 */
export function createQdrantVectorIndex(options: QdrantVectorIndexOptions): QdrantVectorIndex {
  const { client, collection, tenant, collectionId, dimensions } = options;
  const hnswEf = options.hnswEf ?? 128;
  const exact = options.exact ?? false;
  const batchSize = options.batchSize ?? 256;
  const scope = { tenant, collectionId };
  let closed = false;

  async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    if (closed) throw new UnavailableError(`the qdrant vector index for '${collection}' is closed`);
    try {
      return await request();
    } catch (error) {
      throw translateError(error, operation, collection);
    }
  }

  const index: QdrantVectorIndex = {
    dimensions,

    async ensureCollection(setup = {}) {
      const { exists } = await call("collection exists", () => client.collectionExists(collection));
      if (!exists) {
        await call("create collection", () =>
          client.createCollection(collection, {
            vectors: { size: dimensions, distance: "Cosine" },
            ...(setup.sparse ? { sparse_vectors: bm25SparseConfig() } : {}),
          }),
        );
      } else {
        const info = await call("get collection", () => client.getCollection(collection));
        const vectors = info.config.params.vectors;
        const params =
          vectors !== undefined && "size" in vectors ? (vectors as Schemas["VectorParams"]) : undefined;
        if (params === undefined || params.size !== dimensions || params.distance !== "Cosine") {
          throw new ConflictError(
            `qdrant collection '${collection}' exists with vectors ${JSON.stringify(vectors)}, ` +
              `not ${dimensions}-d Cosine; use another collection or recreate it`,
          );
        }
      }
      const indexes: Array<[string, Schemas["PayloadFieldSchema"]]> = [
        ["tenant", { type: "keyword", is_tenant: true }],
        ["collection_id", "integer"],
        ...(setup.filterFields ?? []).map((f): [string, Schemas["PayloadFieldSchema"]] => [
          `${METADATA_KEY}.${f.field}`,
          f.type,
        ]),
      ];
      for (const [fieldName, fieldSchema] of indexes) {
        await call("create payload index", () =>
          client.createPayloadIndex(collection, {
            wait: true,
            field_name: fieldName,
            field_schema: fieldSchema,
          }),
        );
      }
    },

    async upsert(records: readonly VectorRecord[]) {
      const latest = new Map<number, VectorRecord>();
      records.forEach((record, i) => {
        validateChunkId(record.chunkId, `records.${i}.chunkId`);
        validateVector(record.vector, dimensions, "cos", `records.${i}.vector`);
        latest.set(record.chunkId, record);
      });
      const points: Schemas["PointStruct"][] = [...latest.values()].map((record) => ({
        id: record.chunkId,
        vector: Array.from(record.vector),
        payload: { tenant, collection_id: collectionId, [METADATA_KEY]: record.metadata },
      }));
      for (let i = 0; i < points.length; i += batchSize) {
        const batch = points.slice(i, i + batchSize);
        await call("upsert", () => client.upsert(collection, { wait: true, points: batch }));
      }
    },

    async upsertSparse(records) {
      const body = sparseUpsertBody(records);
      for (let i = 0; i < body.points.length; i += batchSize) {
        const batch = body.points.slice(i, i + batchSize);
        await call("update sparse vectors", () =>
          client.updateVectors(collection, { wait: true, points: batch }),
        );
      }
    },

    async delete(chunkIds: readonly number[]) {
      const ids = [...new Set(chunkIds)];
      ids.forEach((id, i) => {
        validateChunkId(id, `chunkIds.${i}`);
      });
      // By filter rather than by bare ids, so that a delete can never reach another tenant's points.
      for (let i = 0; i < ids.length; i += 1000) {
        const batch = ids.slice(i, i + 1000);
        await call("delete", () =>
          client.delete(collection, {
            wait: true,
            filter: { must: [...scopeConditions(tenant, collectionId), { has_id: batch }] },
          }),
        );
      }
    },

    async search(search: VectorSearchOptions) {
      search.signal?.throwIfAborted();
      validateVector(search.vector, dimensions, "cos", "vector");
      const limit = Math.floor(search.limit);
      if (!(limit >= 1)) return { hits: [], warnings: [] };
      const response = await call("query", () =>
        client.query(collection, {
          query: Array.from(search.vector),
          limit,
          filter: toQdrantFilter(scope, search.filter),
          with_payload: false,
          with_vector: false,
          params: { hnsw_ef: hnswEf, exact },
        }),
      );
      search.signal?.throwIfAborted();
      const hits: VectorHit[] = response.points.map((point) => ({
        chunkId: typeof point.id === "number" ? point.id : Number(point.id),
        score: point.score,
      }));
      // `filter` ran server-side; `allowed` (the caller's catalog) only drops points it no longer holds.
      const { allowed } = search;
      const kept = allowed === undefined ? hits : hits.filter((hit) => allowed.has(hit.chunkId));
      return { hits: kept.sort(compareHits), warnings: [] };
    },

    async count() {
      const result = await call("count", () =>
        client.count(collection, { filter: toQdrantFilter(scope, undefined), exact: true }),
      );
      return result.count;
    },

    async flush() {
      if (closed) throw new UnavailableError(`the qdrant vector index for '${collection}' is closed`);
    },

    async close() {
      closed = true;
    },
  };
  return index;
}
