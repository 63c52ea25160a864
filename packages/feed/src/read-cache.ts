import type { FeedDocumentRecord, FeedStore } from "./feed-store";
import { type Candidate, type DocumentRef, documentKey } from "./types";

export interface ReadCacheOptions {
  /**
   * How long a cached entry is trusted for changes this process did not make (another replica's backfill of
   * a profile it created); this process's own candidate and document writes drop their entries at once.
   */
  ttlMs: number;
  /** Users whose candidate lists are kept (the oldest loaded goes first). */
  maxUsers: number;
  /** Document records kept per process (each holds an embedding). */
  maxDocuments: number;
}

interface Entry<T> {
  value: Promise<T>;
  loadedAt: number;
}

/**
 * What a feed read needs from the store besides the profile and item states: the user's candidates and
 * their documents' records. A read decoding every candidate and record from the store was most of its
 * cost (docs/adr/0021); both are cached here, records once per document for every user.
 *
 * Contract: the `Feed` routes every candidate and document write of its own through here (`forgetUsers`,
 * `forgetDocument`), so a read after this process's write never sees the old state; writes of other
 * processes are seen within `ttlMs`. Values handed out are shared: callers must not mutate them.
 */
export class ReadCache {
  readonly #candidates = new Map<string, Entry<Candidate[]>>();
  readonly #records = new Map<string, { record: FeedDocumentRecord | undefined; loadedAt: number }>();

  constructor(
    private readonly store: FeedStore,
    private readonly options: ReadCacheOptions,
  ) {}

  candidates(tenant: string, user: string): Promise<Candidate[]> {
    const key = `${tenant}\u0000${user}`;
    const now = performance.now();
    const cached = this.#candidates.get(key);
    if (cached !== undefined && now - cached.loadedAt < this.options.ttlMs) return cached.value;
    const value = this.store.listCandidates(tenant, user);
    this.#candidates.delete(key);
    this.#candidates.set(key, { value, loadedAt: now });
    value.catch(() => this.#candidates.get(key)?.value === value && this.#candidates.delete(key));
    evictOldest(this.#candidates, this.options.maxUsers);
    return value;
  }

  /** The records of `refs` (missing ones absent), the uncached ones from the store in one call. */
  async records(tenant: string, refs: readonly DocumentRef[]): Promise<Map<string, FeedDocumentRecord>> {
    const now = performance.now();
    const found = new Map<string, FeedDocumentRecord>();
    const missing: DocumentRef[] = [];
    for (const ref of refs) {
      const cached = this.#records.get(recordKey(tenant, ref));
      if (cached !== undefined && now - cached.loadedAt < this.options.ttlMs) {
        if (cached.record !== undefined) found.set(documentKey(ref), cached.record);
      } else missing.push(ref);
    }
    if (missing.length === 0) return found;
    const loaded = await this.store.getDocuments(tenant, missing);
    for (const ref of missing) {
      const record = loaded.get(documentKey(ref));
      this.#records.set(recordKey(tenant, ref), { record, loadedAt: now });
      if (record !== undefined) found.set(documentKey(ref), record);
    }
    evictOldest(this.#records, this.options.maxDocuments);
    return found;
  }

  forgetUsers(tenant: string, users: Iterable<string>): void {
    for (const user of users) this.#candidates.delete(`${tenant}\u0000${user}`);
  }

  forgetDocument(tenant: string, ref: DocumentRef): void {
    this.#records.delete(recordKey(tenant, ref));
  }
}

function recordKey(tenant: string, ref: DocumentRef): string {
  return `${tenant}\u0000${documentKey(ref)}`;
}

/** Maps iterate in insertion order: the first keys are the oldest loaded. */
function evictOldest(map: Map<string, unknown>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
