import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { SiftError, writeFileAtomically } from "@sift/core";
import { type Bm25Config, sameBm25Config } from "./config";
import { BLOCK_SIZE, type ForwardFile, Segment, type SegmentArrays } from "./segment";

/**
 * Binary files of the lexical index, both `magic (8 bytes) · u32 LE header length · header JSON · sections`,
 * every section starting at a multiple of 8 bytes so that it loads as a typed-array view without copying:
 *
 * - a **segment file** (`seg-*.bin`, immutable) holds one segment's arrays; the forward index comes last
 *   and is not loaded (tombstoning reads a document's entry from the file);
 * - a **manifest** (`manifest-*.bm25`) names the segment files of one state (each with its sha256) and
 *   holds each segment's tombstoned ordinals.
 *
 * Only the small headers are JSON; postings, lengths, ids and tombstones are read as typed arrays.
 */
export const SEGMENT_MAGIC = "SIFTSEG2";
export const MANIFEST_MAGIC = "SIFTGEN2";
export const SEGMENT_FORMAT = "sift-bm25-segment";
export const GENERATION_FORMAT = "sift-bm25-generation";
/** Bump when a layout or the meaning of a part changes; older files (and v1 `gen-<n>.json`) are then rebuilt. */
export const GENERATION_FORMAT_VERSION = 2;

/** A file that is missing, damaged, or built with another analyzer, config or format. */
export class InvalidGenerationError extends SiftError {
  override readonly code = "invalid_generation";
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

interface SectionEntry {
  name: string;
  offset: number;
  bytes: number;
}

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;

/** Lays out `magic · header length · header · sections` with 8-byte aligned sections. */
function encodeFile(
  magic: string,
  header: object,
  sections: Array<[string, TypedArray]>,
): { data: Buffer; positions: number[] } {
  const entries: SectionEntry[] = [];
  let offset = 0;
  for (const [name, array] of sections) {
    entries.push({ name, offset, bytes: array.byteLength });
    offset += Math.ceil(array.byteLength / 8) * 8;
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...header, sections: entries }), "utf8");
  const start = Math.ceil((12 + headerBytes.length) / 8) * 8;
  const file = Buffer.alloc(start + offset);
  file.write(magic, 0, "latin1");
  file.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(file, 12);
  for (const [index, [, array]] of sections.entries()) {
    file.set(
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
      start + entries[index]!.offset,
    );
  }
  return { data: file, positions: entries.map((entry) => start + entry.offset) };
}

/** Reads and parses the header of a file already in memory. */
function decodeHeader<H>(data: Uint8Array, magic: string, path: string): { header: H; start: number } {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < 12 || view.toString("latin1", 0, 8) !== magic) {
    throw new InvalidGenerationError(`${path} is not a ${magic} file`);
  }
  const length = view.readUInt32LE(8);
  if (12 + length > data.byteLength) throw new InvalidGenerationError(`${path} is truncated`);
  let header: H;
  try {
    header = JSON.parse(view.toString("utf8", 12, 12 + length)) as H;
  } catch (error) {
    throw new InvalidGenerationError(`${path} has a damaged header`, { cause: error });
  }
  return { header, start: Math.ceil((12 + length) / 8) * 8 };
}

function section<T extends TypedArray>(
  data: Uint8Array,
  start: number,
  entries: readonly SectionEntry[],
  name: string,
  make: new (buffer: ArrayBufferLike, offset: number, length: number) => T,
  size: number,
): T {
  const entry = entries.find((candidate) => candidate.name === name);
  if (
    entry === undefined ||
    start + entry.offset + entry.bytes > data.byteLength ||
    entry.bytes % size !== 0
  ) {
    throw new InvalidGenerationError(`section ${name} is missing or out of bounds`);
  }
  return new make(data.buffer, data.byteOffset + start + entry.offset, entry.bytes / size);
}

export interface SegmentHeader {
  format: typeof SEGMENT_FORMAT;
  version: number;
  analyzer: string;
  config: Bm25Config;
  blockSize: number;
  totalLength: number;
  referenceAverage: number;
  frequencies: "uint16" | "float64";
  hasIdOrder: boolean;
  sections: SectionEntry[];
}

/** What a reader checks a file against. */
export interface FileExpectation {
  sha256: string;
  analyzer: string;
  config: Bm25Config;
}

/** Writes a segment file atomically; returns its sha256 and size. */
export async function writeSegmentFile(
  path: string,
  segment: Segment,
  meta: { analyzer: string; config: Bm25Config },
): Promise<{ sha256: string; bytes: number; forwardFile: ForwardFile }> {
  const forward = segment.forward;
  if (forward === undefined)
    throw new Error("writeSegmentFile: the segment's forward index is not in memory");
  const a = segment.arrays;
  const sections: Array<[string, TypedArray]> = [
    ["chunkIds", a.chunkIds],
    ["documentIds", a.documentIds],
    ["lengths", a.lengths],
    ["idOrder", a.idOrder ?? new Uint32Array(0)],
    ["termOffsets", a.termOffsets],
    ["termBytes", a.termBytes],
    ["postingOffsets", a.postingOffsets],
    ["postingDocs", a.postingDocs],
    ["postingFrequencies", a.postingFrequencies],
    ["blockOffsets", a.blockOffsets],
    ["blockLastDocs", a.blockLastDocs],
    ["blockMaxSaturation", a.blockMaxSaturation],
    ["termMaxSaturation", a.termMaxSaturation],
    ["metadata", segment.metadataJson()],
    ["forwardOffsets", forward.offsets],
    // Last, so that a load reads everything before it and only hashes this.
    ["forwardTerms", forward.terms],
  ];
  const header = {
    format: SEGMENT_FORMAT,
    version: GENERATION_FORMAT_VERSION,
    analyzer: meta.analyzer,
    config: meta.config,
    blockSize: BLOCK_SIZE,
    totalLength: segment.totalLength,
    referenceAverage: segment.referenceAverage,
    frequencies: a.postingFrequencies instanceof Uint16Array ? "uint16" : "float64",
    hasIdOrder: a.idOrder !== undefined,
  };
  const { data, positions } = encodeFile(SEGMENT_MAGIC, header, sections);
  await writeFileAtomically(path, data);
  const forwardFile = { path, termsPosition: positions.at(-1)!, offsets: forward.offsets };
  return { sha256: sha256Hex(data), bytes: data.length, forwardFile };
}

/** Reads `[position, position + length)` of an open file fully. */
async function readRange(
  handle: Awaited<ReturnType<typeof open>>,
  target: Uint8Array,
  position: number,
): Promise<void> {
  for (let done = 0; done < target.length; ) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new InvalidGenerationError("unexpected end of file");
    done += bytesRead;
  }
}

/**
 * Loads a segment file: everything but the forward terms as views over one buffer (no parsing of
 * postings), verifying the sha256 over the whole file (the forward terms are hashed in chunks, not kept).
 */
export async function readSegmentFile(path: string, expected: FileExpectation): Promise<Segment> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new InvalidGenerationError(`cannot read ${path}`, { cause: error });
  }
  try {
    const size = (await handle.stat()).size;
    const prefix = new Uint8Array(Math.min(size, 1 << 16));
    await readRange(handle, prefix, 0);
    const { header, start } = decodeHeader<SegmentHeader>(prefix, SEGMENT_MAGIC, path);
    checkHeader(header, expected, path, SEGMENT_FORMAT);
    const forwardEntry = header.sections.find((entry) => entry.name === "forwardTerms");
    if (forwardEntry === undefined) throw new InvalidGenerationError(`${path} has no forward index`);
    const keptBytes = start + forwardEntry.offset;
    if (keptBytes + forwardEntry.bytes > size) throw new InvalidGenerationError(`${path} is truncated`);
    const data = new Uint8Array(keptBytes);
    await readRange(handle, data, 0);
    const hash = createHash("sha256").update(data);
    const chunk = new Uint8Array(Math.min(1 << 24, Math.max(1, size - keptBytes)));
    for (let position = keptBytes; position < size; position += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - position));
      await readRange(handle, part, position);
      hash.update(part);
    }
    const checksum = hash.digest("hex");
    if (checksum !== expected.sha256) {
      throw new InvalidGenerationError(
        `checksum mismatch for ${path}: ${checksum}, expected ${expected.sha256}`,
      );
    }
    return segmentFromSections(data, start, header, { path, termsPosition: start + forwardEntry.offset });
  } finally {
    await handle.close();
  }
}

function segmentFromSections(
  data: Uint8Array,
  start: number,
  header: SegmentHeader,
  forwardFile: Omit<ForwardFile, "offsets">,
): Segment {
  const entries = header.sections;
  const take = <T extends TypedArray>(
    name: string,
    make: new (buffer: ArrayBufferLike, offset: number, length: number) => T,
    size: number,
  ) => section(data, start, entries, name, make, size);
  const arrays: SegmentArrays = {
    chunkIds: take("chunkIds", Float64Array, 8),
    documentIds: take("documentIds", Float64Array, 8),
    lengths: take("lengths", Float64Array, 8),
    idOrder: header.hasIdOrder ? take("idOrder", Uint32Array, 4) : undefined,
    termOffsets: take("termOffsets", Uint32Array, 4),
    termBytes: take("termBytes", Uint8Array, 1),
    postingOffsets: take("postingOffsets", Uint32Array, 4),
    postingDocs: take("postingDocs", Uint32Array, 4),
    postingFrequencies:
      header.frequencies === "uint16"
        ? take("postingFrequencies", Uint16Array, 2)
        : take("postingFrequencies", Float64Array, 8),
    blockOffsets: take("blockOffsets", Uint32Array, 4),
    blockLastDocs: take("blockLastDocs", Uint32Array, 4),
    blockMaxSaturation: take("blockMaxSaturation", Float32Array, 4),
    termMaxSaturation: take("termMaxSaturation", Float32Array, 4),
  };
  const docCount = arrays.chunkIds.length;
  const termCount = arrays.termOffsets.length - 1;
  const forwardOffsets = take("forwardOffsets", Uint32Array, 4);
  if (
    termCount < 0 ||
    arrays.documentIds.length !== docCount ||
    arrays.lengths.length !== docCount ||
    arrays.postingOffsets.length !== termCount + 1 ||
    arrays.postingOffsets[termCount] !== arrays.postingDocs.length ||
    arrays.postingFrequencies.length !== arrays.postingDocs.length ||
    forwardOffsets.length !== docCount + 1
  ) {
    throw new InvalidGenerationError(`${forwardFile.path} is inconsistent (array sizes disagree)`);
  }
  return new Segment({
    ...arrays,
    totalLength: header.totalLength,
    referenceAverage: header.referenceAverage,
    forward: undefined,
    forwardFile: { ...forwardFile, offsets: forwardOffsets },
    metadata: take("metadata", Uint8Array, 1),
  });
}

function checkHeader(
  header: { format?: string; version?: number; analyzer?: string; config?: Bm25Config },
  expected: { analyzer: string; config: Bm25Config },
  path: string,
  format: string,
): void {
  if (header.format !== format || header.version !== GENERATION_FORMAT_VERSION) {
    throw new InvalidGenerationError(`${path} has format ${header.format}/${header.version}`);
  }
  if (header.analyzer !== expected.analyzer) {
    throw new InvalidGenerationError(
      `${path} was built with analyzer ${header.analyzer}, not ${expected.analyzer}`,
    );
  }
  if (header.config === undefined || !sameBm25Config(header.config, expected.config)) {
    throw new InvalidGenerationError(
      `${path} was built with another BM25 config: ${JSON.stringify(header.config)}`,
    );
  }
}

/** Reads documents' forward-index entries (term ordinals) from a segment file. */
export async function readForwardTerms(
  file: ForwardFile,
  ordinals: readonly number[],
): Promise<Uint32Array[]> {
  const handle = await open(file.path, "r");
  try {
    const terms: Uint32Array[] = [];
    for (const ordinal of ordinals) {
      const from = file.offsets[ordinal]!;
      const count = file.offsets[ordinal + 1]! - from;
      const bytes = new Uint8Array(count * 4);
      await readRange(handle, bytes, file.termsPosition + from * 4);
      terms.push(new Uint32Array(bytes.buffer, 0, count));
    }
    return terms;
  } finally {
    await handle.close();
  }
}

/** One segment of a manifest: its file (relative to the collection directory) and tombstoned ordinals. */
export interface ManifestSegment {
  file: string;
  sha256: string;
  documents: number;
  tombstones: Uint32Array;
}

export interface ManifestHeader {
  format: typeof GENERATION_FORMAT;
  version: number;
  analyzer: string;
  config: Bm25Config;
  collectionId: number;
  /** The collection revision this state corresponds to. */
  revision: number;
  /** Live chunks. */
  chunkCount: number;
  createdAt: string;
  segments: Array<{ file: string; sha256: string; documents: number }>;
  sections: SectionEntry[];
}

export interface Manifest {
  header: Omit<ManifestHeader, "sections" | "segments">;
  segments: ManifestSegment[];
}

/** Encodes a manifest (the caller writes it atomically and records its sha256 in the store). */
export function encodeManifest(manifest: Manifest): Buffer {
  const { data } = encodeFile(
    MANIFEST_MAGIC,
    {
      ...manifest.header,
      segments: manifest.segments.map(({ file, sha256, documents }) => ({ file, sha256, documents })),
    },
    manifest.segments.map((segment, index) => [`tombstones-${index}`, segment.tombstones]),
  );
  return data;
}

/** Reads a manifest, verifying its sha256 and header. */
export async function readManifest(
  path: string,
  expected: FileExpectation & { collectionId: number; chunkCount: number },
): Promise<Manifest> {
  let data: Uint8Array;
  try {
    const handle = await open(path, "r");
    try {
      data = new Uint8Array((await handle.stat()).size);
      await readRange(handle, data, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof InvalidGenerationError) throw error;
    throw new InvalidGenerationError(`cannot read ${path}`, { cause: error });
  }
  const checksum = sha256Hex(data);
  if (checksum !== expected.sha256) {
    throw new InvalidGenerationError(
      `checksum mismatch for ${path}: ${checksum}, expected ${expected.sha256}`,
    );
  }
  const { header, start } = decodeHeader<ManifestHeader>(data, MANIFEST_MAGIC, path);
  checkHeader(header, expected, path, GENERATION_FORMAT);
  if (header.collectionId !== expected.collectionId || header.chunkCount !== expected.chunkCount) {
    throw new InvalidGenerationError(`${path} belongs to another collection or chunk count`);
  }
  const segments = header.segments.map((segment, index) => ({
    ...segment,
    tombstones: section(data, start, header.sections, `tombstones-${index}`, Uint32Array, 4).slice(),
  }));
  const { sections: _sections, segments: _segments, ...rest } = header;
  return { header: rest, segments };
}

/** The segment files a manifest names, read without verifying it (for deciding which files are in use). */
export async function manifestSegmentFiles(path: string): Promise<string[] | undefined> {
  try {
    const handle = await open(path, "r");
    try {
      const size = (await handle.stat()).size;
      const data = new Uint8Array(size);
      await readRange(handle, data, 0);
      return decodeHeader<ManifestHeader>(data, MANIFEST_MAGIC, path).header.segments.map((s) => s.file);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
