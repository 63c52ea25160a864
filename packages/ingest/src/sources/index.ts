import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "@sift/core";
import { countFiles, readFiles } from "./files";
import { countJsonlLines, firstLineHasUnderscoreId, readJsonl } from "./jsonl";
import type { ReadSourceOptions, SourceFormatOption, SourceItem, SourceKind } from "./types";

export { defaultMaxFileBytes, fileFormats, sniffBinary } from "./files";
export { countJsonlLines, jsonlDocumentSchema } from "./jsonl";
export type * from "./types";

export const sourceFormats = [
  "auto",
  "files",
  "jsonl",
  "beir",
] as const satisfies readonly SourceFormatOption[];

/** A source path resolved to what will be read. */
export interface ResolvedSource {
  kind: SourceKind;
  /** The file or folder actually read: for BEIR, the corpus.jsonl file. */
  path: string;
}

const beirCorpus = "corpus.jsonl";
const jsonlExtensions = new Set([".jsonl", ".ndjson"]);

async function statOrUndefined(target: string): Promise<Stats | undefined> {
  try {
    return await stat(target);
  } catch {
    return undefined;
  }
}

/**
 * Decides what `target` is. `auto`: a folder holding corpus.jsonl is BEIR; a *.jsonl file is JSONL
 * (BEIR when its first line has `_id`); anything else is read as files. Throws a `ValidationError`
 * when the path does not exist or does not fit the requested format.
 */
export async function resolveSource(
  target: string,
  format: SourceFormatOption = "auto",
): Promise<ResolvedSource> {
  const info = await statOrUndefined(target);
  if (info === undefined) {
    throw new ValidationError(`source path '${target}' does not exist or cannot be read`, [
      { path: "path", message: "not found" },
    ]);
  }
  const isDirectory = info.isDirectory();
  const corpus = path.join(target, beirCorpus);
  const hasCorpus = isDirectory && (await statOrUndefined(corpus))?.isFile() === true;
  const isJsonlFile = !isDirectory && jsonlExtensions.has(path.extname(target).toLowerCase());
  switch (format) {
    case "auto":
      if (hasCorpus) return { kind: "beir", path: corpus };
      if (isJsonlFile)
        return { kind: (await firstLineHasUnderscoreId(target)) ? "beir" : "jsonl", path: target };
      return { kind: "files", path: target };
    case "files":
      return { kind: "files", path: target };
    case "beir":
      if (hasCorpus) return { kind: "beir", path: corpus };
      if (!isDirectory) return { kind: "beir", path: target };
      throw new ValidationError(`--format beir: '${target}' has no ${beirCorpus}`, [
        { path: "format", message: `no ${beirCorpus} in the folder` },
      ]);
    case "jsonl":
      if (!isDirectory) return { kind: "jsonl", path: target };
      if (hasCorpus) return { kind: "jsonl", path: corpus };
      throw new ValidationError(`--format jsonl: '${target}' is a folder, not a JSONL file`, [
        { path: "format", message: "expected a file" },
      ]);
  }
}

/**
 * Reads documents from a folder tree, a single file, a JSONL file or a BEIR corpus. Never throws for a
 * single bad entry (it is yielded as `skipped`); throws when the source as a whole cannot be read.
 * Stops early, without an error, once `signal` is aborted.
 */
export async function* readSource(
  target: string,
  options: ReadSourceOptions = {},
): AsyncGenerator<SourceItem> {
  const resolved = await resolveSource(target, options.format ?? "auto");
  yield* readResolved(resolved, options);
}

export function readResolved(
  resolved: ResolvedSource,
  options: ReadSourceOptions = {},
): AsyncGenerator<SourceItem> {
  if (resolved.kind === "files") {
    return readFiles(resolved.path, { signal: options.signal, maxFileBytes: options.maxFileBytes });
  }
  return readJsonl(resolved.path, { signal: options.signal });
}

/**
 * How many items reading the source will yield (documents plus skipped entries), found cheaply: a
 * directory walk without reading files, or a byte scan of a JSONL file. For a progress total.
 */
export function countSource(resolved: ResolvedSource, signal?: AbortSignal): Promise<number> {
  return resolved.kind === "files"
    ? countFiles(resolved.path, signal)
    : countJsonlLines(resolved.path, signal);
}
