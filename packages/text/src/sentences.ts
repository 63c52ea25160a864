import { isWhitespaceCode } from "./html-text";

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
  "corp",
  "dept",
  "dr",
  "fig",
  "figs",
  "inc",
  "incl",
  "jr",
  "ltd",
  "mr",
  "mrs",
  "ms",
  "prof",
  "resp",
  "sr",
  "st",
  "suppl",
  "univ",
  "viz",
  "vs",
]);
/** Abbreviations only when a number follows ("No. 5", "Eq. 3", "pp. 12"): elsewhere they are words. */
const numberingAbbreviations = new Set(["eq", "eqs", "no", "nos", "pp", "ref", "refs", "tab", "vol", "vols"]);

const isTerminator = (code: number) => code === 0x2e || code === 0x21 || code === 0x3f || code === 0x2026;
/** 。！？ and their half-width and full-width forms: they end a sentence with no space after them. */
const isCjkTerminator = (code: number) =>
  code === 0x3002 || code === 0xff01 || code === 0xff1f || code === 0xff61;
/** Closing quotes and brackets that stay with the sentence they close. */
const isCloser = (code: number) =>
  code === 0x22 ||
  code === 0x27 ||
  code === 0x29 ||
  code === 0x5d ||
  code === 0x7d ||
  code === 0x2019 ||
  code === 0x201d ||
  code === 0xbb ||
  code === 0x300d ||
  code === 0x300f ||
  code === 0xff09;
const isAsciiLetter = (code: number) => (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
const isDigit = (code: number) => code >= 48 && code <= 57;
const lowercaseStart = /^\p{Ll}/u;

/**
 * Splits `text[start, end)` into sentences, each trimmed of surrounding whitespace, in order, covering
 * every non-whitespace character. A sentence ends at `.`, `!`, `?` or `…` (plus closing quotes and
 * brackets) followed by whitespace and then a character that is not a lower-case letter, unless the
 * word before a full stop is a single letter (initials, "e.g.", "U.S.") or a known abbreviation ("et
 * al.", "Fig.", "vs."); right after 。！？, with or without a space; and where sentences were run
 * together without a space ("infants.A second") as `isGluedSentenceStart` tells. Decimal numbers and
 * most URLs are never split.
 */
export function splitSentences(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  let sentenceStart = start;
  let index = start;
  while (index < end) {
    const code = text.charCodeAt(index);
    const cjk = isCjkTerminator(code);
    if (!cjk && !isTerminator(code)) {
      index++;
      continue;
    }
    let after = index + 1;
    while (after < end && (isTerminator(text.charCodeAt(after)) || isCjkTerminator(text.charCodeAt(after))))
      after++;
    while (after < end && isCloser(text.charCodeAt(after))) after++;
    if (!cjk && after < end && isGluedSentenceStart(text, start, end, index, after)) {
      pushTrimmed(text, sentenceStart, after, spans);
      sentenceStart = after;
      index = after;
      continue;
    }
    let next = after;
    while (next < end && isWhitespaceCode(text.charCodeAt(next))) next++;
    if (next >= end) break;
    const boundary = cjk
      ? true
      : next > after &&
        !lowercaseStart.test(text.slice(next, next + 2)) &&
        !(code === 0x2e && isAbbreviation(text, start, index, text.charCodeAt(next)));
    if (boundary) {
      pushTrimmed(text, sentenceStart, after, spans);
      sentenceStart = next;
    }
    index = Math.max(after, index + 1);
  }
  pushTrimmed(text, sentenceStart, end, spans);
  return spans;
}

/**
 * Sentences run together without a space ("…in infants.A second group…", common in corpora whose
 * sentences were joined carelessly): a capital letter right after the stop, then a lower-case letter or
 * a space; before the stop a digit, a closing bracket or a lower-case word of two letters or more that
 * is no abbreviation. Initials ("e.g.The") and dotted names ("U.S.Army") do not match.
 */
function isGluedSentenceStart(
  text: string,
  floor: number,
  end: number,
  stop: number,
  after: number,
): boolean {
  const capital = text.charCodeAt(after);
  if (capital < 65 || capital > 90) return false;
  if (after + 1 < end) {
    const following = text.charCodeAt(after + 1);
    if (!(following >= 97 && following <= 122) && !isWhitespaceCode(following)) return false;
  }
  if (stop <= floor) return false;
  const before = text.charCodeAt(stop - 1);
  if (isDigit(before) || before === 0x29 || before === 0x5d || before === 0x25) return true;
  if (before < 97 || before > 122) return false;
  let wordStart = stop - 1;
  while (wordStart > floor && isAsciiLetter(text.charCodeAt(wordStart - 1))) wordStart--;
  if (stop - wordStart < 2) return false;
  for (let index = wordStart; index < stop; index++) {
    const code = text.charCodeAt(index);
    if (code < 97 || code > 122) return false;
  }
  return !abbreviations.has(text.slice(wordStart, stop));
}

/**
 * Whether the word before the full stop at `dot` is an initial (a single letter standing alone: "J.",
 * "e.g.", "U.S.") or a known abbreviation; `nextCode` is the first character after the whitespace.
 */
function isAbbreviation(text: string, floor: number, dot: number, nextCode: number): boolean {
  let wordStart = dot;
  while (wordStart > floor && isAsciiLetter(text.charCodeAt(wordStart - 1))) wordStart--;
  const length = dot - wordStart;
  if (length === 0 || length > 6) return false;
  // "3A." or "1st." is no initial or abbreviation: a letter run glued to a digit.
  if (wordStart > floor && isDigit(text.charCodeAt(wordStart - 1))) return false;
  const word = text.slice(wordStart, dot).toLowerCase();
  if (numberingAbbreviations.has(word)) return isDigit(nextCode);
  return length === 1 || abbreviations.has(word);
}

/** Adds `[start, end)` less surrounding whitespace, if anything is left. */
export function pushTrimmed(text: string, start: number, end: number, spans: Span[]): void {
  let from = start;
  let to = end;
  while (from < to && isWhitespaceCode(text.charCodeAt(from))) from++;
  while (to > from && isWhitespaceCode(text.charCodeAt(to - 1))) to--;
  if (from < to) spans.push({ start: from, end: to });
}
