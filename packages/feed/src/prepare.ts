import type { JsonValue, Metadata } from "@sift/core";
import { analyzeBm25Document, chunkToBm25Document } from "@sift/lexical";
import type { Analyzer } from "@sift/text";
import type { FeedDocument } from "./types";
import { documentEmbedding } from "./vectors";

/** Where the feed reads a document's source, tags and publication time in its metadata. */
export interface MetadataFields {
  /** Default `source`. */
  source: string;
  /** Default `tags` (a string or an array of strings). */
  tags: string;
  /** Default `published` (an ISO 8601 string or epoch milliseconds); absent: the arrival time. */
  published: string;
}

export const defaultMetadataFields: MetadataFields = Object.freeze({
  source: "source",
  tags: "tags",
  published: "published",
});

export interface RawFeedDocument {
  tenant: string;
  collection: string;
  documentId: string;
  title: string | null;
  text: string;
  /** The document's chunks as the store holds them. */
  chunks: ReadonlyArray<{ text: string; headingPath: readonly string[] }>;
  /** One vector per chunk (same order), or none when the collection has no embeddings. */
  chunkVectors: readonly Float32Array[];
  metadata: Metadata;
  arrivedAt: number;
  /** See `FeedDocument.version`. */
  version?: number;
}

/**
 * Builds what matching needs from a stored document: chunks analysed exactly as the lexical index analyses
 * them (`chunkToBm25Document`: title field, heading path + text body), the document embedding (mean of its
 * chunk vectors), and source, tags and publication time read from metadata.
 */
export function prepareFeedDocument(
  raw: RawFeedDocument,
  analyzer: Analyzer,
  fields: MetadataFields = defaultMetadataFields,
): FeedDocument {
  const chunks = raw.chunks.map((chunk, i) =>
    analyzeBm25Document(
      chunkToBm25Document({
        id: i + 1,
        title: raw.title,
        text: chunk.text,
        headingPath: [...chunk.headingPath],
      }),
      analyzer,
    ),
  );
  const source = raw.metadata[fields.source];
  return {
    tenant: raw.tenant,
    collection: raw.collection,
    documentId: raw.documentId,
    title: raw.title ?? raw.documentId,
    text: raw.text,
    chunks: chunks.map(({ title, body }) => ({ title, body })),
    embedding: documentEmbedding(raw.chunkVectors),
    source: typeof source === "string" && source !== "" ? source : null,
    tags: tagsOf(raw.metadata[fields.tags]),
    metadata: raw.metadata,
    publishedAt: instantOf(raw.metadata[fields.published]) ?? raw.arrivedAt,
    arrivedAt: raw.arrivedAt,
    ...(raw.version === undefined ? {} : { version: raw.version }),
  };
}

function tagsOf(value: JsonValue | undefined): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

function instantOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}
