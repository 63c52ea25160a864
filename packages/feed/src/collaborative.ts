import type { Filter } from "@sift/core";
import { getOrCreate } from "./maps";
import type { Profile } from "./types";
import { dot } from "./vectors";

/**
 * Who engaged with what, within one tenant: the collaborative signal. It only ever becomes features of
 * candidates that matching produced (never a candidate source), so a document nobody has read still ranks
 * by its content.
 */
export class EngagementIndex {
  readonly #usersOf = new Map<string, Set<string>>();
  readonly #itemsOf = new Map<string, Set<string>>();

  /** Records a positive engagement of `user` with item (cluster) `itemId`. Idempotent. */
  record(user: string, itemId: string): void {
    getOrCreate(this.#usersOf, itemId, () => new Set<string>()).add(user);
    getOrCreate(this.#itemsOf, user, () => new Set<string>()).add(itemId);
  }

  /** Forgets a user (profile deleted). */
  forget(user: string): void {
    for (const item of this.#itemsOf.get(user) ?? []) this.#usersOf.get(item)?.delete(user);
    this.#itemsOf.delete(user);
  }

  usersOf(itemId: string): ReadonlySet<string> {
    return this.#usersOf.get(itemId) ?? new Set();
  }

  itemsOf(user: string): ReadonlySet<string> {
    return this.#itemsOf.get(user) ?? new Set();
  }
}

/** Cosine at or above which two saved queries state the same interest. */
const sameInterestCosine = 0.8;

/** The scalar values a coverage filter names (the companies, sectors or sources it covers). */
export function coveredValues(filter: Filter | null): Set<string> {
  const values = new Set<string>();
  const walk = (f: Filter) => {
    if ("and" in f) f.and.forEach(walk);
    else if ("or" in f) f.or.forEach(walk);
    else if ("not" in f) return;
    else if ("eq" in f) values.add(`${f.field}=${String(f.eq)}`);
    else if ("in" in f) for (const v of f.in) values.add(`${f.field}=${String(v)}`);
  };
  if (filter !== null) walk(filter);
  return values;
}

/**
 * How much analyst `v` is a peer of analyst `u`, in [0, 1]: the largest of
 * - coverage overlap: Jaccard of the values their coverage filters name;
 * - interest overlap: the share of `u`'s saved queries that `v` states too (cosine ≥ 0.8);
 * - engagement overlap: cosine of their sets of engaged items.
 */
export function peerSimilarity(u: Profile, v: Profile, engagement: EngagementIndex): number {
  const cu = coveredValues(u.coverage);
  const cv = coveredValues(v.coverage);
  let coverage = 0;
  if (cu.size > 0 && cv.size > 0) {
    const shared = [...cu].filter((x) => cv.has(x)).length;
    coverage = shared / (cu.size + cv.size - shared);
  }
  const withVectors = u.savedQueries.filter((q) => q.vector !== undefined);
  const shared = withVectors.filter((q) =>
    v.savedQueries.some(
      (w) =>
        w.vector !== undefined &&
        w.vector.length === q.vector!.length &&
        dot(q.vector!, w.vector) >= sameInterestCosine,
    ),
  ).length;
  const interest = withVectors.length === 0 ? 0 : shared / withVectors.length;
  const eu = engagement.itemsOf(u.user);
  const ev = engagement.itemsOf(v.user);
  let engaged = 0;
  if (eu.size > 0 && ev.size > 0) {
    let both = 0;
    for (const item of eu) if (ev.has(item)) both += 1;
    engaged = both / Math.sqrt(eu.size * ev.size);
  }
  return Math.max(coverage, interest, engaged);
}

/** Collaborative features of one item for one analyst. */
export interface CollaborativeSignal {
  /** 1 − Π(1 − similarity) over peers who engaged with the item: in [0, 1], 0 without such peers. */
  coEngagement: number;
  /** Peers with similarity ≥ 0.5 who engaged ("3 analysts who cover the same names read this"). */
  peers: number;
  /**
   * Item-to-item co-reads: the largest cosine co-occurrence (readers of both over the geometric mean of
   * readers of each, the analyst left out) between this item and an item the analyst engaged with; [0, 1].
   */
  coRead: number;
  /** The item behind `coRead`. */
  coReadWith: string | null;
}

/** Per-read view: peer similarities computed once, then features per item. */
export class CollaborativeView {
  readonly #similarity = new Map<string, number>();

  constructor(
    private readonly user: Profile,
    peers: readonly Profile[],
    private readonly engagement: EngagementIndex,
  ) {
    for (const peer of peers) {
      if (peer.user === user.user) continue;
      const s = peerSimilarity(user, peer, engagement);
      if (s > 0) this.#similarity.set(peer.user, s);
    }
  }

  signal(itemId: string): CollaborativeSignal {
    const readers = this.engagement.usersOf(itemId);
    let miss = 1;
    let peers = 0;
    for (const reader of readers) {
      const s = this.#similarity.get(reader);
      if (s === undefined) continue;
      miss *= 1 - Math.min(1, s);
      if (s >= 0.5) peers += 1;
    }
    const { coRead, coReadWith } = this.#coRead(itemId, readers);
    return { coEngagement: 1 - miss, peers, coRead, coReadWith };
  }

  #coRead(itemId: string, readers: ReadonlySet<string>): { coRead: number; coReadWith: string | null } {
    const me = this.user.user;
    const others = [...readers].filter((r) => r !== me);
    let best = 0;
    let bestItem: string | null = null;
    if (others.length === 0) return { coRead: 0, coReadWith: null };
    for (const mine of this.engagement.itemsOf(me)) {
      if (mine === itemId) continue;
      const theirs = this.engagement.usersOf(mine);
      const theirCount = theirs.size - (theirs.has(me) ? 1 : 0);
      if (theirCount === 0) continue;
      let both = 0;
      for (const reader of others) if (theirs.has(reader)) both += 1;
      const value = both / Math.sqrt(others.length * theirCount);
      if (value > best) {
        best = value;
        bestItem = mine;
      }
    }
    return { coRead: best, coReadWith: bestItem };
  }
}
