import type { Analyzer } from "@sift/text";

export interface Snippet {
  /** Plain text excerpt of the chunk (no markup); `…` marks a cut at either end. */
  text: string;
  /** Matched query terms inside `text`, as [start, end) offsets into `text`. */
  highlights: Array<[number, number]>;
  /** Where `text` starts and ends in the document (after the ellipsis), UTF-16 offsets. */
  charStart: number;
  charEnd: number;
}

export interface SnippetBuilderOptions {
  /** Longest excerpt, in UTF-16 code units, before the ellipses. Default 240. */
  maxChars?: number | undefined;
  /**
   * Memory for analysed chunk texts (12 bytes a content word, about 1.3 KB for a SciFact chunk), least
   * recently used dropped first. Default 64 MiB; 0 analyses every text on every call.
   */
  cacheBytes?: number | undefined;
}

/** A query as the builder matches it: each distinct analysed term's id, mapped to its index among them. */
export interface SnippetQuery {
  readonly terms: ReadonlyMap<number, number>;
  /** Bit `id & 31` set for each term id: most words are ruled out without a map lookup. */
  readonly mask: number;
}

const word = /[\p{L}\p{N}]+/gu;
const defaultCacheBytes = 64 * 1024 * 1024;
/** Per-entry overhead beside the array (map entry, array header), so many tiny texts still count. */
const entryOverheadBytes = 96;
/** Distinct terms interned before the table (and the texts that use its ids) is dropped. */
const maxInternedTerms = 1_000_000;

/**
 * Builds snippets: the window of a chunk with the most distinct query terms, every matched word marked. A
 * word (a run of letters and digits) matches when the analyzer maps it to a term of the analysed query (so
 * "running" matches "runs").
 *
 * A text is analysed once, into its content words' offsets and term ids, and kept in a bounded LRU keyed
 * by the text; a later snippet of that text compares integers instead of re-analysing every word. The
 * output equals, snippet for snippet, the per-query analysis of `snippet-reference.ts` (`snippet.test.ts`).
 * Not safe to share across analyzers: build one per analyzer.
 */
export class SnippetBuilder {
  readonly #analyzer: Analyzer;
  readonly #maxChars: number;
  readonly #cacheBytes: number;
  #termIds = new Map<string, number>();
  #words = new Map<string, Int32Array>();
  #cachedBytes = 0;
  #scratch = new Int32Array(1024);

  constructor(analyzer: Analyzer, options: SnippetBuilderOptions = {}) {
    this.#analyzer = analyzer;
    this.#maxChars = options.maxChars ?? 240;
    this.#cacheBytes = options.cacheBytes ?? defaultCacheBytes;
  }

  /** Analyses the query once for the snippets of one response. */
  prepare(query: string): SnippetQuery {
    if (this.#termIds.size > maxInternedTerms) this.#clear();
    const terms = new Map<number, number>();
    let mask = 0;
    for (const term of this.#analyzer.analyze(query)) {
      const id = this.#intern(term);
      if (!terms.has(id)) terms.set(id, terms.size);
      mask |= 1 << (id & 31);
    }
    return { terms, mask };
  }

  /** The snippet of `text`, whose offset in its document is `documentOffset`. */
  build(query: SnippetQuery, text: string, documentOffset: number): Snippet {
    const matches = query.terms.size === 0 ? noMatches : this.#matches(query, text);
    return snippetOf(text, documentOffset, matches, query.terms.size, this.#maxChars);
  }

  /**
   * The query's matches in `text`, as [start, end, query term index] triples in text order, in a scratch
   * array this builder reuses (valid until its next call).
   */
  #matches(query: SnippetQuery, text: string): Int32Array {
    const words = this.#wordsOf(text);
    if (this.#scratch.length < words.length) this.#scratch = new Int32Array(words.length);
    const matches = this.#scratch;
    const { terms, mask } = query;
    let at = 0;
    for (let i = 0; i < words.length; i += 3) {
      const id = words[i + 2]!;
      if (((mask >>> (id & 31)) & 1) === 0) continue;
      const index = terms.get(id);
      if (index === undefined) continue;
      matches[at++] = words[i]!;
      matches[at++] = words[i + 1]!;
      matches[at++] = index;
    }
    return matches.subarray(0, at);
  }

  /** The content words of `text` (stop words never match), from the cache or analysed now. */
  #wordsOf(text: string): Int32Array {
    const cached = this.#words.get(text);
    if (cached !== undefined) {
      this.#words.delete(text);
      this.#words.set(text, cached);
      return cached;
    }
    const triples: number[] = [];
    for (const m of text.matchAll(word)) {
      const term = this.#analyzer.term(m[0]);
      if (term !== undefined) triples.push(m.index, m.index + m[0].length, this.#intern(term));
    }
    const words = Int32Array.from(triples);
    const bytes = words.byteLength + entryOverheadBytes;
    if (bytes > this.#cacheBytes) return words;
    this.#words.set(text, words);
    this.#cachedBytes += bytes;
    for (const [oldest, dropped] of this.#words) {
      if (this.#cachedBytes <= this.#cacheBytes) break;
      this.#words.delete(oldest);
      this.#cachedBytes -= dropped.byteLength + entryOverheadBytes;
    }
    return words;
  }

  #intern(term: string): number {
    let id = this.#termIds.get(term);
    if (id === undefined) {
      id = this.#termIds.size;
      this.#termIds.set(term, id);
    }
    return id;
  }

  #clear(): void {
    this.#termIds = new Map();
    this.#words = new Map();
    this.#cachedBytes = 0;
  }
}

const noMatches = new Int32Array(0);

/**
 * The snippet around the best window of `matches` ([start, end, term index] triples, in text order): the
 * window of at most `maxChars` with the most distinct terms (then the most matches, then the first).
 */
function snippetOf(
  text: string,
  documentOffset: number,
  matches: Int32Array,
  distinctTerms: number,
  maxChars: number,
): Snippet {
  let start = 0;
  if (text.length > maxChars && matches.length > 0) {
    // Start a little before the first match, at a word boundary.
    start = Math.max(0, bestWindowStart(matches, distinctTerms, maxChars) - Math.floor(maxChars / 6));
    start = Math.min(start, text.length - maxChars);
  }
  let end = Math.min(text.length, start + maxChars);
  if (start > 0) {
    const space = text.indexOf(" ", start);
    if (space !== -1 && space < start + 20) start = space + 1;
  }
  if (end < text.length) {
    const space = text.lastIndexOf(" ", end);
    if (space > start + maxChars / 2) end = space;
  }
  const prefix = start > 0 ? "…" : "";
  const suffix = end < text.length ? "…" : "";
  const shift = prefix.length - start;
  const highlights: Array<[number, number]> = [];
  for (let i = 0; i < matches.length; i += 3) {
    const from = matches[i]!;
    const to = matches[i + 1]!;
    if (from >= start && to <= end) highlights.push([from + shift, to + shift]);
  }
  return {
    text: prefix + text.slice(start, end) + suffix,
    highlights,
    charStart: documentOffset + start,
    charEnd: documentOffset + end,
  };
}

/**
 * Slides a window over the matches: for each match as the left end, the matches that end within
 * `maxChars` of its start. Returns the start of the window with the most distinct terms, then the most
 * matches, the first on ties. Term counts are kept incrementally (O(matches), no per-window copies).
 */
function bestWindowStart(matches: Int32Array, distinctTerms: number, maxChars: number): number {
  const n = matches.length / 3;
  const counts = new Int32Array(distinctTerms);
  let distinct = 0;
  let bestDistinct = -1;
  let bestCount = -1;
  let bestStart = 0;
  let right = 0;
  for (let left = 0; left < n; left++) {
    // The window is [left, right); a match passed by `right` before `left` reached it was never in it.
    if (left > 0 && left - 1 < right && --counts[matches[(left - 1) * 3 + 2]!]! === 0) distinct--;
    const from = matches[left * 3]!;
    while (right < n && matches[right * 3 + 1]! - from <= maxChars) {
      if (right >= left && counts[matches[right * 3 + 2]!]!++ === 0) distinct++;
      right++;
    }
    const count = Math.max(0, right - left);
    if (distinct > bestDistinct || (distinct === bestDistinct && count > bestCount)) {
      bestDistinct = distinct;
      bestCount = count;
      bestStart = from;
    }
  }
  return bestStart;
}

const htmlEscapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const htmlSpecial = /[&<>"']/g;
const escapeHtml = (s: string) =>
  s.search(htmlSpecial) === -1 ? s : s.replace(htmlSpecial, (c) => htmlEscapes[c]!);

/** Renders a snippet as HTML: text escaped, matches wrapped in `<mark>`. */
export function snippetToHtml(snippet: Snippet): string {
  let html = "";
  let at = 0;
  for (const [s, e] of snippet.highlights) {
    html += `${escapeHtml(snippet.text.slice(at, s))}<mark>${escapeHtml(snippet.text.slice(s, e))}</mark>`;
    at = e;
  }
  return html + escapeHtml(snippet.text.slice(at));
}

/** One snippet without a cache (a builder per call); a searcher keeps one `SnippetBuilder` instead. */
export function buildSnippet(input: {
  text: string;
  /** Offset of `text` in its document. */
  documentOffset: number;
  query: string;
  analyzer: Analyzer;
  maxChars?: number;
}): Snippet {
  const builder = new SnippetBuilder(input.analyzer, { maxChars: input.maxChars, cacheBytes: 0 });
  return builder.build(builder.prepare(input.query), input.text, input.documentOffset);
}
