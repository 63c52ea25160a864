/**
 * Expected WordPiece pieces for a run of letters of length 1..16 (index = length), measured with the
 * bert-base-uncased vocabulary on the SciFact abstracts and on English prose (licences, library docs).
 * Common words are one piece; longer and rarer words break into more.
 */
const letterRunWeights = [
  0, 1, 1.02, 1.1, 1.14, 1.17, 1.17, 1.18, 1.3, 1.42, 1.6, 1.87, 2, 2.1, 3.1, 3.5, 4.4,
] as const;
/** Per character, for letter runs longer than the table (chemical and gene names, identifiers). */
const longLetterRunRate = 0.33;
/** Expected pieces for a run of digits of length 1..4 ("2015" is one piece, "123456" is three). */
const digitRunWeights = [0, 1, 1, 1.3, 1.4] as const;
const longDigitRunRate = 0.55;
/** Per character, for words of other alphabets longer than one letter. */
const otherLetterRate = 0.85;

/** Character classes. */
const Kind = {
  /** Separates words and costs nothing. */
  Space: 0,
  Letter: 1,
  Digit: 2,
  /** Punctuation and symbols: one piece each, and they split words (as BERT's basic tokenizer does). */
  Mark: 3,
  /** CJK ideographs, kana and Hangul: one piece per character. */
  Ideograph: 4,
  /** Combining marks, zero-width and format characters, variation selectors: part of the current run. */
  Ignore: 5,
  /** Letters of non-Latin alphabets (Greek, Cyrillic, Arabic, Indic …): the English vocabulary holds
   * little more than their single characters, so a word costs nearly a piece per letter. */
  OtherLetter: 6,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

const asciiKinds = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  asciiKinds[code] =
    (code >= 97 && code <= 122) || (code >= 65 && code <= 90)
      ? Kind.Letter
      : code >= 48 && code <= 57
        ? Kind.Digit
        : code <= 32 || code === 127
          ? Kind.Space
          : Kind.Mark;
}

function classify(code: number): Kind {
  if (code < 0x80) return asciiKinds[code] as Kind;
  if (code < 0xc0) {
    if (code <= 0xa0) return Kind.Space;
    // ª ² ³ µ ¹ º are letter- or digit-like; the rest of Latin-1's upper half is punctuation and symbols.
    return code === 0xaa || code === 0xb2 || code === 0xb3 || code === 0xb5 || code === 0xb9 || code === 0xba
      ? Kind.Letter
      : Kind.Mark;
  }
  if (code < 0x2000) {
    if (code === 0xd7 || code === 0xf7) return Kind.Mark;
    if (code >= 0x300 && code <= 0x36f) return Kind.Ignore;
    if (code === 0x1680) return Kind.Space;
    return code >= 0x370 && code < 0x1e00 ? Kind.OtherLetter : Kind.Letter;
  }
  if (code < 0x2070) {
    if (code <= 0x200a || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f) {
      return Kind.Space;
    }
    if (code <= 0x200f || code >= 0x2060 || (code >= 0x202a && code <= 0x202e)) return Kind.Ignore;
    return Kind.Mark;
  }
  if (code < 0x2e80) return Kind.Mark;
  if (code < 0xa000) {
    if (code === 0x3000) return Kind.Space;
    if (code <= 0x303f) return Kind.Mark;
    return Kind.Ideograph;
  }
  if (code >= 0xac00 && code <= 0xd7af) return Kind.Ideograph;
  if (code >= 0xf900 && code <= 0xfaff) return Kind.Ideograph;
  if (code >= 0xfe00 && code <= 0xfe0f) return Kind.Ignore;
  if (code === 0xfeff) return Kind.Ignore;
  if (code >= 0xff01 && code <= 0xff60) {
    if (code >= 0xff10 && code <= 0xff19) return Kind.Digit;
    if ((code >= 0xff21 && code <= 0xff3a) || (code >= 0xff41 && code <= 0xff5a)) return Kind.Letter;
    return Kind.Mark;
  }
  return Kind.Letter;
}

function runWeight(kind: Kind, length: number): number {
  if (length === 0) return 0;
  if (kind === Kind.OtherLetter) return length === 1 ? 1 : length * otherLetterRate;
  if (kind === Kind.Digit)
    return length < digitRunWeights.length ? digitRunWeights[length]! : length * longDigitRunRate;
  return length < letterRunWeights.length ? letterRunWeights[length]! : length * longLetterRunRate;
}

/**
 * Estimates how many tokens a BERT WordPiece tokenizer (bert-base-uncased and its relatives: MiniLM,
 * BGE, GTE) makes of `text`, without a vocabulary. O(n) in UTF-16 code units, no allocation.
 *
 * The text is read as BERT's basic tokenizer reads it: whitespace separates words; every punctuation
 * or symbol character is a token of its own and splits the word around it; CJK characters are a token
 * each. A run of letters or a run of digits (a letter-digit change starts a new run, as "il6" becomes
 * "il ##6") then counts the expected number of WordPiece pieces for its length, a table measured on
 * scientific abstracts and English prose: 1 for short words, about 1.6 at 10 letters, 3 at 14, a third
 * of the length beyond 16. Characters outside the Basic Multilingual Plane (emoji) count one each.
 * The fractional sum is rounded; non-blank text counts at least 1.
 *
 * Measured against bert-base-uncased's own vocabulary and algorithm: in total within 0.1% on the 5,183
 * SciFact abstracts and 2% on 512 paragraphs of English prose (licences, library documentation); per
 * document within 15% for 96% of the abstracts and 94% of the paragraphs (median 0.997 and 1.03).
 * Text in other alphabets is rougher (Cyrillic about right; Hangul undercounted). Counts of text joined
 * at whitespace add up, up to rounding.
 */
export function estimateTokens(text: string): number {
  let total = 0;
  let runKind: Kind = Kind.Space;
  let runLength = 0;
  const length = text.length;
  let index = 0;
  while (index < length) {
    const code = text.charCodeAt(index);
    let kind: Kind;
    if (code < 0x80) {
      kind = asciiKinds[code] as Kind;
      if (kind === Kind.Letter || kind === Kind.Digit) {
        // The common case, a run of ASCII letters or digits, in a tight loop.
        if (kind !== runKind) {
          total += runWeight(runKind, runLength);
          runKind = kind;
          runLength = 0;
        }
        let end = index + 1;
        while (end < length) {
          const next = text.charCodeAt(end);
          if (next >= 0x80 || asciiKinds[next] !== kind) break;
          end++;
        }
        runLength += end - index;
        index = end;
        continue;
      }
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = index + 1 < length ? text.charCodeAt(index + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) index++;
      kind = Kind.Mark;
    } else {
      kind = classify(code);
    }
    index++;
    if (kind === Kind.Ignore) continue;
    if (kind === Kind.Letter || kind === Kind.Digit || kind === Kind.OtherLetter) {
      if (kind !== runKind) {
        total += runWeight(runKind, runLength);
        runKind = kind;
        runLength = 0;
      }
      runLength++;
      continue;
    }
    total += runWeight(runKind, runLength);
    runKind = Kind.Space;
    runLength = 0;
    if (kind !== Kind.Space) total += 1;
  }
  total += runWeight(runKind, runLength);
  return total === 0 ? 0 : Math.max(1, Math.round(total));
}
