import { type ChunkInput, ValidationError } from "@sift/core";
import { type Block, splitBlocks } from "./blocks";
import { estimateTokens } from "./estimate-tokens";
import { isWhitespaceCode } from "./html-text";
import type { Heading, ParsedDocument } from "./parse-document";
import { pushTrimmed, type Span, splitSentences } from "./sentences";

export interface ChunkerOptions {
  /** Upper bound on a chunk's `tokenCount` (a single unsplittable word may exceed it). At least 1. */
  maxTokens: number;
  /** Target overlap, in tokens, between consecutive chunks of one section; 0 turns overlap off. Below `maxTokens`. */
  overlapTokens: number;
  /** The token counter that sizes chunks and fills `tokenCount`; pass the embedding model's own for exact counts. */
  countTokens: (text: string) => number;
}

export const defaultChunkerOptions: ChunkerOptions = Object.freeze({
  maxTokens: 400,
  overlapTokens: 48,
  countTokens: estimateTokens,
});

/** How far past `overlapTokens` the overlap may go when the last sentence alone is longer than the target. */
const overlapStretch = 1.5;

/**
 * A unit the packer places whole: a block that fits, or, for a block that does not, a sentence (a line
 * in code, lists and tables), or a word of a sentence that does not fit either.
 */
interface Piece extends Span {
  tokens: number;
  /** A paragraph block that fitted whole: its sentences are looked up only when overlap needs them. */
  paragraph: boolean;
  /** Whether an overlap may start here (a sentence, line or block starts here, and no heading does). */
  overlapStart: boolean;
}

interface Section extends Span {
  path: string[];
  level: number;
  /** Offsets of the heading lines inside the section (more than one when heading-only parents were merged in). */
  headingStarts: number[];
}

/**
 * Splits a parsed document into chunks for indexing.
 *
 * 1. A document whose trimmed text fits in `maxTokens` is one chunk.
 * 2. Otherwise the text is cut into sections at headings (a section runs from its heading line to the
 *    next heading); a section holding nothing but its heading is joined to the section after it when that
 *    one is nested inside it, so a parent title ends up in its first child's chunk rather than alone.
 * 3. A section is cut into blocks at blank lines; fenced code blocks and lists stay whole.
 * 4. Consecutive blocks of a section are packed into chunks of at most `maxTokens`. A block larger than
 *    that is cut into sentences (lines for code, lists and tables; sentences run together without a
 *    space count), a sentence still too large into runs of words at whitespace, and a word too large at
 *    CJK character boundaries if it has any; nothing is ever cut inside a word.
 * 5. Each chunk after the first of a section starts with whole sentences from the end of the previous
 *    chunk, up to `overlapTokens` (up to 1.5 times that when one sentence is longer), never including a
 *    heading line; it is shortened or dropped when it would push the chunk past `maxTokens`.
 *
 * Guarantees, for every chunk: `parsed.text.slice(charStart, charEnd) === text`; `text` is non-empty
 * and has no surrounding whitespace; `tokenCount === countTokens(text)` and `tokenCount <= maxTokens`
 * unless the chunk is a single word run that cannot be split; `headingPath` lists the titles of the
 * enclosing headings, outermost first (for a chunk spanning several sections, their common ancestors);
 * ordinals run 0..n-1 in text order, and charStart grows strictly. Blank text yields no chunks.
 *
 * Cost: O(n) in the text length plus the token counter's, which sees each character once for a short
 * document and about three times otherwise (whole, per block or sentence, per chunk).
 */
export function chunkDocument(parsed: ParsedDocument, options: Partial<ChunkerOptions> = {}): ChunkInput[] {
  const settings = resolveOptions(options);
  const { text } = parsed;
  const whole: Span[] = [];
  pushTrimmed(text, 0, text.length, whole);
  const span = whole[0];
  if (span === undefined) return [];

  const sections = buildSections(text, parsed.headings);
  const wholeText = text.slice(span.start, span.end);
  const wholeTokens = settings.countTokens(wholeText);
  if (wholeTokens <= settings.maxTokens) {
    return [
      {
        ordinal: 0,
        text: wholeText,
        charStart: span.start,
        charEnd: span.end,
        headingPath: commonPath(sections.filter((section) => hasContent(text, section))),
        tokenCount: wholeTokens,
      },
    ];
  }

  const chunks: ChunkInput[] = [];
  const count = spanCounter(text, settings.countTokens, span, wholeTokens);
  for (const section of sections) {
    const pieces = sectionPieces(text, section, settings, count);
    packSection(text, section, pieces, settings, count, chunks);
  }
  return chunks;
}

function resolveOptions(options: Partial<ChunkerOptions>): ChunkerOptions {
  // An option given as undefined (say, from a config object) falls back to the default.
  const settings: ChunkerOptions = {
    maxTokens: options.maxTokens ?? defaultChunkerOptions.maxTokens,
    overlapTokens: options.overlapTokens ?? defaultChunkerOptions.overlapTokens,
    countTokens: options.countTokens ?? defaultChunkerOptions.countTokens,
  };
  const issues: { path: string; message: string }[] = [];
  if (!Number.isFinite(settings.maxTokens) || settings.maxTokens < 1) {
    issues.push({ path: "maxTokens", message: "must be a number of at least 1" });
  }
  if (!Number.isFinite(settings.overlapTokens) || settings.overlapTokens < 0) {
    issues.push({ path: "overlapTokens", message: "must be a number of at least 0" });
  } else if (settings.overlapTokens >= settings.maxTokens) {
    issues.push({ path: "overlapTokens", message: "must be below maxTokens" });
  }
  if (typeof settings.countTokens !== "function")
    issues.push({ path: "countTokens", message: "must be a function" });
  if (issues.length > 0) throw new ValidationError("invalid chunker options", issues);
  return settings;
}

/** Sections in text order, covering the text; the part before the first heading has an empty path. */
function buildSections(text: string, headings: readonly Heading[]): Section[] {
  const valid = headings
    .filter(
      (heading) =>
        Number.isInteger(heading.charStart) &&
        heading.charStart >= 0 &&
        heading.charStart < text.length &&
        typeof heading.title === "string",
    )
    .sort((left, right) => left.charStart - right.charStart)
    .filter((heading, index, sorted) => index === 0 || sorted[index - 1]?.charStart !== heading.charStart);

  const raw: Section[] = [];
  const firstStart = valid[0]?.charStart ?? text.length;
  if (firstStart > 0) raw.push({ start: 0, end: firstStart, path: [], level: 0, headingStarts: [] });
  const stack: Heading[] = [];
  valid.forEach((heading, index) => {
    while (stack.length > 0 && (stack[stack.length - 1]?.level ?? 0) >= heading.level) stack.pop();
    stack.push(heading);
    raw.push({
      start: heading.charStart,
      end: valid[index + 1]?.charStart ?? text.length,
      path: stack.map((open) => open.title),
      level: heading.level,
      headingStarts: [skipWhitespace(text, heading.charStart)],
    });
  });

  const sections: Section[] = [];
  let pending: Section | undefined;
  raw.forEach((section, index) => {
    const own = section.start;
    if (pending !== undefined) {
      section.start = pending.start;
      section.headingStarts = [...pending.headingStarts, ...section.headingStarts];
      pending = undefined;
    }
    const next = raw[index + 1];
    if (
      next !== undefined &&
      next.level > section.level &&
      section.level > 0 &&
      isHeadingOnly(text, own, section.end)
    ) {
      pending = section;
      return;
    }
    sections.push(section);
  });
  return sections;
}

/** The first offset from `start` on that is not whitespace (where the heading line's block starts). */
function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (index < text.length && isWhitespaceCode(text.charCodeAt(index))) index++;
  return index;
}

/** Whether `text[start, end)` is a heading line alone: one line, or a setext title and its underline. */
function isHeadingOnly(text: string, start: number, end: number): boolean {
  const spans: Span[] = [];
  pushTrimmed(text, start, end, spans);
  const span = spans[0];
  if (span === undefined) return true;
  const content = text.slice(span.start, span.end);
  const lines = content.split("\n");
  if (lines.length === 1) return true;
  return lines.length === 2 && /^ {0,3}(?:=+|-+)[ \t\r]*$/.test(lines[1] ?? "");
}

function hasContent(text: string, section: Section): boolean {
  for (let index = section.start; index < section.end; index++) {
    if (!isWhitespaceCode(text.charCodeAt(index))) return true;
  }
  return false;
}

function commonPath(sections: Section[]): string[] {
  const first = sections[0];
  if (first === undefined) return [];
  let length = first.path.length;
  for (const section of sections) {
    let shared = 0;
    while (shared < length && shared < section.path.length && section.path[shared] === first.path[shared])
      shared++;
    length = shared;
  }
  return first.path.slice(0, length);
}

type SpanCounter = (start: number, end: number) => number;

/**
 * Counts the tokens of `text[start, end)`, remembering the last span counted: an oversized block whose
 * only sentence is its only word (a document of one long token) is then counted once, not at each level.
 */
function spanCounter(
  text: string,
  countTokens: (text: string) => number,
  seed: Span,
  seedTokens: number,
): SpanCounter {
  let lastStart = seed.start;
  let lastEnd = seed.end;
  let lastTokens = seedTokens;
  return (start, end) => {
    if (start !== lastStart || end !== lastEnd) {
      lastTokens = countTokens(text.slice(start, end));
      lastStart = start;
      lastEnd = end;
    }
    return lastTokens;
  };
}

function sectionPieces(
  text: string,
  section: Section,
  settings: ChunkerOptions,
  count: SpanCounter,
): Piece[] {
  const pieces: Piece[] = [];
  const headingStarts = new Set(section.headingStarts);
  const add = (start: number, end: number, tokens: number, paragraph: boolean, sentenceStart: boolean) => {
    pieces.push({ start, end, tokens, paragraph, overlapStart: sentenceStart && !headingStarts.has(start) });
  };
  const blocks = splitBlocks(text, section.start, section.end);
  // Heading lines at the start of the section, and the tokens they take.
  let headingBlocks = 0;
  let headingTokens = 0;
  for (const block of blocks) {
    if (!headingStarts.has(block.start) || !isHeadingOnly(text, block.start, block.end)) break;
    headingBlocks++;
    headingTokens += count(block.start, block.end);
  }
  blocks.forEach((block, blockIndex) => {
    const tokens = count(block.start, block.end);
    // The heading goes with the start of the section's content: a first block that fits alone but not
    // beside the heading is cut into sentences, so that the heading's chunk holds more than the heading.
    const besideHeading = blockIndex === headingBlocks && headingBlocks > 0;
    if (tokens <= settings.maxTokens && !(besideHeading && headingTokens + tokens > settings.maxTokens)) {
      add(block.start, block.end, tokens, block.kind === "paragraph", true);
      return;
    }
    for (const unit of blockUnits(text, block)) {
      const unitTokens = count(unit.start, unit.end);
      if (unitTokens <= settings.maxTokens) {
        add(unit.start, unit.end, unitTokens, false, true);
        continue;
      }
      let first = true;
      for (const group of wordGroups(text, unit, groupLength(unit, unitTokens, settings.maxTokens))) {
        const groupTokens = count(group.start, group.end);
        if (groupTokens <= settings.maxTokens) {
          add(group.start, group.end, groupTokens, false, first);
          first = false;
          continue;
        }
        for (const word of words(text, group)) {
          const wordTokens = count(word.start, word.end);
          if (wordTokens <= settings.maxTokens) {
            add(word.start, word.end, wordTokens, false, first);
          } else {
            for (const part of cjkParts(text, word, groupLength(word, wordTokens, settings.maxTokens))) {
              add(part.start, part.end, count(part.start, part.end), false, first);
              first = false;
            }
          }
          first = false;
        }
      }
    }
  });
  return pieces;
}

/** The units an oversized block is cut into: lines for code, lists and tables, sentences otherwise. */
function blockUnits(text: string, block: Block): Span[] {
  if (block.kind === "paragraph") return splitSentences(text, block.start, block.end);
  const lines: Span[] = [];
  let lineStart = block.start;
  while (lineStart < block.end) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1 || lineEnd > block.end) lineEnd = block.end;
    pushTrimmed(text, lineStart, lineEnd, lines);
    lineStart = lineEnd + 1;
  }
  // Lines are cut into sentences in turn: a long list item is prose.
  return lines.flatMap((line) => splitSentences(text, line.start, line.end));
}

/**
 * How many characters of `span` make about an eighth of `maxTokens`, at the span's own token density.
 * Oversized text is cut into runs of that size rather than into single words or characters: it keeps
 * the token counter's calls few and its rounding small, and the packer still fills a chunk to within
 * one run.
 */
function groupLength(span: Span, spanTokens: number, maxTokens: number): number {
  const target = Math.max(1, Math.floor(maxTokens / 8));
  return Math.max(1, Math.floor(((span.end - span.start) * target) / Math.max(1, spanTokens)));
}

/** An oversized sentence cut at whitespace into runs of words at least `groupLength` characters long. */
function wordGroups(text: string, span: Span, groupLength: number): Span[] {
  const groups: Span[] = [];
  let groupStart = -1;
  let groupEnd = -1;
  for (const word of words(text, span)) {
    if (groupStart < 0) groupStart = word.start;
    groupEnd = word.end;
    if (groupEnd - groupStart >= groupLength) {
      groups.push({ start: groupStart, end: groupEnd });
      groupStart = -1;
    }
  }
  if (groupStart >= 0) groups.push({ start: groupStart, end: groupEnd });
  return groups;
}

/** Whitespace-separated words of `span`. */
function words(text: string, span: Span): Span[] {
  const result: Span[] = [];
  let wordStart = -1;
  for (let index = span.start; index <= span.end; index++) {
    const blank = index === span.end || isWhitespaceCode(text.charCodeAt(index));
    if (!blank) {
      if (wordStart < 0) wordStart = index;
    } else if (wordStart >= 0) {
      result.push({ start: wordStart, end: index });
      wordStart = -1;
    }
  }
  return result;
}

const isCjk = (code: number) =>
  (code >= 0x2e80 && code <= 0x9fff) ||
  (code >= 0xac00 && code <= 0xd7af) ||
  (code >= 0xf900 && code <= 0xfaff);
/** Characters that belong to the one before them: low surrogates, combining marks, joiners, variation selectors. */
const clingsToPrevious = (code: number) =>
  (code >= 0xdc00 && code <= 0xdfff) ||
  (code >= 0x300 && code <= 0x36f) ||
  code === 0x3099 ||
  code === 0x309a ||
  code === 0x200c ||
  code === 0x200d ||
  (code >= 0xfe00 && code <= 0xfe0f);

/**
 * A word with no whitespace cut where CJK text allows it, into parts of at least `groupLength`
 * characters: before or after a CJK character (not before a mark that clings to the character before
 * it). A word without CJK characters stays whole.
 */
function cjkParts(text: string, word: Span, groupLength: number): Span[] {
  const parts: Span[] = [];
  let partStart = word.start;
  for (let index = word.start + 1; index < word.end; index++) {
    if (index - partStart < groupLength) continue;
    const code = text.charCodeAt(index);
    const previous = text.charCodeAt(index - 1);
    if ((isCjk(code) || isCjk(previous)) && !clingsToPrevious(code) && previous !== 0x200d) {
      parts.push({ start: partStart, end: index });
      partStart = index;
    }
  }
  parts.push({ start: partStart, end: word.end });
  return parts;
}

interface OverlapCandidate {
  start: number;
  tokens: number;
}

/**
 * Where the next chunk may start inside the previous one (pieces `first..last`, starting at `start`):
 * at the start of a sentence, line or block in its tail, never at a heading; smallest overlap first.
 */
function overlapCandidates(
  text: string,
  pieces: Piece[],
  previous: { first: number; last: number; start: number },
  headingStarts: ReadonlySet<number>,
  settings: ChunkerOptions,
): OverlapCandidate[] {
  const { first, last, start: chunkStart } = previous;
  const candidates: OverlapCandidate[] = [];
  if (settings.overlapTokens <= 0) return candidates;
  const stretched = settings.overlapTokens * overlapStretch;
  let total = 0;
  for (let index = last; index >= first; index--) {
    const piece = pieces[index]!;
    const units: { span: Span; tokens: number; canStart: boolean }[] = [];
    if (piece.paragraph) {
      const sentences = splitSentences(text, piece.start, piece.end);
      if (sentences.length === 1) {
        units.push({ span: piece, tokens: piece.tokens, canStart: piece.overlapStart });
      } else {
        for (let at = sentences.length - 1; at >= 0; at--) {
          const sentence = sentences[at]!;
          const canStart = at > 0 || piece.overlapStart;
          // Sentences are only counted until the overlap is full, so a long block costs little.
          units.push({ span: sentence, tokens: -1, canStart });
        }
      }
    } else {
      units.push({ span: piece, tokens: piece.tokens, canStart: piece.overlapStart });
    }
    for (const unit of units) {
      const tokens =
        unit.tokens >= 0 ? unit.tokens : settings.countTokens(text.slice(unit.span.start, unit.span.end));
      total += tokens;
      const eligible = unit.canStart && unit.span.start > chunkStart && !headingStarts.has(unit.span.start);
      if (total > settings.overlapTokens) {
        if (eligible && candidates.length === 0 && total <= stretched)
          candidates.push({ start: unit.span.start, tokens: total });
        return candidates;
      }
      if (eligible) candidates.push({ start: unit.span.start, tokens: total });
    }
  }
  return candidates;
}

function packSection(
  text: string,
  section: Section,
  pieces: Piece[],
  settings: ChunkerOptions,
  count: SpanCounter,
  chunks: ChunkInput[],
): void {
  const { maxTokens } = settings;
  const headingStarts = new Set(section.headingStarts);
  // How a chunk's count compares with the sum of its pieces' counts, as last measured. Counts need not
  // add up (rounding, a real tokenizer's merges), so packing by sums alone would overfill chunk after
  // chunk and cost a recount each time.
  let scale = 1;
  const fits = (tokens: number) => tokens * scale <= maxTokens;
  let index = 0;
  let previous: { first: number; last: number; start: number } | undefined;
  while (index < pieces.length) {
    const firstPiece = pieces[index]!;
    const candidates =
      previous === undefined ? [] : overlapCandidates(text, pieces, previous, headingStarts, settings);
    // The largest overlap that leaves room for the first new piece.
    let chosen = candidates.length - 1;
    while (chosen >= 0 && !fits(candidates[chosen]!.tokens + firstPiece.tokens)) chosen--;
    const overlapOf = () => (chosen >= 0 ? candidates[chosen]!.tokens : 0);
    let piecesTotal = firstPiece.tokens;
    let last = index;
    while (last + 1 < pieces.length && fits(overlapOf() + piecesTotal + pieces[last + 1]!.tokens)) {
      last++;
      piecesTotal += pieces[last]!.tokens;
    }

    // Check the chunk as a whole. Too large: give up trailing pieces worth the excess (at least one)
    // and measure again; only when the first new piece alone is left, shorten the overlap.
    const startOf = () => (chosen >= 0 ? candidates[chosen]!.start : firstPiece.start);
    let start = startOf();
    let tokenCount = count(start, pieces[last]!.end);
    while (tokenCount > maxTokens && last > index) {
      const ratio = tokenCount / Math.max(1, overlapOf() + piecesTotal);
      let dropped = 0;
      do {
        dropped += pieces[last]!.tokens * ratio;
        piecesTotal -= pieces[last]!.tokens;
        last--;
      } while (last > index && dropped < tokenCount - maxTokens);
      tokenCount = count(start, pieces[last]!.end);
    }
    while (tokenCount > maxTokens && chosen >= 0) {
      chosen--;
      start = startOf();
      tokenCount = count(start, pieces[last]!.end);
    }
    const parts = overlapOf() + piecesTotal;
    if (parts > 0) scale = Math.min(2, Math.max(1, tokenCount / parts));

    chunks.push({
      ordinal: chunks.length,
      text: text.slice(start, pieces[last]!.end),
      charStart: start,
      charEnd: pieces[last]!.end,
      headingPath: [...section.path],
      tokenCount,
    });
    previous = { first: index, last, start };
    index = last + 1;
  }
}
