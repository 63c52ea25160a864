import { matchesFilter } from "@sift/core";
import type { FeedCorpus } from "./corpus";
import { type Candidate, documentKey, type FeedDocument, type Profile, type QueryMatch } from "./types";
import { dot } from "./vectors";

/** Why a profile does not take a document, or that it does and with which coverage feature. */
export type Gate =
  | { accepted: true; coverage: 0 | 1 }
  | { accepted: false; reason: "collection" | "coverage" | "muted-source" | "muted-tag" | "muted-document" };

/**
 * Whether a document may reach a profile at all: its collection is followed, its metadata passes the
 * coverage filter (coverage feature 1; a profile without a filter covers everything, feature 0), and no mute
 * applies. Mutes are checked again at every read, so a mute added later holds for old candidates too.
 */
export function gate(
  profile: Profile,
  document: Pick<FeedDocument, "collection" | "documentId" | "source" | "tags" | "metadata">,
): Gate {
  if (!profile.collections.includes(document.collection)) return { accepted: false, reason: "collection" };
  const muted = mutedReason(profile, document);
  if (muted !== null) return { accepted: false, reason: muted };
  if (profile.coverage === null) return { accepted: true, coverage: 0 };
  return matchesFilter(profile.coverage, document.metadata)
    ? { accepted: true, coverage: 1 }
    : { accepted: false, reason: "coverage" };
}

export function mutedReason(
  profile: Profile,
  document: Pick<FeedDocument, "collection" | "documentId" | "source" | "tags">,
): "muted-source" | "muted-tag" | "muted-document" | null {
  const { mutes } = profile;
  if (document.source !== null && mutes.sources.includes(document.source)) return "muted-source";
  if (document.tags.some((tag) => mutes.tags.includes(tag))) return "muted-tag";
  if (mutes.documents.includes(documentKey(document))) return "muted-document";
  return null;
}

/**
 * The best saved query by normalised BM25 (`score / maxScore`), each query scored against every chunk and
 * its best chunk kept (a search hit is a chunk, so is a match). `null` when no query term occurs.
 */
export function bestQueryMatch(
  profile: Profile,
  document: FeedDocument,
  corpus: FeedCorpus,
): QueryMatch | null {
  let best: QueryMatch | null = null;
  for (const query of profile.savedQueries) {
    for (const chunk of document.chunks) {
      const scored = corpus.scoreQuery(query.text, chunk);
      if (!(scored.score > 0 && scored.maxScore > 0)) continue;
      const score = Math.min(1, scored.score / scored.maxScore);
      if (best === null || score > best.score) {
        best = { queryId: query.id, score, raw: scored.score, terms: scored.terms };
      }
    }
  }
  return best;
}

/** The saved query nearest to the document in embedding space; `null` without vectors on either side. */
export function nearestQuery(
  profile: Profile,
  document: FeedDocument,
): { queryId: string; cosine: number } | null {
  if (document.embedding === null) return null;
  let best: { queryId: string; cosine: number } | null = null;
  for (const query of profile.savedQueries) {
    if (query.vector === undefined || query.vector.length !== document.embedding.length) continue;
    const cosine = dot(query.vector, document.embedding);
    if (best === null || cosine > best.cosine) best = { queryId: query.id, cosine };
  }
  return best;
}

/**
 * The stated (day-one) relevance of a match in [0, 1]: the mean of normalised BM25 and the (non-negative)
 * query cosine. Used to admit candidates and, when a user's pool is full, to evict the weakest.
 */
export function statedRelevance(match: Candidate["match"]): number {
  return 0.5 * match.bm25 + 0.5 * Math.max(0, match.queryCosine);
}

export interface MatchOptions {
  /** A candidate needs at least this stated relevance (profiles without saved queries take all). Default 0. */
  minRelevance?: number;
}

/**
 * Scores one document against one profile. Returns the candidate to store, or `null` when the gate refuses
 * the document or its relevance is under `minRelevance`. Pure: the caller stores the result.
 */
export function matchDocument(
  profile: Profile,
  document: FeedDocument,
  corpus: FeedCorpus,
  clusterId: string,
  matchedAt: number,
  options: MatchOptions = {},
): Candidate | null {
  const gated = gate(profile, document);
  if (!gated.accepted) return null;
  const bestQuery = bestQueryMatch(profile, document, corpus);
  const near = nearestQuery(profile, document);
  const match = { bm25: bestQuery?.score ?? 0, queryCosine: near?.cosine ?? 0, coverage: gated.coverage };
  if (profile.savedQueries.length > 0 && statedRelevance(match) < (options.minRelevance ?? 0)) return null;
  return {
    tenant: profile.tenant,
    user: profile.user,
    collection: document.collection,
    documentId: document.documentId,
    clusterId,
    title: document.title,
    source: document.source,
    tags: [...document.tags],
    publishedAt: document.publishedAt,
    matchedAt,
    match,
    bestQuery,
    nearestQuery: near,
  };
}
