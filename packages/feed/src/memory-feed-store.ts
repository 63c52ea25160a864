import type { FeedDocumentRecord, FeedStore, ItemState, StoredModel } from "./feed-store";
import { getOrCreate } from "./maps";
import {
  type Candidate,
  type DocumentRef,
  documentKey,
  type FeedEvent,
  type Profile,
  type ServedFeed,
} from "./types";

/**
 * Writes are copied (`structuredClone`) and frozen, so a caller's later mutation never reaches the store and
 * reads can hand out the stored objects without copying (typed arrays cannot be frozen: treat them as
 * read-only).
 */
function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return Object.freeze(value);
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface TenantState {
  profiles: Map<string, Profile>;
  /** user → documentKey → candidate */
  candidates: Map<string, Map<string, Candidate>>;
  documents: Map<string, FeedDocumentRecord>;
  events: FeedEvent[];
  served: ServedFeed[];
  servedById: Map<string, ServedFeed>;
  states: Map<string, Map<string, ItemState>>;
  models: Map<string, StoredModel[]>;
  cursors: Map<string, number>;
  /** user → generation (see `FeedStore.getUserGeneration`) */
  generations: Map<string, number>;
}

function raise(state: TenantState, users: Iterable<string>): void {
  for (const user of new Set(users)) state.generations.set(user, (state.generations.get(user) ?? 0) + 1);
}

/** The in-memory {@link FeedStore}: for tests, the simulator and an embedded service that keeps no feed. */
export class MemoryFeedStore implements FeedStore {
  readonly #tenants = new Map<string, TenantState>();

  #tenant(tenant: string): TenantState {
    let state = this.#tenants.get(tenant);
    if (state === undefined) {
      state = {
        profiles: new Map(),
        candidates: new Map(),
        documents: new Map(),
        events: [],
        served: [],
        servedById: new Map(),
        states: new Map(),
        models: new Map(),
        cursors: new Map(),
        generations: new Map(),
      };
      this.#tenants.set(tenant, state);
    }
    return state;
  }

  async getProfile(tenant: string, user: string): Promise<Profile | undefined> {
    return this.#tenant(tenant).profiles.get(user);
  }

  async putProfile(profile: Profile): Promise<void> {
    const state = this.#tenant(profile.tenant);
    state.profiles.set(profile.user, frozenCopy(profile));
    raise(state, [profile.user]);
  }

  async deleteProfile(tenant: string, user: string): Promise<boolean> {
    const state = this.#tenant(tenant);
    const existed = state.profiles.delete(user);
    state.candidates.delete(user);
    state.states.delete(user);
    state.events = state.events.filter((event) => event.user !== user);
    state.served = state.served.filter((served) => served.user !== user);
    for (const [id, served] of state.servedById) if (served.user === user) state.servedById.delete(id);
    raise(state, [user]);
    return existed;
  }

  async listProfiles(tenant: string, options: { collection?: string } = {}): Promise<Profile[]> {
    const { collection } = options;
    return [...this.#tenant(tenant).profiles.values()]
      .filter((profile) => collection === undefined || profile.collections.includes(collection))
      .sort((a, b) => byKey(a.user, b.user));
  }

  async putCandidates(candidates: readonly Candidate[]): Promise<void> {
    for (const candidate of candidates) {
      const state = this.#tenant(candidate.tenant);
      getOrCreate(state.candidates, candidate.user, () => new Map<string, Candidate>()).set(
        documentKey(candidate),
        frozenCopy(candidate),
      );
      raise(state, [candidate.user]);
    }
  }

  async removeCandidates(tenant: string, ref: DocumentRef, users?: readonly string[]): Promise<string[]> {
    const key = documentKey(ref);
    const removed: string[] = [];
    for (const [user, mine] of this.#tenant(tenant).candidates) {
      if (users !== undefined && !users.includes(user)) continue;
      if (mine.delete(key)) removed.push(user);
    }
    raise(this.#tenant(tenant), removed);
    return removed.sort(byKey);
  }

  async removeUserCandidates(tenant: string, user: string, refs: readonly DocumentRef[]): Promise<number> {
    const state = this.#tenant(tenant);
    const mine = state.candidates.get(user);
    let removed = 0;
    for (const ref of refs) if (mine?.delete(documentKey(ref)) === true) removed++;
    if (removed > 0) raise(state, [user]);
    return removed;
  }

  async getUserGeneration(tenant: string, user: string): Promise<number> {
    return this.#tenant(tenant).generations.get(user) ?? 0;
  }

  async listCandidates(tenant: string, user: string): Promise<Candidate[]> {
    const mine = this.#tenant(tenant).candidates.get(user);
    if (mine === undefined) return [];
    return [...mine.entries()].sort(([a], [b]) => byKey(a, b)).map(([, candidate]) => candidate);
  }

  async putDocument(record: FeedDocumentRecord): Promise<void> {
    this.#tenant(record.tenant).documents.set(documentKey(record), frozenCopy(record));
  }

  async getDocuments(tenant: string, refs: readonly DocumentRef[]): Promise<Map<string, FeedDocumentRecord>> {
    const documents = this.#tenant(tenant).documents;
    const found = new Map<string, FeedDocumentRecord>();
    for (const ref of refs) {
      const key = documentKey(ref);
      const record = documents.get(key);
      if (record !== undefined) found.set(key, record);
    }
    return found;
  }

  async removeDocument(tenant: string, ref: DocumentRef): Promise<boolean> {
    return this.#tenant(tenant).documents.delete(documentKey(ref));
  }

  async listDocuments(tenant: string): Promise<FeedDocumentRecord[]> {
    return [...this.#tenant(tenant).documents.entries()]
      .sort(([a], [b]) => byKey(a, b))
      .map(([, record]) => record);
  }

  async appendEvents(events: readonly FeedEvent[]): Promise<void> {
    for (const event of events) {
      const state = this.#tenant(event.tenant);
      const copy = frozenCopy(event);
      // Keep `at` order with append order for ties: insert after the last event not later than this one.
      let index = state.events.length;
      while (index > 0 && state.events[index - 1]!.at > copy.at) index -= 1;
      state.events.splice(index, 0, copy);
    }
  }

  async listEvents(tenant: string, options: { user?: string; since?: number } = {}): Promise<FeedEvent[]> {
    return this.#tenant(tenant).events.filter(
      (event) =>
        (options.user === undefined || event.user === options.user) &&
        (options.since === undefined || event.at >= options.since),
    );
  }

  async appendServed(served: ServedFeed): Promise<void> {
    const state = this.#tenant(served.tenant);
    const copy = frozenCopy(served);
    let index = state.served.length;
    while (index > 0 && state.served[index - 1]!.at > copy.at) index -= 1;
    state.served.splice(index, 0, copy);
    state.servedById.set(copy.requestId, copy);
  }

  async getServed(tenant: string, requestId: string): Promise<ServedFeed | undefined> {
    return this.#tenant(tenant).servedById.get(requestId);
  }

  async listServed(tenant: string, options: { user?: string; since?: number } = {}): Promise<ServedFeed[]> {
    return this.#tenant(tenant).served.filter(
      (served) =>
        (options.user === undefined || served.user === options.user) &&
        (options.since === undefined || served.at >= options.since),
    );
  }

  async getItemStates(tenant: string, user: string): Promise<Map<string, ItemState>> {
    return new Map(this.#tenant(tenant).states.get(user) ?? []);
  }

  async putItemState(tenant: string, user: string, itemId: string, state: ItemState): Promise<void> {
    const tenantState = this.#tenant(tenant);
    getOrCreate(tenantState.states, user, () => new Map<string, ItemState>()).set(itemId, frozenCopy(state));
    raise(tenantState, [user]);
  }

  async saveModel(tenant: string, name: string, model: unknown, createdAt: number): Promise<StoredModel> {
    const models = this.#tenant(tenant).models;
    const versions = models.get(name) ?? [];
    const stored = frozenCopy({ tenant, name, version: versions.length + 1, createdAt, model });
    models.set(name, [...versions, stored]);
    return stored;
  }

  async getModel(tenant: string, name: string, version?: number): Promise<StoredModel | undefined> {
    const versions = this.#tenant(tenant).models.get(name) ?? [];
    return version === undefined ? versions.at(-1) : versions.find((m) => m.version === version);
  }

  async listModels(tenant: string, name: string): Promise<StoredModel[]> {
    return [...(this.#tenant(tenant).models.get(name) ?? [])];
  }

  async getCursor(tenant: string, collection: string): Promise<number | undefined> {
    return this.#tenant(tenant).cursors.get(collection);
  }

  async advanceCursor(tenant: string, collection: string, chunkId: number): Promise<void> {
    const cursors = this.#tenant(tenant).cursors;
    cursors.set(collection, Math.max(chunkId, cursors.get(collection) ?? chunkId));
  }
}
