import type { Metadata } from "@sift/core";
import type { SegmentDocument } from "./analyzed-document";
import type { Bm25Config } from "./config";
import { BLOCK_SIZE, chunkIdOrder, encodeTerm, Segment, sortTerms } from "./segment";
import { saturation, weighDocument } from "./wink-formula";

/** A typed array that doubles when full. */
export class GrowableArray<T extends Uint32Array | Float64Array> {
  #data: T;
  length = 0;
  constructor(private readonly make: (size: number) => T) {
    this.#data = make(1024);
  }
  push(value: number): void {
    if (this.length === this.#data.length) {
      const bigger = this.make(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.length] = value;
    this.length += 1;
  }
  get(index: number): number {
    return this.#data[index]!;
  }
  /** The filled part (a view, not a copy). */
  view(): T {
    return this.#data.subarray(0, this.length) as T;
  }
}

export const growUint32 = () => new GrowableArray((size) => new Uint32Array(size));
export const growFloat64 = () => new GrowableArray((size) => new Float64Array(size));

/** The block arrays of a segment, from its postings. */
export interface BlockArrays {
  blockOffsets: Uint32Array;
  blockLastDocs: Uint32Array;
  blockMaxSaturation: Float32Array;
  termMaxSaturation: Float32Array;
}

/** A float32 at or above `value` (so a stored bound never falls below the true maximum). */
function roundUpFloat32(value: number): number {
  return Math.fround(value * (1 + 1e-6));
}

/**
 * Computes block bounds term by term; `computeTerms` can be called over successive ranges so that a long
 * merge can yield between them.
 */
export class BlockBoundsBuilder {
  readonly arrays: BlockArrays;
  #nextBlock = 0;

  constructor(
    private readonly postingOffsets: Uint32Array,
    private readonly postingDocs: Uint32Array,
    private readonly postingFrequencies: Uint16Array | Float64Array,
    private readonly lengths: Float64Array,
    private readonly referenceAverage: number,
    private readonly config: Bm25Config,
  ) {
    const termCount = postingOffsets.length - 1;
    const blockOffsets = new Uint32Array(termCount + 1);
    for (let term = 0; term < termCount; term += 1) {
      const postings = postingOffsets[term + 1]! - postingOffsets[term]!;
      blockOffsets[term + 1] = blockOffsets[term]! + Math.ceil(postings / BLOCK_SIZE);
    }
    const blocks = blockOffsets[termCount]!;
    this.arrays = {
      blockOffsets,
      blockLastDocs: new Uint32Array(blocks),
      blockMaxSaturation: new Float32Array(blocks),
      termMaxSaturation: new Float32Array(termCount),
    };
  }

  /** Fills the blocks of terms `[from, to)`; returns the number of postings visited. */
  computeTerms(from: number, to: number): number {
    const { blockLastDocs, blockMaxSaturation, termMaxSaturation, blockOffsets } = this.arrays;
    const { postingOffsets, postingDocs, postingFrequencies, lengths, referenceAverage, config } = this;
    let visited = 0;
    for (let term = from; term < to; term += 1) {
      const start = postingOffsets[term]!;
      const end = postingOffsets[term + 1]!;
      let block = blockOffsets[term]!;
      let termMax = 0;
      for (let blockStart = start; blockStart < end; blockStart += BLOCK_SIZE, block += 1) {
        const blockEnd = Math.min(blockStart + BLOCK_SIZE, end);
        let max = 0;
        for (let p = blockStart; p < blockEnd; p += 1) {
          const value = saturation(
            postingFrequencies[p]!,
            lengths[postingDocs[p]!]!,
            referenceAverage,
            config,
          );
          if (value > max) max = value;
        }
        blockLastDocs[block] = postingDocs[blockEnd - 1]!;
        blockMaxSaturation[block] = roundUpFloat32(max);
        if (max > termMax) termMax = max;
      }
      termMaxSaturation[term] = roundUpFloat32(termMax);
      visited += end - start;
    }
    this.#nextBlock = blockOffsets[to]!;
    return visited;
  }

  get complete(): boolean {
    return this.#nextBlock === this.arrays.blockLastDocs.length;
  }
}

/** Uint16 when every frequency is an integer below 65,536 (always, for integer field weights), else Float64. */
export function compactFrequencies(frequencies: Float64Array): Uint16Array | Float64Array {
  for (const value of frequencies) {
    if (!(Number.isInteger(value) && value >= 0 && value < 65536)) return frequencies.slice();
  }
  return Uint16Array.from(frequencies);
}

/** The segment's own average length (1 for a segment without tokens, so bounds stay finite). */
export function referenceAverageOf(totalLength: number, docCount: number): number {
  const average = docCount === 0 ? 0 : totalLength / docCount;
  return average > 0 ? average : 1;
}

/**
 * Builds one segment from analysed documents, added one at a time. Memory: the terms' strings in one Map,
 * and a forward list of (term, frequency) per document in typed arrays, inverted at `finish`.
 */
export class SegmentBuilder {
  readonly #config: Bm25Config;
  readonly #termIds = new Map<string, number>();
  readonly #terms: string[] = [];
  readonly #documentFrequencies = growUint32();
  readonly #forwardTerms = growUint32();
  readonly #forwardFrequencies = growFloat64();
  readonly #forwardOffsets = growUint32();
  readonly #chunkIds = growFloat64();
  readonly #documentIds = growFloat64();
  readonly #lengths = growFloat64();
  readonly #metadata = new Map<number, Metadata>();
  readonly #frequencies = new Map<string, number>();
  #totalLength = 0;
  #finished = false;

  constructor(config: Bm25Config) {
    this.#config = config;
    this.#forwardOffsets.push(0);
  }

  get size(): number {
    return this.#chunkIds.length;
  }

  add(document: SegmentDocument): void {
    if (this.#finished) throw new Error("SegmentBuilder: add after finish");
    if (!(Number.isSafeInteger(document.id) && document.id > 0)) {
      throw new Error(`SegmentBuilder: chunk id must be a positive integer, got ${document.id}`);
    }
    const frequencies = this.#frequencies;
    frequencies.clear();
    const length = weighDocument(document.title, document.body, this.#config, frequencies);
    for (const [term, frequency] of frequencies) {
      let id = this.#termIds.get(term);
      if (id === undefined) {
        id = this.#terms.length;
        this.#termIds.set(term, id);
        this.#terms.push(term);
        this.#documentFrequencies.push(0);
      }
      this.#forwardTerms.push(id);
      this.#forwardFrequencies.push(frequency);
    }
    this.#forwardOffsets.push(this.#forwardTerms.length);
    const documentId = document.documentId ?? document.id;
    this.#chunkIds.push(document.id);
    this.#documentIds.push(documentId);
    this.#lengths.push(length);
    this.#totalLength += length;
    if (document.metadata !== undefined && !this.#metadata.has(documentId)) {
      this.#metadata.set(documentId, document.metadata);
    }
  }

  finish(): Segment {
    if (this.#finished) throw new Error("SegmentBuilder: finish called twice");
    this.#finished = true;
    const terms = this.#terms;
    const termCount = terms.length;
    const sorted = sortTerms([...terms]);
    const ordinalOfLocal = new Uint32Array(termCount);
    const rank = new Map(sorted.map((term, ordinal) => [term, ordinal]));
    for (let local = 0; local < termCount; local += 1) ordinalOfLocal[local] = rank.get(terms[local]!)!;

    const encoded = sorted.map(encodeTerm);
    const termOffsets = new Uint32Array(termCount + 1);
    encoded.forEach((bytes, ordinal) => {
      termOffsets[ordinal + 1] = termOffsets[ordinal]! + bytes.length;
    });
    const termBytes = new Uint8Array(termOffsets[termCount]!);
    for (const [ordinal, bytes] of encoded.entries()) termBytes.set(bytes, termOffsets[ordinal]!);

    const forwardLocal = this.#forwardTerms.view();
    const forwardFrequencies = this.#forwardFrequencies.view();
    const forwardOffsets = this.#forwardOffsets.view();
    const localFrequencies = this.#documentFrequencies.view();
    for (let i = 0; i < forwardLocal.length; i += 1) {
      const local = forwardLocal[i]!;
      localFrequencies[local]! += 1;
      forwardLocal[i] = ordinalOfLocal[local]!;
    }
    const postingOffsets = new Uint32Array(termCount + 1);
    for (let local = 0; local < termCount; local += 1) {
      postingOffsets[ordinalOfLocal[local]! + 1] = localFrequencies[local]!;
    }
    for (let ordinal = 0; ordinal < termCount; ordinal += 1) {
      postingOffsets[ordinal + 1]! += postingOffsets[ordinal]!;
    }
    const postingCount = forwardLocal.length;
    const postingDocs = new Uint32Array(postingCount);
    const frequencies = new Float64Array(postingCount);
    const cursor = postingOffsets.slice(0, termCount);
    for (let document = 0; document + 1 < forwardOffsets.length; document += 1) {
      for (let i = forwardOffsets[document]!; i < forwardOffsets[document + 1]!; i += 1) {
        const term = forwardLocal[i]!;
        const position = cursor[term]!;
        cursor[term] = position + 1;
        postingDocs[position] = document;
        frequencies[position] = forwardFrequencies[i]!;
      }
    }
    const postingFrequencies = compactFrequencies(frequencies);
    const chunkIds = this.#chunkIds.view().slice();
    const lengths = this.#lengths.view().slice();
    const referenceAverage = referenceAverageOf(this.#totalLength, chunkIds.length);
    const blocks = new BlockBoundsBuilder(
      postingOffsets,
      postingDocs,
      postingFrequencies,
      lengths,
      referenceAverage,
      this.#config,
    );
    blocks.computeTerms(0, termCount);
    return new Segment({
      chunkIds,
      documentIds: this.#documentIds.view().slice(),
      lengths,
      idOrder: chunkIdOrder(chunkIds),
      termOffsets,
      termBytes,
      postingOffsets,
      postingDocs,
      postingFrequencies,
      ...blocks.arrays,
      totalLength: this.#totalLength,
      referenceAverage,
      forward: { offsets: forwardOffsets.slice(), terms: forwardLocal.slice() },
      metadata: this.#metadata,
    });
  }
}

/** Builds one segment over `documents`. Chunk ids must be unique positive integers. */
export function buildSegment(documents: Iterable<SegmentDocument>, config: Bm25Config): Segment {
  const builder = new SegmentBuilder(config);
  for (const document of documents) builder.add(document);
  return builder.finish();
}
