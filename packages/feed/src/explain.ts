import type { CollaborativeSignal } from "./collaborative";
import type { FeedDocumentRecord } from "./feed-store";
import { nearestCentroid } from "./learning";
import type { RankedScore } from "./ranking";
import type { Candidate, FeatureName, FeatureVector, FeedItem, Profile } from "./types";
import { dot } from "./vectors";

/** Why an item is in an analyst's feed: every part of its score, in words and in numbers. */
export interface Explanation {
  itemId: string;
  documentKey: string;
  title: string;
  score: number;
  ranker: string;
  features: FeatureVector;
  /** Each feature's additive share of `score` (they sum to it, plus a model's bias if any). */
  contributions: Partial<Record<FeatureName, number>>;
  matchedQuery: { queryId: string; text: string; terms: string[]; bm25: number } | null;
  nearestQuery: { queryId: string; text: string; cosine: number } | null;
  nearestCentroid: { centroidId: string; origin: string; cosine: number } | null;
  nearestSaved: { documentKey: string; title: string; cosine: number } | null;
  collaborative: { peers: number; coEngagement: number; coRead: number; coReadWith: string | null } | null;
  alsoFrom: string[];
  /** The same, as sentences for a person (the largest contributions first). */
  reasons: string[];
}

export interface ExplainInputs {
  profile: Profile;
  item: FeedItem;
  candidate: Candidate;
  record: FeedDocumentRecord | undefined;
  ranked: RankedScore;
  ranker: string;
  collaborative: CollaborativeSignal | null;
}

export function explain(inputs: ExplainInputs): Explanation {
  const { profile, item, candidate, record, ranked, collaborative } = inputs;
  const queryText = (id: string) => profile.savedQueries.find((q) => q.id === id)?.text ?? "";
  const embedding = record?.embedding ?? null;
  const centroid = embedding === null ? null : nearestCentroid(profile.learned, embedding);
  let nearestSaved: Explanation["nearestSaved"] = null;
  if (embedding !== null) {
    for (const saved of profile.learned.saved) {
      if (saved.vector.length !== embedding.length) continue;
      const cosine = dot(saved.vector, embedding);
      if (nearestSaved === null || cosine > nearestSaved.cosine) {
        nearestSaved = { documentKey: saved.documentKey, title: saved.title, cosine };
      }
    }
  }
  const explanation: Explanation = {
    itemId: item.itemId,
    documentKey: `${candidate.collection}/${candidate.documentId}`,
    title: candidate.title,
    score: ranked.score,
    ranker: inputs.ranker,
    features: item.features,
    contributions: ranked.contributions,
    matchedQuery:
      candidate.bestQuery === null
        ? null
        : {
            queryId: candidate.bestQuery.queryId,
            text: queryText(candidate.bestQuery.queryId),
            terms: candidate.bestQuery.terms,
            bm25: candidate.bestQuery.score,
          },
    nearestQuery:
      candidate.nearestQuery === null
        ? null
        : { ...candidate.nearestQuery, text: queryText(candidate.nearestQuery.queryId) },
    nearestCentroid:
      centroid === null
        ? null
        : {
            centroidId: centroid.centroid.id,
            origin:
              centroid.centroid.origin.kind === "query"
                ? `saved query ${centroid.centroid.origin.queryId}`
                : `feedback on ${centroid.centroid.origin.documentKey}`,
            cosine: centroid.cosine,
          },
    nearestSaved,
    collaborative:
      collaborative === null
        ? null
        : {
            peers: collaborative.peers,
            coEngagement: collaborative.coEngagement,
            coRead: collaborative.coRead,
            coReadWith: collaborative.coReadWith,
          },
    alsoFrom: item.alsoFrom,
    reasons: [],
  };
  explanation.reasons = sentences(explanation);
  return explanation;
}

function sentences(e: Explanation): string[] {
  const reasons: string[] = [];
  if (e.matchedQuery !== null) {
    reasons.push(`matches your saved query "${e.matchedQuery.text}" on ${e.matchedQuery.terms.join(", ")}`);
  }
  if (e.nearestCentroid !== null) {
    reasons.push(
      `near your interest (${e.nearestCentroid.origin}), cosine ${e.nearestCentroid.cosine.toFixed(2)}`,
    );
  }
  if (e.nearestSaved !== null) {
    reasons.push(
      `closest to "${e.nearestSaved.title}", which you saved (cosine ${e.nearestSaved.cosine.toFixed(2)})`,
    );
  }
  if (e.collaborative !== null && e.collaborative.peers > 0) {
    const n = e.collaborative.peers;
    reasons.push(`${n} analyst${n === 1 ? "" : "s"} who cover the same names read this`);
  }
  if (e.collaborative?.coReadWith) reasons.push(`often read together with ${e.collaborative.coReadWith}`);
  if (e.alsoFrom.length > 0) {
    reasons.push(
      `also from ${e.alsoFrom.length} source${e.alsoFrom.length === 1 ? "" : "s"}: ${e.alsoFrom.join(", ")}`,
    );
  }
  const parts = (Object.entries(e.contributions) as Array<[FeatureName, number]>)
    .filter(([, v]) => v !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .map(([f, v]) => `${f} ${v >= 0 ? "+" : ""}${v.toFixed(3)}`);
  reasons.push(`score ${e.score.toFixed(3)} (${e.ranker}): ${parts.join(", ")}`);
  return reasons;
}
