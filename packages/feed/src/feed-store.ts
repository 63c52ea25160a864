import type { Candidate, DocumentRef, FeedEvent, Profile, ServedFeed } from "./types";

/** What the feed keeps of a matched document: its cluster, and what read-time features need. */
export interface FeedDocumentRecord {
  tenant: string;
  collection: string;
  documentId: string;
  clusterId: string;
  title: string;
  source: string | null;
  publishedAt: number;
  /** MinHash signature (see `NearDuplicateIndex`), so the index can be rebuilt from the store. */
  signature: Uint32Array;
  embedding: Float32Array | null;
  /**
   * The document's version as the feed applied it (the catalog passes its highest chunk id: a rewrite always
   * makes new chunks), so a change met twice is applied once. Absent in records written before it existed.
   */
  version?: number;
}

/** An analyst's state of one item (cluster): read once any copy was opened, and so on. */
export interface ItemState {
  read: boolean;
  saved: boolean;
  dismissed: boolean;
  updatedAt: number;
}

/** A trained ranking model as stored: versions count from 1 per (tenant, name). */
export interface StoredModel {
  tenant: string;
  name: string;
  version: number;
  createdAt: number;
  /** The serialised model (see `serializeModel`); opaque to the store. */
  model: unknown;
}

/**
 * The feed's persistence. Phase 2 adds the Postgres/PGlite implementation; {@link MemoryFeedStore} is the
 * in-memory one. Both pass `feedStoreContract`.
 *
 * - Every method is scoped by tenant: nothing of one tenant is visible through another.
 * - Writes are whole-record upserts keyed as documented; reads return copies the caller may not mutate back.
 * - Lists are ordered as documented (so the contract can check them), never by insertion accident.
 */
export interface FeedStore {
  getProfile(tenant: string, user: string): Promise<Profile | undefined>;
  /** Upserts by (tenant, user). */
  putProfile(profile: Profile): Promise<void>;
  /** Deletes the profile and everything of that user: candidates, item states, events, served feeds. */
  deleteProfile(tenant: string, user: string): Promise<boolean>;
  /** Profiles of a tenant by user id ascending; with `collection`, only those following it. */
  listProfiles(tenant: string, options?: { collection?: string }): Promise<Profile[]>;

  /** Upserts by (tenant, user, collection, documentId). */
  putCandidates(candidates: readonly Candidate[]): Promise<void>;
  /** Removes one document's candidates (every user, or only `users`); returns the users that had one. */
  removeCandidates(tenant: string, ref: DocumentRef, users?: readonly string[]): Promise<string[]>;
  /** Removes one user's candidates of `refs` in one transaction (a pool pruned to its cap); returns how many. */
  removeUserCandidates(tenant: string, user: string, refs: readonly DocumentRef[]): Promise<number>;
  /** A user's candidates, by (collection, documentId) ascending. */
  listCandidates(tenant: string, user: string): Promise<Candidate[]>;

  /** Upserts by (tenant, collection, documentId). */
  putDocument(record: FeedDocumentRecord): Promise<void>;
  getDocuments(tenant: string, refs: readonly DocumentRef[]): Promise<Map<string, FeedDocumentRecord>>;
  removeDocument(tenant: string, ref: DocumentRef): Promise<boolean>;
  /** Every document of a tenant (rebuilding the near-duplicate index), by (collection, documentId). */
  listDocuments(tenant: string): Promise<FeedDocumentRecord[]>;

  /** Appends; events are never updated. */
  appendEvents(events: readonly FeedEvent[]): Promise<void>;
  /** Events by `at` ascending (ties: append order); `since` inclusive. */
  listEvents(tenant: string, options?: { user?: string; since?: number }): Promise<FeedEvent[]>;
  appendServed(served: ServedFeed): Promise<void>;
  getServed(tenant: string, requestId: string): Promise<ServedFeed | undefined>;
  /** Served feeds by `at` ascending; `since` inclusive. */
  listServed(tenant: string, options?: { user?: string; since?: number }): Promise<ServedFeed[]>;

  /**
   * A number that grows with every write to the user's profile, item states or candidates, by any process
   * (0 before the first), committed with the write: what a reader's cache compares instead of re-reading them
   * (docs/adr/0021). Deleting a profile raises it too; it never goes back.
   */
  getUserGeneration(tenant: string, user: string): Promise<number>;

  /** Item states of a user keyed by item id. */
  getItemStates(tenant: string, user: string): Promise<Map<string, ItemState>>;
  putItemState(tenant: string, user: string, itemId: string, state: ItemState): Promise<void>;

  /** Stores a new version (previous version + 1, from 1) and returns it. */
  saveModel(tenant: string, name: string, model: unknown, createdAt: number): Promise<StoredModel>;
  /** A version, or the latest without `version`. */
  getModel(tenant: string, name: string, version?: number): Promise<StoredModel | undefined>;
  /** Versions of a model, ascending. */
  listModels(tenant: string, name: string): Promise<StoredModel[]>;

  /**
   * How far the feed has applied a collection's changes: every chunk with an id at most this has reached the
   * feed (chunk ids only grow, docs/adr/0021). `undefined`: the feed has never watched the collection.
   */
  getCursor(tenant: string, collection: string): Promise<number | undefined>;
  /** Moves the cursor to `chunkId` unless it is already further (it never moves back). */
  advanceCursor(tenant: string, collection: string, chunkId: number): Promise<void>;
}
