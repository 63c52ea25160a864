import type { FeedDocumentRecord, FeedStore, ItemState } from "./feed-store";
import { getOrCreate } from "./maps";
import type { Candidate, DocumentRef, Profile } from "./types";
import { documentKey } from "./types";

export interface ReadCacheOptions {
  /** Users whose profile, item states and candidates are kept (the oldest loaded goes first). */
  maxUsers: number;
  /** Document records kept per process (each holds an embedding). */
  maxDocuments: number;
  /**
   * How far apart the clocks of processes sharing a store may be. A document record is trusted once it was
   * loaded this long after the match of the candidate that names it (see `records`).
   */
  clockSkewMs: number;
}

/** What a feed read ranks with, of one user. Shared: callers must not mutate it. */
export interface UserState {
  profile: Profile | undefined;
  states: Map<string, ItemState>;
  candidates: Candidate[];
}

interface UserEntry {
  /** The store's generation of the user when the state was loaded (`FeedStore.getUserGeneration`). */
  generation: number;
  value: Promise<UserState>;
}

interface RecordEntry {
  record: FeedDocumentRecord | undefined;
  /** The feed clock when the record was read from the store. */
  loadedAt: number;
}

/**
 * What a feed read needs from the store: the user's profile, item states and candidates, and the records of
 * the candidates' documents. Reading and decoding them on every read was most of a read's cost
 * (docs/adr/0021); they are cached here, records once per document for every user.
 *
 * A user's state is checked against the store's generation of that user (one key lookup per read), which
 * every write to it raises in its own transaction, whoever makes it: a read sees every committed write of
 * any process, and reloads only when there was one. A document record needs no check: a document rewritten
 * anywhere is matched again, which writes (or removes) its candidates, and a record loaded before the match
 * of the candidate naming it is read again (`clockSkewMs` allows for the clocks of other processes). This
 * process's own record writes drop the record at once (`forgetDocument`).
 */
export class ReadCache {
  readonly #users = new Map<string, UserEntry>();
  /** By tenant, then by `documentKey`. */
  readonly #records = new Map<string, Map<string, RecordEntry>>();
  #recordCount = 0;

  constructor(
    private readonly store: FeedStore,
    private readonly options: ReadCacheOptions,
    private readonly clock: () => number,
  ) {}

  /** The user's state as of the store's current generation of them (loaded again when it moved). */
  async user(tenant: string, user: string): Promise<UserState> {
    const key = `${tenant}\u0000${user}`;
    const generation = await this.store.getUserGeneration(tenant, user);
    const cached = this.#users.get(key);
    if (cached !== undefined && cached.generation === generation) return cached.value;
    const value = this.#loadUser(tenant, user);
    this.#users.delete(key);
    this.#users.set(key, { generation, value });
    value.catch(() => this.#users.get(key)?.value === value && this.#users.delete(key));
    evictOldest(this.#users, this.options.maxUsers);
    return value;
  }

  async #loadUser(tenant: string, user: string): Promise<UserState> {
    const [profile, states, candidates] = await Promise.all([
      this.store.getProfile(tenant, user),
      this.store.getItemStates(tenant, user),
      this.store.listCandidates(tenant, user),
    ]);
    return { profile, states, candidates };
  }

  /**
   * The records of `candidates`' documents (missing ones absent), those not held or loaded before the
   * candidate's match (less `clockSkewMs`) from the store in one call.
   */
  async records(tenant: string, candidates: readonly Candidate[]): Promise<Map<string, FeedDocumentRecord>> {
    const held = getOrCreate(this.#records, tenant, () => new Map<string, RecordEntry>());
    const found = new Map<string, FeedDocumentRecord>();
    const missing: Candidate[] = [];
    for (const candidate of candidates) {
      const key = documentKey(candidate);
      const cached = held.get(key);
      if (cached !== undefined && cached.loadedAt >= candidate.matchedAt + this.options.clockSkewMs) {
        if (cached.record !== undefined) found.set(key, cached.record);
      } else missing.push(candidate);
    }
    if (missing.length === 0) return found;
    const loadedAt = this.clock();
    const loaded = await this.store.getDocuments(tenant, missing);
    for (const ref of missing) {
      const key = documentKey(ref);
      const record = loaded.get(key);
      if (!held.has(key)) this.#recordCount++;
      held.delete(key);
      held.set(key, { record, loadedAt });
      if (record !== undefined) found.set(key, record);
    }
    this.#evictRecords();
    return found;
  }

  forgetDocument(tenant: string, ref: DocumentRef): void {
    if (this.#records.get(tenant)?.delete(documentKey(ref)) === true) this.#recordCount--;
  }

  /** Drops the oldest loaded records, tenant by tenant, past `maxDocuments`. */
  #evictRecords(): void {
    for (const held of this.#records.values()) {
      for (const key of held.keys()) {
        if (this.#recordCount <= this.options.maxDocuments) return;
        held.delete(key);
        this.#recordCount--;
      }
    }
  }
}

/** Maps iterate in insertion order: the first keys are the oldest loaded. */
function evictOldest(map: Map<string, unknown>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
