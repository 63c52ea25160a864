import type { ItemState } from "./feed-store";
import { getOrCreate } from "./maps";
import { mutedReason } from "./matcher";
import type { RankedScore } from "./ranking";
import type { Candidate, FeatureVector, FeedItem, Profile } from "./types";
import { documentKey } from "./types";

export interface ScoredCandidate {
  candidate: Candidate;
  features: FeatureVector;
  ranked: RankedScore;
}

/**
 * Diversity: at most `perSource` items of one source among the first `window` (default 3 in 10); 0 turns
 * the cap off. Items over the cap move to just after the window, in score order.
 */
export interface DiversityOptions {
  window: number;
  perSource: number;
}

export const defaultDiversity: DiversityOptions = Object.freeze({ window: 10, perSource: 3 });

/**
 * Turns scored candidates into the ranked feed:
 * 1. drops what the analyst muted (source, tag, document: mutes always hold) and items already read or
 *    dismissed (an item is a near-duplicate cluster: once any copy is read, all of it is);
 * 2. one item per cluster, shown through its best-scoring member; the other members' distinct sources
 *    become `alsoFrom`;
 * 3. orders by score (descending), then newer first, then item id;
 * 4. applies the per-source cap to the first window.
 */
export function assembleFeed(
  scored: readonly ScoredCandidate[],
  profile: Profile,
  states: ReadonlyMap<string, ItemState>,
  diversity: DiversityOptions = defaultDiversity,
): FeedItem[] {
  const clusters = new Map<string, ScoredCandidate[]>();
  for (const entry of scored) {
    const { candidate } = entry;
    if (mutedReason(profile, candidate) !== null) continue;
    const state = states.get(candidate.clusterId);
    if (state?.read === true || state?.dismissed === true) continue;
    getOrCreate(clusters, candidate.clusterId, () => []).push(entry);
  }
  const items = [...clusters].map(([itemId, members]) => toItem(itemId, members));
  items.sort(
    (a, b) =>
      b.score - a.score ||
      b.publishedAt - a.publishedAt ||
      (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0),
  );
  return capPerSource(items, diversity);
}

function toItem(itemId: string, members: ScoredCandidate[]): FeedItem {
  members.sort(
    (a, b) =>
      b.ranked.score - a.ranked.score ||
      a.candidate.publishedAt - b.candidate.publishedAt ||
      (documentKey(a.candidate) < documentKey(b.candidate) ? -1 : 1),
  );
  const shown = members[0]!;
  const alsoFrom = [
    ...new Set(
      members
        .slice(1)
        .map((m) => m.candidate.source)
        .filter((s): s is string => s !== null && s !== shown.candidate.source),
    ),
  ].sort();
  return {
    itemId,
    collection: shown.candidate.collection,
    documentId: shown.candidate.documentId,
    title: shown.candidate.title,
    source: shown.candidate.source,
    publishedAt: shown.candidate.publishedAt,
    score: shown.ranked.score,
    features: shown.features,
    alsoFrom,
    members: members.map((m) => documentKey(m.candidate)),
  };
}

/** See {@link DiversityOptions}. Pure; keeps every item. */
export function capPerSource(items: readonly FeedItem[], diversity: DiversityOptions): FeedItem[] {
  if (diversity.perSource <= 0) return [...items];
  const top: FeedItem[] = [];
  const rest: FeedItem[] = [];
  const counts = new Map<string, number>();
  for (const item of items) {
    if (top.length >= diversity.window) {
      rest.push(item);
      continue;
    }
    const count = item.source === null ? 0 : (counts.get(item.source) ?? 0);
    if (item.source !== null && count >= diversity.perSource) {
      rest.push(item);
      continue;
    }
    if (item.source !== null) counts.set(item.source, count + 1);
    top.push(item);
  }
  return [...top, ...rest];
}
