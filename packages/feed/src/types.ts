import type { Filter, Metadata } from "@sift/core";

/**
 * The feed's domain. Times are milliseconds since the Unix epoch (UTC) everywhere; vectors are unit-length
 * `Float32Array`s in the collection's embedding space (dot product = cosine).
 */

/** A document of a tenant's collection, named by the caller's (external) id. */
export interface DocumentRef {
  collection: string;
  documentId: string;
}

/** `collection/documentId`: collection names never contain `/`, so the first `/` splits it again. */
export function documentKey(ref: DocumentRef): string {
  return `${ref.collection}/${ref.documentId}`;
}

export function parseDocumentKey(key: string): DocumentRef {
  const slash = key.indexOf("/");
  if (slash <= 0) throw new Error(`not a document key: '${key}'`);
  return { collection: key.slice(0, slash), documentId: key.slice(slash + 1) };
}

/** A stated interest: free text, matched by BM25 against arriving documents and embedded for the dense leg. */
export interface SavedQuery {
  /** Unique within the profile. */
  id: string;
  text: string;
  /** The query's embedding (the embedder's query prefix applied); absent when the feed has no embedder. */
  vector?: Float32Array | undefined;
}

/** What an analyst never wants to see. Mutes hold at match time and again at every read. */
export interface Mutes {
  /** Source names (the document's source field, see {@link FeedDocument.source}). */
  sources: string[];
  /** Tags (any of the document's tags). */
  tags: string[];
  /** Single documents, as `documentKey`s. */
  documents: string[];
}

/**
 * A point of interest in embedding space. A profile starts with one per saved query (at the query's vector);
 * feedback moves the nearest one (Rocchio) or, far from all, starts a new one.
 */
export interface InterestCentroid {
  id: string;
  vector: Float32Array;
  /** Evidence behind the centroid, in event weights, decayed to `updatedAt` (half-life in the learning options). */
  mass: number;
  updatedAt: number;
  /** Where it started: a saved query, or a document the analyst engaged with. */
  origin: { kind: "query"; queryId: string } | { kind: "feedback"; documentKey: string };
}

/** A document the analyst saved, kept (bounded, newest first) to explain "near what you saved". */
export interface SavedDocument {
  documentKey: string;
  title: string;
  vector: Float32Array;
  savedAt: number;
}

/** Learned state: moved by feedback, never by the analyst directly. */
export interface LearnedState {
  centroids: InterestCentroid[];
  saved: SavedDocument[];
  /** Vectors of documents marked "less like this" (bounded, newest first): the `avoid` feature. */
  avoided: Array<{ documentKey: string; vector: Float32Array; at: number }>;
}

/** An analyst (user) of a tenant and what the feed knows about them. */
export interface Profile {
  tenant: string;
  user: string;
  savedQueries: SavedQuery[];
  /** The coverage universe; `null`: everything in the followed collections. */
  coverage: Filter | null;
  /** Collection names followed; a document of another collection is never matched. */
  collections: string[];
  mutes: Mutes;
  learned: LearnedState;
  createdAt: number;
  updatedAt: number;
  /** Grows by one on every write of the profile. */
  version: number;
}

/** One chunk as BM25 sees it: its fields already through the collection's analyzer. */
export interface AnalyzedChunk {
  title: readonly string[];
  body: readonly string[];
}

/**
 * A document as it reaches the feed (added or changed), with everything matching needs and nothing that
 * needs a store round trip: analysed chunks for BM25, the document's embedding, its source and tags.
 */
export interface FeedDocument {
  tenant: string;
  collection: string;
  documentId: string;
  title: string;
  /** The full text; shingled for near-duplicate detection. */
  text: string;
  chunks: AnalyzedChunk[];
  /**
   * The document's embedding: the normalised mean of its chunks' vectors (see `documentEmbedding`);
   * `null` when the collection has none (the dense features are then 0).
   */
  embedding: Float32Array | null;
  /** The publisher; `null` when unknown (no source prior, no source cap, never muted by source). */
  source: string | null;
  tags: string[];
  metadata: Metadata;
  /** When it was published (recency decays from here). */
  publishedAt: number;
  /** When it reached the feed (arrival-to-feed latency is measured from here). */
  arrivedAt: number;
  /**
   * Its version in the catalog (the catalog passes the document's highest chunk id), recorded with it: an
   * upsert of the version the feed already holds is skipped (the same change met twice). Absent: always applied.
   */
  version?: number;
}

/** The features of a (profile, document) pair. Every value is finite; see `featureNames` for each one's range. */
export type FeatureVector = Record<FeatureName, number>;

export const featureNames = [
  "bm25",
  "queryCosine",
  "centroid",
  "coverage",
  "recency",
  "sourcePrior",
  "avoid",
  "coEngagement",
  "coRead",
] as const;
export type FeatureName = (typeof featureNames)[number];

/** The best-matching saved query of a candidate and the analysed terms it shares with the document. */
export interface QueryMatch {
  queryId: string;
  /** Normalised BM25 in [0, 1]: raw score over the query's maximum attainable score. */
  score: number;
  /** Raw BM25F with the collection's statistics. */
  raw: number;
  terms: string[];
}

/** What matching stored for a (profile, document) pair. Read-time features are computed at each read. */
export interface Candidate {
  tenant: string;
  user: string;
  collection: string;
  documentId: string;
  /** The near-duplicate cluster (item id) the document belongs to. */
  clusterId: string;
  title: string;
  source: string | null;
  tags: string[];
  publishedAt: number;
  /** When the candidate was written (matching finished). */
  matchedAt: number;
  /** Match-time features: `bm25`, `queryCosine`, `coverage` (the others are filled at read time). */
  match: { bm25: number; queryCosine: number; coverage: number };
  /** The best saved query by BM25 (absent when no query term occurs in the document). */
  bestQuery: QueryMatch | null;
  /** The saved query nearest in embedding space (absent without vectors). */
  nearestQuery: { queryId: string; cosine: number } | null;
}

/** Feedback kinds. `impression` says an item was seen (request id and position); the others act on it. */
export const feedEventTypes = [
  "impression",
  "open",
  "dwell",
  "save",
  "dismiss",
  "mute",
  "more-like-this",
  "less-like-this",
] as const;
export type FeedEventType = (typeof feedEventTypes)[number];

/** One piece of feedback on one item, as logged. */
export interface FeedEvent {
  tenant: string;
  user: string;
  type: FeedEventType;
  /** The item (cluster id) acted on. */
  itemId: string;
  /** The document of the item that was shown or opened (a member of the cluster). */
  documentKey: string;
  /** The feed read (`ServedFeed.requestId`) the event answers, when known. */
  requestId: string | null;
  /** 1-based position in that read. */
  position: number | null;
  at: number;
  /** `dwell` (and optionally `open`): seconds spent reading. */
  dwellSeconds: number | null;
  /** `mute`: what to mute (the item's source, one of its tags, or the document). */
  mute: { source: string } | { tag: string } | { document: true } | null;
}

/** A feed read as served: logged so that events can be joined to the positions and features shown. */
export interface ServedFeed {
  tenant: string;
  user: string;
  requestId: string;
  at: number;
  /** Which ranker served it (`linear:<name>` or `model:<name>@<version>`). */
  ranker: string;
  items: Array<{
    itemId: string;
    documentKey: string;
    position: number;
    score: number;
    features: FeatureVector;
  }>;
}

/** A ranked feed item: one near-duplicate cluster, shown through its best-scoring member. */
export interface FeedItem {
  itemId: string;
  collection: string;
  documentId: string;
  title: string;
  source: string | null;
  publishedAt: number;
  score: number;
  features: FeatureVector;
  /** Distinct other sources the same story came from. */
  alsoFrom: string[];
  /** Every member of the cluster the analyst may see, as `documentKey`s (the shown one first). */
  members: string[];
}
