import { splitSentences } from "./sentences";

/** A source the prompt numbered, as citations resolve to it. Offsets are into the document's text. */
export interface CitableSource {
  /** 1-based number given in the prompt. */
  n: number;
  chunkId: number;
  documentId: string;
  title: string | null;
  /** The span of the document the model was shown for this source, [charStart, charEnd). */
  charStart: number;
  charEnd: number;
}

/** One cited source, resolved. */
export interface Citation {
  /** The number the answer uses, `[source]`. */
  source: number;
  chunkId: number;
  documentId: string;
  title: string | null;
  charStart: number;
  charEnd: number;
  /** How many times the answer cites it. */
  occurrences: number;
  /**
   * Present (true) only on citations the model did not write: attached afterwards by lexical overlap
   * (`inferCitations`). They are listed apart (`inferredCitations`), never mixed into `citations`.
   */
  inferred?: true;
}

export interface CitedSentence {
  /** Offsets into the checked answer text. */
  start: number;
  end: number;
  text: string;
  /** Sources cited inside the sentence, ascending, distinct. */
  sources: number[];
  cited: boolean;
}

/** A citation naming a source that was not given: removed from the text. */
export interface RemovedCitation {
  /** The whole marker as written, e.g. `[2, 9]`. */
  marker: string;
  /** The source number that does not exist. */
  source: number;
  /** Offset of the marker in the raw (unchecked) text. */
  offset: number;
}

/** Bracketed text that looks like a citation attempt but does not parse (`[1,]`, `[2a]`): left in place. */
export interface MalformedCitation {
  marker: string;
  offset: number;
}

export interface CitationCheck {
  /** The answer with citations to nothing removed (whitespace before a removed marker goes with it). */
  text: string;
  /** Distinct cited sources, in order of first citation. */
  citations: Citation[];
  sentences: CitedSentence[];
  /** Number of sentences without any citation. */
  uncitedSentences: number;
  removed: RemovedCitation[];
  malformed: MalformedCitation[];
}

/** A bracket group and the whitespace before it. */
const bracketGroup = /(\s*)\[([^[\]\n]{1,40})\]/g;
const sourcePrefix = /^\s*(?:sources?|refs?)\s*/i;
const singleNumber = /^\d{1,4}$/;
const numberRange = /^(\d{1,4})\s*[-–]\s*(\d{1,4})$/;
/** Longest range `[a-b]` read as a list of sources. */
const maxRangeLength = 20;

type GroupReading =
  | { kind: "not-a-citation" }
  | { kind: "malformed" }
  | { kind: "citation"; sources: number[] };

/**
 * Reads the inside of `[...]`: numbers separated by commas or semicolons, ranges `1-3`, an optional
 * `source`/`sources` prefix (`[Source 2]`). Text with a digit that does not parse is malformed; text without
 * a digit (`[sic]`, `[a]`) is no citation at all.
 */
export function readCitationGroup(inside: string): GroupReading {
  const items = inside.replace(sourcePrefix, "").split(/[,;]/);
  const sources: number[] = [];
  for (const item of items.map((part) => part.trim())) {
    if (singleNumber.test(item)) {
      sources.push(Number(item));
      continue;
    }
    const range = numberRange.exec(item);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (to > from && to - from <= maxRangeLength) {
        for (let n = from; n <= to; n++) sources.push(n);
        continue;
      }
    }
    return /\d/.test(inside) ? { kind: "malformed" } : { kind: "not-a-citation" };
  }
  return { kind: "citation", sources };
}

interface Rewrite {
  text: string;
  removed: RemovedCitation[];
  malformed: MalformedCitation[];
}

/**
 * Removes citations to sources outside 1..sourceCount. A group whose every number is invalid disappears
 * with the whitespace before it (unless another group follows at once); a group mixing valid and invalid numbers is rewritten with the valid ones
 * (`[1, 9]` → `[1]`); valid groups stay exactly as written. Markdown links (`[text](url)`) are skipped.
 * The rewrite is local to each group, so applying it to consecutive pieces of a text gives the same
 * result as applying it to the whole, provided no piece boundary falls inside a group or the whitespace
 * before it (see `CitationStreamFilter`).
 */
export function removeInvalidCitations(raw: string, sourceCount: number, baseOffset = 0): Rewrite {
  const removed: RemovedCitation[] = [];
  const malformed: MalformedCitation[] = [];
  const text = raw.replace(bracketGroup, (match, space: string, inside: string, offset: number) => {
    if (raw[offset + match.length] === "(") return match;
    const markerOffset = baseOffset + offset + space.length;
    const reading = readCitationGroup(inside);
    if (reading.kind === "not-a-citation") return match;
    if (reading.kind === "malformed") {
      malformed.push({ marker: `[${inside}]`, offset: markerOffset });
      return match;
    }
    const valid = reading.sources.filter((n) => n >= 1 && n <= sourceCount);
    for (const n of reading.sources) {
      if (n < 1 || n > sourceCount) removed.push({ marker: `[${inside}]`, source: n, offset: markerOffset });
    }
    if (valid.length === reading.sources.length) return match;
    // Keep the space when another group follows directly: "x [9][2]" becomes "x [2]", not "x[2]".
    if (valid.length === 0) return raw[offset + match.length] === "[" ? space : "";
    return `${space}[${[...new Set(valid)].join(", ")}]`;
  });
  return { text, removed, malformed };
}

/** Sources cited in `text` (already cleaned), in order of appearance, with repeats. */
function citedSources(text: string): Array<{ n: number; offset: number }> {
  const found: Array<{ n: number; offset: number }> = [];
  for (const match of text.matchAll(bracketGroup)) {
    const offset = match.index + match[1]!.length;
    if (text[match.index + match[0].length] === "(") continue;
    const reading = readCitationGroup(match[2]!);
    if (reading.kind === "citation") for (const n of reading.sources) found.push({ n, offset });
  }
  return found;
}

/**
 * Checks a generated answer against the sources it was given: citations to sources that were not given
 * are removed and reported, malformed ones reported, each valid citation resolved to its chunk, document
 * and character span, and every sentence marked with the sources it cites (`cited: false` when none).
 */
export function checkCitations(raw: string, sources: readonly CitableSource[]): CitationCheck {
  const byNumber = new Map(sources.map((source) => [source.n, source]));
  const count = Math.max(0, ...sources.map((source) => source.n));
  if (byNumber.size !== count) throw new Error("sources must be numbered 1..n without gaps");
  const { text, removed, malformed } = removeInvalidCitations(raw, count);
  const cited = citedSources(text);
  const citations = new Map<number, Citation>();
  for (const { n } of cited) {
    const existing = citations.get(n);
    if (existing) {
      existing.occurrences++;
      continue;
    }
    const source = byNumber.get(n)!;
    citations.set(n, {
      source: n,
      chunkId: source.chunkId,
      documentId: source.documentId,
      title: source.title,
      charStart: source.charStart,
      charEnd: source.charEnd,
      occurrences: 1,
    });
  }
  const sentences = splitSentences(text).map(({ start, end }): CitedSentence => {
    const inside = [
      ...new Set(cited.filter(({ offset }) => offset >= start && offset < end).map(({ n }) => n)),
    ];
    inside.sort((a, b) => a - b);
    return { start, end, text: text.slice(start, end), sources: inside, cited: inside.length > 0 };
  });
  return {
    text,
    citations: [...citations.values()],
    sentences,
    uncitedSentences: sentences.filter((sentence) => !sentence.cited).length,
    removed,
    malformed,
  };
}

/**
 * Applies `removeInvalidCitations` to a stream of deltas so that the streamed text already equals the
 * checked text: it holds back trailing whitespace and a trailing (possibly unfinished) bracket group
 * until the next delta shows how they end. At most ~40 characters are ever held.
 */
export class CitationStreamFilter {
  private held = "";
  /** Trailing whitespace, or a trailing run of bracket groups (the last maybe unfinished) with the space before. */
  private static readonly holdback = /(?:\s*\[[^[\]\n]{0,40}\])*\s*\[[^[\]\n]{0,40}\]?$|\s+$/;

  constructor(private readonly sourceCount: number) {}

  /** Takes a delta; returns the text that can be emitted now (possibly empty). */
  push(delta: string): string {
    const buffer = this.held + delta;
    const hold = CitationStreamFilter.holdback.exec(buffer);
    const cut = hold ? hold.index : buffer.length;
    this.held = buffer.slice(cut);
    return removeInvalidCitations(buffer.slice(0, cut), this.sourceCount).text;
  }

  /** The end of the stream: returns whatever was held, checked. */
  flush(): string {
    const rest = removeInvalidCitations(this.held, this.sourceCount).text;
    this.held = "";
    return rest;
  }
}
