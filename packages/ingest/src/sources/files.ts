import type { Dirent } from "node:fs";
import { opendir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SourceFormat, SourceItem } from "./types";

/** File extensions (lower case, with the dot) the files source reads, and the parser format of each. */
export const fileFormats: Readonly<Record<string, SourceFormat>> = {
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "text",
  ".html": "html",
  ".htm": "html",
};

export const defaultMaxFileBytes = 64 * 1024 * 1024;
const sniffBytes = 8 * 1024;

interface WalkEntry {
  absolutePath: string;
  /** Relative to the root, posix separators: the document's external id. */
  relativePath: string;
  type: "file" | "symlink" | "other";
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function entryType(dirent: Dirent): WalkEntry["type"] | "directory" {
  if (dirent.isSymbolicLink()) return "symlink";
  if (dirent.isDirectory()) return "directory";
  if (dirent.isFile()) return "file";
  return "other";
}

/**
 * Depth-first walk of `root`, entries of each directory sorted by name (code-unit order, so the order
 * does not depend on the locale or the file system). Symbolic links are reported, never followed.
 * Hidden entries (a name starting with ".", e.g. `.git`) are left out entirely.
 */
async function* walk(root: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const pending: string[] = [""];
  // An explicit stack keeps deep trees from growing the call stack; children are pushed in reverse so
  // that they come off in sorted order.
  while (pending.length > 0) {
    if (signal?.aborted) return;
    const relativeDir = pending.pop()!;
    const dirents: Dirent[] = [];
    for await (const dirent of await opendir(path.join(root, relativeDir))) dirents.push(dirent);
    dirents.sort((a, b) => byCodeUnit(a.name, b.name));
    const subdirectories: string[] = [];
    for (const dirent of dirents) {
      if (dirent.name.startsWith(".")) continue;
      const relativePath = relativeDir === "" ? dirent.name : `${relativeDir}/${dirent.name}`;
      const type = entryType(dirent);
      if (type === "directory") {
        subdirectories.push(relativePath);
        continue;
      }
      // Files of a directory come before its subdirectories' files.
      yield { absolutePath: path.join(root, relativePath), relativePath, type };
    }
    for (const subdirectory of subdirectories.reverse()) pending.push(subdirectory);
  }
}

/**
 * Why the bytes are not a text document, or undefined when they look like UTF-8 text: a NUL byte or
 * an invalid UTF-8 sequence in the first 8 KiB means binary.
 */
export function sniffBinary(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, sniffBytes);
  if (head.includes(0)) return "binary file (NUL byte in the first 8 KiB)";
  try {
    // `stream: true` tolerates a multi-byte sequence cut at the 8 KiB boundary.
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
  } catch {
    return "binary file (invalid UTF-8 in the first 8 KiB)";
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readEntry(entry: WalkEntry, maxFileBytes: number): Promise<SourceItem> {
  const { relativePath } = entry;
  if (entry.type === "symlink") {
    return { kind: "skipped", source: relativePath, reason: "symbolic link (not followed)" };
  }
  if (entry.type === "other") {
    return { kind: "skipped", source: relativePath, reason: "not a regular file" };
  }
  const extension = path.extname(relativePath).toLowerCase();
  const format = fileFormats[extension];
  if (format === undefined) {
    return {
      kind: "skipped",
      source: relativePath,
      reason: `unsupported file type '${extension || "(none)"}' (expected .md, .markdown, .txt, .html or .htm)`,
    };
  }
  let bytes: Buffer;
  try {
    const info = await stat(entry.absolutePath);
    if (info.size > maxFileBytes) {
      return {
        kind: "skipped",
        source: relativePath,
        reason: `file too large (${info.size} bytes, limit ${maxFileBytes})`,
        externalId: relativePath,
      };
    }
    bytes = await readFile(entry.absolutePath);
  } catch (error) {
    return {
      kind: "skipped",
      source: relativePath,
      reason: `unreadable: ${errorMessage(error)}`,
      externalId: relativePath,
    };
  }
  const binary = sniffBinary(bytes);
  if (binary !== undefined) return { kind: "skipped", source: relativePath, reason: binary };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "skipped", source: relativePath, reason: "not valid UTF-8 text" };
  }
  return {
    kind: "document",
    document: {
      externalId: relativePath,
      text,
      sourceUri: pathToFileURL(entry.absolutePath).href,
      format,
      fallbackTitle: path.posix.basename(relativePath),
    },
  };
}

/**
 * Reads a folder tree (or one file) of Markdown, text and HTML files. External ids are paths relative
 * to the root with posix separators (for a single file: its name).
 */
export async function* readFiles(
  target: string,
  options: { signal?: AbortSignal | undefined; maxFileBytes?: number | undefined } = {},
): AsyncGenerator<SourceItem> {
  const maxFileBytes = options.maxFileBytes ?? defaultMaxFileBytes;
  const info = await stat(target);
  if (!info.isDirectory()) {
    const absolutePath = path.resolve(target);
    yield await readEntry(
      { absolutePath, relativePath: path.basename(absolutePath), type: "file" },
      maxFileBytes,
    );
    return;
  }
  for await (const entry of walk(path.resolve(target), options.signal)) {
    if (options.signal?.aborted) return;
    yield await readEntry(entry, maxFileBytes);
  }
}

/** How many items `readFiles` will yield (documents and skipped entries), without reading any file. */
export async function countFiles(target: string, signal?: AbortSignal): Promise<number> {
  const info = await stat(target);
  if (!info.isDirectory()) return 1;
  let count = 0;
  for await (const _ of walk(path.resolve(target), signal)) count += 1;
  return count;
}
