import { LexicalSnapshot } from "./lexical-snapshot";
import type { Segment } from "./segment";
import { type DeadDocument, SegmentView } from "./segment-view";

/** Reads documents' term ordinals from a segment's forward index (memory or file). */
export type ForwardReader = (segment: Segment, ordinals: readonly number[]) => Promise<Uint32Array[]>;

/** The forward index in memory; throws for a segment whose forward index is on disk only. */
export const inMemoryForward: ForwardReader = async (segment, ordinals) =>
  ordinals.map((ordinal) => {
    const terms = segment.documentTerms(ordinal);
    if (terms === undefined) throw new Error("segment has no forward index in memory");
    return terms;
  });

export interface SnapshotChange {
  /** Chunk ids to tombstone; ids that are not live are ignored. */
  remove: Iterable<number>;
  /** New segments, appended after the existing ones (their chunk ids must not be live already). */
  add?: readonly Segment[];
  revision: number;
}

/** Tombstones `remove` (taking their terms out of the statistics) and appends `add`: a new snapshot. */
export async function changeSnapshot(
  snapshot: LexicalSnapshot,
  change: SnapshotChange,
  readForward: ForwardReader,
): Promise<LexicalSnapshot> {
  const byView = new Map<number, number[]>();
  for (const chunkId of new Set(change.remove)) {
    const location = snapshot.locate(chunkId);
    if (location === undefined) continue;
    const ordinals = byView.get(location.view) ?? [];
    ordinals.push(location.ordinal);
    byView.set(location.view, ordinals);
  }
  const views = [...snapshot.views];
  for (const [index, ordinals] of byView) {
    const view = views[index]!;
    const terms = await readForward(view.segment, ordinals);
    const dead: DeadDocument[] = ordinals.map((ordinal, i) => ({ ordinal, terms: terms[i]! }));
    views[index] = view.withDead(dead);
  }
  for (const segment of change.add ?? []) views.push(SegmentView.of(segment));
  return new LexicalSnapshot(views, {
    analyzer: snapshot.analyzer,
    config: snapshot.config,
    revision: change.revision,
  });
}
