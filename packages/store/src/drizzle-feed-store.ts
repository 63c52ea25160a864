import { endianness } from "node:os";
import type { JsonValue } from "@sift/core";
import {
  type Candidate,
  type DocumentRef,
  documentKey,
  type FeedDocumentRecord,
  type FeedEvent,
  type FeedStore,
  type ItemState,
  type Profile,
  type ServedFeed,
  type StoredModel,
} from "@sift/feed";
import { and, asc, eq, gte, inArray, max, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import {
  feedCandidates,
  feedCursors,
  feedDocuments,
  feedEvents,
  feedGenerations,
  feedItemStates,
  feedModels,
  feedProfiles,
  feedServed,
} from "./schema";

type Database = PgDatabase<PgQueryResultHKT>;
/** The document store's error-mapping wrapper, shared so every half reports driver errors alike. */
type Run = <T>(operation: string, work: () => Promise<T>) => Promise<T>;

/**
 * The feed's records as JSONB. JSON has no typed arrays, so `Float32Array` and `Uint32Array` values (vectors,
 * MinHash signatures) become `{"$f32": base64}` / `{"$u32": base64}` (little-endian), bit for bit.
 */
export function encodeRecord(value: unknown): JsonValue {
  if (value instanceof Float32Array)
    return { $f32: littleEndian(value, 4, (v, b, o) => b.writeFloatLE(v, o)) };
  if (value instanceof Uint32Array)
    return { $u32: littleEndian(value, 4, (v, b, o) => b.writeUInt32LE(v, o)) };
  if (Array.isArray(value)) return value.map(encodeRecord);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, child] of Object.entries(value)) if (child !== undefined) out[key] = encodeRecord(child);
    return out;
  }
  return value as JsonValue;
}

export function decodeRecord<T>(value: JsonValue): T {
  return decodeValue(value) as T;
}

function decodeValue(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.$f32 === "string") {
      const bytes = Buffer.from(value.$f32, "base64");
      if (littleEndianHost) return new Float32Array(alignedCopy(bytes));
      return Float32Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    }
    if (keys.length === 1 && typeof value.$u32 === "string") {
      const bytes = Buffer.from(value.$u32, "base64");
      if (littleEndianHost) return new Uint32Array(alignedCopy(bytes));
      return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32LE(i * 4));
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = decodeValue(child);
    return out;
  }
  return value;
}

/** On a little-endian host the stored bytes are the array's own: one copy instead of a read per value. */
const littleEndianHost = endianness() === "LE";

/** The bytes in a fresh buffer of their own (a decoded Buffer may sit unaligned in Node's shared pool). */
function alignedCopy(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function littleEndian(
  values: ArrayLike<number>,
  width: number,
  write: (value: number, buffer: Buffer, offset: number) => void,
): string {
  const buffer = Buffer.alloc(values.length * width);
  for (let i = 0; i < values.length; i++) write(values[i]!, buffer, i * width);
  return buffer.toString("base64");
}

const excluded = (column: PgColumn): SQL => sql`excluded.${sql.identifier(column.name)}`;

/** Rows per insert statement: at most five parameters a row keeps it far below Postgres's 65,535. */
const rowBatch = 1_000;
/** Ids per `in (…)` list. */
const idBatch = 5_000;

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * `FeedStore` over drizzle for both drivers (docs/adr/0017); constructed by `DrizzleDocumentStore`, so it
 * shares its connection and error mapping. Reads decode fresh objects, so callers can never mutate the store.
 */
export class DrizzleFeedStore implements FeedStore {
  constructor(
    private readonly db: Database,
    private readonly run: Run,
  ) {}

  // ---- profiles ----

  getProfile(tenant: string, user: string): Promise<Profile | undefined> {
    return this.run("feed.getProfile", async () => {
      const rows = await this.db
        .select({ record: feedProfiles.record })
        .from(feedProfiles)
        .where(and(eq(feedProfiles.tenant, tenant), eq(feedProfiles.userId, user)));
      return rows[0] === undefined ? undefined : decodeRecord<Profile>(rows[0].record);
    });
  }

  putProfile(profile: Profile): Promise<void> {
    return this.run("feed.putProfile", () =>
      this.db.transaction(async (tx) => {
        await tx
          .insert(feedProfiles)
          .values({
            tenant: profile.tenant,
            userId: profile.user,
            collections: [...profile.collections],
            record: encodeRecord(profile),
          })
          .onConflictDoUpdate({
            target: [feedProfiles.tenant, feedProfiles.userId],
            set: { collections: excluded(feedProfiles.collections), record: excluded(feedProfiles.record) },
          });
        await raiseGenerations(tx, profile.tenant, [profile.user]);
      }),
    );
  }

  deleteProfile(tenant: string, user: string): Promise<boolean> {
    return this.run("feed.deleteProfile", () =>
      this.db.transaction(async (tx) => {
        const mine = <T extends { tenant: PgColumn; userId: PgColumn }>(table: T) =>
          and(eq(table.tenant, tenant), eq(table.userId, user));
        await tx.delete(feedCandidates).where(mine(feedCandidates));
        await tx.delete(feedItemStates).where(mine(feedItemStates));
        await tx.delete(feedEvents).where(mine(feedEvents));
        await tx.delete(feedServed).where(mine(feedServed));
        const deleted = await tx
          .delete(feedProfiles)
          .where(mine(feedProfiles))
          .returning({ user: feedProfiles.userId });
        await raiseGenerations(tx, tenant, [user]);
        return deleted.length > 0;
      }),
    );
  }

  listProfiles(tenant: string, options: { collection?: string } = {}): Promise<Profile[]> {
    return this.run("feed.listProfiles", async () => {
      const rows = await this.db
        .select({ record: feedProfiles.record })
        .from(feedProfiles)
        .where(
          and(
            eq(feedProfiles.tenant, tenant),
            options.collection === undefined
              ? undefined
              : sql`${feedProfiles.collections} @> array[${options.collection}]::text[]`,
          ),
        )
        .orderBy(asc(feedProfiles.userId));
      return rows.map((row) => decodeRecord<Profile>(row.record));
    });
  }

  // ---- candidates ----

  putCandidates(candidates: readonly Candidate[]): Promise<void> {
    if (candidates.length === 0) return Promise.resolve();
    return this.run("feed.putCandidates", () =>
      this.db.transaction(async (tx) => {
        const rows = dedupeBy(candidates, candidateKey);
        for (const batch of batches(rows, rowBatch)) await insertCandidates(tx, batch);
        for (const [tenant, users] of usersByTenant(rows)) await raiseGenerations(tx, tenant, users);
      }),
    );
  }

  removeCandidates(tenant: string, ref: DocumentRef, users?: readonly string[]): Promise<string[]> {
    if (users !== undefined && users.length === 0) return Promise.resolve([]);
    return this.run("feed.removeCandidates", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx
          .delete(feedCandidates)
          .where(
            and(
              eq(feedCandidates.tenant, tenant),
              eq(feedCandidates.collection, ref.collection),
              eq(feedCandidates.documentId, ref.documentId),
              users === undefined ? undefined : inArray(feedCandidates.userId, [...users]),
            ),
          )
          .returning({ user: feedCandidates.userId });
        const removed = rows.map((row) => row.user).sort(byKey);
        await raiseGenerations(tx, tenant, removed);
        return removed;
      }),
    );
  }

  removeUserCandidates(tenant: string, user: string, refs: readonly DocumentRef[]): Promise<number> {
    if (refs.length === 0) return Promise.resolve(0);
    return this.run("feed.removeUserCandidates", () =>
      this.db.transaction(async (tx) => {
        let removed = 0;
        for (const [collection, ids] of idsByCollection(refs)) {
          for (const batch of batches(ids, idBatch)) {
            const rows = await tx
              .delete(feedCandidates)
              .where(
                and(
                  eq(feedCandidates.tenant, tenant),
                  eq(feedCandidates.userId, user),
                  eq(feedCandidates.collection, collection),
                  inArray(feedCandidates.documentId, batch),
                ),
              )
              .returning({ documentId: feedCandidates.documentId });
            removed += rows.length;
          }
        }
        if (removed > 0) await raiseGenerations(tx, tenant, [user]);
        return removed;
      }),
    );
  }

  getUserGeneration(tenant: string, user: string): Promise<number> {
    return this.run("feed.getUserGeneration", async () => {
      const rows = await this.db
        .select({ generation: feedGenerations.generation })
        .from(feedGenerations)
        .where(and(eq(feedGenerations.tenant, tenant), eq(feedGenerations.userId, user)));
      return rows[0]?.generation ?? 0;
    });
  }

  listCandidates(tenant: string, user: string): Promise<Candidate[]> {
    return this.run("feed.listCandidates", async () => {
      const rows = await this.db
        .select({ record: feedCandidates.record })
        .from(feedCandidates)
        .where(and(eq(feedCandidates.tenant, tenant), eq(feedCandidates.userId, user)))
        .orderBy(asc(feedCandidates.collection), asc(feedCandidates.documentId));
      return rows.map((row) => decodeRecord<Candidate>(row.record));
    });
  }

  // ---- documents ----

  putDocument(record: FeedDocumentRecord): Promise<void> {
    return this.run("feed.putDocument", async () => {
      await this.db
        .insert(feedDocuments)
        .values({
          tenant: record.tenant,
          collection: record.collection,
          documentId: record.documentId,
          record: encodeRecord(record),
        })
        .onConflictDoUpdate({
          target: [feedDocuments.tenant, feedDocuments.collection, feedDocuments.documentId],
          set: { record: excluded(feedDocuments.record) },
        });
    });
  }

  getDocuments(tenant: string, refs: readonly DocumentRef[]): Promise<Map<string, FeedDocumentRecord>> {
    const found = new Map<string, FeedDocumentRecord>();
    if (refs.length === 0) return Promise.resolve(found);
    // Per collection, one `document_id = any(…)` lookup on the primary key (an OR of pairs plans badly).
    return this.run("feed.getDocuments", async () => {
      for (const [collection, ids] of idsByCollection(refs)) {
        for (const batch of batches(ids, idBatch)) {
          const rows = await this.db
            .select({ record: feedDocuments.record })
            .from(feedDocuments)
            .where(
              and(
                eq(feedDocuments.tenant, tenant),
                eq(feedDocuments.collection, collection),
                inArray(feedDocuments.documentId, batch),
              ),
            );
          for (const row of rows) {
            const record = decodeRecord<FeedDocumentRecord>(row.record);
            found.set(documentKey(record), record);
          }
        }
      }
      return found;
    });
  }

  removeDocument(tenant: string, ref: DocumentRef): Promise<boolean> {
    return this.run("feed.removeDocument", async () => {
      const rows = await this.db
        .delete(feedDocuments)
        .where(
          and(
            eq(feedDocuments.tenant, tenant),
            eq(feedDocuments.collection, ref.collection),
            eq(feedDocuments.documentId, ref.documentId),
          ),
        )
        .returning({ id: feedDocuments.documentId });
      return rows.length > 0;
    });
  }

  listDocuments(tenant: string): Promise<FeedDocumentRecord[]> {
    return this.run("feed.listDocuments", async () => {
      const rows = await this.db
        .select({ record: feedDocuments.record })
        .from(feedDocuments)
        .where(eq(feedDocuments.tenant, tenant))
        .orderBy(asc(feedDocuments.collection), asc(feedDocuments.documentId));
      return rows.map((row) => decodeRecord<FeedDocumentRecord>(row.record));
    });
  }

  // ---- events and served feeds ----

  appendEvents(events: readonly FeedEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.run("feed.appendEvents", async () => {
      for (const batch of batches(events, rowBatch)) {
        await this.db
          .insert(feedEvents)
          .values(
            batch.map((e) => ({ tenant: e.tenant, userId: e.user, at: e.at, record: encodeRecord(e) })),
          );
      }
    });
  }

  listEvents(tenant: string, options: { user?: string; since?: number } = {}): Promise<FeedEvent[]> {
    return this.run("feed.listEvents", async () => {
      const rows = await this.db
        .select({ record: feedEvents.record })
        .from(feedEvents)
        .where(
          and(
            eq(feedEvents.tenant, tenant),
            options.user === undefined ? undefined : eq(feedEvents.userId, options.user),
            options.since === undefined ? undefined : gte(feedEvents.at, options.since),
          ),
        )
        .orderBy(asc(feedEvents.at), asc(feedEvents.seq));
      return rows.map((row) => decodeRecord<FeedEvent>(row.record));
    });
  }

  appendServed(served: ServedFeed): Promise<void> {
    return this.run("feed.appendServed", async () => {
      await this.db.insert(feedServed).values({
        tenant: served.tenant,
        requestId: served.requestId,
        userId: served.user,
        at: served.at,
        record: encodeRecord(served),
      });
    });
  }

  getServed(tenant: string, requestId: string): Promise<ServedFeed | undefined> {
    return this.run("feed.getServed", async () => {
      const rows = await this.db
        .select({ record: feedServed.record })
        .from(feedServed)
        .where(and(eq(feedServed.tenant, tenant), eq(feedServed.requestId, requestId)));
      return rows[0] === undefined ? undefined : decodeRecord<ServedFeed>(rows[0].record);
    });
  }

  listServed(tenant: string, options: { user?: string; since?: number } = {}): Promise<ServedFeed[]> {
    return this.run("feed.listServed", async () => {
      const rows = await this.db
        .select({ record: feedServed.record })
        .from(feedServed)
        .where(
          and(
            eq(feedServed.tenant, tenant),
            options.user === undefined ? undefined : eq(feedServed.userId, options.user),
            options.since === undefined ? undefined : gte(feedServed.at, options.since),
          ),
        )
        .orderBy(asc(feedServed.at), asc(feedServed.requestId));
      return rows.map((row) => decodeRecord<ServedFeed>(row.record));
    });
  }

  // ---- item states ----

  getItemStates(tenant: string, user: string): Promise<Map<string, ItemState>> {
    return this.run("feed.getItemStates", async () => {
      const rows = await this.db
        .select({ itemId: feedItemStates.itemId, record: feedItemStates.record })
        .from(feedItemStates)
        .where(and(eq(feedItemStates.tenant, tenant), eq(feedItemStates.userId, user)));
      return new Map(rows.map((row) => [row.itemId, decodeRecord<ItemState>(row.record)]));
    });
  }

  putItemState(tenant: string, user: string, itemId: string, state: ItemState): Promise<void> {
    return this.run("feed.putItemState", () =>
      this.db.transaction(async (tx) => {
        await tx
          .insert(feedItemStates)
          .values({ tenant, userId: user, itemId, record: encodeRecord(state) })
          .onConflictDoUpdate({
            target: [feedItemStates.tenant, feedItemStates.userId, feedItemStates.itemId],
            set: { record: excluded(feedItemStates.record) },
          });
        await raiseGenerations(tx, tenant, [user]);
      }),
    );
  }

  // ---- models ----

  saveModel(tenant: string, name: string, model: unknown, createdAt: number): Promise<StoredModel> {
    return this.run("feed.saveModel", () =>
      this.db.transaction(async (tx) => {
        // One saver per (tenant, name) at a time, so two trainings never compute the same next version.
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtext(${JSON.stringify(["feed-model", tenant, name])}))`,
        );
        const [latest] = await tx
          .select({ version: max(feedModels.version) })
          .from(feedModels)
          .where(and(eq(feedModels.tenant, tenant), eq(feedModels.name, name)));
        const version = (latest?.version ?? 0) + 1;
        await tx.insert(feedModels).values({ tenant, name, version, createdAt, model: encodeRecord(model) });
        return { tenant, name, version, createdAt, model: decodeRecord(encodeRecord(model)) };
      }),
    );
  }

  getModel(tenant: string, name: string, version?: number): Promise<StoredModel | undefined> {
    return this.run("feed.getModel", async () => {
      const rows = await this.db
        .select()
        .from(feedModels)
        .where(
          and(
            eq(feedModels.tenant, tenant),
            eq(feedModels.name, name),
            version === undefined ? undefined : eq(feedModels.version, version),
          ),
        )
        .orderBy(sql`${feedModels.version} desc`)
        .limit(1);
      return rows[0] === undefined ? undefined : modelOf(rows[0]);
    });
  }

  listModels(tenant: string, name: string): Promise<StoredModel[]> {
    return this.run("feed.listModels", async () => {
      const rows = await this.db
        .select()
        .from(feedModels)
        .where(and(eq(feedModels.tenant, tenant), eq(feedModels.name, name)))
        .orderBy(asc(feedModels.version));
      return rows.map(modelOf);
    });
  }

  // ---- change cursors ----

  getCursor(tenant: string, collection: string): Promise<number | undefined> {
    return this.run("feed.getCursor", async () => {
      const rows = await this.db
        .select({ chunkId: feedCursors.chunkId })
        .from(feedCursors)
        .where(and(eq(feedCursors.tenant, tenant), eq(feedCursors.collection, collection)));
      return rows[0]?.chunkId;
    });
  }

  advanceCursor(tenant: string, collection: string, chunkId: number): Promise<void> {
    return this.run("feed.advanceCursor", async () => {
      await this.db
        .insert(feedCursors)
        .values({ tenant, collection, chunkId, updatedAt: Date.now() })
        .onConflictDoUpdate({
          target: [feedCursors.tenant, feedCursors.collection],
          set: {
            chunkId: sql`greatest(${feedCursors.chunkId}, ${excluded(feedCursors.chunkId)})`,
            updatedAt: excluded(feedCursors.updatedAt),
          },
        });
    });
  }
}

function modelOf(row: typeof feedModels.$inferSelect): StoredModel {
  return {
    tenant: row.tenant,
    name: row.name,
    version: row.version,
    createdAt: row.createdAt,
    model: decodeRecord(row.model),
  };
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const candidateKey = (c: Candidate) => `${c.tenant}\u0000${c.user}\u0000${documentKey(c)}`;

/** The last of each key (an upsert statement may not name one row twice). */
function dedupeBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

/** A transaction of the store's database (what `Database.transaction` hands its callback). */
type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Upserts candidates by (tenant, user, collection, documentId); one statement. */
async function insertCandidates(tx: Transaction, batch: readonly Candidate[]): Promise<void> {
  await tx
    .insert(feedCandidates)
    .values(
      batch.map((c) => ({
        tenant: c.tenant,
        userId: c.user,
        collection: c.collection,
        documentId: c.documentId,
        record: encodeRecord(c),
      })),
    )
    .onConflictDoUpdate({
      target: [
        feedCandidates.tenant,
        feedCandidates.userId,
        feedCandidates.collection,
        feedCandidates.documentId,
      ],
      set: { record: excluded(feedCandidates.record) },
    });
}

/**
 * Raises the generation of each of `users` (from 1), in the transaction of the write it announces. One
 * statement with the users as one JSON parameter: an arrival raises every following analyst's, and a
 * VALUES row per user cost more to build than the candidates it announced.
 */
async function raiseGenerations(tx: Transaction, tenant: string, users: readonly string[]): Promise<void> {
  if (users.length === 0) return;
  const distinct = JSON.stringify([...new Set(users)].sort(byKey));
  await tx.execute(sql`
    insert into feed_generations (tenant, user_id, generation)
    select ${tenant}, u.user_id, 1 from jsonb_array_elements_text(${distinct}::jsonb) as u(user_id)
    on conflict (tenant, user_id) do update set generation = feed_generations.generation + 1`);
}

function usersByTenant(candidates: readonly Candidate[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of candidates) {
    const list = users.get(c.tenant);
    if (list === undefined) users.set(c.tenant, [c.user]);
    else list.push(c.user);
  }
  return users;
}

/** The distinct document ids of `refs`, per collection. */
function idsByCollection(refs: readonly DocumentRef[]): Map<string, string[]> {
  const byCollection = new Map<string, Set<string>>();
  for (const ref of refs) {
    const ids = byCollection.get(ref.collection) ?? new Set<string>();
    ids.add(ref.documentId);
    byCollection.set(ref.collection, ids);
  }
  return new Map([...byCollection].map(([collection, ids]) => [collection, [...ids]]));
}
