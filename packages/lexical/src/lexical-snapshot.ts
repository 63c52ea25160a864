import type { LexicalHit } from "@sift/core";
import type { Analyzer } from "@sift/text";
import type { AnalyzedBm25Document } from "./analyzed-document";
import type { Bm25Config } from "./config";
import { encodeTerm } from "./segment";
import type { SegmentView } from "./segment-view";
import { TopK } from "./top-k";
import {
  deadlineChecker,
  lengthTermsOf,
  type SearchContext,
  searchSegment,
  type TopKAlgorithm,
} from "./top-k-search";
import { inverseDocumentFrequency, rawTermScore, roundScore, weighDocument } from "./wink-formula";

/** What {@link LexicalSnapshot.search} takes. */
export interface LexicalSnapshotSearch {
  /** Raw query text; analysed with the snapshot's analyzer. */
  query: string;
  /** Hits to return at most; below 1 (or not a number) returns none. Fractions are floored. */
  limit: number;
  /**
   * The caller's predicate (metadata filter ∧ catalog membership, compiled once per request). Called only
   * for candidates that would enter the current top `limit` (at most once per matching chunk, never once
   * per posting), before the cut, so `limit` hits come back whenever that many accepted chunks match.
   */
  accept?: ((chunkId: number) => boolean) | undefined;
  /** A `performance.now()` instant; past it the search throws `DeadlineExceededError` (checked every ~1k postings). */
  deadline?: number | undefined;
  /** Aborting makes the search throw the signal's reason (checked with the deadline). */
  signal?: AbortSignal | undefined;
}

export interface LexicalSnapshotResult {
  /** Best first: score descending, ties by ascending chunk id. Scores are wink's BM25F; higher is better. */
  hits: LexicalHit[];
  warnings: string[];
}

export interface LexicalSegmentStats {
  /** Documents (chunks) stored in the segment, tombstoned ones included. */
  documents: number;
  /** Of those, the tombstoned ones. */
  tombstones: number;
  terms: number;
  postings: number;
}

export interface LexicalSnapshotStats {
  /** N: live chunks over all segments. */
  documents: number;
  /** Sum of live chunks' weighted lengths (wink's `length`: title tokens × title weight + body tokens × body weight). */
  totalLength: number;
  /** totalLength / N (0 when N is 0). */
  averageLength: number;
  tombstones: number;
  /** The base first, then deltas, oldest first. */
  segments: LexicalSegmentStats[];
}

/** A query analysed and bound to one snapshot's statistics; reusable across many {@link LexicalSnapshot.scoreDocument} calls. */
export interface PreparedLexicalQuery {
  readonly snapshot: LexicalSnapshot;
  /** Unique analysed terms, in order of first occurrence. */
  readonly terms: readonly string[];
  /** Per unique term, its idf over this snapshot's live chunks (df 0 gives ln((N + 0.5) / 0.5 + 1)). */
  readonly idf: Float64Array;
  readonly multiplicity: Int32Array;
  /** Unique-term index of each query term occurrence, in query order. */
  readonly occurrences: Int32Array;
  /** Per segment view, per unique term: the term's ordinal there, or −1 when absent or only in dead chunks. */
  readonly termOrdinals: readonly Int32Array[];
}

/** Per analysed document: weighted frequencies and length (computed once, whatever the number of queries). */
const weighed = new WeakMap<AnalyzedBm25Document, { frequencies: Map<string, number>; length: number }>();

/**
 * An immutable view of one collection's lexical index: segments, their tombstones, and the global
 * statistics over the live chunks. Scores equal, bit for bit, a wink-bm25-text-search index built over
 * exactly the live chunks (see `wink-formula.ts`). Safe to keep and search while newer snapshots replace it.
 */
export class LexicalSnapshot {
  readonly views: readonly SegmentView[];
  readonly revision: number;
  readonly stats: LexicalSnapshotStats;
  readonly analyzer: Analyzer;
  readonly config: Bm25Config;
  readonly #lengthTerms = new Map<SegmentView, Float64Array>();

  constructor(
    views: readonly SegmentView[],
    options: { analyzer: Analyzer; config: Bm25Config; revision: number },
  ) {
    this.views = views;
    this.analyzer = options.analyzer;
    this.config = options.config;
    this.revision = options.revision;
    this.stats = statsOf(views);
  }

  /** Per view, `k1 ((1 − b) + b · length / average)` per ordinal, computed on first use (the average is this snapshot's). */
  lengthTerms(view: SegmentView): Float64Array {
    let terms = this.#lengthTerms.get(view);
    if (terms === undefined) {
      terms = lengthTermsOf(view.segment.arrays.lengths, this.stats.averageLength, this.config);
      this.#lengthTerms.set(view, terms);
    }
    return terms;
  }

  /** The same segments and tombstones at another collection revision. */
  atRevision(revision: number): LexicalSnapshot {
    return new LexicalSnapshot(this.views, { analyzer: this.analyzer, config: this.config, revision });
  }

  /** The best `limit` live chunks for the query. Synchronous; see {@link LexicalSnapshotSearch}. */
  search(request: LexicalSnapshotSearch): LexicalSnapshotResult {
    return searchSnapshot(this, request, "auto").result;
  }

  /** Analyses `query` (or takes already analysed terms) and binds it to this snapshot's statistics. */
  prepare(query: string | readonly string[]): PreparedLexicalQuery {
    const tokens = typeof query === "string" ? this.analyzer.analyze(query) : query;
    const indexOf = new Map<string, number>();
    const terms: string[] = [];
    const occurrences = new Int32Array(tokens.length);
    tokens.forEach((token, i) => {
      let index = indexOf.get(token);
      if (index === undefined) {
        index = terms.length;
        indexOf.set(token, index);
        terms.push(token);
      }
      occurrences[i] = index;
    });
    const multiplicity = new Int32Array(terms.length);
    for (const index of occurrences) multiplicity[index]! += 1;
    const encoded = terms.map(encodeTerm);
    const documentFrequencies = new Float64Array(terms.length);
    const termOrdinals = this.views.map((view) => {
      const ordinals = new Int32Array(terms.length);
      encoded.forEach((bytes, index) => {
        const ordinal = view.segment.findTerm(bytes);
        const live = ordinal < 0 ? 0 : view.liveDocumentFrequency(ordinal);
        ordinals[index] = live > 0 ? ordinal : -1;
        documentFrequencies[index]! += live;
      });
      return ordinals;
    });
    const idf = documentFrequencies.map((df) => inverseDocumentFrequency(this.stats.documents, df));
    return { snapshot: this, terms, idf, multiplicity, occurrences, termOrdinals };
  }

  /**
   * The BM25F score of a query against ONE analysed document, which need not be indexed, with this
   * snapshot's statistics exactly as they are: N, document frequencies and average length over its live
   * chunks (the document is not added to them); the document's own weighted frequencies and length. A
   * query term no live chunk has gets df 0. For a live chunk of the snapshot this equals the score
   * `search` gives it. On an empty snapshot the average length is the document's own (1 if it is empty).
   *
   * Fast path for matching one document against many saved queries: `prepare` each query once per snapshot
   * and pass the prepared query; the document's frequencies are computed once per document object.
   * Cost per call: O(unique query terms + query occurrences), no allocation.
   */
  scoreDocument(
    query: string | readonly string[] | PreparedLexicalQuery,
    document: AnalyzedBm25Document,
  ): number {
    const prepared =
      typeof query === "object" && "snapshot" in query && query.snapshot === this
        ? query
        : this.prepare(typeof query === "object" && "snapshot" in query ? query.terms : query);
    let weights = weighed.get(document);
    if (weights === undefined) {
      const frequencies = new Map<string, number>();
      const length = weighDocument(document.title, document.body, this.config, frequencies);
      weights = { frequencies, length };
      weighed.set(document, weights);
    }
    const average =
      this.stats.documents > 0 ? this.stats.averageLength : weights.length > 0 ? weights.length : 1;
    const contributions = new Float64Array(prepared.terms.length).fill(Number.NaN);
    prepared.terms.forEach((term, index) => {
      const frequency = weights.frequencies.get(term);
      if (frequency === undefined) return;
      contributions[index] = roundScore(
        rawTermScore(frequency, weights.length, average, prepared.idf[index]!, this.config),
      );
    });
    let sum = 0;
    for (const index of prepared.occurrences) {
      const contribution = contributions[index]!;
      if (!Number.isNaN(contribution)) sum = contribution + sum;
    }
    return sum;
  }

  /** Where a live chunk is: its view index and ordinal; undefined when absent or tombstoned. */
  locate(chunkId: number): { view: number; ordinal: number } | undefined {
    for (let view = this.views.length - 1; view >= 0; view -= 1) {
      const ordinal = this.views[view]!.segment.ordinalOf(chunkId);
      if (ordinal >= 0 && this.views[view]!.isLive(ordinal)) return { view, ordinal };
    }
    return undefined;
  }

  has(chunkId: number): boolean {
    return this.locate(chunkId) !== undefined;
  }

  /** Every live chunk id, ascending. */
  liveChunkIds(): number[] {
    const ids: number[] = [];
    for (const view of this.views) {
      const { chunkIds } = view.segment.arrays;
      for (let ordinal = 0; ordinal < chunkIds.length; ordinal += 1) {
        if (view.isLive(ordinal)) ids.push(chunkIds[ordinal]!);
      }
    }
    return ids.sort((left, right) => left - right);
  }
}

function statsOf(views: readonly SegmentView[]): LexicalSnapshotStats {
  let documents = 0;
  let totalLength = 0;
  let tombstones = 0;
  const segments = views.map((view) => {
    documents += view.liveCount;
    totalLength += view.liveLength;
    tombstones += view.deadCount;
    const { segment } = view;
    return {
      documents: segment.docCount,
      tombstones: view.deadCount,
      terms: segment.termCount,
      postings: segment.postingCount,
    };
  });
  return {
    documents,
    totalLength,
    averageLength: documents === 0 ? 0 : totalLength / documents,
    tombstones,
    segments,
  };
}

/** Internal counters of one search (tests bound `accept` calls with them; benches compare algorithms). */
export interface SearchCounters {
  /** Candidates fully scored. */
  scored: number;
  /** `accept` calls. */
  accepted: number;
}

/** {@link LexicalSnapshot.search} with the top-k algorithm chosen, and its counters (for tests and benches). */
export function searchSnapshot(
  snapshot: LexicalSnapshot,
  request: LexicalSnapshotSearch,
  algorithm: TopKAlgorithm,
): { result: LexicalSnapshotResult; counters: SearchCounters } {
  const counters = { scored: 0, accepted: 0 };
  const check = deadlineChecker(request.deadline, request.signal);
  check();
  const limit = Math.floor(request.limit);
  const documents = snapshot.stats.documents;
  if (!(limit >= 1) || documents === 0) return { result: { hits: [], warnings: [] }, counters };
  const prepared = snapshot.prepare(request.query);
  if (prepared.terms.length === 0) return { result: { hits: [], warnings: [] }, counters };
  const heap = new TopK(Math.min(limit, documents));
  const context: SearchContext = {
    config: snapshot.config,
    averageLength: snapshot.stats.averageLength,
    lengthTerms: (view) => snapshot.lengthTerms(view),
    idf: prepared.idf,
    multiplicity: prepared.multiplicity,
    occurrences: prepared.occurrences,
    heap,
    accept: request.accept,
    check,
    counters,
  };
  snapshot.views.forEach((view, index) => {
    searchSegment(context, view, prepared.termOrdinals[index]!, algorithm);
  });
  return { result: { hits: heap.sorted(), warnings: [] }, counters };
}
