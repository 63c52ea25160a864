import {
  type AccessStore,
  type ApiKeyRecord,
  checkFilterLimits,
  type Filter,
  filterSchema,
  type Role,
  roles,
  UnauthorizedError,
  ValidationError,
} from "@sift/core";
import {
  digestsEqual,
  generateApiKey,
  generateKeyId,
  hashApiKey,
  isWellFormedApiKey,
  previewOf,
} from "./api-key";

export interface CreateKeyInput {
  tenant: string;
  role: Role;
  /** Who asked: `key:<id>` (an admin key), `cli:<os user>`, `bootstrap`. */
  createdBy: string;
  name?: string | undefined;
  /** Reader keys only: ANDed into every search and answer the key makes. */
  filter?: Filter | undefined;
  /** The user the key acts for (feeds). */
  user?: string | undefined;
  expiresAt?: Date | undefined;
}

export interface ApiKeysOptions {
  store: AccessStore;
  /**
   * How long a verified key (or an unknown hash) is trusted without asking the store again, in ms. A key
   * revoked through this process stops at once; through another process, within this. Default 5,000.
   */
  cacheMs?: number | undefined;
  /** Entries kept in that cache; the oldest go first. Default 10,000. */
  maxCached?: number | undefined;
  now?: (() => number) | undefined;
}

type Cached = { record: (ApiKeyRecord & { hash: string }) | undefined; fetchedAt: number };

/**
 * Creates, verifies and revokes API keys over an `AccessStore`.
 * - `create` returns the key string once; only its sha256 is stored.
 * - `verify` refuses malformed keys (format, checksum) without a store lookup, then finds the key by hash
 *   (cached for `cacheMs`), compares digests in constant time, and refuses revoked and expired keys, all
 *   with `UnauthorizedError`.
 */
export class ApiKeys {
  readonly #store: AccessStore;
  readonly #cacheMs: number;
  readonly #maxCached: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();

  constructor(options: ApiKeysOptions) {
    this.#store = options.store;
    this.#cacheMs = options.cacheMs ?? 5_000;
    this.#maxCached = options.maxCached ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Throws `ValidationError` naming the field for a bad role, a scoped non-reader key or a past expiry. */
  async create(input: CreateKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    validateKeyInput(input, this.#now());
    const key = generateApiKey();
    const record = await this.#store.createApiKey({
      id: generateKeyId(),
      tenant: input.tenant,
      role: input.role,
      hash: hashApiKey(key),
      preview: previewOf(key),
      createdBy: input.createdBy,
      name: input.name,
      filter: input.filter,
      user: input.user,
      expiresAt: input.expiresAt,
    });
    return { key, record };
  }

  async verify(key: string): Promise<ApiKeyRecord> {
    if (!isWellFormedApiKey(key)) {
      throw new UnauthorizedError("the API key is malformed (expected sift_ and 49 letters or digits)");
    }
    const hash = hashApiKey(key);
    const found = await this.#lookup(hash);
    if (found === undefined || !digestsEqual(found.hash, hash)) {
      throw new UnauthorizedError("the API key is not known");
    }
    if (found.revokedAt !== null) throw new UnauthorizedError("the API key was revoked");
    if (found.expiresAt !== null && found.expiresAt.getTime() <= this.#now()) {
      throw new UnauthorizedError("the API key has expired");
    }
    const { hash: _hash, ...record } = found;
    return record;
  }

  list(tenant?: string): Promise<ApiKeyRecord[]> {
    return this.#store.listApiKeys(tenant);
  }

  /** Revokes the key (within `tenant` when given); this process stops accepting it at once. */
  async revoke(id: string, tenant?: string): Promise<ApiKeyRecord | undefined> {
    const revoked = await this.#store.revokeApiKey(id, tenant);
    for (const [hash, cached] of this.#cache) if (cached.record?.id === id) this.#cache.delete(hash);
    return revoked;
  }

  async #lookup(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined> {
    const now = this.#now();
    const cached = this.#cache.get(hash);
    if (cached !== undefined && now - cached.fetchedAt < this.#cacheMs) return cached.record;
    const record = await this.#store.findApiKeyByHash(hash);
    this.#cache.delete(hash);
    if (this.#cache.size >= this.#maxCached) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(hash, { record, fetchedAt: now });
    return record;
  }
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function validateKeyInput(input: CreateKeyInput, now: number): void {
  const issues: { path: string; message: string }[] = [];
  if (!namePattern.test(input.tenant)) {
    issues.push({ path: "tenant", message: "1–128 letters, digits, '.', '_' or '-'" });
  }
  if (!(roles as readonly string[]).includes(input.role)) {
    issues.push({ path: "role", message: `one of ${roles.join(", ")}` });
  }
  if (input.filter !== undefined) {
    if (input.role !== "reader") {
      issues.push({
        path: "filter",
        message: "only reader keys can be scoped: writer and admin keys act on the whole collection",
      });
    }
    const capped = checkFilterLimits(input.filter, "filter");
    if (capped !== undefined) issues.push(capped);
    else if (!filterSchema.safeParse(input.filter).success) {
      issues.push({ path: "filter", message: "not a valid metadata filter" });
    }
  }
  if (input.expiresAt !== undefined && !(input.expiresAt.getTime() > now)) {
    issues.push({ path: "expiresAt", message: "must be a time in the future" });
  }
  if (input.name !== undefined && (input.name.length === 0 || input.name.length > 200)) {
    issues.push({ path: "name", message: "1–200 characters" });
  }
  if (input.user !== undefined && !namePattern.test(input.user)) {
    issues.push({ path: "user", message: "1–128 letters, digits, '.', '_' or '-'" });
  }
  if (issues.length > 0) throw new ValidationError("invalid key", issues);
}
