/** A half-open range `[start, end)` of UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
}

/** Words that end in a full stop without ending a sentence (lower case, without the stop). */
const abbreviations = new Set([
  "al",
  "approx",
  "ca",
  "cf",
  "dr",
  "e.g",
  "eq",
  "etc",
  "fig",
  "figs",
  "i.e",
  "inc",
  "jr",
  "ltd",
  "mr",
  "mrs",
  "ms",
  "no",
  "nos",
  "prof",
  "ref",
  "refs",
  "resp",
  "sr",
  "st",
  "vol",
  "vs",
]);

const terminators = new Set([".", "!", "?", "…"]);
const closers = new Set(['"', "'", ")", "]", "”", "’", "»"]);
/** A citation group right after a terminator belongs to the sentence it ends: "…in 2019. [2][3] Next". */
const trailingCitations = /^(?:[ \t]*\[\s*\d+(?:\s*[-–,;]\s*\d+)*\s*\])+/;
/** A line that starts a list item or a heading starts a new sentence. */
const listItem = /^[ \t]*(?:[-*•]|\d{1,3}[.)]|#{1,6})[ \t]/;

const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);
const isLowerStart = (char: string | undefined) => char !== undefined && /\p{Ll}/u.test(char);

function wordBefore(text: string, floor: number, dot: number): string {
  let start = dot;
  while (start > floor && /[\p{L}.]/u.test(text[start - 1]!)) start--;
  return text.slice(start, dot).toLowerCase();
}

/**
 * Splits text into sentences, in order, each trimmed of surrounding whitespace; together they cover every
 * non-whitespace character. A sentence ends at `.`, `!`, `?` or `…` (with closing quotes and brackets, and
 * with citation markers such as `[2]` right after it) followed by whitespace and a character that is not a
 * lower-case letter, unless the word before a full stop is an initial ("J.", "U.S.") or a known
 * abbreviation ("et al.", "Fig.", "e.g."); also at a blank line and before a list item or heading line.
 * Decimal numbers ("3.5") and versions never split, because no whitespace follows their stop.
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  let start = 0;
  const push = (from: number, to: number) => {
    let a = from;
    let b = to;
    while (a < b && isSpace(text[a])) a++;
    while (b > a && isSpace(text[b - 1])) b--;
    if (a < b) spans.push({ start: a, end: b });
  };
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === "\n") {
      let next = index + 1;
      while (next < text.length && (text[next] === " " || text[next] === "\t" || text[next] === "\r")) next++;
      if (text[next] === "\n" || listItem.test(text.slice(index + 1, index + 12))) {
        push(start, index);
        start = index + 1;
      }
      index++;
      continue;
    }
    if (!terminators.has(char)) {
      index++;
      continue;
    }
    let after = index + 1;
    while (after < text.length && terminators.has(text[after]!)) after++;
    while (after < text.length && closers.has(text[after]!)) after++;
    const citations = trailingCitations.exec(text.slice(after, after + 200));
    if (citations) after += citations[0].length;
    if (after < text.length && !isSpace(text[after])) {
      index = after;
      continue;
    }
    let next = after;
    while (next < text.length && isSpace(text[next])) next++;
    if (next >= text.length) break;
    const abbreviated =
      char === "." &&
      after === index + 1 &&
      (() => {
        const word = wordBefore(text, start, index);
        return /^\p{L}$/u.test(word) || /^(?:\p{L}\.)+\p{L}$/u.test(word) || abbreviations.has(word);
      })();
    if (!isLowerStart(text[next]) && !abbreviated) {
      push(start, after);
      start = after;
    }
    index = after;
  }
  push(start, text.length);
  return spans;
}
