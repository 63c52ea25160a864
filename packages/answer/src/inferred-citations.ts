import { type Analyzer, createAnalyzer } from "@sift/text";
import type { CitableSource, Citation, CitedSentence } from "./citations";

export interface InferCitationsOptions {
  /** Default: `@sift/text`'s English analyzer (stop words dropped, Porter2 stems). */
  analyzer?: Analyzer;
  /** A sentence needs at least this many distinct content terms to be matched at all; default 4. */
  minTerms?: number;
  /** Share of the sentence's distinct terms that must occur in the source; default 0.7. */
  minOverlap?: number;
  /**
   * Of the matched terms, at least this many must not occur in the question; default 2. A sentence that
   * only restates the question ("X is true.") overlaps every on-topic source and is evidence of nothing.
   */
  minNovelTerms?: number;
}

/** A sentence the model left uncited, with the one source it was matched to. */
export interface InferredSentenceCitation {
  /** Index into the checked `sentences`. */
  sentence: number;
  source: number;
  /** Share of the sentence's distinct terms found in the source, 0..1. */
  overlap: number;
}

export interface InferredCitations {
  /**
   * Sources attached by lexical overlap only, each marked `inferred: true`, in order of first use;
   * `occurrences` counts the sentences attached to it. Sources the model itself cited are not repeated here.
   */
  citations: Citation[];
  /** Per uncited sentence that matched exactly one source. */
  sentences: InferredSentenceCitation[];
}

/**
 * Post-hoc citations for sentences the model wrote without one. A sentence is attached to a source only
 * when (a) it has at least `minTerms` distinct analysed terms, (b) at least `minOverlap` of them occur in
 * exactly one of the given sources (two or more sources above the bar: ambiguous, nothing is attached), and
 * (c) at least `minNovelTerms` of the matched terms are not in the question. This is lexical overlap, not
 * entailment: a negated or garbled copy of a source sentence still matches. That is why the result is kept
 * apart from the model's own citations and every citation it produces carries `inferred: true`; the answer's
 * text is never changed.
 */
export function inferCitations(
  sentences: readonly CitedSentence[],
  sources: ReadonlyArray<CitableSource & { text: string }>,
  question: string,
  options: InferCitationsOptions = {},
): InferredCitations {
  const analyzer = options.analyzer ?? createAnalyzer();
  const minTerms = options.minTerms ?? 4;
  const minOverlap = options.minOverlap ?? 0.7;
  const minNovelTerms = options.minNovelTerms ?? 2;
  const questionTerms = new Set(analyzer.analyze(question));
  const sourceTerms = sources.map((source) => ({ source, terms: new Set(analyzer.analyze(source.text)) }));
  const citations = new Map<number, Citation>();
  const matched: InferredSentenceCitation[] = [];
  sentences.forEach((sentence, index) => {
    if (sentence.cited) return;
    // Digits alone ("1", "2") are too common to count as content; keep terms with a letter.
    const terms = [...new Set(analyzer.analyze(sentence.text))].filter((term) => /\p{L}/u.test(term));
    if (terms.length < minTerms) return;
    const candidates = sourceTerms.flatMap(({ source, terms: inSource }) => {
      const shared = terms.filter((term) => inSource.has(term));
      const overlap = shared.length / terms.length;
      const novel = shared.filter((term) => !questionTerms.has(term)).length;
      return overlap >= minOverlap && novel >= minNovelTerms ? [{ source, overlap }] : [];
    });
    if (candidates.length !== 1) return;
    const { source, overlap } = candidates[0]!;
    matched.push({ sentence: index, source: source.n, overlap });
    const existing = citations.get(source.n);
    if (existing) {
      existing.occurrences++;
      return;
    }
    citations.set(source.n, {
      source: source.n,
      chunkId: source.chunkId,
      documentId: source.documentId,
      title: source.title,
      charStart: source.charStart,
      charEnd: source.charEnd,
      occurrences: 1,
      inferred: true,
    });
  });
  return { citations: [...citations.values()], sentences: matched };
}
