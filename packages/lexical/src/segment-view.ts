import type { Segment } from "./segment";

/** A removed document: its ordinal in the segment and its term ordinals (from the forward index). */
export interface DeadDocument {
  ordinal: number;
  terms: Uint32Array;
}

/**
 * A segment as one snapshot sees it: the segment plus its tombstones, and what they take out of the
 * statistics (document count, total length, and per term the dead documents containing it). Immutable: a
 * change makes a new view (copying the dead flags and counts, O(docs + terms) of this segment).
 */
export class SegmentView {
  private constructor(
    readonly segment: Segment,
    /** 1 at each tombstoned ordinal; undefined when none is. */
    readonly dead: Uint8Array | undefined,
    readonly deadCount: number,
    readonly deadLength: number,
    /** Per term ordinal, the tombstoned documents containing the term. */
    readonly deadDocumentFrequencies: Uint32Array | undefined,
  ) {}

  static of(segment: Segment): SegmentView {
    return new SegmentView(segment, undefined, 0, 0, undefined);
  }

  get liveCount(): number {
    return this.segment.docCount - this.deadCount;
  }

  get liveLength(): number {
    return this.segment.totalLength - this.deadLength;
  }

  isLive(ordinal: number): boolean {
    return this.dead === undefined || this.dead[ordinal] === 0;
  }

  liveDocumentFrequency(term: number): number {
    return this.segment.documentFrequency(term) - (this.deadDocumentFrequencies?.[term] ?? 0);
  }

  /** This view with `documents` tombstoned too (already dead ones are ignored). */
  withDead(documents: readonly DeadDocument[]): SegmentView {
    const fresh = documents.filter((document) => this.isLive(document.ordinal));
    if (fresh.length === 0) return this;
    const { segment } = this;
    const dead = this.dead === undefined ? new Uint8Array(segment.docCount) : this.dead.slice();
    const frequencies =
      this.deadDocumentFrequencies === undefined
        ? new Uint32Array(segment.termCount)
        : this.deadDocumentFrequencies.slice();
    let deadLength = this.deadLength;
    let deadCount = this.deadCount;
    for (const { ordinal, terms } of fresh) {
      if (dead[ordinal] === 1) continue;
      dead[ordinal] = 1;
      deadCount += 1;
      deadLength += segment.arrays.lengths[ordinal]!;
      for (const term of terms) frequencies[term]! += 1;
    }
    return new SegmentView(segment, dead, deadCount, deadLength, frequencies);
  }

  /** The tombstoned ordinals, ascending. */
  deadOrdinals(): Uint32Array {
    const ordinals = new Uint32Array(this.deadCount);
    if (this.dead === undefined) return ordinals;
    let next = 0;
    for (let ordinal = 0; ordinal < this.dead.length; ordinal += 1) {
      if (this.dead[ordinal] === 1) ordinals[next++] = ordinal;
    }
    return ordinals;
  }
}
