import nlp from "wink-nlp-utils";

/**
 * Turns text into the terms a lexical index stores and a query is matched on. The same analyzer must
 * be used for indexing and querying, or terms will not meet.
 */
export interface Analyzer {
  /** A stable name recorded with every persisted index, so an index built with another analyzer is rebuilt. */
  readonly name: string;
  analyze(text: string): string[];
  /**
   * The term one word (a run of letters and digits) maps to, or undefined for a stop word: the fast path
   * for highlighting, equal to `analyze(word)[0]` for such words.
   */
  term(word: string): string | undefined;
}

export interface AnalyzerOptions {
  /** Drop English stop words (wink's list). Default true. */
  stopWords?: boolean;
  /** Porter2 stemming. Default true. */
  stem?: boolean;
}

// Porter2 costs ~7 µs a call and natural text repeats words heavily, so stems are memoised. The cache is
// bounded: when full it is cleared, which keeps memory flat on adversarial input at the cost of re-stemming.
const stemCache = new Map<string, string>();
const stemCacheLimit = 200_000;
function stemCached(token: string): string {
  let stemmed = stemCache.get(token);
  if (stemmed === undefined) {
    stemmed = nlp.string.stem(token);
    if (stemCache.size >= stemCacheLimit) stemCache.clear();
    stemCache.set(token, stemmed);
  }
  return stemmed;
}

/**
 * The standard English analyzer: lower-case, split on non-alphanumerics (wink `tokenize0`), drop stop
 * words, Porter2-stem. Negation propagation is deliberately off: it rewrites "not X" into a term "!x"
 * that a query without the negation never matches.
 */
export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const stopWords = options.stopWords ?? true;
  const stem = options.stem ?? true;
  // Word → term memo for `term`, bounded like the stem cache (null marks a stop word).
  const terms = new Map<string, string | null>();
  return {
    term(word: string): string | undefined {
      let term = terms.get(word);
      if (term === undefined) {
        let tokens = nlp.string.tokenize0(nlp.string.lowerCase(word));
        if (stopWords) tokens = nlp.tokens.removeWords(tokens);
        const first = tokens[0];
        term = first === undefined ? null : stem ? stemCached(first) : first;
        if (terms.size >= stemCacheLimit) terms.clear();
        terms.set(word, term);
      }
      return term ?? undefined;
    },
    name: `english-v1${stopWords ? "" : "-nostop"}${stem ? "" : "-nostem"}`,
    analyze(text: string): string[] {
      let tokens = nlp.string.tokenize0(nlp.string.removeExtraSpaces(nlp.string.lowerCase(text)));
      if (stopWords) tokens = nlp.tokens.removeWords(tokens);
      if (stem) tokens = tokens.map(stemCached);
      return tokens;
    },
  };
}
