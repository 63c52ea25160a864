import { randomBytes } from "node:crypto";
import type { AccessStore, ApiKeyInput, ApiKeyRecord, AuditEvent, AuditEventInput } from "@sift/core";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { apiKeys, auditEvents, serviceSecrets } from "./schema";

type Database = PgDatabase<PgQueryResultHKT>;
/** The document store's error-mapping wrapper, shared so both halves report driver errors alike. */
type Run = <T>(operation: string, work: () => Promise<T>) => Promise<T>;

const keyColumns = {
  id: apiKeys.id,
  tenant: apiKeys.tenant,
  role: apiKeys.role,
  name: apiKeys.name,
  filter: apiKeys.filter,
  user: apiKeys.userId,
  preview: apiKeys.preview,
  createdAt: apiKeys.createdAt,
  createdBy: apiKeys.createdBy,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** Audit rows per insert statement: nine parameters a row keeps it far below Postgres's 65,535. */
const auditRowBatch = 1_000;

/** `AccessStore` over drizzle for both drivers; constructed by `DrizzleDocumentStore`. */
export class DrizzleAccessStore implements AccessStore {
  constructor(
    private readonly db: Database,
    private readonly run: Run,
  ) {}

  createApiKey(input: ApiKeyInput): Promise<ApiKeyRecord> {
    return this.run("createApiKey", async () => {
      const rows = await this.db
        .insert(apiKeys)
        .values({
          id: input.id,
          tenant: input.tenant,
          role: input.role,
          hash: input.hash,
          preview: input.preview,
          createdBy: input.createdBy,
          name: input.name ?? null,
          filter: input.filter ?? null,
          userId: input.user ?? null,
          expiresAt: input.expiresAt ?? null,
        })
        .returning(keyColumns);
      return rows[0]!;
    });
  }

  findApiKeyByHash(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined> {
    return this.run("findApiKeyByHash", async () => {
      const rows = await this.db
        .select({ ...keyColumns, hash: apiKeys.hash })
        .from(apiKeys)
        .where(eq(apiKeys.hash, hash));
      return rows[0];
    });
  }

  listApiKeys(tenant?: string): Promise<ApiKeyRecord[]> {
    return this.run("listApiKeys", () =>
      this.db
        .select(keyColumns)
        .from(apiKeys)
        .where(tenant === undefined ? undefined : eq(apiKeys.tenant, tenant))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)),
    );
  }

  revokeApiKey(id: string, tenant?: string): Promise<ApiKeyRecord | undefined> {
    return this.run("revokeApiKey", async () => {
      const scope = and(eq(apiKeys.id, id), tenant === undefined ? undefined : eq(apiKeys.tenant, tenant));
      const rows = await this.db
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
        .where(scope)
        .returning(keyColumns);
      return rows[0];
    });
  }

  countApiKeys(): Promise<number> {
    return this.run("countApiKeys", () => this.db.$count(apiKeys).then(Number));
  }

  touchApiKeys(uses: ReadonlyArray<{ id: string; lastUsedAt: Date }>): Promise<void> {
    if (uses.length === 0) return Promise.resolve();
    return this.run("touchApiKeys", async () => {
      // One UPDATE … FROM (VALUES …) for every key used since the last flush.
      const values = sql.join(
        uses.map((use) => sql`(${use.id}, ${use.lastUsedAt.toISOString()}::timestamptz)`),
        sql`, `,
      );
      await this.db.execute(sql`
        update ${apiKeys} set last_used_at = greatest(${apiKeys.lastUsedAt}, used.at)
        from (values ${values}) as used(id, at)
        where ${apiKeys.id} = used.id`);
    });
  }

  appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.run("appendAudit", async () => {
      for (let start = 0; start < events.length; start += auditRowBatch) {
        await this.db.insert(auditEvents).values(
          events.slice(start, start + auditRowBatch).map((event) => ({
            tenant: event.tenant,
            actor: event.actor,
            action: event.action,
            collection: event.collection ?? null,
            target: event.target ?? null,
            detail: event.detail ?? {},
            requestId: event.requestId ?? null,
          })),
        );
      }
    });
  }

  listAudit(tenant: string, options: { limit: number; beforeId?: number }): Promise<AuditEvent[]> {
    return this.run("listAudit", () =>
      this.db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.tenant, tenant),
            options.beforeId === undefined ? undefined : lt(auditEvents.id, options.beforeId),
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(options.limit),
    );
  }

  serviceSecret(name: string, bytes: number): Promise<Uint8Array> {
    return this.run("serviceSecret", async () => {
      // Every process proposes one; the first insert wins and all read the winner back.
      await this.db
        .insert(serviceSecrets)
        .values({ name, value: randomBytes(bytes) })
        .onConflictDoNothing({ target: serviceSecrets.name });
      const rows = await this.db
        .select({ value: serviceSecrets.value })
        .from(serviceSecrets)
        .where(inArray(serviceSecrets.name, [name]));
      return new Uint8Array(rows[0]!.value);
    });
  }
}
