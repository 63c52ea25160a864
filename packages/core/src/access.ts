import type { Filter } from "./filter";
import type { JsonValue } from "./types";

/**
 * What an API key may do, each role including the ones before it:
 * - `reader`: search, answer, and read collections, documents and jobs;
 * - `writer`: also create, replace and delete documents and collections;
 * - `admin`: also create, list and revoke the tenant's keys and read its audit trail.
 */
export const roles = ["reader", "writer", "admin"] as const;
export type Role = (typeof roles)[number];

/** True when `role` includes everything `needed` may do. */
export function roleAllows(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

/** An API key as stored, without its secret (the store holds only its hash). */
export interface ApiKeyRecord {
  /** Public, random identifier (`key_…`): shown in lists, audit entries and revocations. */
  id: string;
  tenant: string;
  role: Role;
  /** A label for people ("ingest job", "analyst portal"). */
  name: string | null;
  /** ANDed into every search and answer the key makes (reader keys only). */
  filter: Filter | null;
  /** The user the key acts for (feeds, profiles); null for keys of services and operators. */
  user: string | null;
  /** The first characters of the key (`sift_AbC…`), so a person can tell keys apart. */
  preview: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** Refreshed in batches (at most once a minute per process), so it may lag by that much. */
  lastUsedAt: Date | null;
}

export interface ApiKeyInput {
  id: string;
  tenant: string;
  role: Role;
  /** sha256 hex of the whole key string. */
  hash: string;
  preview: string;
  createdBy: string;
  name?: string | undefined;
  filter?: Filter | undefined;
  user?: string | undefined;
  expiresAt?: Date | undefined;
}

/** Who did something: `key:<id>`, `cli:<os user>`, or `anonymous` (auth off). */
export type AuditActor = string;

export interface AuditEventInput {
  tenant: string;
  actor: AuditActor;
  /** `collection.create`, `collection.delete`, `document.write`, `document.delete`, `key.create`, `key.revoke`, `key.used`. */
  action: string;
  /** The collection acted on (by name), when there is one. */
  collection?: string | undefined;
  /** What was acted on: a document id, a key id. */
  target?: string | undefined;
  detail?: Record<string, JsonValue> | undefined;
  requestId?: string | undefined;
}

export interface AuditEvent {
  /** Internal and global: never shown to a tenant as is. */
  id: number;
  tenant: string;
  at: Date;
  actor: AuditActor;
  action: string;
  collection: string | null;
  target: string | null;
  detail: Record<string, JsonValue>;
  requestId: string | null;
}

/**
 * Keys, the audit trail and the service's own secrets, in the system of record.
 * - Every read and write of keys is scoped by tenant where a tenant is given.
 * - `findApiKeyByHash` is the one unscoped lookup: the hash proves possession of the key.
 */
export interface AccessStore {
  createApiKey(input: ApiKeyInput): Promise<ApiKeyRecord>;
  /** The key whose hash this is (revoked and expired ones included: the caller decides). */
  findApiKeyByHash(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined>;
  /** Keys of one tenant (all tenants when undefined), newest first. */
  listApiKeys(tenant?: string): Promise<ApiKeyRecord[]>;
  /**
   * Marks the key revoked (idempotent; the first revocation time stays). With a tenant, a key of another
   * tenant is treated as missing. Returns the key, or undefined when there is none.
   */
  revokeApiKey(id: string, tenant?: string): Promise<ApiKeyRecord | undefined>;
  countApiKeys(): Promise<number>;
  /** Raises each key's `lastUsedAt` to the given time (never lowers it), in one statement. */
  touchApiKeys(uses: ReadonlyArray<{ id: string; lastUsedAt: Date }>): Promise<void>;

  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
  /** A tenant's audit events, newest first, with ids below `beforeId` when given. */
  listAudit(tenant: string, options: { limit: number; beforeId?: number }): Promise<AuditEvent[]>;

  /**
   * A random secret of `bytes` bytes under `name`, created on first use and the same for every process
   * sharing the database (e.g. the key of the id permutation).
   */
  serviceSecret(name: string, bytes: number): Promise<Uint8Array>;
}
