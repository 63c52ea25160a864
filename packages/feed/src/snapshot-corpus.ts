import type { AnalyzedBm25Document, LexicalSnapshot, PreparedLexicalQuery } from "@sift/lexical";
import type { FeedCorpus, QueryScore } from "./corpus";
import type { AnalyzedChunk } from "./types";

/**
 * A {@link FeedCorpus} over a collection's current lexical snapshot (the index search uses): the analyser,
 * BM25 configuration, IDF and average length are the snapshot's, so a saved query scores an arriving chunk
 * exactly as a search of that query would score it (`LexicalSnapshot.scoreDocument`). `maxScore` is
 * `Σ idf · (k1 + 1)` over the query's term occurrences the collection has (as {@link CollectionStatisticsCorpus}).
 * Saved queries are prepared once per snapshot and reused for every arriving chunk; a chunk's document
 * form and term set are built once (not once per saved query), and a query sharing no term with the chunk
 * scores 0 without being scored: most of the 2,000 saved queries an arrival meets share none.
 */
export class SnapshotFeedCorpus implements FeedCorpus {
  readonly #prepared = new Map<string, { query: PreparedLexicalQuery; maxScore: number }>();
  readonly #chunks = new WeakMap<AnalyzedChunk, { document: AnalyzedBm25Document; present: Set<string> }>();

  constructor(readonly snapshot: LexicalSnapshot) {}

  analyze(text: string): string[] {
    return this.snapshot.analyzer.analyze(text);
  }

  scoreQuery(query: string, chunk: AnalyzedChunk): QueryScore {
    const { query: prepared, maxScore } = this.#prepare(query);
    const { document, present } = this.#chunk(chunk);
    const terms = prepared.terms.filter((term) => present.has(term));
    if (terms.length === 0) return { score: 0, maxScore, terms };
    return { score: this.snapshot.scoreDocument(prepared, document), maxScore, terms };
  }

  /** The chunk as `scoreDocument` takes it (the same object every time, so its weights are computed once). */
  #chunk(chunk: AnalyzedChunk) {
    let entry = this.#chunks.get(chunk);
    if (entry === undefined) {
      entry = {
        document: { id: 0, title: chunk.title, body: chunk.body },
        present: new Set([...chunk.title, ...chunk.body]),
      };
      this.#chunks.set(chunk, entry);
    }
    return entry;
  }

  #prepare(query: string) {
    let entry = this.#prepared.get(query);
    if (entry === undefined) {
      const prepared = this.snapshot.prepare(query);
      const { k1 } = this.snapshot.config;
      let maxScore = 0;
      prepared.terms.forEach((_, i) => {
        const known = prepared.termOrdinals.some((ordinals) => ordinals[i]! >= 0);
        if (known) maxScore += prepared.multiplicity[i]! * prepared.idf[i]! * (k1 + 1);
      });
      entry = { query: prepared, maxScore };
      // Saved queries repeat on every arrival; ad-hoc ones must not grow the memo without bound.
      if (this.#prepared.size >= 50_000) this.#prepared.clear();
      this.#prepared.set(query, entry);
    }
    return entry;
  }
}
