import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type Metadata, SiftError } from "@sift/core";
import { type Bm25Config, sameBm25Config } from "./config";

export const GENERATION_FORMAT = "sift-bm25-generation";
/** Bump when the file layout or the meaning of its parts changes; older files are then rebuilt. */
export const GENERATION_FORMAT_VERSION = 1;

export interface GenerationHeader {
  format: typeof GENERATION_FORMAT;
  version: number;
  /** `Analyzer.name` the terms were produced with. */
  analyzer: string;
  config: Bm25Config;
  collectionId: number;
  generation: number;
  /** The collection revision read before the chunks were scanned. */
  revision: number;
  chunkCount: number;
  createdAt: string;
}

/**
 * One persisted base generation. `chunkIds[i]` belongs to document `documentIds[i]`; metadata is stored once
 * per document. `winkJson` is wink's `exportJSON()` output.
 */
export interface GenerationContents {
  header: GenerationHeader;
  chunkIds: number[];
  documentIds: number[];
  documentMetadata: Record<string, Metadata>;
  winkJson: string;
}

/** A generation file that is missing, damaged, or built with another analyzer, config or format. */
export class InvalidGenerationError extends SiftError {
  override readonly code = "invalid_generation";
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The file is one JSON object. wink's export (already JSON, and by far the largest part) is spliced in as
 * the last member rather than embedded as a string, which would escape every quote in it.
 */
export function serializeGeneration(contents: GenerationContents): Buffer {
  const head = JSON.stringify({
    header: contents.header,
    chunkIds: contents.chunkIds,
    documentIds: contents.documentIds,
    documentMetadata: contents.documentMetadata,
  });
  return Buffer.from(`${head.slice(0, -1)},"wink":${contents.winkJson}}`, "utf8");
}

export interface GenerationExpectation {
  /** sha256 hex of the whole file, as recorded by `completeGeneration`. */
  checksum: string;
  analyzer: string;
  config: Bm25Config;
  collectionId: number;
  chunkCount: number;
}

/** Reads and verifies a generation file; throws {@link InvalidGenerationError} saying why it cannot be used. */
export async function readGeneration(
  path: string,
  expected: GenerationExpectation,
): Promise<GenerationContents> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new InvalidGenerationError(`cannot read ${path}`, { cause: error });
  }
  const checksum = sha256Hex(data);
  if (checksum !== expected.checksum) {
    throw new InvalidGenerationError(
      `checksum mismatch for ${path}: ${checksum}, expected ${expected.checksum}`,
    );
  }
  let parsed: Partial<Omit<GenerationContents, "winkJson">> & { wink?: unknown };
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (error) {
    throw new InvalidGenerationError(`${path} is not valid JSON`, { cause: error });
  }
  const header = parsed.header;
  if (header?.format !== GENERATION_FORMAT || header.version !== GENERATION_FORMAT_VERSION) {
    throw new InvalidGenerationError(`${path} has format ${header?.format}/${header?.version}`);
  }
  if (header.analyzer !== expected.analyzer) {
    throw new InvalidGenerationError(
      `${path} was built with analyzer ${header.analyzer}, not ${expected.analyzer}`,
    );
  }
  if (!sameBm25Config(header.config, expected.config)) {
    throw new InvalidGenerationError(
      `${path} was built with another BM25 config: ${JSON.stringify(header.config)}`,
    );
  }
  if (header.collectionId !== expected.collectionId) {
    throw new InvalidGenerationError(`${path} belongs to collection ${header.collectionId}`);
  }
  const { chunkIds, documentIds, documentMetadata, wink } = parsed;
  if (
    !Array.isArray(chunkIds) ||
    !Array.isArray(documentIds) ||
    chunkIds.length !== documentIds.length ||
    chunkIds.length !== header.chunkCount ||
    header.chunkCount !== expected.chunkCount ||
    typeof documentMetadata !== "object" ||
    documentMetadata === null ||
    !Array.isArray(wink)
  ) {
    throw new InvalidGenerationError(`${path} is inconsistent (chunk count or parts missing)`);
  }
  return { header, chunkIds, documentIds, documentMetadata, winkJson: JSON.stringify(wink) };
}
