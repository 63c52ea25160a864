import {
  type AccessStore,
  type ApiKeyInput,
  type ApiKeyRecord,
  type AuditEvent,
  type AuditEventInput,
  type CachedEmbedding,
  type ChunkRecord,
  type Collection,
  ConflictError,
  type DocumentPage,
  type DocumentWrite,
  emptyJobCounts,
  type IndexGeneration,
  type IngestionJob,
  type JobPatch,
  type JsonValue,
  NotFoundError,
  QuotaExceededError,
  type SiftStore,
  type StoredDocument,
  ValidationError,
  type WriteResult,
} from "@sift/core";
import { and, asc, desc, eq, getTableColumns, gt, inArray, lt, lte, max, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { toStoreError } from "./database-errors";
import { DrizzleAccessStore } from "./drizzle-access-store";
import { DrizzleFeedStore } from "./drizzle-feed-store";
import { chunks, collections, documents, embeddingCache, indexGenerations, ingestionJobs } from "./schema";

/** Either driver's database, or a transaction on it: the query code below is written once for both. */
export type Database = PgDatabase<PgQueryResultHKT>;

export interface DriverBinding {
  /** Names the backend in error messages and in `UpstreamError.upstream`. */
  upstream: "postgres" | "pglite";
  db: Database;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

// Postgres accepts at most 65,535 bind parameters per statement; these keep every statement well below.
const idBatch = 5_000;
const documentRowBatch = 500;
const chunkRowBatch = 2_000;
// Bounded by statement size rather than parameters: 1,000 vectors of 1,024 dims are 4 MB.
const embeddingRowBatch = 1_000;

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

const excluded = (column: PgColumn): SQL => sql`excluded.${sql.identifier(column.name)}`;

const collectionColumns = {
  id: collections.id,
  tenant: collections.tenant,
  name: collections.name,
  settings: collections.settings,
  createdAt: collections.createdAt,
};

const { content: _content, ...summaryColumns } = getTableColumns(documents);

const chunkRecordColumns = {
  ...getTableColumns(chunks),
  externalId: documents.externalId,
  title: documents.title,
  metadata: documents.metadata,
};

/** Float32 little-endian, independent of the host's byte order. */
function encodeVector(vector: Float32Array): Uint8Array {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes;
}

function decodeVector(bytes: Uint8Array, dimensions: number): Float32Array {
  if (bytes.byteLength !== dimensions * 4) {
    throw new Error(`cached vector holds ${bytes.byteLength} bytes, expected ${dimensions} float32 values`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = view.getFloat32(i * 4, true);
  return vector;
}

function requireLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ValidationError(`limit must be a positive integer, got ${limit}`, [
      { path: "limit", message: "must be a positive integer" },
    ]);
  }
  return limit;
}

/**
 * `DocumentStore` over drizzle, shared by the Postgres (postgres.js) and embedded (PGlite) drivers;
 * only construction and migration differ (see `open-store.ts`).
 */
export class DrizzleDocumentStore implements SiftStore {
  readonly #binding: DriverBinding;
  readonly #db: Database;
  readonly #access: AccessStore;
  /** The feed's tables on the same connection (see `feedStoreOf`). */
  readonly feed: DrizzleFeedStore;
  #closed = false;

  constructor(binding: DriverBinding) {
    this.#binding = binding;
    this.#db = binding.db;
    this.#access = new DrizzleAccessStore(this.#db, (operation, work) => this.#run(operation, work));
    this.feed = new DrizzleFeedStore(this.#db, (operation, work) => this.#run(operation, work));
  }

  /** Runs `work`, mapping driver errors to the core hierarchy. */
  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error, this.#binding.upstream, operation);
    }
  }

  /**
   * Locks the collection row for the rest of the transaction (`FOR NO KEY UPDATE`: it does not block
   * inserts that reference the collection). Writers of one collection thus run one after another, which
   * makes the read-compare-write in `writeDocuments` race-free and the revision counter exact.
   */
  async #lockCollection(tx: Database, collectionId: number): Promise<void> {
    const rows = await tx
      .select({ id: collections.id })
      .from(collections)
      .where(eq(collections.id, collectionId))
      .for("no key update");
    if (rows.length === 0) throw new NotFoundError("collection", String(collectionId));
  }

  async #bumpRevision(tx: Database, collectionId: number): Promise<void> {
    await tx
      .update(collections)
      .set({ revision: sql`${collections.revision} + 1` })
      .where(eq(collections.id, collectionId));
  }

  migrate(): Promise<void> {
    return this.#run("migrate", () => this.#binding.migrate());
  }

  ping(): Promise<void> {
    return this.#run("ping", async () => {
      await this.#db.execute(sql`select 1`);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#binding.close();
  }

  ensureCollection(input: {
    tenant: string;
    name: string;
    settings?: Record<string, JsonValue>;
    maxPerTenant?: number;
  }): Promise<{ collection: Collection; created: boolean }> {
    return this.#run("ensureCollection", async () => {
      const existing = await this.getCollection(input.tenant, input.name);
      if (existing) return { collection: existing, created: false };
      const created =
        input.maxPerTenant === undefined
          ? await this.#insertCollection(this.#db, input)
          : await this.#db.transaction(async (tx) => {
              // One creator per tenant at a time, so the count cannot be raced past the quota.
              await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sift.tenant:${input.tenant}`}))`);
              const count = await tx.$count(collections, eq(collections.tenant, input.tenant));
              const again = await this.#insertCollection(tx, input);
              if (again !== undefined && count >= input.maxPerTenant!) {
                throw new QuotaExceededError(
                  `tenant '${input.tenant}' already has ${count} collections, the most allowed`,
                  "collections",
                  input.maxPerTenant!,
                );
              }
              return again;
            });
      if (created) return { collection: created, created: true };
      // ON CONFLICT DO NOTHING + reselect: concurrent callers never see a unique violation.
      const raced = await this.getCollection(input.tenant, input.name);
      if (!raced) {
        throw new ConflictError(`collection '${input.tenant}/${input.name}' was deleted while being ensured`);
      }
      return { collection: raced, created: false };
    });
  }

  async #insertCollection(
    db: Database,
    input: { tenant: string; name: string; settings?: Record<string, JsonValue> },
  ): Promise<Collection | undefined> {
    const inserted = await db
      .insert(collections)
      .values({ tenant: input.tenant, name: input.name, settings: input.settings ?? {} })
      .onConflictDoNothing({ target: [collections.tenant, collections.name] })
      .returning(collectionColumns);
    return inserted[0];
  }

  getCollection(tenant: string, name: string): Promise<Collection | undefined> {
    return this.#run("getCollection", async () => {
      const rows = await this.#db
        .select(collectionColumns)
        .from(collections)
        .where(and(eq(collections.tenant, tenant), eq(collections.name, name)));
      return rows[0];
    });
  }

  getCollectionById(id: number): Promise<Collection | undefined> {
    return this.#run("getCollectionById", async () => {
      const rows = await this.#db.select(collectionColumns).from(collections).where(eq(collections.id, id));
      return rows[0];
    });
  }

  listCollections(tenant?: string): Promise<Collection[]> {
    return this.#run("listCollections", () =>
      this.#db
        .select(collectionColumns)
        .from(collections)
        .where(tenant === undefined ? undefined : eq(collections.tenant, tenant))
        .orderBy(asc(collections.tenant), asc(collections.name)),
    );
  }

  deleteCollection(id: number): Promise<void> {
    return this.#run("deleteCollection", async () => {
      await this.#db.delete(collections).where(eq(collections.id, id));
    });
  }

  getRevision(collectionId: number): Promise<number> {
    return this.#run("getRevision", async () => {
      const rows = await this.#db
        .select({ revision: collections.revision })
        .from(collections)
        .where(eq(collections.id, collectionId));
      const row = rows[0];
      if (!row) throw new NotFoundError("collection", String(collectionId));
      return row.revision;
    });
  }

  /**
   * Throws `ValidationError` when one external id appears twice in `writes` and `NotFoundError` when
   * the collection does not exist. Bumps the revision once when anything was created or updated.
   */
  async writeDocuments(collectionId: number, writes: DocumentWrite[]): Promise<WriteResult[]> {
    const seen = new Set<string>();
    for (const [index, write] of writes.entries()) {
      const id = write.document.externalId;
      if (seen.has(id)) {
        throw new ValidationError(`external id '${id}' appears more than once in one write`, [
          { path: `${index}.document.externalId`, message: "duplicate in batch" },
        ]);
      }
      seen.add(id);
    }
    if (writes.length === 0) return [];
    return this.#run("writeDocuments", () =>
      this.#db.transaction(async (tx) => {
        await this.#lockCollection(tx, collectionId);
        const stored = new Map<string, { id: number; contentHash: string; version: number }>();
        for (const ids of batches([...seen], idBatch)) {
          const rows = await tx
            .select({
              id: documents.id,
              externalId: documents.externalId,
              contentHash: documents.contentHash,
              version: documents.version,
            })
            .from(documents)
            .where(and(eq(documents.collectionId, collectionId), inArray(documents.externalId, ids)));
          for (const row of rows) stored.set(row.externalId, row);
        }

        const results = new Map<string, WriteResult>();
        const changed: DocumentWrite[] = [];
        for (const write of writes) {
          const previous = stored.get(write.document.externalId);
          if (previous && previous.contentHash === write.contentHash) {
            results.set(write.document.externalId, {
              externalId: write.document.externalId,
              documentId: previous.id,
              outcome: "unchanged",
              version: previous.version,
            });
          } else {
            changed.push(write);
          }
        }
        if (changed.length === 0) return writes.map((write) => results.get(write.document.externalId)!);

        // Old chunks go first; the replacements get fresh, higher identity values.
        const replaced = changed.flatMap((write) => stored.get(write.document.externalId)?.id ?? []);
        for (const ids of batches(replaced, idBatch)) {
          await tx.delete(chunks).where(inArray(chunks.documentId, ids));
        }

        // One multi-row upsert per batch: inserts new documents, rewrites changed ones with version + 1.
        for (const group of batches(changed, documentRowBatch)) {
          const rows = await tx
            .insert(documents)
            .values(
              group.map(({ document, contentHash }) => ({
                collectionId,
                externalId: document.externalId,
                title: document.title ?? null,
                sourceUri: document.sourceUri ?? null,
                metadata: document.metadata ?? {},
                content: document.text,
                contentHash,
              })),
            )
            .onConflictDoUpdate({
              target: [documents.collectionId, documents.externalId],
              set: {
                title: excluded(documents.title),
                sourceUri: excluded(documents.sourceUri),
                metadata: excluded(documents.metadata),
                content: excluded(documents.content),
                contentHash: excluded(documents.contentHash),
                version: sql`${documents.version} + 1`,
                updatedAt: sql`now()`,
              },
            })
            .returning({ id: documents.id, externalId: documents.externalId, version: documents.version });
          for (const row of rows) {
            results.set(row.externalId, {
              externalId: row.externalId,
              documentId: row.id,
              outcome: stored.has(row.externalId) ? "updated" : "created",
              version: row.version,
            });
          }
        }

        const chunkRows = changed.flatMap(({ document, chunks: inputs }) => {
          const documentId = results.get(document.externalId)!.documentId;
          return inputs.map((chunk) => ({
            documentId,
            collectionId,
            ordinal: chunk.ordinal,
            text: chunk.text,
            charStart: chunk.charStart,
            charEnd: chunk.charEnd,
            headingPath: chunk.headingPath,
            tokenCount: chunk.tokenCount,
          }));
        });
        for (const group of batches(chunkRows, chunkRowBatch)) {
          await tx.insert(chunks).values(group);
        }

        await this.#bumpRevision(tx, collectionId);
        return writes.map((write) => results.get(write.document.externalId)!);
      }),
    );
  }

  /** Returns the deleted ids in input order; bumps the revision only when something was deleted. */
  async deleteDocuments(collectionId: number, externalIds: string[]): Promise<string[]> {
    const unique = [...new Set(externalIds)];
    if (unique.length === 0) return [];
    return this.#run("deleteDocuments", () =>
      this.#db.transaction(async (tx) => {
        await this.#lockCollection(tx, collectionId);
        const deleted = new Set<string>();
        for (const ids of batches(unique, idBatch)) {
          const rows = await tx
            .delete(documents)
            .where(and(eq(documents.collectionId, collectionId), inArray(documents.externalId, ids)))
            .returning({ externalId: documents.externalId });
          for (const row of rows) deleted.add(row.externalId);
        }
        if (deleted.size > 0) await this.#bumpRevision(tx, collectionId);
        return unique.filter((id) => deleted.has(id));
      }),
    );
  }

  getDocument(collectionId: number, externalId: string): Promise<StoredDocument | undefined> {
    return this.#run("getDocument", async () => {
      const rows = await this.#db
        .select()
        .from(documents)
        .where(and(eq(documents.collectionId, collectionId), eq(documents.externalId, externalId)));
      return rows[0];
    });
  }

  async listDocuments(
    collectionId: number,
    options: { limit: number; after?: string },
  ): Promise<DocumentPage> {
    const limit = requireLimit(options.limit);
    return this.#run("listDocuments", async () => {
      // Keyset paging over the (collection_id, external_id) unique index; one extra row tells if more remain.
      const rows = await this.#db
        .select(summaryColumns)
        .from(documents)
        .where(
          and(
            eq(documents.collectionId, collectionId),
            options.after === undefined ? undefined : gt(documents.externalId, options.after),
          ),
        )
        .orderBy(asc(documents.externalId))
        .limit(limit + 1);
      if (rows.length <= limit) return { documents: rows };
      const page = rows.slice(0, limit);
      return { documents: page, nextCursor: page[page.length - 1]!.externalId };
    });
  }

  getContentHashes(collectionId: number, externalIds: string[]): Promise<Map<string, string>> {
    return this.#run("getContentHashes", async () => {
      const hashes = new Map<string, string>();
      for (const ids of batches([...new Set(externalIds)], idBatch)) {
        const rows = await this.#db
          .select({ externalId: documents.externalId, contentHash: documents.contentHash })
          .from(documents)
          .where(and(eq(documents.collectionId, collectionId), inArray(documents.externalId, ids)));
        for (const row of rows) hashes.set(row.externalId, row.contentHash);
      }
      return hashes;
    });
  }

  listExternalIds(collectionId: number): Promise<string[]> {
    return this.#run("listExternalIds", async () => {
      const rows = await this.#db
        .select({ externalId: documents.externalId })
        .from(documents)
        .where(eq(documents.collectionId, collectionId))
        .orderBy(asc(documents.externalId));
      return rows.map((row) => row.externalId);
    });
  }

  countDocuments(collectionId: number): Promise<number> {
    return this.#run("countDocuments", () =>
      this.#db.$count(documents, eq(documents.collectionId, collectionId)).then(Number),
    );
  }

  listChunkIds(collectionId: number): Promise<number[]> {
    return this.#run("listChunkIds", async () => {
      const rows = await this.#db
        .select({ id: chunks.id })
        .from(chunks)
        .where(eq(chunks.collectionId, collectionId))
        .orderBy(asc(chunks.id));
      return rows.map((row) => row.id);
    });
  }

  getChunks(ids: number[]): Promise<ChunkRecord[]> {
    return this.#run("getChunks", () => this.#chunksIn(ids, (group) => inArray(chunks.id, group)));
  }

  getCollectionChunks(collectionId: number, ids: readonly number[]): Promise<ChunkRecord[]> {
    return this.#run("getCollectionChunks", () =>
      this.#chunksIn(ids, (group) => and(eq(chunks.collectionId, collectionId), inArray(chunks.id, group))),
    );
  }

  getDocumentChunks(collectionId: number, externalIds: readonly string[]): Promise<ChunkRecord[]> {
    return this.#run("getDocumentChunks", () =>
      this.#chunksIn(
        externalIds,
        (group) => and(eq(documents.collectionId, collectionId), inArray(documents.externalId, group)),
        [asc(documents.externalId), asc(chunks.ordinal)],
      ),
    );
  }

  /** Chunk records for distinct `keys`, one query per `idBatch` of them, matched by `where(group)`. */
  async #chunksIn<K extends number | string>(
    keys: readonly K[],
    where: (group: K[]) => SQL | undefined,
    order: SQL[] = [],
  ): Promise<ChunkRecord[]> {
    const records: ChunkRecord[] = [];
    for (const group of batches([...new Set(keys)], idBatch)) {
      const query = this.#db
        .select(chunkRecordColumns)
        .from(chunks)
        .innerJoin(documents, eq(documents.id, chunks.documentId))
        .where(where(group));
      records.push(...(await (order.length > 0 ? query.orderBy(...order) : query)));
    }
    return records;
  }

  async scanChunks(
    collectionId: number,
    options: { afterId: number; limit: number },
  ): Promise<ChunkRecord[]> {
    const limit = requireLimit(options.limit);
    return this.#run("scanChunks", () =>
      this.#db
        .select(chunkRecordColumns)
        .from(chunks)
        .innerJoin(documents, eq(documents.id, chunks.documentId))
        .where(and(eq(chunks.collectionId, collectionId), gt(chunks.id, options.afterId)))
        .orderBy(asc(chunks.id))
        .limit(limit),
    );
  }

  /** Numbers the job from the collection's counter; throws `NotFoundError` for an unknown collection. */
  createJob(input: { collectionId: number; kind: string; source: string }): Promise<IngestionJob> {
    return this.#run("createJob", () =>
      this.#db.transaction(async (tx) => {
        const [counter] = await tx
          .update(collections)
          .set({ jobCounter: sql`${collections.jobCounter} + 1` })
          .where(eq(collections.id, input.collectionId))
          .returning({ number: collections.jobCounter });
        if (!counter) throw new NotFoundError("collection", String(input.collectionId));
        const rows = await tx
          .insert(ingestionJobs)
          .values({ ...input, number: counter.number, counts: emptyJobCounts() })
          .returning();
        return rows[0]!;
      }),
    );
  }

  /** Throws `NotFoundError` for an unknown job. `finished: true` stamps `finishedAt`. */
  updateJob(id: number, patch: JobPatch): Promise<void> {
    return this.#run("updateJob", async () => {
      const rows = await this.#db
        .update(ingestionJobs)
        .set({
          ...(patch.status === undefined ? {} : { status: patch.status }),
          ...(patch.counts === undefined ? {} : { counts: patch.counts }),
          ...(patch.errors === undefined ? {} : { errors: patch.errors }),
          ...(patch.timings === undefined ? {} : { timings: patch.timings }),
          ...(patch.finished ? { finishedAt: sql`now()` } : {}),
          updatedAt: sql`now()`,
        })
        .where(eq(ingestionJobs.id, id))
        .returning({ id: ingestionJobs.id });
      if (rows.length === 0) throw new NotFoundError("job", String(id));
    });
  }

  getJob(id: number): Promise<IngestionJob | undefined> {
    return this.#run("getJob", async () => {
      const rows = await this.#db.select().from(ingestionJobs).where(eq(ingestionJobs.id, id));
      return rows[0];
    });
  }

  getJobByNumber(collectionId: number, number: number): Promise<IngestionJob | undefined> {
    return this.#run("getJobByNumber", async () => {
      const rows = await this.#db
        .select()
        .from(ingestionJobs)
        .where(and(eq(ingestionJobs.collectionId, collectionId), eq(ingestionJobs.number, number)));
      return rows[0];
    });
  }

  async listJobs(collectionId: number, options: { limit: number }): Promise<IngestionJob[]> {
    const limit = requireLimit(options.limit);
    return this.#run("listJobs", () =>
      this.#db
        .select()
        .from(ingestionJobs)
        .where(eq(ingestionJobs.collectionId, collectionId))
        .orderBy(desc(ingestionJobs.id))
        .limit(limit),
    );
  }

  /** Ages are measured on the database clock, so client clock skew does not matter. */
  markStaleJobsInterrupted(staleAfterMs: number): Promise<number> {
    return this.#run("markStaleJobsInterrupted", async () => {
      const rows = await this.#db
        .update(ingestionJobs)
        .set({ status: "interrupted", updatedAt: sql`now()`, finishedAt: sql`now()` })
        .where(
          and(
            eq(ingestionJobs.status, "running"),
            lte(
              ingestionJobs.updatedAt,
              sql`now() - ${staleAfterMs}::double precision * interval '1 millisecond'`,
            ),
          ),
        )
        .returning({ id: ingestionJobs.id });
      return rows.length;
    });
  }

  beginGeneration(input: {
    collectionId: number;
    kind: string;
    path: string;
    revision: number;
  }): Promise<IndexGeneration> {
    return this.#run("beginGeneration", () =>
      this.#db.transaction(async (tx) => {
        // The collection lock serialises numbering; the unique constraint backs it up.
        await this.#lockCollection(tx, input.collectionId);
        const [last] = await tx
          .select({ generation: max(indexGenerations.generation) })
          .from(indexGenerations)
          .where(
            and(eq(indexGenerations.collectionId, input.collectionId), eq(indexGenerations.kind, input.kind)),
          );
        const rows = await tx
          .insert(indexGenerations)
          .values({ ...input, generation: (last?.generation ?? 0) + 1 })
          .returning();
        return rows[0]!;
      }),
    );
  }

  /** Throws `NotFoundError` for an unknown id and `ConflictError` unless the generation is `building`. */
  completeGeneration(id: number, input: { checksum: string; chunkCount: number }): Promise<IndexGeneration> {
    return this.#run("completeGeneration", () =>
      this.#db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(indexGenerations)
          .where(eq(indexGenerations.id, id))
          .for("update");
        if (!current) throw new NotFoundError("generation", String(id));
        if (current.status !== "building") {
          throw new ConflictError(`generation ${id} is ${current.status}, not building`);
        }
        const [ready] = await tx
          .update(indexGenerations)
          .set({
            status: "ready",
            checksum: input.checksum,
            chunkCount: input.chunkCount,
            completedAt: sql`now()`,
          })
          .where(eq(indexGenerations.id, id))
          .returning();
        await tx
          .update(indexGenerations)
          .set({ status: "retired" })
          .where(
            and(
              eq(indexGenerations.collectionId, current.collectionId),
              eq(indexGenerations.kind, current.kind),
              eq(indexGenerations.status, "ready"),
              lt(indexGenerations.generation, current.generation),
            ),
          );
        return ready!;
      }),
    );
  }

  latestGeneration(collectionId: number, kind: string): Promise<IndexGeneration | undefined> {
    return this.#run("latestGeneration", async () => {
      const rows = await this.#db
        .select()
        .from(indexGenerations)
        .where(
          and(
            eq(indexGenerations.collectionId, collectionId),
            eq(indexGenerations.kind, kind),
            eq(indexGenerations.status, "ready"),
          ),
        )
        .orderBy(desc(indexGenerations.generation))
        .limit(1);
      return rows[0];
    });
  }

  listGenerations(collectionId: number, kind: string): Promise<IndexGeneration[]> {
    return this.#run("listGenerations", () =>
      this.#db
        .select()
        .from(indexGenerations)
        .where(and(eq(indexGenerations.collectionId, collectionId), eq(indexGenerations.kind, kind)))
        .orderBy(desc(indexGenerations.generation)),
    );
  }

  deleteGeneration(id: number): Promise<void> {
    return this.#run("deleteGeneration", async () => {
      await this.#db.delete(indexGenerations).where(eq(indexGenerations.id, id));
    });
  }

  getCachedEmbeddings(model: string, textHashes: readonly string[]): Promise<Map<string, Float32Array>> {
    return this.#run("getCachedEmbeddings", async () => {
      const found = new Map<string, Float32Array>();
      for (const group of batches([...new Set(textHashes)], idBatch)) {
        const rows = await this.#db
          .select({
            textHash: embeddingCache.textHash,
            dimensions: embeddingCache.dimensions,
            vector: embeddingCache.vector,
          })
          .from(embeddingCache)
          .where(and(eq(embeddingCache.model, model), inArray(embeddingCache.textHash, group)));
        for (const row of rows) found.set(row.textHash, decodeVector(row.vector, row.dimensions));
      }
      return found;
    });
  }

  /** Batched multi-row inserts, each `ON CONFLICT DO NOTHING`: concurrent writers of one text never fail. */
  putCachedEmbeddings(model: string, entries: readonly CachedEmbedding[]): Promise<number> {
    return this.#run("putCachedEmbeddings", async () => {
      let inserted = 0;
      for (const group of batches(entries, embeddingRowBatch)) {
        const rows = await this.#db
          .insert(embeddingCache)
          .values(
            group.map((entry) => ({
              model,
              textHash: entry.textHash,
              dimensions: entry.vector.length,
              vector: encodeVector(entry.vector),
            })),
          )
          .onConflictDoNothing({ target: [embeddingCache.model, embeddingCache.textHash] })
          .returning({ textHash: embeddingCache.textHash });
        inserted += rows.length;
      }
      return inserted;
    });
  }

  createApiKey(input: ApiKeyInput): Promise<ApiKeyRecord> {
    return this.#access.createApiKey(input);
  }

  findApiKeyByHash(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined> {
    return this.#access.findApiKeyByHash(hash);
  }

  listApiKeys(tenant?: string): Promise<ApiKeyRecord[]> {
    return this.#access.listApiKeys(tenant);
  }

  revokeApiKey(id: string, tenant?: string): Promise<ApiKeyRecord | undefined> {
    return this.#access.revokeApiKey(id, tenant);
  }

  countApiKeys(): Promise<number> {
    return this.#access.countApiKeys();
  }

  touchApiKeys(uses: ReadonlyArray<{ id: string; lastUsedAt: Date }>): Promise<void> {
    return this.#access.touchApiKeys(uses);
  }

  appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    return this.#access.appendAudit(events);
  }

  listAudit(tenant: string, options: { limit: number; beforeId?: number }): Promise<AuditEvent[]> {
    return this.#access.listAudit(tenant, { ...options, limit: requireLimit(options.limit) });
  }

  serviceSecret(name: string, bytes: number): Promise<Uint8Array> {
    return this.#access.serviceSecret(name, bytes);
  }
}
