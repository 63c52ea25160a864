import type { LexicalSnapshot } from "./lexical-snapshot";

/**
 * When the manager merges segments. Scores never depend on it (statistics are global over live chunks):
 * merging only bounds query cost (segments and dead postings visited) and disk use.
 */
export interface MergePolicy {
  /** Full merge once the deltas hold more than `max(deltaMinChunks, deltaRatio × base chunks)`. */
  deltaRatio: number;
  deltaMinChunks: number;
  /** Full merge once tombstoned chunks exceed this share of all stored chunks (and at least `tombstoneMinChunks`). */
  tombstoneRatio: number;
  tombstoneMinChunks: number;
  /** Merge the deltas (not the base) into one once there are more of them than this. */
  maxDeltaSegments: number;
}

export const defaultMergePolicy: MergePolicy = Object.freeze({
  deltaRatio: 0.1,
  deltaMinChunks: 2000,
  tombstoneRatio: 0.2,
  tombstoneMinChunks: 100,
  maxDeltaSegments: 8,
});

/** What to merge now: `full` (every segment into a new base), `deltas` (segments after the base), or nothing. */
export function mergeNeeded(snapshot: LexicalSnapshot, policy: MergePolicy): "full" | "deltas" | undefined {
  const [base, ...deltas] = snapshot.views;
  if (base === undefined) return undefined;
  const deltaChunks = deltas.reduce((sum, view) => sum + view.liveCount, 0);
  const stored = snapshot.views.reduce((sum, view) => sum + view.segment.docCount, 0);
  const tombstones = snapshot.stats.tombstones;
  if (deltaChunks > Math.max(policy.deltaMinChunks, policy.deltaRatio * base.liveCount)) return "full";
  if (tombstones >= policy.tombstoneMinChunks && tombstones > policy.tombstoneRatio * stored) return "full";
  if (deltas.length > policy.maxDeltaSegments) return "deltas";
  return undefined;
}
