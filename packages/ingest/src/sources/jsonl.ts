import { createReadStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Metadata } from "@sift/core";
import { z } from "zod";
import type { SourceItem } from "./types";

const id = z.union([
  z.string().min(1, "must not be empty"),
  // Numeric ids are common in exported corpora; they are stored as their decimal string.
  z
    .number()
    .int()
    .nonnegative()
    .transform((n) => String(n)),
]);

/**
 * One JSONL line: `{id, title?, text, metadata?}`, with `_id` accepted for `id` (the BEIR corpus
 * layout). Unknown keys are ignored. `title: null` is read as no title.
 */
export const jsonlDocumentSchema = z
  .object({
    id: id.optional(),
    _id: id.optional(),
    title: z.string().nullish(),
    text: z.string(),
    metadata: z.record(z.string(), z.json()).optional(),
  })
  .refine((line) => line.id !== undefined || line._id !== undefined, {
    message: "required (as 'id' or '_id')",
    path: ["id"],
  });

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(line)"}: ${issue.message}`).join("; ");
}

/** The id of a line that failed validation, when it has a usable one. */
function salvageId(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const candidate = record.id ?? record._id;
  const parsed = id.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Streams a JSONL file one line at a time (never the whole file in memory). Blank lines are ignored;
 * a line that is not valid JSON or not a valid document is yielded as `skipped` with its line number.
 * Documents get format `text`.
 */
export async function* readJsonl(
  file: string,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<SourceItem> {
  const label = path.basename(file);
  const input = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (options.signal?.aborted) return;
      if (line.trim() === "") continue;
      const source = `${label}:${lineNumber}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        yield { kind: "skipped", source, reason: `invalid JSON: ${(error as Error).message}` };
        continue;
      }
      const parsed = jsonlDocumentSchema.safeParse(value);
      if (!parsed.success) {
        yield {
          kind: "skipped",
          source,
          reason: `invalid document: ${describeIssues(parsed.error)}`,
          externalId: salvageId(value),
        };
        continue;
      }
      const { text, metadata } = parsed.data;
      // An empty title (common in BEIR corpora) is no title.
      const title = parsed.data.title?.trim() === "" ? undefined : parsed.data.title;
      yield {
        kind: "document",
        document: {
          externalId: (parsed.data.id ?? parsed.data._id)!,
          title: title ?? undefined,
          text,
          metadata: metadata as Metadata | undefined,
          format: "text",
        },
      };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * Counts the non-blank lines of a file with a byte scan (no decoding, no line strings), for a
 * progress total. Matches the number of items `readJsonl` yields.
 */
export async function countJsonlLines(file: string, signal?: AbortSignal): Promise<number> {
  const newline = 0x0a;
  let count = 0;
  let lineHasContent = false;
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) break;
      let start = 0;
      for (;;) {
        // indexOf runs natively; the per-byte loop only looks at a line's first bytes.
        const end = chunk.indexOf(newline, start);
        const stop = end === -1 ? chunk.length : end;
        for (let i = start; !lineHasContent && i < stop; i += 1) {
          const byte = chunk[i]!;
          if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) lineHasContent = true;
        }
        if (end === -1) break;
        if (lineHasContent) count += 1;
        lineHasContent = false;
        start = end + 1;
      }
    }
  } finally {
    stream.destroy();
  }
  return lineHasContent ? count + 1 : count;
}

/** Whether the first non-blank line of a JSONL file has an `_id` key (the BEIR corpus layout). */
export async function firstLineHasUnderscoreId(file: string): Promise<boolean> {
  const input = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === "object" && value !== null && "_id" in value;
      } catch {
        return false;
      }
    }
    return false;
  } finally {
    lines.close();
    input.destroy();
  }
}
