import type { Metadata } from "@sift/core";
import type { Bm25Config } from "./config";
import { chunkIdOrder, Segment } from "./segment";
import { BlockBoundsBuilder, growUint32, referenceAverageOf } from "./segment-builder";
import type { SegmentView } from "./segment-view";

export interface MergeOptions {
  /** Longest stretch of synchronous work between two yields to the event loop, in ms. Default 8. */
  sliceMs?: number;
  /** Called between slices (tests inject faults and observe interleaving here). */
  onSlice?: () => void | Promise<void>;
}

/** Yields to the event loop whenever the current slice has run longer than `sliceMs`. */
class Slicer {
  #sliceStart = performance.now();
  #work = 0;
  constructor(private readonly options: MergeOptions) {}
  /** Counts `units` of work (postings); every 16k of them, whether the slice is over (then `maybeYield`). */
  due(units: number): boolean {
    this.#work += units;
    if (this.#work < 16_384) return false;
    this.#work = 0;
    return performance.now() - this.#sliceStart >= (this.options.sliceMs ?? 8);
  }
  async maybeYield(): Promise<void> {
    if (performance.now() - this.#sliceStart < (this.options.sliceMs ?? 8)) return;
    await new Promise((resolve) => setImmediate(resolve));
    await this.options.onSlice?.();
    this.#sliceStart = performance.now();
  }
}

/** Live documents renumbered: segment by segment, ordinal order within each. */
async function renumber(views: readonly SegmentView[], slicer: Slicer) {
  const newOrdinals = views.map((view) => new Int32Array(view.segment.docCount).fill(-1));
  const live = views.reduce((sum, view) => sum + view.liveCount, 0);
  const chunkIds = new Float64Array(live);
  const documentIds = new Float64Array(live);
  const lengths = new Float64Array(live);
  const metadata = new Map<number, Metadata>();
  let totalLength = 0;
  let next = 0;
  for (const [v, view] of views.entries()) {
    const { arrays } = view.segment;
    for (let ordinal = 0; ordinal < view.segment.docCount; ordinal += 1) {
      if (!view.isLive(ordinal)) continue;
      newOrdinals[v]![ordinal] = next;
      chunkIds[next] = arrays.chunkIds[ordinal]!;
      const documentId = arrays.documentIds[ordinal]!;
      documentIds[next] = documentId;
      lengths[next] = arrays.lengths[ordinal]!;
      totalLength += arrays.lengths[ordinal]!;
      if (!metadata.has(documentId)) metadata.set(documentId, view.segment.metadataOf(ordinal));
      next += 1;
      if (slicer.due(4)) await slicer.maybeYield();
    }
  }
  return { newOrdinals, chunkIds, documentIds, lengths, metadata, totalLength };
}

/** Byte order of term `a` of segment `left` against term `b` of segment `right`. */
function compareTerms(left: Segment, a: number, right: Segment, b: number): number {
  const { termOffsets: lo, termBytes: lb } = left.arrays;
  const { termOffsets: ro, termBytes: rb } = right.arrays;
  const aStart = lo[a]!;
  const aLength = lo[a + 1]! - aStart;
  const bStart = ro[b]!;
  const bLength = ro[b + 1]! - bStart;
  const length = Math.min(aLength, bLength);
  for (let i = 0; i < length; i += 1) {
    const difference = lb[aStart + i]! - rb[bStart + i]!;
    if (difference !== 0) return difference;
  }
  return aLength - bLength;
}

/**
 * The merged dictionary: a k-way merge of the segments' sorted dictionaries, keeping terms with at least
 * one live posting. `sources[t]` lists, per merged term, the (view, term ordinal) pairs holding it.
 */
async function mergeDictionaries(views: readonly SegmentView[], slicer: Slicer) {
  const positions = views.map(() => 0);
  const termBytes: number[] = [];
  const termOffsets = growUint32();
  termOffsets.push(0);
  const postingCounts = growUint32();
  const sourceViews = growUint32();
  const sourceTerms = growUint32();
  const sourceOffsets = growUint32();
  sourceOffsets.push(0);
  for (;;) {
    let smallest = -1;
    for (let v = 0; v < views.length; v += 1) {
      if (positions[v]! >= views[v]!.segment.termCount) continue;
      if (
        smallest < 0 ||
        compareTerms(views[v]!.segment, positions[v]!, views[smallest]!.segment, positions[smallest]!) < 0
      ) {
        smallest = v;
      }
    }
    if (smallest < 0) break;
    const head = views[smallest]!.segment;
    const headTerm = positions[smallest]!;
    let live = 0;
    const firstSource = sourceViews.length;
    for (let v = smallest; v < views.length; v += 1) {
      const position = positions[v]!;
      if (position >= views[v]!.segment.termCount) continue;
      if (v !== smallest && compareTerms(views[v]!.segment, position, head, headTerm) !== 0) continue;
      live += views[v]!.liveDocumentFrequency(position);
      sourceViews.push(v);
      sourceTerms.push(position);
      positions[v] = position + 1;
    }
    if (live === 0) {
      sourceViews.length = firstSource;
      sourceTerms.length = firstSource;
    } else {
      const { termOffsets: offsets, termBytes: bytes } = head.arrays;
      for (let i = offsets[headTerm]!; i < offsets[headTerm + 1]!; i += 1) termBytes.push(bytes[i]!);
      termOffsets.push(termBytes.length);
      postingCounts.push(live);
      sourceOffsets.push(sourceViews.length);
    }
    if (slicer.due(1)) await slicer.maybeYield();
  }
  return {
    termBytes: Uint8Array.from(termBytes),
    termOffsets: termOffsets.view().slice(),
    postingCounts: postingCounts.view(),
    sources: { views: sourceViews.view(), terms: sourceTerms.view(), offsets: sourceOffsets.view() },
  };
}

/**
 * Merges the live documents of `views` into one new segment, from the segments' own arrays: no store
 * read, no re-analysis. Document order: view by view, ordinal order within each (so every term's postings
 * stay sorted by concatenation). Yields to the event loop every `sliceMs` so that searches and I/O go on.
 */
export async function mergeSegments(
  views: readonly SegmentView[],
  config: Bm25Config,
  options: MergeOptions = {},
): Promise<Segment> {
  const slicer = new Slicer(options);
  const documents = await renumber(views, slicer);
  await slicer.maybeYield();
  const dictionary = await mergeDictionaries(views, slicer);
  const termCount = dictionary.postingCounts.length;
  const postingOffsets = new Uint32Array(termCount + 1);
  for (let term = 0; term < termCount; term += 1) {
    postingOffsets[term + 1] = postingOffsets[term]! + dictionary.postingCounts[term]!;
  }
  const postingCount = postingOffsets[termCount]!;
  const postingDocs = new Uint32Array(postingCount);
  const wide = views.some((view) => view.segment.arrays.postingFrequencies instanceof Float64Array);
  const postingFrequencies = wide ? new Float64Array(postingCount) : new Uint16Array(postingCount);
  const docTermCounts = new Uint32Array(documents.chunkIds.length + 1);
  const { sources } = dictionary;
  let written = 0;
  for (let term = 0; term < termCount; term += 1) {
    for (let s = sources.offsets[term]!; s < sources.offsets[term + 1]!; s += 1) {
      const view = views[sources.views[s]!]!;
      const renumbered = documents.newOrdinals[sources.views[s]!]!;
      const {
        postingOffsets: from,
        postingDocs: docs,
        postingFrequencies: frequencies,
      } = view.segment.arrays;
      const sourceTerm = sources.terms[s]!;
      for (let p = from[sourceTerm]!; p < from[sourceTerm + 1]!; p += 1) {
        const doc = renumbered[docs[p]!]!;
        if (doc < 0) continue;
        postingDocs[written] = doc;
        postingFrequencies[written] = frequencies[p]!;
        docTermCounts[doc + 1]! += 1;
        written += 1;
      }
      if (slicer.due(from[sourceTerm + 1]! - from[sourceTerm]! + 1)) await slicer.maybeYield();
    }
  }
  const forward = await invert(postingOffsets, postingDocs, docTermCounts, slicer);
  const referenceAverage = referenceAverageOf(documents.totalLength, documents.chunkIds.length);
  const blocks = new BlockBoundsBuilder(
    postingOffsets,
    postingDocs,
    postingFrequencies,
    documents.lengths,
    referenceAverage,
    config,
  );
  for (let term = 0; term < termCount; term += 1) {
    if (slicer.due(blocks.computeTerms(term, term + 1) + 1)) await slicer.maybeYield();
  }
  return new Segment({
    chunkIds: documents.chunkIds,
    documentIds: documents.documentIds,
    lengths: documents.lengths,
    idOrder: chunkIdOrder(documents.chunkIds),
    termOffsets: dictionary.termOffsets,
    termBytes: dictionary.termBytes,
    postingOffsets,
    postingDocs,
    postingFrequencies,
    ...blocks.arrays,
    totalLength: documents.totalLength,
    referenceAverage,
    forward,
    metadata: documents.metadata,
  });
}

/** The forward index (per document, its term ordinals ascending) from the postings. */
async function invert(
  postingOffsets: Uint32Array,
  postingDocs: Uint32Array,
  docTermCounts: Uint32Array,
  slicer: Slicer,
) {
  const offsets = docTermCounts;
  for (let doc = 1; doc < offsets.length; doc += 1) offsets[doc]! += offsets[doc - 1]!;
  const terms = new Uint32Array(postingDocs.length);
  const cursor = offsets.slice(0, offsets.length - 1);
  for (let term = 0; term + 1 < postingOffsets.length; term += 1) {
    for (let p = postingOffsets[term]!; p < postingOffsets[term + 1]!; p += 1) {
      const doc = postingDocs[p]!;
      terms[cursor[doc]!] = term;
      cursor[doc]! += 1;
    }
    if (slicer.due(postingOffsets[term + 1]! - postingOffsets[term]! + 1)) await slicer.maybeYield();
  }
  return { offsets, terms };
}
