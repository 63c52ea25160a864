// The snippet builder as it was before ADR 20 (every word of the chunk analysed per query): the reference
// the cached builder in `snippet.ts` is held to, output for output, by `snippet.test.ts`. Not exported.
import type { Analyzer } from "@sift/text";
import type { Snippet } from "./snippet";

const word = /[\p{L}\p{N}]+/gu;

/**
 * Picks the window of the chunk with the most distinct query terms and marks every matched word. A word
 * matches when the shared analyzer maps it to a term of the analyzed query (so "running" matches "runs").
 */
export function buildSnippetReference(input: {
  text: string;
  /** Offset of `text` in its document. */
  documentOffset: number;
  queryTerms: ReadonlySet<string>;
  analyzer: Analyzer;
  maxChars?: number;
}): Snippet {
  const maxChars = input.maxChars ?? 240;
  const { text, queryTerms, analyzer } = input;
  const matches: Array<{ start: number; end: number; term: string }> = [];
  if (queryTerms.size > 0) {
    for (const m of text.matchAll(word)) {
      const raw = m[0];
      const term = analyzer.term(raw);
      if (term !== undefined && queryTerms.has(term)) {
        matches.push({ start: m.index, end: m.index + raw.length, term });
      }
    }
  }

  let start = 0;
  if (text.length > maxChars && matches.length > 0) {
    // Slide a window over the matches; keep the one with the most distinct terms (then most matches).
    let best = { distinct: -1, count: -1, start: 0 };
    let right = 0;
    for (let left = 0; left < matches.length; left++) {
      const from = matches[left]!.start;
      while (right < matches.length && matches[right]!.end - from <= maxChars) right++;
      const window = matches.slice(left, right);
      const distinct = new Set(window.map((x) => x.term)).size;
      if (distinct > best.distinct || (distinct === best.distinct && window.length > best.count)) {
        best = { distinct, count: window.length, start: from };
      }
    }
    // Start a little before the first match, at a word boundary.
    start = Math.max(0, best.start - Math.floor(maxChars / 6));
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
  const highlights = matches
    .filter((m) => m.start >= start && m.end <= end)
    .map((m): [number, number] => [m.start - start + prefix.length, m.end - start + prefix.length]);
  return {
    text: prefix + text.slice(start, end) + suffix,
    highlights,
    charStart: input.documentOffset + start,
    charEnd: input.documentOffset + end,
  };
}

/** Renders a snippet as HTML: text escaped, matches wrapped in `<mark>`. */
export function snippetToHtmlReference(snippet: Snippet): string {
  const escapeHtml = (s: string) =>
    s.replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
    );
  let html = "";
  let at = 0;
  for (const [s, e] of snippet.highlights) {
    html += `${escapeHtml(snippet.text.slice(at, s))}<mark>${escapeHtml(snippet.text.slice(s, e))}</mark>`;
    at = e;
  }
  return html + escapeHtml(snippet.text.slice(at));
}
