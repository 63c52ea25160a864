import { randomUUID } from "node:crypto";
import {
  type Embedder,
  type Filter,
  type Logger,
  NotFoundError,
  silentLogger,
  ValidationError,
} from "@sift/core";
import { assembleFeed, type DiversityOptions, defaultDiversity, type ScoredCandidate } from "./assemble";
import { CollaborativeView, EngagementIndex } from "./collaborative";
import type { FeedCorpus } from "./corpus";
import { type Explanation, explain } from "./explain";
import { nextItemState, profileAfter, recordEngagement, resolveEvents } from "./feed-events";
import type { FeedStore } from "./feed-store";
import { feedEventsInputSchema, type ProfileInput, parseInput, profileInputSchema } from "./input";
import { defaultLearningOptions, type LearningOptions, syncQueryCentroids } from "./learning";
import { getOrCreate } from "./maps";
import { type MatchOptions, matchDocument, statedRelevance } from "./matcher";
import { loadModel, type RankingModel, type SerializedModel } from "./model";
import { NearDuplicateIndex, type NearDuplicateOptions } from "./near-duplicates";
import {
  computeFeatures,
  defaultRankingOptions,
  presetRanker,
  type Ranker,
  type RankingOptions,
} from "./ranking";
import { ReadCache, type ReadCacheOptions, type UserState } from "./read-cache";
import { buildTrainingGroups, type TrainingGroup, trainPairwiseLinear } from "./training";
import {
  type Candidate,
  type DocumentRef,
  documentKey,
  type FeedDocument,
  type FeedItem,
  type Profile,
  type ServedFeed,
} from "./types";

/** The collection's lexical statistics for matching (see {@link FeedCorpus}); `undefined`: not known. */
export interface FeedCorpora {
  corpus(tenant: string, collection: string): FeedCorpus | undefined;
}

/**
 * Ordinary hybrid search over a collection, for backfilling a new profile: the best `limit` documents for
 * `query` that pass `filter`, best first, hydrated as {@link FeedDocument}s (phase 2: the catalog's search).
 */
export interface BackfillSearch {
  search(options: {
    tenant: string;
    collection: string;
    query: string;
    filter: Filter | null;
    limit: number;
    signal?: AbortSignal | undefined;
  }): Promise<FeedDocument[]>;
}

/** A committed change of one tenant's documents, as the catalog's change hook reports it. */
export interface FeedChange {
  tenant: string;
  /** Added and changed documents (a changed one replaces its earlier candidates). */
  upserted: readonly FeedDocument[];
  removed: readonly DocumentRef[];
}

export interface ChangeResult {
  /** Candidates written. */
  candidates: number;
  /** Upserted documents skipped because the feed already holds that version of them. */
  unchanged: number;
  /** Per upserted document: milliseconds from the start of its matching to its candidates being stored. */
  matchMs: number[];
  removed: number;
}

export interface FeedPage {
  requestId: string;
  ranker: string;
  /** The instant the page was ranked at (recency is computed from it); pages of one cursor share it. */
  asOf: number;
  items: FeedItem[];
  /** Items ranked before this page: `items[i]` is at position `offset + i + 1` (as the served feed logs it). */
  offset: number;
  /** Pass back as `cursor` for the next page; `null` on the last one. */
  nextCursor: string | null;
  /** With `withRanking`: every item in rank order (for evaluation and display; only `items` is logged). */
  ranking?: FeedItem[];
}

export interface FeedOptions {
  store: FeedStore;
  corpora: FeedCorpora;
  /** Embeds saved queries (kind `query`); without it the dense and centroid features are 0. */
  embedder?: Embedder | undefined;
  backfill?: BackfillSearch | undefined;
  /** Documents fetched per saved query and collection when backfilling. Default 50. */
  backfillPerQuery?: number;
  /** The ranker of tenants without an activated model. Default the `hybrid+feedback+collab` preset. */
  ranker?: Ranker;
  ranking?: Partial<RankingOptions>;
  learning?: Partial<LearningOptions>;
  diversity?: Partial<DiversityOptions>;
  nearDuplicates?: NearDuplicateOptions;
  match?: MatchOptions;
  /** A user keeps at most this many candidates (the lowest stated relevance goes first). Default 1000. */
  maxCandidatesPerUser?: number;
  /** The stored model name a tenant is served with once one is trained. Default `default`. */
  servedModel?: string;
  /** How long the latest stored model version is trusted before the store is asked again. Default 5000. */
  modelRefreshMs?: number;
  /**
   * How long a tenant's profiles, as the collaborative features read them, are trusted before the store is
   * asked again (profile writes through this `Feed` refresh them at once). Default 5000.
   */
  peerRefreshMs?: number;
  /**
   * The read cache of users' profiles, item states and candidates and of document records (`ReadCache`),
   * checked against the store's generation of the user at every read. Default 1,000 users, 50,000
   * documents, clocks of processes sharing the store within 1,000 ms.
   */
  readCache?: Partial<ReadCacheOptions>;
  clock?: () => number;
  logger?: Logger;
}

interface TenantState {
  duplicates: NearDuplicateIndex;
  engagement: EngagementIndex;
  /** New candidates per user since the last pruning. */
  sincePrune: Map<string, number>;
}

type Listener = (item: FeedItem) => void;

/**
 * The personalised feed of every analyst of every tenant: profiles in, documents matched on arrival,
 * feeds ranked on read, feedback learned from. All state lives in the {@link FeedStore}; the near-duplicate
 * and engagement indexes are rebuilt from it on first use of a tenant.
 */
export class Feed {
  readonly #store: FeedStore;
  readonly #options: FeedOptions;
  readonly #ranking: RankingOptions;
  readonly #learning: LearningOptions;
  readonly #diversity: DiversityOptions;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #tenants = new Map<string, Promise<TenantState>>();
  readonly #rankers = new Map<string, Ranker>();
  /** Every profile of a tenant, for the collaborative features (see `#peers`). */
  readonly #peerCache = new Map<string, { profiles: Promise<Profile[]>; loadedAt: number }>();
  /** The latest stored model per tenant, as last looked up (see `#rankerFor`). */
  readonly #stored = new Map<string, { ranker: Ranker; checkedAt: number }>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #cache: ReadCache;
  #defaultRanker: Ranker;

  constructor(options: FeedOptions) {
    this.#store = options.store;
    this.#options = options;
    this.#ranking = { ...defaultRankingOptions, ...options.ranking };
    this.#learning = { ...defaultLearningOptions, ...options.learning };
    this.#diversity = { ...defaultDiversity, ...options.diversity };
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#defaultRanker = options.ranker ?? presetRanker("hybrid+feedback+collab");
    this.#cache = new ReadCache(
      this.#store,
      {
        maxUsers: 1_000,
        maxDocuments: 50_000,
        clockSkewMs: 1_000,
        ...options.readCache,
      },
      this.#clock,
    );
  }

  // ---- profiles ----

  /**
   * Creates or replaces an analyst's stated profile (`input` as `profileInputSchema`; bad input:
   * `ValidationError`). Learned state survives a replacement (centroids of removed saved queries go). A
   * new profile is backfilled from the existing corpus.
   */
  async putProfile(tenant: string, user: string, input: unknown, signal?: AbortSignal): Promise<Profile> {
    const stated = parseInput(profileInputSchema, input, "profile");
    const now = this.#clock();
    const previous = await this.#store.getProfile(tenant, user);
    const savedQueries = await this.#embedQueries(stated, signal);
    const base: Profile = previous ?? {
      tenant,
      user,
      savedQueries: [],
      coverage: null,
      collections: [],
      mutes: { sources: [], tags: [], documents: [] },
      learned: { centroids: [], saved: [], avoided: [] },
      createdAt: now,
      updatedAt: now,
      version: 0,
    };
    const profile: Profile = {
      ...base,
      savedQueries,
      coverage: stated.coverage ?? null,
      collections: [...new Set(stated.collections)],
      mutes: { ...stated.mutes, documents: stated.mutes.documents.map(documentKey) },
      learned: syncQueryCentroids(base.learned, savedQueries, now, this.#learning),
      updatedAt: now,
      version: base.version + 1,
    };
    await this.#store.putProfile(profile);
    this.#peerCache.delete(tenant);
    if (previous === undefined) await this.#backfill(profile, signal);
    return profile;
  }

  /** The stored profile, read from the store (what a read-modify-write starts from). Unknown: `NotFoundError`. */
  async getProfile(tenant: string, user: string): Promise<Profile> {
    return found(await this.#store.getProfile(tenant, user), user);
  }

  /** What a feed read ranks with, from the read cache. Unknown user: `NotFoundError`. */
  async #userForRead(tenant: string, user: string): Promise<UserState & { profile: Profile }> {
    const state = await this.#cache.user(tenant, user);
    return { ...state, profile: found(state.profile, user) };
  }

  async deleteProfile(tenant: string, user: string): Promise<boolean> {
    const deleted = await this.#store.deleteProfile(tenant, user);
    this.#peerCache.delete(tenant);
    (await this.#tenant(tenant)).engagement.forget(user);
    return deleted;
  }

  async #embedQueries(stated: ProfileInput, signal: AbortSignal | undefined) {
    const queries = stated.savedQueries.map((q, i) => ({ id: q.id ?? `q${i + 1}`, text: q.text }));
    const duplicate = queries.find((q, i) => queries.findIndex((o) => o.id === q.id) !== i);
    if (duplicate !== undefined) {
      throw new ValidationError("invalid profile", [
        { path: "savedQueries", message: `duplicate id '${duplicate.id}'` },
      ]);
    }
    const embedder = this.#options.embedder;
    if (embedder === undefined || queries.length === 0) return queries;
    const { embeddings } = await embedder.embed({ texts: queries.map((q) => q.text), kind: "query", signal });
    return queries.map((q, i) => ({ ...q, vector: embeddings[i]! }));
  }

  async #backfill(profile: Profile, signal: AbortSignal | undefined): Promise<void> {
    const search = this.#options.backfill;
    if (search === undefined) return;
    const limit = this.#options.backfillPerQuery ?? 50;
    const found = new Map<string, FeedDocument>();
    for (const collection of profile.collections) {
      const queries = profile.savedQueries.length > 0 ? profile.savedQueries.map((q) => q.text) : [];
      for (const query of queries) {
        const documents = await search.search({
          tenant: profile.tenant,
          collection,
          query,
          filter: profile.coverage,
          limit,
          signal,
        });
        for (const document of documents) found.set(documentKey(document), document);
      }
    }
    await this.#matchAgainst([...found.values()], [profile], profile.tenant, false);
  }

  // ---- arrivals ----

  /** Applies one committed change: upserted documents are matched against every following profile. */
  async applyChanges(change: FeedChange): Promise<ChangeResult> {
    const state = await this.#tenant(change.tenant);
    let removed = 0;
    for (const ref of change.removed) {
      state.duplicates.remove(documentKey(ref));
      await this.#store.removeDocument(change.tenant, ref);
      this.#cache.forgetDocument(change.tenant, ref);
      removed += (await this.#store.removeCandidates(change.tenant, ref)).length;
    }
    const byCollection = new Map<string, Profile[]>();
    const matchMs: number[] = [];
    let candidates = 0;
    const fresh = await this.#withoutKnownVersions(change);
    for (const document of fresh) {
      const started = performance.now();
      let profiles = byCollection.get(document.collection);
      if (profiles === undefined) {
        profiles = await this.#store.listProfiles(change.tenant, { collection: document.collection });
        byCollection.set(document.collection, profiles);
      }
      await this.#store.removeCandidates(change.tenant, document);
      candidates += await this.#matchAgainst([document], profiles, change.tenant, true);
      matchMs.push(performance.now() - started);
    }
    const unchanged = change.upserted.length - fresh.length;
    return { candidates, unchanged, matchMs, removed };
  }

  /** The change's upserts minus those whose version the feed already holds (one store read). */
  async #withoutKnownVersions(change: FeedChange): Promise<readonly FeedDocument[]> {
    for (const document of change.upserted) {
      if (document.tenant !== change.tenant) {
        throw new ValidationError("document of another tenant in a change", [
          { path: "upserted.tenant", message: "must be the change's tenant" },
        ]);
      }
    }
    const versioned = change.upserted.filter((document) => document.version !== undefined);
    if (versioned.length === 0) return change.upserted;
    const held = await this.#store.getDocuments(change.tenant, versioned);
    return change.upserted.filter(
      (document) =>
        document.version === undefined || held.get(documentKey(document))?.version !== document.version,
    );
  }

  /** The tenant's documents the feed holds a record of, by (collection, documentId): what a catch-up diffs. */
  async heldDocuments(tenant: string): Promise<DocumentRef[]> {
    const records = await this.#store.listDocuments(tenant);
    return records.map(({ collection, documentId }) => ({ collection, documentId }));
  }

  /**
   * Registers the documents (cluster, record) and writes their candidates for `profiles`. `arrived`: the
   * document is new or changed (it is clustered afresh); else (backfill) a known document keeps its cluster.
   */
  async #matchAgainst(
    documents: readonly FeedDocument[],
    profiles: readonly Profile[],
    tenant: string,
    arrived: boolean,
  ) {
    const state = await this.#tenant(tenant);
    // Arrivals are written one document at a time (each is in the feed as soon as it is matched); a
    // backfill's candidates are written together at the end.
    const pending: Candidate[] = [];
    let written = 0;
    for (const document of documents) {
      const corpus = this.#options.corpora.corpus(tenant, document.collection);
      if (corpus === undefined) {
        this.#logger.warn("feed: no lexical statistics for the collection; document not matched", {
          tenant,
          collection: document.collection,
        });
        continue;
      }
      const clusterId = await this.#register(state, tenant, document, arrived);
      const now = this.#clock();
      const matched = profiles
        .map((profile) => matchDocument(profile, document, corpus, clusterId, now, this.#options.match))
        .filter((c): c is Candidate => c !== null);
      if (arrived) await this.#writeCandidates(state, matched);
      else pending.push(...matched);
      written += matched.length;
    }
    await this.#writeCandidates(state, pending);
    return written;
  }

  /**
   * The document's cluster, its record stored. A new or changed document is clustered afresh; a document
   * the feed already holds, met again by a backfill, keeps its cluster and its stored record.
   */
  async #register(state: TenantState, tenant: string, document: FeedDocument, arrived: boolean) {
    const key = documentKey(document);
    const known = state.duplicates.clusterOf(key);
    if (!arrived && known !== undefined) return known;
    const signature = state.duplicates.signature(document.text);
    const { clusterId } = state.duplicates.add(key, signature);
    await this.#store.putDocument({
      tenant,
      collection: document.collection,
      documentId: document.documentId,
      clusterId,
      title: document.title,
      source: document.source,
      publishedAt: document.publishedAt,
      signature,
      embedding: document.embedding,
      ...(document.version === undefined ? {} : { version: document.version }),
    });
    this.#cache.forgetDocument(tenant, document);
    return clusterId;
  }

  async #writeCandidates(state: TenantState, candidates: readonly Candidate[]): Promise<void> {
    if (candidates.length === 0) return;
    await this.#store.putCandidates(candidates);
    for (const candidate of candidates) await this.#afterCandidate(state, candidate);
  }

  async #afterCandidate(state: TenantState, candidate: Candidate): Promise<void> {
    const cap = this.#options.maxCandidatesPerUser ?? 1000;
    const count = (state.sincePrune.get(candidate.user) ?? 0) + 1;
    state.sincePrune.set(candidate.user, count);
    if (count >= Math.max(1, Math.ceil(cap / 10))) {
      state.sincePrune.set(candidate.user, 0);
      await this.#prune(candidate.tenant, candidate.user, cap);
    }
    const listeners = this.#listeners.get(`${candidate.tenant}\u0000${candidate.user}`);
    if (listeners === undefined || listeners.size === 0) return;
    const item = await this.#itemFor(candidate);
    if (item !== null) for (const listener of listeners) listener(item);
  }

  async #prune(tenant: string, user: string, cap: number): Promise<void> {
    const all = await this.#store.listCandidates(tenant, user);
    if (all.length <= cap) return;
    const weakest = [...all]
      .sort((a, b) => statedRelevance(a.match) - statedRelevance(b.match) || a.publishedAt - b.publishedAt)
      .slice(0, all.length - cap);
    await this.#store.removeUserCandidates(tenant, user, weakest);
  }

  // ---- reading ----

  /**
   * The analyst's ranked feed, `limit` items (1–200) from `cursor`. Logs the page as a served feed (its
   * request id, positions and features) so that events can answer it. Unknown user: `NotFoundError`.
   */
  async read(
    tenant: string,
    user: string,
    options: { limit?: number; cursor?: string | null; withRanking?: boolean } = {},
  ): Promise<FeedPage> {
    const limit = options.limit ?? 20;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 200)) {
      throw new ValidationError("invalid feed request", [
        { path: "limit", message: "must be an integer from 1 to 200" },
      ]);
    }
    const { asOf, offset } = decodeCursor(options.cursor ?? null, this.#clock());
    const state = await this.#userForRead(tenant, user);
    const ranker = await this.#rankerFor(tenant);
    const { items } = await this.#rank(state, ranker, asOf);
    const page = items.slice(offset, offset + limit);
    const requestId = randomUUID();
    const served: ServedFeed = {
      tenant,
      user,
      requestId,
      at: asOf,
      ranker: ranker.id,
      items: page.map((item, i) => ({
        itemId: item.itemId,
        documentKey: `${item.collection}/${item.documentId}`,
        position: offset + i + 1,
        score: item.score,
        features: item.features,
      })),
    };
    await this.#store.appendServed(served);
    const next = offset + page.length;
    return {
      requestId,
      ranker: ranker.id,
      asOf,
      items: page,
      offset,
      nextCursor: next < items.length ? encodeCursor(asOf, next) : null,
      ...(options.withRanking === true ? { ranking: items } : {}),
    };
  }

  /** Scores every candidate of a user at `asOf` and assembles the feed. */
  async #rank(user: UserState & { profile: Profile }, ranker: Ranker, asOf: number) {
    const { profile, states, candidates } = user;
    const { tenant } = profile;
    const [peers, state] = await Promise.all([this.#peers(tenant), this.#tenant(tenant)]);
    const records = await this.#cache.records(tenant, candidates);
    const view = new CollaborativeView(profile, peers, state.engagement);
    const scored: ScoredCandidate[] = candidates.map((candidate) => {
      const features = computeFeatures(
        profile,
        candidate,
        records.get(documentKey(candidate)),
        view.signal(candidate.clusterId),
        asOf,
        this.#ranking,
      );
      return { candidate, features, ranked: ranker.score(features) };
    });
    return { items: assembleFeed(scored, profile, states, this.#diversity), scored, records, view };
  }

  /** Why an item is in the feed, with every feature's contribution. Unknown user or item: `NotFoundError`. */
  async why(tenant: string, user: string, itemId: string): Promise<Explanation> {
    const state = await this.#userForRead(tenant, user);
    const { profile } = state;
    const ranker = await this.#rankerFor(tenant);
    const { items, scored, records, view } = await this.#rank(state, ranker, this.#clock());
    const item = items.find((i) => i.itemId === itemId);
    if (item === undefined) throw new NotFoundError("feed item", itemId);
    const entry = scored.find((s) => documentKey(s.candidate) === item.members[0])!;
    return explain({
      profile,
      item,
      candidate: entry.candidate,
      record: records.get(documentKey(entry.candidate)),
      ranked: entry.ranked,
      ranker: ranker.id,
      collaborative: view.signal(itemId),
    });
  }

  /** Calls `listener` with each new item as soon as matching writes it for the analyst. Returns unsubscribe. */
  subscribe(tenant: string, user: string, listener: Listener): () => void {
    const key = `${tenant}\u0000${user}`;
    const listeners = getOrCreate(this.#listeners, key, () => new Set<Listener>());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async #itemFor(candidate: Candidate): Promise<FeedItem | null> {
    const state = await this.#cache.user(candidate.tenant, candidate.user);
    const { profile } = state;
    if (profile === undefined) return null;
    const ranker = await this.#rankerFor(candidate.tenant);
    const { items } = await this.#rank({ ...state, profile }, ranker, this.#clock());
    return items.find((item) => item.itemId === candidate.clusterId) ?? null;
  }

  // ---- feedback ----

  /**
   * Records a batch of events (`{events: [...]}` as `feedEventsInputSchema`): validated, resolved against the
   * analyst's own items (else `ValidationError` naming `events.N.field`), logged, then applied: item states
   * (a read reads the whole cluster), the profile's learned state, mutes, the engagement index.
   */
  async recordEvents(tenant: string, user: string, input: unknown): Promise<{ accepted: number }> {
    const { events: inputs } = parseInput(feedEventsInputSchema, input, "events");
    let profile = await this.getProfile(tenant, user);
    const resolved = await resolveEvents(this.#store, profile, inputs, this.#clock());
    await this.#store.appendEvents(resolved.map((r) => r.event));
    const records = await this.#store.getDocuments(
      tenant,
      resolved.map((r) => r.candidate),
    );
    const states = await this.#store.getItemStates(tenant, user);
    const state = await this.#tenant(tenant);
    const original = profile;
    for (const entry of resolved) {
      const next = nextItemState(states.get(entry.event.itemId), entry.event);
      states.set(entry.event.itemId, next);
      await this.#store.putItemState(tenant, user, entry.event.itemId, next);
      const vector = records.get(entry.event.documentKey)?.embedding ?? null;
      profile = profileAfter(profile, entry, vector, this.#learning);
      recordEngagement(state.engagement, entry.event, this.#learning);
    }
    if (profile !== original) {
      await this.#store.putProfile({ ...profile, updatedAt: this.#clock(), version: profile.version + 1 });
    }
    return { accepted: resolved.length };
  }

  // ---- learned ranker ----

  /** Training groups from the tenant's logs (served feeds joined with their events). */
  async trainingGroups(tenant: string, since?: number): Promise<TrainingGroup[]> {
    const window = since === undefined ? {} : { since };
    const [served, events] = await Promise.all([
      this.#store.listServed(tenant, window),
      this.#store.listEvents(tenant, window),
    ]);
    return buildTrainingGroups(served, events, this.#learning);
  }

  /**
   * Trains a ranker from the logs (default: the TypeScript pairwise model), stores it as a new version of
   * `name` and, with `activate`, serves the tenant's feeds with it from now on.
   */
  async train(
    tenant: string,
    options: {
      name?: string;
      activate?: boolean;
      trainer?: (groups: TrainingGroup[]) => Promise<SerializedModel>;
    } = {},
  ): Promise<{ version: number; model: RankingModel }> {
    const name = options.name ?? "default";
    const groups = await this.trainingGroups(tenant);
    const serialized =
      options.trainer === undefined
        ? trainPairwiseLinear(groups, { trainedAt: this.#clock() })
        : await options.trainer(groups);
    const stored = await this.#store.saveModel(tenant, name, serialized, this.#clock());
    const model = loadModel(stored.model, `model:${name}@${stored.version}`);
    if (options.activate ?? true) this.#rankers.set(tenant, model);
    return { version: stored.version, model };
  }

  /** Serves a tenant with a stored model version (latest without `version`). */
  async activateModel(tenant: string, name: string, version?: number): Promise<RankingModel> {
    const stored = await this.#store.getModel(tenant, name, version);
    if (stored === undefined)
      throw new NotFoundError("model", version === undefined ? name : `${name}@${version}`);
    const model = loadModel(stored.model, `model:${name}@${stored.version}`);
    this.#rankers.set(tenant, model);
    return model;
  }

  /**
   * A tenant's ranker: a model activated in this process, else the latest stored version of the served
   * model name (so a model trained by another process, `sift feed train`, is picked up within
   * `modelRefreshMs`), else the default ranker.
   */
  async #rankerFor(tenant: string): Promise<Ranker> {
    const pinned = this.#rankers.get(tenant);
    if (pinned !== undefined) return pinned;
    const now = performance.now();
    const cached = this.#stored.get(tenant);
    if (cached !== undefined && now - cached.checkedAt < (this.#options.modelRefreshMs ?? 5000)) {
      return cached.ranker;
    }
    const name = this.#options.servedModel ?? "default";
    const stored = await this.#store.getModel(tenant, name);
    const ranker =
      stored === undefined
        ? this.#defaultRanker
        : cached !== undefined && cached.ranker.id === `model:${name}@${stored.version}`
          ? cached.ranker
          : loadModel(stored.model, `model:${name}@${stored.version}`);
    this.#stored.set(tenant, { ranker, checkedAt: now });
    return ranker;
  }

  // ---- per-tenant indexes ----

  /**
   * The tenant's profiles as peers: read once per `peerRefreshMs` (a feed read would otherwise decode every
   * profile of the tenant). Peers contribute only stated parts (coverage, saved queries), which change on
   * `putProfile`, and that drops the cache.
   */
  #peers(tenant: string): Promise<Profile[]> {
    const now = performance.now();
    const cached = this.#peerCache.get(tenant);
    if (cached !== undefined && now - cached.loadedAt < (this.#options.peerRefreshMs ?? 5000)) {
      return cached.profiles;
    }
    const profiles = this.#store.listProfiles(tenant);
    this.#peerCache.set(tenant, { profiles, loadedAt: now });
    profiles.catch(() => this.#peerCache.delete(tenant));
    return profiles;
  }

  #tenant(tenant: string): Promise<TenantState> {
    let state = this.#tenants.get(tenant);
    if (state === undefined) {
      state = this.#loadTenant(tenant);
      this.#tenants.set(tenant, state);
    }
    return state;
  }

  async #loadTenant(tenant: string): Promise<TenantState> {
    const duplicates = new NearDuplicateIndex(this.#options.nearDuplicates);
    for (const record of await this.#store.listDocuments(tenant)) {
      duplicates.add(documentKey(record), record.signature, record.clusterId);
    }
    const engagement = new EngagementIndex();
    for (const event of await this.#store.listEvents(tenant))
      recordEngagement(engagement, event, this.#learning);
    return { duplicates, engagement, sincePrune: new Map() };
  }
}

function encodeCursor(asOf: number, offset: number): string {
  return Buffer.from(JSON.stringify({ asOf, offset }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string | null, now: number): { asOf: number; offset: number } {
  if (cursor === null) return { asOf: now, offset: 0 };
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      asOf?: unknown;
      offset?: unknown;
    };
    if (Number.isFinite(value.asOf) && Number.isInteger(value.offset) && (value.offset as number) >= 0) {
      return { asOf: value.asOf as number, offset: value.offset as number };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError("invalid feed request", [
    { path: "cursor", message: "not a cursor this feed returned" },
  ]);
}

function found(profile: Profile | undefined, user: string): Profile {
  if (profile === undefined) throw new NotFoundError("user", user);
  return profile;
}
