import { createHash } from "node:crypto";

/**
 * Identity of a document's content, for skipping unchanged documents and re-using embeddings:
 * sha256 (lower-case hex) of the canonical JSON of `{ metadata, sourceUri, text, title }`.
 *
 * Canonical JSON: object keys sorted by UTF-16 code units at every depth, no whitespace, strings and
 * numbers as `JSON.stringify` writes them (the same rules as RFC 8785, JCS), `toJSON` honoured (a Date
 * becomes its ISO string), `undefined` members left out. A `title` or `sourceUri` that is absent,
 * `undefined` or `null` is left out; absent or `null` metadata counts as `{}`, so a document sent with
 * no metadata and one sent with `{}` hash the same. Text is hashed exactly as given (no normalisation).
 */
export function contentHash(input: {
  title?: string | null | undefined;
  text: string;
  sourceUri?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}): string {
  const canonical: Record<string, unknown> = { metadata: input.metadata ?? {}, text: input.text };
  if (input.title !== undefined && input.title !== null) canonical.title = input.title;
  if (input.sourceUri !== undefined && input.sourceUri !== null) canonical.sourceUri = input.sourceUri;
  return createHash("sha256").update(canonicalJson(canonical), "utf8").digest("hex");
}

/** Canonical JSON text of a JSON-like value (see `contentHash`). Throws `TypeError` on cycles and bigints. */
export function canonicalJson(value: unknown): string {
  return write(value, new Set()) ?? "null";
}

function write(value: unknown, ancestors: Set<object>): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonicalJson: a bigint has no JSON form");
    case "object":
      break;
    default:
      return undefined;
  }
  const object = value as object;
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return write(toJSON.call(object), ancestors);
  if (ancestors.has(object)) throw new TypeError("canonicalJson: a value refers to itself");
  ancestors.add(object);
  let result: string;
  if (Array.isArray(object)) {
    result = `[${object.map((item) => write(item, ancestors) ?? "null").join(",")}]`;
  } else {
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = write(record[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    result = `{${members.join(",")}}`;
  }
  ancestors.delete(object);
  return result;
}
