import { type Bm25Config, defaultBm25Config } from "@sift/lexical";
import type { Analyzer } from "@sift/text";
import type { AnalyzedChunk } from "./types";

/** BM25 of one query against one chunk. */
export interface QueryScore {
  /** Raw BM25F with the collection's statistics; 0 when no query term occurs. Higher is better. */
  score: number;
  /**
   * The most this query can score against any chunk of the collection (every term saturated):
   * `Σ idf(t) · (k1 + 1)` over the query's terms known to the collection. `score / maxScore` is in [0, 1].
   */
  maxScore: number;
  /** Distinct analysed query terms that occur in the chunk, in query order. */
  terms: string[];
}

/**
 * The lexical side of matching: what the feed needs from a collection's lexical index. Phase 2 adapts the
 * catalog's `LexicalSnapshot.scoreDocument`; {@link CollectionStatisticsCorpus} implements it now.
 *
 * - `analyze` is the collection's analyzer: chunks handed to `scoreQuery` must have been analysed by it.
 * - `scoreQuery` scores exactly as the collection's BM25 search would score that chunk for that query
 *   (same k1, b, field weights, IDF and average length), so a feed score and a search score agree.
 * - Pure: no I/O, no mutation; the statistics are those of the snapshot the corpus was taken from.
 */
export interface FeedCorpus {
  analyze(text: string): string[];
  scoreQuery(query: string, chunk: AnalyzedChunk): QueryScore;
}

interface PreparedChunk {
  /** Term → field-weighted frequency. */
  frequencies: Map<string, number>;
  /** Field-weighted length. */
  length: number;
}

/**
 * A {@link FeedCorpus} over collection statistics kept here: chunk count, field-weighted total length and
 * document frequency per term, updated as chunks are added and removed. Scores equal wink-bm25-text-search's
 * (the lexical package's reference engine) for the same chunks: BM25F with field-weighted term frequencies
 * and lengths, IDF `ln((N − n + 0.5) / (n + 0.5) + 1)`, a repeated query term counting again.
 */
export class CollectionStatisticsCorpus implements FeedCorpus {
  #chunks = 0;
  #totalLength = 0;
  readonly #documentFrequency = new Map<string, number>();
  readonly #prepared = new WeakMap<AnalyzedChunk, PreparedChunk>();
  readonly #queries = new Map<string, string[]>();
  /** IDF per term and `maxScore` per query at the current statistics (cleared on every change). */
  readonly #idf = new Map<string, number>();
  readonly #maxScores = new Map<string, number>();

  constructor(
    private readonly analyzer: Analyzer,
    private readonly config: Bm25Config = defaultBm25Config,
  ) {}

  get chunkCount(): number {
    return this.#chunks;
  }

  analyze(text: string): string[] {
    return this.analyzer.analyze(text);
  }

  /** Counts a chunk into the statistics (call once per chunk indexed). */
  add(chunk: AnalyzedChunk): void {
    this.#update(chunk, 1);
  }

  /** Takes a chunk added earlier out of the statistics. */
  remove(chunk: AnalyzedChunk): void {
    this.#update(chunk, -1);
  }

  #update(chunk: AnalyzedChunk, sign: 1 | -1): void {
    const prepared = this.#prepare(chunk);
    this.#idf.clear();
    this.#maxScores.clear();
    this.#chunks += sign;
    this.#totalLength += sign * prepared.length;
    for (const term of prepared.frequencies.keys()) {
      const next = (this.#documentFrequency.get(term) ?? 0) + sign;
      if (next <= 0) this.#documentFrequency.delete(term);
      else this.#documentFrequency.set(term, next);
    }
  }

  scoreQuery(query: string, chunk: AnalyzedChunk): QueryScore {
    const terms = this.#queryTerms(query);
    const prepared = this.#prepare(chunk);
    const { k1, b } = this.config;
    const averageLength = this.#chunks === 0 ? 1 : this.#totalLength / this.#chunks;
    const norm = 1 - b + (b * prepared.length) / (averageLength || 1);
    let score = 0;
    const matched: string[] = [];
    // Most saved queries share no term with a given chunk: look the chunk up first, IDF only on a hit.
    for (const term of terms) {
      const frequency = prepared.frequencies.get(term);
      if (frequency === undefined) continue;
      score += ((frequency * (k1 + 1)) / (k1 * norm + frequency)) * this.#idfOf(term);
      if (!matched.includes(term)) matched.push(term);
    }
    return { score, maxScore: this.#maxScore(query, terms), terms: matched };
  }

  #idfOf(term: string): number {
    let idf = this.#idf.get(term);
    if (idf === undefined) {
      const n = this.#documentFrequency.get(term) ?? 0;
      idf = n === 0 ? 0 : Math.log((this.#chunks - n + 0.5) / (n + 0.5) + 1);
      this.#idf.set(term, idf);
    }
    return idf;
  }

  #maxScore(query: string, terms: readonly string[]): number {
    let max = this.#maxScores.get(query);
    if (max === undefined) {
      max = 0;
      for (const term of terms) max += this.#idfOf(term) * (this.config.k1 + 1);
      this.#maxScores.set(query, max);
    }
    return max;
  }

  #queryTerms(query: string): string[] {
    let terms = this.#queries.get(query);
    if (terms === undefined) {
      terms = this.analyzer.analyze(query);
      // Saved queries repeat on every arrival; ad-hoc ones must not grow the memo without bound.
      if (this.#queries.size >= 50_000) this.#queries.clear();
      this.#queries.set(query, terms);
    }
    return terms;
  }

  #prepare(chunk: AnalyzedChunk): PreparedChunk {
    let prepared = this.#prepared.get(chunk);
    if (prepared === undefined) {
      const { title, body } = this.config.fieldWeights;
      const frequencies = new Map<string, number>();
      for (const term of chunk.title) frequencies.set(term, (frequencies.get(term) ?? 0) + title);
      for (const term of chunk.body) frequencies.set(term, (frequencies.get(term) ?? 0) + body);
      prepared = { frequencies, length: chunk.title.length * title + chunk.body.length * body };
      this.#prepared.set(chunk, prepared);
    }
    return prepared;
  }
}
