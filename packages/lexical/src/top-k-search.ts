import { DeadlineExceededError } from "@sift/core";
import type { Bm25Config } from "./config";
import { BLOCK_SIZE, type SegmentArrays } from "./segment";
import { growUint32 } from "./segment-builder";
import type { SegmentView } from "./segment-view";
import type { TopK } from "./top-k";
import { roundScore } from "./wink-formula";

/** Past every ordinal. */
const END = 2 ** 32;

/** Slack added to every upper bound: score rounding (≤ 0.5e-6 a term) and float error in sums. */
const ABSOLUTE_SLACK = 1e-6;
const RELATIVE_SLACK = 1 + 1e-9;

/** How many postings are handled between two checks of the deadline and the abort signal. */
const CHECK_EVERY = 1024;

export type TopKAlgorithm = "auto" | "maxscore" | "block-max-wand" | "exhaustive";

/**
 * `auto` scores a segment exhaustively when the query's postings there are few (pruning cannot repay its
 * bookkeeping: on BEIR SciFact, 4.4k postings a query, exhaustive ran 0.29 ms p50 against MaxScore's
 * 0.74 ms) and the segment small enough for its dense accumulators; else block-max WAND for queries of at
 * most {@link SHORT_QUERY_TERMS} terms and k ≤ {@link SHORT_QUERY_MAX_K} (600k chunks, two-term queries,
 * k=10: 3.9 ms p50 against MaxScore's 7.2 ms), MaxScore otherwise (SciFact claims at 600k chunks, k=10:
 * 25 ms p50 against block-max WAND's 32 ms and exhaustive's 295 ms; at k=100 block-max WAND falls
 * further behind: 46 against 33 ms). See ADR 7.
 */
const SHORT_QUERY_TERMS = 3;
const SHORT_QUERY_MAX_K = 20;
const EXHAUSTIVE_MAX_POSTINGS = 16_384;
const EXHAUSTIVE_MAX_DOCUMENTS = 262_144;

/** The query, as prepared against one snapshot, and what one search needs. */
export interface SearchContext {
  config: Bm25Config;
  averageLength: number;
  /** Per view, per ordinal: `k1 ((1 − b) + b · length / average)`, the length part of wink's denominator. */
  lengthTerms: (view: SegmentView) => Float64Array;
  /** Per unique query term: its idf and how often the query repeats it. */
  idf: Float64Array;
  multiplicity: Int32Array;
  /** Unique-term index of each query occurrence, in query order (the order wink sums in). */
  occurrences: Int32Array;
  heap: TopK;
  accept: ((chunkId: number) => boolean) | undefined;
  /** Raises when the deadline passed or the signal aborted. */
  check: () => void;
  /** Counters for tests and benches: documents fully scored, and `accept` calls. */
  counters: { scored: number; accepted: number };
}

/** A cursor over one term's postings in one segment. */
class PostingCursor {
  doc = 0;
  pos: number;
  block: number;
  readonly end: number;
  readonly start: number;
  readonly blockBase: number;
  readonly blockEnd: number;
  /** `idf × max(1, average / reference average)`, with slack: turns a saturation bound into a score bound. */
  readonly boundScale: number;
  readonly upperBound: number;

  constructor(
    readonly arrays: SegmentArrays,
    term: number,
    /** Unique-term index in the query. */
    readonly index: number,
    readonly idf: number,
    readonly multiplicity: number,
    boundRatio: number,
  ) {
    this.start = arrays.postingOffsets[term]!;
    this.end = arrays.postingOffsets[term + 1]!;
    this.pos = this.start;
    this.blockBase = arrays.blockOffsets[term]!;
    this.blockEnd = arrays.blockOffsets[term + 1]!;
    this.block = this.blockBase;
    this.boundScale = idf * boundRatio * RELATIVE_SLACK;
    this.upperBound = multiplicity * (this.boundScale * arrays.termMaxSaturation[term]! + ABSOLUTE_SLACK);
    this.doc = this.start < this.end ? arrays.postingDocs[this.start]! : END;
  }

  next(): void {
    this.pos += 1;
    this.doc = this.pos < this.end ? this.arrays.postingDocs[this.pos]! : END;
  }

  /** Moves to the first posting at or after `target`. */
  advance(target: number): void {
    if (this.doc >= target) return;
    const { blockLastDocs, postingDocs } = this.arrays;
    let block = this.block;
    while (block < this.blockEnd && blockLastDocs[block]! < target) block += 1;
    this.block = block;
    if (block === this.blockEnd) {
      this.pos = this.end;
      this.doc = END;
      return;
    }
    let pos = Math.max(this.pos, this.start + (block - this.blockBase) * BLOCK_SIZE);
    while (postingDocs[pos]! < target) pos += 1;
    this.pos = pos;
    this.doc = postingDocs[pos]!;
  }

  /** Moves the block pointer (only) to the block that could hold `target`; the block's score bound, or 0. */
  blockBound(target: number): number {
    const { blockLastDocs, blockMaxSaturation } = this.arrays;
    let block = this.block;
    while (block < this.blockEnd && blockLastDocs[block]! < target) block += 1;
    this.block = block;
    if (block === this.blockEnd) return 0;
    return this.multiplicity * (this.boundScale * blockMaxSaturation[block]! + ABSOLUTE_SLACK);
  }

  /** The last ordinal of the current block (END when past the last block). */
  blockLastDoc(): number {
    return this.block < this.blockEnd ? this.arrays.blockLastDocs[this.block]! : END;
  }

  /** wink's rounded score of the current posting; `lengthTerms[doc]` is `k1 ((1 − b) + b · length / average)`. */
  score(k1Plus1: number, lengthTerms: Float64Array): number {
    return roundScore(this.rawScore(k1Plus1, lengthTerms));
  }

  /** The same before wink's rounding to 6 decimals (within 0.5e-6 of it). */
  rawScore(k1Plus1: number, lengthTerms: Float64Array): number {
    const frequency = this.arrays.postingFrequencies[this.pos]!;
    return Math.abs((frequency * k1Plus1) / (lengthTerms[this.doc]! + frequency)) * this.idf;
  }
}

/**
 * Runs one segment of a top-k search into `context.heap`. `termOrdinals[i]` is query term i's ordinal in
 * this segment (−1: absent). Segments of one search share the heap, so later ones start from the threshold
 * that earlier ones reached.
 */
export function searchSegment(
  context: SearchContext,
  view: SegmentView,
  termOrdinals: Int32Array,
  algorithm: TopKAlgorithm,
): void {
  const { segment } = view;
  const ratio = Math.max(1, context.averageLength / segment.referenceAverage);
  const cursors: PostingCursor[] = [];
  termOrdinals.forEach((term, index) => {
    if (term >= 0) {
      cursors.push(
        new PostingCursor(
          segment.arrays,
          term,
          index,
          context.idf[index]!,
          context.multiplicity[index]!,
          ratio,
        ),
      );
    }
  });
  if (cursors.length === 0) return;
  if (algorithm === "auto") {
    let postings = 0;
    for (const cursor of cursors) postings += cursor.end - cursor.start;
    const small = postings <= EXHAUSTIVE_MAX_POSTINGS && segment.docCount <= EXHAUSTIVE_MAX_DOCUMENTS;
    const short = cursors.length <= SHORT_QUERY_TERMS && context.heap.capacity <= SHORT_QUERY_MAX_K;
    algorithm = small ? "exhaustive" : short ? "block-max-wand" : "maxscore";
  }
  if (algorithm === "exhaustive") exhaustive(context, view, cursors, termOrdinals);
  else if (algorithm === "maxscore") maxScore(new CandidateScorer(context, view), cursors);
  else blockMaxWand(new CandidateScorer(context, view), cursors);
}

/** Per-candidate state: the contributions of the current document, summed in query order at the end. */
class CandidateScorer {
  readonly contributions: Float64Array;
  readonly stamps: Float64Array;
  stamp = 0;
  work = 0;
  nextCheck = CHECK_EVERY;
  readonly k1Plus1: number;
  readonly lengthTerms: Float64Array;
  readonly dead: Uint8Array | undefined;
  readonly chunkIds: Float64Array;

  constructor(
    readonly context: SearchContext,
    view: SegmentView,
  ) {
    this.contributions = new Float64Array(context.idf.length);
    this.stamps = new Float64Array(context.idf.length);
    this.k1Plus1 = context.config.k1 + 1;
    this.lengthTerms = context.lengthTerms(view);
    this.dead = view.dead;
    this.chunkIds = view.segment.arrays.chunkIds;
  }

  begin(): void {
    this.stamp += 1;
  }

  /** Scores the cursor's current posting into the candidate; returns multiplicity × score (for bounds). */
  take(cursor: PostingCursor): number {
    const score = cursor.score(this.k1Plus1, this.lengthTerms);
    this.contributions[cursor.index] = score;
    this.stamps[cursor.index] = this.stamp;
    return score * cursor.multiplicity;
  }

  /** The cursor's current posting score before rounding, without recording it. */
  rawTermScore(cursor: PostingCursor): number {
    return cursor.rawScore(this.k1Plus1, this.lengthTerms);
  }

  /** Records a contribution from its unrounded value. */
  putRaw(index: number, raw: number): void {
    this.contributions[index] = roundScore(raw);
    this.stamps[index] = this.stamp;
  }

  /** The candidate's exact score: wink's sum, over query occurrences in order. */
  total(): number {
    const { occurrences } = this.context;
    let sum = 0;
    for (let i = 0; i < occurrences.length; i += 1) {
      const index = occurrences[i]!;
      if (this.stamps[index] === this.stamp) sum = this.contributions[index]! + sum;
    }
    return sum;
  }

  /** Offers the candidate to the heap; `accept` runs only for one that would be kept. */
  offer(doc: number): void {
    const { context } = this;
    const score = this.total();
    const chunkId = this.chunkIds[doc]!;
    context.counters.scored += 1;
    if (!context.heap.admits(score, chunkId)) return;
    if (context.accept !== undefined) {
      context.counters.accepted += 1;
      if (!context.accept(chunkId)) return;
    }
    context.heap.insert(score, chunkId);
  }

  isDead(doc: number): boolean {
    return this.dead !== undefined && this.dead[doc] === 1;
  }

  tick(postings: number): void {
    this.work += postings;
    if (this.work >= this.nextCheck) {
      this.nextCheck = this.work + CHECK_EVERY;
      this.context.check();
    }
  }
}

/** Documents per MaxScore window (the essential lists are accumulated term-at-a-time inside one). */
const WINDOW = 2048;

/**
 * MaxScore (Turtle & Flood) with block-max bounds on the non-essential lists, evaluated in windows of
 * documents as Lucene's MaxScoreBulkScorer does. Terms sorted by upper bound; the longest prefix whose
 * bounds sum below the threshold is non-essential: only documents of the other (essential) lists are
 * candidates. Inside a window the essential lists are accumulated term at a time (one step per posting);
 * then each candidate, in document order, adds the non-essential lists one by one, largest bound first,
 * and stops as soon as its partial score plus the remaining bounds (the current block's where tighter)
 * cannot reach the threshold. Survivors get their exact score, summed in query order.
 */
function maxScore(scorer: CandidateScorer, cursors: PostingCursor[]): void {
  const { heap } = scorer.context;
  cursors.sort((left, right) => left.upperBound - right.upperBound);
  const count = cursors.length;
  const prefix = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i += 1) {
    sum += cursors[i]!.upperBound;
    prefix[i] = sum;
  }
  const window = new WindowAccumulator();
  // Window partial sums are unrounded: each term's rounding moves a score by at most 0.5e-6.
  let slack = 0;
  for (const cursor of cursors) slack += cursor.multiplicity * ABSOLUTE_SLACK;
  for (;;) {
    const threshold = heap.threshold;
    let essential = 0;
    while (essential < count && prefix[essential]! < threshold) essential += 1;
    if (essential === count) return;
    let start = END;
    for (let i = essential; i < count; i += 1) if (cursors[i]!.doc < start) start = cursors[i]!.doc;
    if (start === END) return;
    const end = start + WINDOW;
    window.reset(start);
    let postings = 0;
    for (let i = essential; i < count; i += 1) {
      const cursor = cursors[i]!;
      while (cursor.doc < end) {
        if (!scorer.isDead(cursor.doc)) window.add(cursor, scorer.rawTermScore(cursor));
        cursor.next();
        postings += 1;
      }
    }
    scorer.tick(postings);
    window.forEachCandidate((doc, partialSum) => {
      const floor = heap.threshold;
      let partial = partialSum + slack;
      scorer.begin();
      for (let i = essential - 1; i >= 0; i -= 1) {
        if (partial + prefix[i]! < floor) return;
        const cursor = cursors[i]!;
        if (partial + cursor.blockBound(doc) + (i > 0 ? prefix[i - 1]! : 0) < floor) return;
        cursor.advance(doc);
        if (cursor.doc === doc) partial += scorer.take(cursor);
      }
      window.replay(doc, scorer);
      scorer.offer(doc);
    });
  }
}

/** The essential lists' contributions of one window: per document its partial sum and its (term, score) pairs. */
class WindowAccumulator {
  #base = 0;
  readonly #partial = new Float64Array(WINDOW);
  readonly #head = new Int32Array(WINDOW).fill(-1);
  #touched = new Int32Array(WINDOW);
  #touchedCount = 0;
  #terms = new Int32Array(1024);
  #scores = new Float64Array(1024);
  #next = new Int32Array(1024);
  #entries = 0;

  reset(base: number): void {
    for (let i = 0; i < this.#touchedCount; i += 1) {
      const offset = this.#touched[i]!;
      this.#partial[offset] = 0;
      this.#head[offset] = -1;
    }
    this.#touchedCount = 0;
    this.#entries = 0;
    this.#base = base;
  }

  add(cursor: PostingCursor, score: number): void {
    const offset = cursor.doc - this.#base;
    if (this.#head[offset] === -1) this.#touched[this.#touchedCount++] = offset;
    if (this.#entries === this.#terms.length) this.#grow();
    const entry = this.#entries++;
    this.#terms[entry] = cursor.index;
    this.#scores[entry] = score;
    this.#next[entry] = this.#head[offset]!;
    this.#head[offset] = entry;
    this.#partial[offset]! += score * cursor.multiplicity;
  }

  /** Calls `visit(doc, partial)` (unrounded) for every document of the window, in document order. */
  forEachCandidate(visit: (doc: number, partial: number) => void): void {
    const touched = this.#touched.subarray(0, this.#touchedCount).sort();
    for (const offset of touched) visit(this.#base + offset, this.#partial[offset]!);
  }

  /** Hands the document's essential contributions to the scorer. */
  replay(doc: number, scorer: CandidateScorer): void {
    for (let entry = this.#head[doc - this.#base]!; entry !== -1; entry = this.#next[entry]!) {
      scorer.putRaw(this.#terms[entry]!, this.#scores[entry]!);
    }
  }

  #grow(): void {
    const size = this.#terms.length * 2;
    const terms = new Int32Array(size);
    terms.set(this.#terms);
    const scores = new Float64Array(size);
    scores.set(this.#scores);
    const next = new Int32Array(size);
    next.set(this.#next);
    this.#terms = terms;
    this.#scores = scores;
    this.#next = next;
  }
}

/**
 * Block-max WAND (Ding & Suel): cursors sorted by current document; the pivot is the first cursor at which
 * the sum of term bounds reaches the threshold; the pivot document is scored only when the current
 * blocks' bounds also reach it, else the cursors jump past those blocks.
 */
function blockMaxWand(scorer: CandidateScorer, cursors: PostingCursor[]): void {
  const { heap } = scorer.context;
  const count = cursors.length;
  const byDoc = (left: PostingCursor, right: PostingCursor) => left.doc - right.doc;
  cursors.sort(byDoc);
  for (;;) {
    const threshold = heap.threshold;
    let bound = 0;
    let pivot = -1;
    for (let i = 0; i < count; i += 1) {
      const cursor = cursors[i]!;
      if (cursor.doc === END) break;
      bound += cursor.upperBound;
      if (bound >= threshold) {
        pivot = i;
        break;
      }
    }
    if (pivot < 0) return;
    const doc = cursors[pivot]!.doc;
    while (pivot + 1 < count && cursors[pivot + 1]!.doc === doc) pivot += 1;
    let blockSum = 0;
    for (let i = 0; i <= pivot; i += 1) blockSum += cursors[i]!.blockBound(doc);
    scorer.tick(pivot + 1);
    if (blockSum < threshold) {
      // No document up to the nearest block end (or the next cursor beyond the pivot) can reach the threshold.
      let target = pivot + 1 < count ? cursors[pivot + 1]!.doc : END;
      let strongest = 0;
      for (let i = 0; i <= pivot; i += 1) {
        const last = cursors[i]!.blockLastDoc();
        if (last + 1 < target) target = last + 1;
        if (cursors[i]!.upperBound > cursors[strongest]!.upperBound) strongest = i;
      }
      if (target <= doc) target = doc + 1;
      cursors[strongest]!.advance(target);
      resort(cursors, strongest);
      continue;
    }
    if (cursors[0]!.doc === doc) {
      if (scorer.isDead(doc)) {
        for (let i = 0; i <= pivot; i += 1) cursors[i]!.next();
      } else {
        scorer.begin();
        for (let i = 0; i <= pivot; i += 1) {
          scorer.take(cursors[i]!);
          cursors[i]!.next();
        }
        scorer.offer(doc);
      }
      cursors.sort(byDoc);
      continue;
    }
    // Move one cursor before the pivot (the one with the largest bound) up to the pivot document.
    let mover = 0;
    for (let i = 1; i < pivot; i += 1) {
      if (cursors[i]!.doc < doc && cursors[i]!.upperBound > cursors[mover]!.upperBound) mover = i;
    }
    cursors[mover]!.advance(doc);
    resort(cursors, mover);
  }
}

/** Restores doc order after cursor `moved` advanced (insertion step to the right). */
function resort(cursors: PostingCursor[], moved: number): void {
  const cursor = cursors[moved]!;
  let i = moved;
  while (i + 1 < cursors.length && cursors[i + 1]!.doc < cursor.doc) {
    cursors[i] = cursors[i + 1]!;
    i += 1;
  }
  cursors[i] = cursor;
}

/** No pruning: wink's term-at-a-time accumulation over every posting (the baseline, and a test oracle). */
function exhaustive(
  context: SearchContext,
  view: SegmentView,
  cursors: PostingCursor[],
  termOrdinals: Int32Array,
): void {
  const { arrays } = view.segment;
  const scores = new Float64Array(view.segment.docCount);
  const seen = new Uint8Array(view.segment.docCount);
  const touched = growUint32();
  const k1Plus1 = context.config.k1 + 1;
  const lengthTerms = context.lengthTerms(view);
  const byIndex = new Map(cursors.map((cursor) => [cursor.index, cursor]));
  let work = 0;
  for (const index of context.occurrences) {
    const cursor = byIndex.get(index);
    if (cursor === undefined || termOrdinals[index]! < 0) continue;
    for (cursor.pos = cursor.start; cursor.pos < cursor.end; cursor.pos += 1) {
      const doc = arrays.postingDocs[cursor.pos]!;
      cursor.doc = doc;
      if (!view.isLive(doc)) continue;
      scores[doc] = cursor.score(k1Plus1, lengthTerms) + scores[doc]!;
      if (seen[doc] === 0) {
        seen[doc] = 1;
        touched.push(doc);
      }
      work += 1;
      if (work % CHECK_EVERY === 0) context.check();
    }
  }
  for (const doc of touched.view()) {
    const chunkId = arrays.chunkIds[doc]!;
    context.counters.scored += 1;
    if (!context.heap.admits(scores[doc]!, chunkId)) continue;
    if (context.accept !== undefined) {
      context.counters.accepted += 1;
      if (!context.accept(chunkId)) continue;
    }
    context.heap.insert(scores[doc]!, chunkId);
  }
}

/** `k1 ((1 − b) + b · length / average)` per ordinal: computed once per (snapshot, segment), as wink does. */
export function lengthTermsOf(
  lengths: Float64Array,
  averageLength: number,
  config: Bm25Config,
): Float64Array {
  const { k1, b } = config;
  const terms = new Float64Array(lengths.length);
  for (let i = 0; i < lengths.length; i += 1) terms[i] = k1 * (1 - b + b * (lengths[i]! / averageLength));
  return terms;
}

export function deadlineChecker(deadline: number | undefined, signal: AbortSignal | undefined): () => void {
  return () => {
    signal?.throwIfAborted();
    if (deadline !== undefined && performance.now() > deadline) {
      throw new DeadlineExceededError("the BM25 search ran past the request deadline");
    }
  };
}
