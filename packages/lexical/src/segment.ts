import type { Metadata } from "@sift/core";

/** Postings per block: each block records its last document and an upper bound of its term scores. */
export const BLOCK_SIZE = 64;

/** The forward index: each document's term ordinals (the terms a tombstone takes out of the statistics). */
export interface ForwardIndex {
  /** `docCount + 1` offsets into `terms`. */
  offsets: Uint32Array;
  terms: Uint32Array;
}

/**
 * The typed arrays of one immutable segment. Documents are numbered 0…docCount−1 (ordinals); terms are
 * numbered in ascending UTF-8 byte order of their text (= code point order).
 */
export interface SegmentArrays {
  /** Chunk id per ordinal. */
  chunkIds: Float64Array;
  /** Document id per ordinal (metadata is kept per document). */
  documentIds: Float64Array;
  /** wink's weighted document length per ordinal. */
  lengths: Float64Array;
  /** Ordinals by ascending chunk id; absent when `chunkIds` is already ascending. */
  idOrder: Uint32Array | undefined;
  /** `termCount + 1` byte offsets into `termBytes` (UTF-8). */
  termOffsets: Uint32Array;
  termBytes: Uint8Array;
  /** `termCount + 1` offsets into the posting arrays; a term's postings ascend by ordinal. */
  postingOffsets: Uint32Array;
  postingDocs: Uint32Array;
  /** wink's weighted term frequency per posting: Uint16 when every one is an integer below 65,536. */
  postingFrequencies: Uint16Array | Float64Array;
  /** `termCount + 1` offsets into the block arrays; block j of a term covers its postings j·64 … j·64+63. */
  blockOffsets: Uint32Array;
  /** Ordinal of each block's last posting. */
  blockLastDocs: Uint32Array;
  /** Per block, an upper bound of the saturation part of its postings' scores at `referenceAverage`. */
  blockMaxSaturation: Float32Array;
  /** Per term, the maximum of its blocks' bounds. */
  termMaxSaturation: Float32Array;
}

/** Where a persisted segment's forward index lies in its file (the terms are read on demand). */
export interface ForwardFile {
  path: string;
  /** Byte position of the forward terms section. */
  termsPosition: number;
  /** `docCount + 1` offsets into the forward terms. */
  offsets: Uint32Array;
}

export interface SegmentParts extends SegmentArrays {
  /** Sum of `lengths`, in ordinal order. */
  totalLength: number;
  /** The average length the saturation bounds were computed at (this segment's own). */
  referenceAverage: number;
  /** In memory for segments built in this process; persisted segments read it from their file on demand. */
  forward: ForwardIndex | undefined;
  forwardFile?: ForwardFile | undefined;
  /** Metadata per document id, or its JSON (parsed on first use). */
  metadata: Map<number, Metadata> | Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a term for {@link Segment.findTerm}. */
export function encodeTerm(term: string): Uint8Array {
  return encoder.encode(term);
}

/** An immutable segment of postings. Holds no statistics of other segments and no tombstones. */
export class Segment {
  readonly docCount: number;
  readonly termCount: number;
  readonly postingCount: number;
  readonly totalLength: number;
  readonly referenceAverage: number;
  readonly arrays: SegmentArrays;
  readonly forward: ForwardIndex | undefined;
  readonly forwardFile: ForwardFile | undefined;
  #metadata: Map<number, Metadata> | Uint8Array;

  constructor(parts: SegmentParts) {
    const { totalLength, referenceAverage, forward, forwardFile, metadata, ...arrays } = parts;
    this.arrays = arrays;
    this.docCount = arrays.chunkIds.length;
    this.termCount = arrays.termOffsets.length - 1;
    this.postingCount = arrays.postingDocs.length;
    this.totalLength = totalLength;
    this.referenceAverage = referenceAverage;
    this.forward = forward;
    this.forwardFile = forwardFile;
    this.#metadata = metadata;
  }

  /** The term's ordinal, or −1. Binary search over the sorted UTF-8 dictionary. */
  findTerm(term: Uint8Array): number {
    const { termOffsets, termBytes } = this.arrays;
    let low = 0;
    let high = this.termCount - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = compareBytes(termBytes, termOffsets[middle]!, termOffsets[middle + 1]!, term);
      if (order === 0) return middle;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  termText(ordinal: number): string {
    const { termOffsets, termBytes } = this.arrays;
    return decoder.decode(termBytes.subarray(termOffsets[ordinal]!, termOffsets[ordinal + 1]!));
  }

  documentFrequency(ordinal: number): number {
    return this.arrays.postingOffsets[ordinal + 1]! - this.arrays.postingOffsets[ordinal]!;
  }

  /** The ordinal holding `chunkId`, or −1. */
  ordinalOf(chunkId: number): number {
    const { chunkIds, idOrder } = this.arrays;
    let low = 0;
    let high = this.docCount - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const ordinal = idOrder === undefined ? middle : idOrder[middle]!;
      const id = chunkIds[ordinal]!;
      if (id === chunkId) return ordinal;
      if (id < chunkId) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /** The document's metadata (`{}` when none was stored). Parses the stored JSON on first use. */
  metadataOf(ordinal: number): Metadata {
    let metadata = this.#metadata;
    if (metadata instanceof Uint8Array) {
      const parsed = JSON.parse(decoder.decode(metadata)) as Record<string, Metadata>;
      metadata = new Map(Object.entries(parsed).map(([id, value]) => [Number(id), value]));
      this.#metadata = metadata;
    }
    return metadata.get(this.arrays.documentIds[ordinal]!) ?? {};
  }

  /** The metadata as JSON bytes `{documentId: metadata}` (for persistence). */
  metadataJson(): Uint8Array {
    const metadata = this.#metadata;
    if (metadata instanceof Uint8Array) return metadata;
    return encoder.encode(JSON.stringify(Object.fromEntries(metadata)));
  }

  /** The document's term ordinals from the in-memory forward index, or undefined when it is on disk. */
  documentTerms(ordinal: number): Uint32Array | undefined {
    const forward = this.forward;
    if (forward === undefined) return undefined;
    return forward.terms.subarray(forward.offsets[ordinal]!, forward.offsets[ordinal + 1]!);
  }

  /** This segment, persisted: the forward index stays on disk in `file` (its memory is freed). */
  persistedAt(file: ForwardFile): Segment {
    return new Segment({
      ...this.arrays,
      totalLength: this.totalLength,
      referenceAverage: this.referenceAverage,
      forward: undefined,
      forwardFile: file,
      metadata: this.#metadata,
    });
  }
}

/** Lexicographic order of `bytes[start, end)` against `other`: negative, 0 or positive. */
function compareBytes(bytes: Uint8Array, start: number, end: number, other: Uint8Array): number {
  const length = Math.min(end - start, other.length);
  for (let i = 0; i < length; i += 1) {
    const difference = bytes[start + i]! - other[i]!;
    if (difference !== 0) return difference;
  }
  return end - start - other.length;
}

/** Orders strings by code point (= UTF-8 byte order), unlike `<` on UTF-16 code units above U+D7FF. */
export function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i += 1) {
    let a = left.charCodeAt(i);
    let b = right.charCodeAt(i);
    if (a === b) continue;
    // Surrogates (U+D800–DFFF) encode code points above U+FFFF: they sort after U+E000–FFFF.
    if (a >= 0xd800 && b >= 0xd800) {
      a = a >= 0xe000 ? a - 0x800 : a + 0x2000;
      b = b >= 0xe000 ? b - 0x800 : b + 0x2000;
    }
    return a - b;
  }
  return left.length - right.length;
}

/** Sorts terms in code point order; the default sort already is for text without characters above U+D7FF. */
export function sortTerms(terms: string[]): string[] {
  terms.sort();
  if (terms.some((term) => /[\ud800-\uffff]/.test(term))) terms.sort(compareCodePoints);
  return terms;
}

/** Whether the chunk ids ascend; else the ordinals sorted by chunk id. */
export function chunkIdOrder(chunkIds: Float64Array): Uint32Array | undefined {
  let ascending = true;
  for (let i = 1; i < chunkIds.length && ascending; i += 1) ascending = chunkIds[i - 1]! < chunkIds[i]!;
  if (ascending) return undefined;
  const order = Uint32Array.from(chunkIds.keys());
  order.sort((a, b) => chunkIds[a]! - chunkIds[b]!);
  return order;
}
