import { createHash } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { fsyncDirectory, type Metadata, SiftError } from "@sift/core";
import type { VectorMetric } from "./vector-math";

/**
 * The embedded index's on-disk state is missing, damaged or made for another configuration. The caller
 * rebuilds the index from the store (the system of record).
 */
export class InvalidVectorIndexError extends SiftError {
  override readonly code = "invalid_vector_index";
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAGIC = "SIFTVEC1";
export const PAYLOAD_FORMAT_VERSION = 1;

export interface PayloadHeader {
  version: number;
  dimensions: number;
  metric: VectorMetric;
  count: number;
  /** sha256 hex of the `index.usearch` written in the same flush; a mismatch means the pair is torn. */
  indexChecksum: string;
  /** sha256 hex of everything after the header (ids, metadata, vectors). */
  bodyChecksum: string;
  createdAt: string;
}

export interface PayloadContents {
  dimensions: number;
  metric: VectorMetric;
  chunkIds: number[];
  metadata: Metadata[];
  /** `chunkIds.length × dimensions` floats, row i belongs to `chunkIds[i]`, as stored (normalised for cos). */
  vectors: Float32Array;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Layout (little-endian): `SIFTVEC1` | u32 header length | header JSON | zero padding to a multiple of 8 |
 * body = f64 chunk ids × count | f32 vectors × count × dimensions | u32 metadata length | metadata JSON array.
 * Binary vectors keep the file at ~4 bytes per dimension and clear of JavaScript's string length limit.
 */
export function serializePayload(contents: PayloadContents, indexChecksum: string): Buffer {
  const count = contents.chunkIds.length;
  const metadataJson = Buffer.from(JSON.stringify(contents.metadata), "utf8");
  const body = Buffer.alloc(count * 8 + contents.vectors.byteLength + 4 + metadataJson.length);
  new Float64Array(body.buffer, body.byteOffset, count).set(contents.chunkIds);
  Buffer.from(contents.vectors.buffer, contents.vectors.byteOffset, contents.vectors.byteLength).copy(
    body,
    count * 8,
  );
  const metadataAt = count * 8 + contents.vectors.byteLength;
  body.writeUInt32LE(metadataJson.length, metadataAt);
  metadataJson.copy(body, metadataAt + 4);
  const header: PayloadHeader = {
    version: PAYLOAD_FORMAT_VERSION,
    dimensions: contents.dimensions,
    metric: contents.metric,
    count,
    indexChecksum,
    bodyChecksum: sha256Hex(body),
    createdAt: new Date().toISOString(),
  };
  const headerJson = Buffer.from(JSON.stringify(header), "utf8");
  const headerEnd = 12 + headerJson.length;
  const padded = Math.ceil(headerEnd / 8) * 8;
  const prefix = Buffer.alloc(padded);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(headerJson.length, 8);
  headerJson.copy(prefix, 12);
  return Buffer.concat([prefix, body]);
}

/** Reads and verifies a payload file; throws {@link InvalidVectorIndexError} saying why it cannot be used. */
export async function readPayload(
  path: string,
  expected: { dimensions: number; metric: VectorMetric },
): Promise<{ header: PayloadHeader; contents: PayloadContents }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new InvalidVectorIndexError(`cannot read the vector payload ${path}`, path, { cause: error });
  }
  const corrupt = (why: string, cause?: unknown) =>
    new InvalidVectorIndexError(
      `the vector payload ${path} is corrupt (${why}); rebuild the index from the store`,
      path,
      cause === undefined ? undefined : { cause },
    );
  if (data.length < 12 || data.toString("latin1", 0, 8) !== MAGIC) throw corrupt("bad magic");
  const headerLength = data.readUInt32LE(8);
  if (12 + headerLength > data.length) throw corrupt("truncated header");
  let header: PayloadHeader;
  try {
    header = JSON.parse(data.toString("utf8", 12, 12 + headerLength)) as PayloadHeader;
  } catch (error) {
    throw corrupt("header is not JSON", error);
  }
  if (header.version !== PAYLOAD_FORMAT_VERSION) throw corrupt(`format version ${header.version}`);
  if (header.dimensions !== expected.dimensions || header.metric !== expected.metric) {
    throw new InvalidVectorIndexError(
      `the vector index at ${path} holds ${header.dimensions}-d ${header.metric} vectors, ` +
        `not ${expected.dimensions}-d ${expected.metric}; rebuild it from the store`,
      path,
    );
  }
  const bodyStart = Math.ceil((12 + headerLength) / 8) * 8;
  const body = data.subarray(bodyStart);
  if (sha256Hex(body) !== header.bodyChecksum) throw corrupt("checksum mismatch");
  const { count, dimensions } = header;
  const vectorBytes = count * dimensions * 4;
  const metadataAt = count * 8 + vectorBytes;
  if (body.length < metadataAt + 4) throw corrupt("truncated body");
  // Copies: the read buffer's offset is not guaranteed to be aligned for typed-array views.
  const ids = new Float64Array(count);
  Buffer.from(ids.buffer).set(body.subarray(0, count * 8));
  const vectors = new Float32Array(count * dimensions);
  Buffer.from(vectors.buffer).set(body.subarray(count * 8, metadataAt));
  const metadataLength = body.readUInt32LE(metadataAt);
  let metadata: Metadata[];
  try {
    metadata = JSON.parse(body.toString("utf8", metadataAt + 4, metadataAt + 4 + metadataLength));
  } catch (error) {
    throw corrupt("metadata is not JSON", error);
  }
  if (!Array.isArray(metadata) || metadata.length !== count) throw corrupt("metadata count mismatch");
  return {
    header,
    contents: { dimensions, metric: header.metric, chunkIds: Array.from(ids), metadata, vectors },
  };
}

/** fsyncs a file that was written by someone else (usearch's `save`). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames each `[from, to]` in order, then fsyncs the directory so the renames survive a crash. */
export async function renameAll(pairs: Array<[string, string]>, directory: string): Promise<void> {
  for (const [from, to] of pairs) await rename(from, to);
  await fsyncDirectory(directory);
}

export async function removeQuietly(paths: string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true }).catch(() => {})));
}
