/**
 * The Sift HTTP API's wire shapes, as the README's "HTTP API" section documents them. Hand-written; the
 * feed's and the access routes' types are held to `/openapi.json`'s component schemas, property by
 * property, by services/api/src/client-types.test.ts (add a type there when it names a component).
 * Fields the client does not know pass through untouched: the service may add fields, never change their
 * meaning.
 */

export type SearchMode = "bm25" | "dense" | "hybrid";
export type FusionMethod = "rrf" | "minmax" | "zscore" | "dbsf";
export type Leg = "bm25" | "dense";
export type Scalar = string | number | boolean | null;
export type JsonValue = Scalar | JsonValue[] | { [key: string]: JsonValue };

/** A metadata filter (README, "Search"): conditions on dotted `metadata` paths, combined with and/or/not. */
export type Filter =
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter }
  | { field: string; eq: Scalar }
  | { field: string; in: Scalar[] }
  | {
      field: string;
      gt?: number | string;
      gte?: number | string;
      lt?: number | string;
      lte?: number | string;
    };

export interface SearchRequest {
  /** 1–4096 characters. */
  query: string;
  /** Hits to return, 1–200 (default 10). */
  k?: number;
  offset?: number;
  filter?: Filter;
  /** Default `hybrid` when the service has an embedding model, else `bm25`. */
  mode?: SearchMode;
  fusion?: {
    method?: FusionMethod;
    rrfK?: number;
    weights?: { bm25?: number; dense?: number };
    candidates?: number;
  };
  rerank?: boolean;
}

/** How one retrieval leg saw a hit. `normalized` and `contribution` are present on fused hits only. */
export interface LegScore {
  /** 1-based rank within the leg. */
  rank: number;
  /** The leg's raw score (BM25, or cosine similarity for `dense`); higher is better. */
  score: number;
  normalized?: number;
  /** This leg's share of the fused `score`; the legs' contributions add up to it. */
  contribution?: number;
}

export interface Snippet {
  text: string;
  /** Matched query terms as [start, end) offsets into `text`. */
  highlights: Array<[number, number]>;
  /** The same text as HTML: escaped, matches in `<mark>`. */
  html: string;
  /** Where `text` lies in the document's text (UTF-16 offsets). */
  charStart: number;
  charEnd: number;
}

export interface SearchHit {
  documentId: string;
  chunkId: number;
  title: string | null;
  headingPath: string[];
  /** The chunk's [start, end) in the document's `text`, UTF-16 offsets. */
  charStart: number;
  charEnd: number;
  snippet: Snippet;
  /** Higher is better; its meaning is given by `scoreKind` (`bm25`, `cosine`, `fused:<method>`, `rerank…`). */
  score: number;
  scoreKind: string;
  legs: Partial<Record<Leg, LegScore>>;
  rerank?: { rank: number; score: number; firstStageRank: number };
  metadata: Record<string, JsonValue>;
}

export interface SearchResponse {
  query: string;
  collection: string;
  mode: SearchMode;
  k: number;
  offset: number;
  /** Legs or stages that failed or timed out (e.g. `["dense"]`): the hits are then of lower quality. */
  degraded: string[];
  warnings: string[];
  timings: Record<string, number>;
  hits: SearchHit[];
}

export interface AnswerRequest {
  question: string;
  filter?: Filter;
  mode?: SearchMode;
  rerank?: boolean;
  candidates?: number;
  maxTokens?: number;
}

/** A citation checked after generation: source `n` of the prompt, located in the document's text. */
export interface Citation {
  source: number;
  chunkId: number;
  documentId: string;
  title: string | null;
  /** The cited passage's [start, end) in the document's `text`, UTF-16 offsets. */
  charStart: number;
  charEnd: number;
  occurrences: number;
  /** True on citations attached afterwards by lexical overlap (listed apart, in `inferredCitations`). */
  inferred?: true;
}

export interface AnswerPassage {
  n: number;
  chunkId: number;
  documentId: string;
  title: string | null;
  text: string;
  charStart: number;
  charEnd: number;
  score: number;
  scoreKind: string;
  trimmed: boolean;
}

export interface EvidenceDecision {
  /** False: the best passage scored below the threshold and no generator ran (`no-evidence`). */
  sufficient: boolean;
  reason: string;
  topScore: number | null;
  scoreKind: string | null;
  /** Null when the threshold is minus infinity (every question answered). */
  threshold: number | null;
  /** The score kind the threshold was calibrated on; scores of another kind are not held to it. */
  thresholdScoreKind: string | null;
}

export type AnswerOutcome = "answered" | "no-evidence";

export interface CitedSentence {
  start: number;
  end: number;
  text: string;
  sources: number[];
  cited: boolean;
}

export interface AnswerResponse {
  question: string;
  collection: string;
  mode: SearchMode;
  outcome: AnswerOutcome;
  text: string;
  citations: Citation[];
  inferredCitations: Citation[];
  removedCitations: Array<{ marker: string; source: number; offset: number }>;
  sentences: CitedSentence[];
  uncitedSentences: number;
  passages: AnswerPassage[];
  evidence: EvidenceDecision;
  generator: { id: string; kind: string } | null;
  usage: { promptTokens: number; completionTokens: number };
  timings: Record<string, number | null>;
  degraded: string[];
  warnings: string[];
}

/** One Server-Sent Event of a streamed answer, in the order the service sends them. */
export type AnswerStreamEvent =
  | {
      type: "retrieval";
      passages: AnswerPassage[];
      evidence: EvidenceDecision;
      collection: string;
      mode: SearchMode;
      warnings: string[];
    }
  | { type: "delta"; text: string }
  | {
      type: "citations";
      /** The checked answer text (citations to nothing removed). */
      text: string;
      citations: Citation[];
      inferredCitations: Citation[];
      sentences: CitedSentence[];
      uncitedSentences: number;
      removed: Array<{ marker: string; source: number; offset: number }>;
    }
  | {
      type: "done";
      outcome: AnswerOutcome;
      generator: { id: string; kind: string } | null;
      finishReason: string;
      usage: { promptTokens: number; completionTokens: number };
      timings: Record<string, number | null>;
      degraded: string[];
      evidence: EvidenceDecision;
      warnings: string[];
    }
  | { type: "error"; error: ApiErrorBody };

export interface Collection {
  name: string;
  tenant: string;
  settings: Record<string, JsonValue>;
  createdAt: string;
}

export interface CollectionDetails {
  collection: Collection;
  documents: number;
  indexes: Record<string, JsonValue>;
}

export interface DocumentInput {
  id: string;
  title?: string;
  text: string;
  sourceUri?: string;
  metadata?: Record<string, JsonValue>;
}

export interface DocumentSummary {
  id: string;
  title: string | null;
  sourceUri: string | null;
  metadata: Record<string, JsonValue>;
  contentHash: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface SiftDocument extends DocumentSummary {
  /** The document's text; every `charStart/charEnd` of a hit or citation indexes into it. */
  text: string;
}

export type JobStatus = "running" | "succeeded" | "failed" | "interrupted";

export interface IngestionJob {
  id: number;
  kind: string;
  source: string;
  status: JobStatus;
  counts: {
    created: number;
    updated: number;
    unchanged: number;
    deleted: number;
    skipped: number;
    failed: number;
    chunks: number;
    documentsSeen: number;
  };
  errors: Array<{ documentId?: string; message: string } & Record<string, JsonValue>>;
  timings: Record<string, number>;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** A document of a collection, as the feed names it. */
export interface DocumentRef {
  collection: string;
  documentId: string;
}

/** `PUT /v1/users/{user}` (OpenAPI `ProfileRequest`): the profile as the analyst states it. */
export interface ProfileRequest {
  /** At most 50; `id` (letters, digits, `.`, `_`, `-`) is made up when absent. */
  savedQueries?: Array<{ id?: string; text: string }>;
  /** A metadata filter; absent: everything in the followed collections. */
  coverage?: Filter;
  /** 1–100 collection names. */
  collections: string[];
  mutes?: { sources?: string[]; tags?: string[]; documents?: DocumentRef[] };
}

/** OpenAPI `Profile`: the stated profile with what feedback taught it (without vectors). */
export interface Profile {
  user: string;
  savedQueries: Array<{ id: string; text: string }>;
  coverage?: Filter;
  collections: string[];
  mutes: { sources: string[]; tags: string[]; documents: DocumentRef[] };
  learned: {
    centroids: Array<{
      id: string;
      mass: number;
      updatedAt: string;
      origin: { kind: "query"; queryId: string } | { kind: "feedback"; document: DocumentRef };
    }>;
    saved: Array<{ document: DocumentRef; title: string; savedAt: string }>;
    /** Documents marked "less like this" that the feed keeps away from. */
    avoided: number;
  };
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type FeedFeatureName =
  | "bm25"
  | "queryCosine"
  | "centroid"
  | "coverage"
  | "recency"
  | "sourcePrior"
  | "avoid"
  | "coEngagement"
  | "coRead";

/**
 * OpenAPI `FeedItem`: one story (a near-duplicate cluster) for an analyst; `itemId` is
 * `collection/documentId` of its first member. A `FeedStreamEvent` of type `item` carries this shape.
 */
export interface FeedItem {
  itemId: string;
  collection: string;
  documentId: string;
  title: string;
  source: string | null;
  /** ISO 8601 instant. */
  publishedAt: string;
  score: number;
  features: Record<FeedFeatureName, number>;
  /** Other sources of the same story. */
  alsoFrom: string[];
  /** Every document of the item's cluster. */
  members: DocumentRef[];
}

/** OpenAPI `FeedPage` (`GET /v1/users/{user}/feed`). */
export interface FeedPage {
  /** Pass with impression events, with each item's `position`. */
  requestId: string;
  ranker: string;
  /** ISO 8601 instant the page was ranked at. */
  asOf: string;
  items: Array<FeedItem & { position: number }>;
  /** Pass back as `cursor` for the next page of the same ranking; null on the last. */
  nextCursor: string | null;
}

/** OpenAPI `FeedItemExplanation` (`GET /v1/users/{user}/feed/{itemId}/why`, under `why`). */
export interface FeedItemExplanation {
  itemId: string;
  documentKey: string;
  title: string;
  score: number;
  ranker: string;
  features: Record<FeedFeatureName, number>;
  /** Each feature's share of `score` (they add up to it). */
  contributions: Partial<Record<FeedFeatureName, number>>;
  matchedQuery: { queryId: string; text: string; terms: string[]; bm25: number } | null;
  nearestQuery: { queryId: string; text: string; cosine: number } | null;
  nearestCentroid: { centroidId: string; origin: string; cosine: number } | null;
  nearestSaved: { documentKey: string; title: string; cosine: number } | null;
  collaborative: { peers: number; coEngagement: number; coRead: number; coReadWith: string | null } | null;
  alsoFrom: string[];
  /** The explanation in sentences, largest contributions first. */
  reasons: string[];
}

export type FeedEventType =
  | "impression"
  | "open"
  | "dwell"
  | "save"
  | "dismiss"
  | "mute"
  | "more-like-this"
  | "less-like-this";

/**
 * One event of OpenAPI `FeedEventsRequest`. An `impression` needs `requestId` and `position` (of the read),
 * `dwell` needs `dwellSeconds`, `mute` (and only `mute`) needs `mute`.
 */
export interface FeedEventInput {
  type: FeedEventType;
  /** An item of this analyst's feed. */
  itemId: string;
  /** A member of the item's cluster; default its representative document. */
  document?: DocumentRef;
  requestId?: string;
  position?: number;
  /** ISO 8601; default when the batch is received. */
  at?: string;
  dwellSeconds?: number;
  mute?: { source: string } | { tag: string } | { document: true };
}

/** OpenAPI `FeedEventsAccepted`. */
export interface FeedEventsAccepted {
  accepted: number;
}

/** One Server-Sent Event of `GET /v1/users/{user}/feed/stream`. */
export type FeedStreamEvent =
  | { type: "ready"; user: string; at: string }
  | { type: "item"; id: string | undefined; item: FeedItem };

/** The one error body every endpoint answers with (README, "Errors"). */
export interface ApiErrorBody {
  code: string;
  message: string;
  requestId: string;
  fields?: Array<{ path: string; message: string }>;
}

export type Role = "reader" | "writer" | "admin";

/** `POST /v1/keys`. `filter` scopes a reader key; `user` binds the key to a user (feeds). */
export interface CreateKeyRequest {
  role: Role;
  name?: string;
  filter?: Filter;
  user?: string;
  /** ISO 8601 date-time. */
  expiresAt?: string;
}

/** A key's record, without its secret. */
export interface ApiKey {
  id: string;
  tenant: string;
  role: Role;
  name: string | null;
  filter: Filter | null;
  user: string | null;
  /** The first characters of the key. */
  preview: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEvent {
  at: string;
  /** `key:<id>`, `cli:<user>`, `bootstrap` or `anonymous`. */
  actor: string;
  action: string;
  collection: string | null;
  target: string | null;
  detail: Record<string, JsonValue>;
  requestId: string | null;
}
