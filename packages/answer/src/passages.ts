import { estimateTokens } from "@sift/text";
import { splitSentences } from "./sentences";

/** A retrieved (and maybe reranked) chunk, as the answer pipeline receives it. */
export interface Passage {
  chunkId: number;
  /** The caller's document id (external id). */
  documentId: string;
  title: string | null;
  /** The chunk's text: exactly `documentText.slice(charStart, charEnd)`. */
  text: string;
  /** Offsets of `text` in the document text, UTF-16 code units, [charStart, charEnd). */
  charStart: number;
  charEnd: number;
  /** Higher is better; its meaning is given by `scoreKind` (e.g. `rerank`, `fused:rrf`, `bm25`). */
  score: number;
  scoreKind: string;
}

/** A passage chosen for the prompt, numbered as the prompt numbers it. */
export interface PackedPassage extends Passage {
  /** 1-based source number; the answer cites it as `[n]`. */
  n: number;
  /** True when `text` was cut at a sentence end to fit the budget; `charEnd` then marks the cut. */
  trimmed: boolean;
  /** Estimated prompt tokens of this source, delimiters included. */
  tokens: number;
}

export type DropReason = "duplicate" | "near-duplicate" | "overlap" | "budget" | "limit";

export interface DroppedPassage {
  chunkId: number;
  documentId: string;
  reason: DropReason;
  /** The kept passage it repeats (duplicate, near-duplicate, overlap). */
  duplicateOf?: number;
  /** Word-shingle Jaccard similarity with `duplicateOf`, or the overlap fraction of the shorter span. */
  similarity?: number;
}

export interface DedupeOptions {
  /** Jaccard similarity of word 3-shingles at or above which a passage is a near-duplicate; default 0.8. */
  nearDuplicateSimilarity?: number;
  /** Fraction of the shorter span two chunks of one document must share to count as overlap; default 0.5. */
  overlapFraction?: number;
}

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function shingles(text: string): Set<string> {
  const tokens = words(text);
  if (tokens.length < 3) return new Set(tokens);
  const set = new Set<string>();
  for (let index = 0; index + 3 <= tokens.length; index++) set.add(tokens.slice(index, index + 3).join(" "));
  return set;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Higher score first; ties keep the caller's order. */
export function rankPassages(passages: readonly Passage[]): Passage[] {
  return passages
    .map((passage, index) => ({ passage, index }))
    .sort((a, b) => b.passage.score - a.passage.score || a.index - b.index)
    .map(({ passage }) => passage);
}

/**
 * Drops repeats, keeping the better-ranked passage of each pair (input in rank order): the same chunk
 * twice; the same text (case and whitespace aside); near-duplicates (word 3-shingle Jaccard at or above
 * `nearDuplicateSimilarity`, e.g. one abstract indexed under two ids); and chunks of one document whose
 * spans overlap by at least `overlapFraction` of the shorter one (overlapping chunk windows).
 */
export function dedupePassages(
  ranked: readonly Passage[],
  options: DedupeOptions = {},
): { kept: Passage[]; dropped: DroppedPassage[] } {
  const threshold = options.nearDuplicateSimilarity ?? 0.8;
  const overlapFraction = options.overlapFraction ?? 0.5;
  const kept: Array<{ passage: Passage; normalised: string; shingles: Set<string> }> = [];
  const dropped: DroppedPassage[] = [];
  for (const passage of ranked) {
    const normalised = words(passage.text).join(" ");
    const own = shingles(passage.text);
    let verdict: DroppedPassage | undefined;
    for (const other of kept) {
      const base = {
        chunkId: passage.chunkId,
        documentId: passage.documentId,
        duplicateOf: other.passage.chunkId,
      };
      if (other.passage.chunkId === passage.chunkId || other.normalised === normalised) {
        verdict = { ...base, reason: "duplicate", similarity: 1 };
        break;
      }
      if (other.passage.documentId === passage.documentId) {
        const shared =
          Math.min(other.passage.charEnd, passage.charEnd) -
          Math.max(other.passage.charStart, passage.charStart);
        const shorter = Math.min(
          other.passage.charEnd - other.passage.charStart,
          passage.charEnd - passage.charStart,
        );
        if (shared > 0 && shorter > 0 && shared / shorter >= overlapFraction) {
          verdict = { ...base, reason: "overlap", similarity: shared / shorter };
          break;
        }
      }
      const similarity = jaccard(own, other.shingles);
      if (similarity >= threshold) {
        verdict = { ...base, reason: "near-duplicate", similarity };
        break;
      }
    }
    if (verdict) dropped.push(verdict);
    else kept.push({ passage, normalised, shingles: own });
  }
  return { kept: kept.map(({ passage }) => passage), dropped };
}

export interface PackOptions {
  /** Token budget for all sources together, delimiters included (estimated with `estimateTokens`). */
  budgetTokens: number;
  /** At most this many sources; default no limit. */
  maxPassages?: number;
  /** Tokens a source costs besides its text and title (its delimiters and number); default 16. */
  overheadTokens?: number;
}

/**
 * Packs ranked passages into a token budget, best first. A passage that fits whole goes in whole; one
 * that does not is cut after its last sentence that still fits (never mid-sentence), keeping `charStart`
 * and moving `charEnd` to the cut so the offsets still address the document text; one whose first sentence
 * does not fit is left out (reason `budget`), and packing goes on with the next, smaller passages.
 * Sources are numbered 1..n in packed order.
 */
export function packPassages(
  ranked: readonly Passage[],
  options: PackOptions,
): { packed: PackedPassage[]; dropped: DroppedPassage[]; usedTokens: number } {
  const overhead = options.overheadTokens ?? 16;
  const maxPassages = options.maxPassages ?? Number.POSITIVE_INFINITY;
  const packed: PackedPassage[] = [];
  const dropped: DroppedPassage[] = [];
  let remaining = options.budgetTokens;
  for (const passage of ranked) {
    if (packed.length >= maxPassages) {
      dropped.push({ chunkId: passage.chunkId, documentId: passage.documentId, reason: "limit" });
      continue;
    }
    const fixed = overhead + (passage.title ? estimateTokens(passage.title) : 0);
    const whole = fixed + estimateTokens(passage.text);
    if (whole <= remaining) {
      packed.push({ ...passage, n: packed.length + 1, trimmed: false, tokens: whole });
      remaining -= whole;
      continue;
    }
    const ends = splitSentences(passage.text).map((span) => span.end);
    // The cost of a prefix grows with its length: binary search for the longest prefix that fits.
    let low = 0;
    let high = ends.length - 1;
    let best = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (fixed + estimateTokens(passage.text.slice(0, ends[middle])) <= remaining) {
        best = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (best < 0) {
      dropped.push({ chunkId: passage.chunkId, documentId: passage.documentId, reason: "budget" });
      continue;
    }
    const end = ends[best]!;
    const tokens = fixed + estimateTokens(passage.text.slice(0, end));
    packed.push({
      ...passage,
      text: passage.text.slice(0, end),
      charEnd: passage.charStart + end,
      n: packed.length + 1,
      trimmed: true,
      tokens,
    });
    remaining -= tokens;
  }
  return { packed, dropped, usedTokens: options.budgetTokens - remaining };
}
