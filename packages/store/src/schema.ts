/**
 * The relational schema of the system of record (drizzle pg-core). One schema serves both drivers
 * (Postgres through postgres.js, embedded PGlite); migrations under `../drizzle` are generated from it
 * with `pnpm --filter @sift/store generate`. Never edit a generated migration: change this file and
 * generate a new one.
 */
import type {
  Filter,
  GenerationStatus,
  JobCounts,
  JobError,
  JobStatus,
  JsonValue,
  Metadata,
  Role,
} from "@sift/core";
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

/** postgres.js reads bytea as a Buffer, PGlite as a Uint8Array: both are Uint8Array. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

const id = () => bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity();
const instant = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const collectionRef = () =>
  bigint("collection_id", { mode: "number" })
    .notNull()
    .references(() => collections.id, { onDelete: "cascade" });

export const collections = pgTable(
  "collections",
  {
    id: id(),
    tenant: text("tenant").notNull(),
    name: text("name").notNull(),
    settings: jsonb("settings").$type<Record<string, JsonValue>>().notNull().default({}),
    /** Bumped once by every transaction that changes the collection's documents or chunks. */
    revision: bigint("revision", { mode: "number" }).notNull().default(0),
    /** The number of the collection's latest ingestion job (jobs are numbered 1, 2, 3 … per collection). */
    jobCounter: integer("job_counter").notNull().default(0),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (table) => [unique("collections_tenant_name_unique").on(table.tenant, table.name)],
);

export const documents = pgTable(
  "documents",
  {
    id: id(),
    collectionId: collectionRef(),
    externalId: text("external_id").notNull(),
    title: text("title"),
    sourceUri: text("source_uri"),
    metadata: jsonb("metadata").$type<Metadata>().notNull().default({}),
    content: text("content").notNull(),
    /** sha256 hex of the canonical document; equal hash means the write is a no-op. */
    contentHash: text("content_hash").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: instant("created_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  // The unique index also serves keyset paging by external id within a collection.
  (table) => [unique("documents_collection_external_unique").on(table.collectionId, table.externalId)],
);

export const chunks = pgTable(
  "chunks",
  {
    /** Identity: a chunk written later always has a higher id (derived indexes rely on it). */
    id: id(),
    documentId: bigint("document_id", { mode: "number" })
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    /** Denormalised from the document so that scans by collection need no join to filter. */
    collectionId: bigint("collection_id", { mode: "number" }).notNull(),
    ordinal: integer("ordinal").notNull(),
    text: text("text").notNull(),
    /** UTF-16 code-unit offsets into the document content, end exclusive. */
    charStart: integer("char_start").notNull(),
    charEnd: integer("char_end").notNull(),
    headingPath: jsonb("heading_path").$type<string[]>().notNull().default([]),
    tokenCount: integer("token_count").notNull(),
  },
  (table) => [
    index("chunks_collection_id_idx").on(table.collectionId, table.id),
    index("chunks_document_id_idx").on(table.documentId),
  ],
);

export const ingestionJobs = pgTable(
  "ingestion_jobs",
  {
    id: id(),
    collectionId: collectionRef(),
    /** Per collection, from `collections.job_counter`: what tenants see (the global id is internal). */
    number: integer("number").notNull().default(0),
    kind: text("kind").notNull(),
    source: text("source").notNull(),
    status: text("status").$type<JobStatus>().notNull().default("running"),
    counts: jsonb("counts").$type<JobCounts>().notNull(),
    errors: jsonb("errors").$type<JobError[]>().notNull().default([]),
    timings: jsonb("timings").$type<Record<string, number>>().notNull().default({}),
    startedAt: instant("started_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
    finishedAt: instant("finished_at"),
  },
  (table) => [
    index("ingestion_jobs_collection_id_idx").on(table.collectionId, table.id),
    index("ingestion_jobs_collection_number_idx").on(table.collectionId, table.number),
    check(
      "ingestion_jobs_status_check",
      sql`${table.status} in ('running', 'succeeded', 'failed', 'interrupted')`,
    ),
  ],
);

export const indexGenerations = pgTable(
  "index_generations",
  {
    id: id(),
    collectionId: collectionRef(),
    /** Which derived index, e.g. `bm25`. */
    kind: text("kind").notNull(),
    /** 1, 2, 3 … per (collection, kind). */
    generation: integer("generation").notNull(),
    status: text("status").$type<GenerationStatus>().notNull().default("building"),
    path: text("path").notNull(),
    checksum: text("checksum"),
    chunkCount: integer("chunk_count").notNull().default(0),
    /** The collection revision the generation was built from. */
    revision: bigint("revision", { mode: "number" }).notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
    completedAt: instant("completed_at"),
  },
  (table) => [
    unique("index_generations_collection_kind_generation_unique").on(
      table.collectionId,
      table.kind,
      table.generation,
    ),
    check("index_generations_status_check", sql`${table.status} in ('building', 'ready', 'retired')`),
  ],
);

/**
 * Vectors by (embedder cache key, sha256 hex of the exact text embedded), so unchanged content is never
 * embedded twice. Global, not per collection: the same text under the same model is the same vector.
 */
export const embeddingCache = pgTable(
  "embedding_cache",
  {
    model: text("model").notNull(),
    textHash: text("text_hash").notNull(),
    dimensions: integer("dimensions").notNull(),
    /** `dimensions` float32 values, little-endian. */
    vector: bytea("vector").notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: "embedding_cache_pkey", columns: [table.model, table.textHash] })],
);

/**
 * API keys. Only the sha256 of a key is stored (keys are 256-bit random strings, so a fast hash is enough:
 * see docs/adr/0009). `id` is public and random, so listing keys reveals nothing of other tenants.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenant: text("tenant").notNull(),
    role: text("role").$type<Role>().notNull(),
    name: text("name"),
    /** sha256 hex of the whole key. */
    hash: text("hash").notNull(),
    preview: text("preview").notNull(),
    /** A metadata filter ANDed into every search and answer made with the key. */
    filter: jsonb("filter").$type<Filter>(),
    /** The user the key acts for (feeds); null for service and operator keys. */
    userId: text("user_id"),
    createdBy: text("created_by").notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
    expiresAt: instant("expires_at"),
    revokedAt: instant("revoked_at"),
    lastUsedAt: instant("last_used_at"),
  },
  (table) => [
    unique("api_keys_hash_unique").on(table.hash),
    index("api_keys_tenant_idx").on(table.tenant, table.createdAt),
    check("api_keys_role_check", sql`${table.role} in ('reader', 'writer', 'admin')`),
  ],
);

/**
 * Who did what, when: writes, deletes and key use, per tenant. No foreign key to collections: the trail
 * outlives what it describes.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    tenant: text("tenant").notNull(),
    at: instant("at").notNull().defaultNow(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    collection: text("collection"),
    target: text("target"),
    detail: jsonb("detail").$type<Record<string, JsonValue>>().notNull().default({}),
    requestId: text("request_id"),
  },
  (table) => [index("audit_events_tenant_id_idx").on(table.tenant, table.id)],
);

/** Random secrets the service makes once and every process shares (e.g. the id permutation's key). */
export const serviceSecrets = pgTable("service_secrets", {
  name: text("name").primaryKey(),
  value: bytea("value").notNull(),
  createdAt: instant("created_at").notNull().defaultNow(),
});

// ---- The personalised feed (issue 11, `@sift/feed`'s `FeedStore`; docs/adr/0017) ----
// Every row is keyed by tenant first. The records are the feed's own types as JSONB (typed arrays
// encoded by `drizzle-feed-store.ts`); only what a query filters or orders by is a column.

/** One analyst's profile (stated and learned). `collections` is a column so arrivals find followers by index. */
export const feedProfiles = pgTable(
  "feed_profiles",
  {
    tenant: text("tenant").notNull(),
    userId: text("user_id").notNull(),
    collections: text("collections").array().notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenant, table.userId] }),
    index("feed_profiles_collections_idx").using("gin", table.collections),
  ],
);

/** A matched (profile, document) pair. */
export const feedCandidates = pgTable(
  "feed_candidates",
  {
    tenant: text("tenant").notNull(),
    userId: text("user_id").notNull(),
    collection: text("collection").notNull(),
    documentId: text("document_id").notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenant, table.userId, table.collection, table.documentId] }),
    index("feed_candidates_document_idx").on(table.tenant, table.collection, table.documentId),
  ],
);

/** What the feed keeps of a matched document (cluster, MinHash signature, embedding). */
export const feedDocuments = pgTable(
  "feed_documents",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    documentId: text("document_id").notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.collection, table.documentId] })],
);

/** Feedback, append-only; `seq` keeps the append order of events at the same instant. */
export const feedEvents = pgTable(
  "feed_events",
  {
    seq: bigint("seq", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenant: text("tenant").notNull(),
    userId: text("user_id").notNull(),
    /** Milliseconds since the epoch, as the feed's types carry them. */
    at: bigint("at", { mode: "number" }).notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [
    index("feed_events_tenant_at_idx").on(table.tenant, table.at, table.seq),
    index("feed_events_user_idx").on(table.tenant, table.userId, table.at),
  ],
);

/** Feed reads as served (request id, positions, features), for joining events and training. */
export const feedServed = pgTable(
  "feed_served",
  {
    tenant: text("tenant").notNull(),
    requestId: text("request_id").notNull(),
    userId: text("user_id").notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenant, table.requestId] }),
    index("feed_served_tenant_at_idx").on(table.tenant, table.at),
  ],
);

/**
 * A counter per analyst, raised in the same transaction as every write to their profile, item states or
 * candidates: what a feed reader's cache compares instead of re-reading them (docs/adr/0021). Kept when the
 * profile is deleted, so a re-created profile never repeats an old generation.
 */
export const feedGenerations = pgTable(
  "feed_generations",
  {
    tenant: text("tenant").notNull(),
    userId: text("user_id").notNull(),
    generation: bigint("generation", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.userId] })],
);

/** An analyst's state of one item (read, saved, dismissed). */
export const feedItemStates = pgTable(
  "feed_item_states",
  {
    tenant: text("tenant").notNull(),
    userId: text("user_id").notNull(),
    itemId: text("item_id").notNull(),
    record: jsonb("record").$type<JsonValue>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.userId, table.itemId] })],
);

/** Trained ranking models, versioned from 1 per (tenant, name). */
export const feedModels = pgTable(
  "feed_models",
  {
    tenant: text("tenant").notNull(),
    name: text("name").notNull(),
    version: integer("version").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    model: jsonb("model").$type<JsonValue>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.name, table.version] })],
);

/**
 * How far the feed has applied a collection's changes (docs/adr/0021): every chunk with an id at most
 * `chunk_id` has reached the feed. Chunk ids only grow, so the chunks above it are what a restart replays.
 */
export const feedCursors = pgTable(
  "feed_cursors",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    chunkId: bigint("chunk_id", { mode: "number" }).notNull(),
    /** Milliseconds since the epoch of the last advance. */
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.collection] })],
);
