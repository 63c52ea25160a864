import type { LexicalSnapshot, PreparedLexicalQuery } from "@sift/lexical";
import type { FeedCorpus, QueryScore } from "./corpus";
import type { AnalyzedChunk } from "./types";

/**
 * A {@link FeedCorpus} over a collection's current lexical snapshot (the index search uses): the analyser,
 * BM25 configuration, IDF and average length are the snapshot's, so a saved query scores an arriving chunk
 * exactly as a search of that query would score it (`LexicalSnapshot.scoreDocument`). `maxScore` is
 * `Σ idf · (k1 + 1)` over the query's term occurrences the collection has (as {@link CollectionStatisticsCorpus}).
 * Saved queries are prepared once per snapshot and reused for every arriving chunk.
 */
export class SnapshotFeedCorpus implements FeedCorpus {
  readonly #prepared = new Map<string, { query: PreparedLexicalQuery; maxScore: number }>();

  constructor(readonly snapshot: LexicalSnapshot) {}

  analyze(text: string): string[] {
    return this.snapshot.analyzer.analyze(text);
  }

  scoreQuery(query: string, chunk: AnalyzedChunk): QueryScore {
    const { query: prepared, maxScore } = this.#prepare(query);
    const score = this.snapshot.scoreDocument(prepared, { id: 0, title: chunk.title, body: chunk.body });
    const present = new Set([...chunk.title, ...chunk.body]);
    return { score, maxScore, terms: prepared.terms.filter((term) => present.has(term)) };
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
