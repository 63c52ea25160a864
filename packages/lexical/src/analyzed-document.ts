import type { ChunkRecord, Metadata } from "@sift/core";
import type { Analyzer } from "@sift/text";

/** One indexed unit: a chunk's id and its two searchable fields, as raw (unanalysed) text. */
export interface Bm25Document {
  /** The chunk id; a positive integer. */
  id: number;
  title: string;
  body: string;
}

/** A document whose fields have already been through the analyzer (so a rebuild need not analyse again). */
export interface AnalyzedBm25Document {
  id: number;
  title: readonly string[];
  body: readonly string[];
}

/** An analysed chunk as a segment stores it: its fields' terms, plus what the legacy filter path needs. */
export interface SegmentDocument extends AnalyzedBm25Document {
  /** The chunk's document id (metadata is stored once per document). Default: the chunk id. */
  documentId?: number;
  /** The document's metadata, for `Filter`s evaluated by the manager's `LexicalIndex` handle. Default `{}`. */
  metadata?: Metadata;
}

/** Runs the analyzer over a document's fields. */
export function analyzeBm25Document(document: Bm25Document, analyzer: Analyzer): AnalyzedBm25Document {
  return { id: document.id, title: analyzer.analyze(document.title), body: analyzer.analyze(document.body) };
}

/** The fields of a stored chunk: the document title, and the chunk text under its heading path. */
export function chunkToBm25Document(
  chunk: Pick<ChunkRecord, "id" | "title" | "text" | "headingPath">,
): Bm25Document {
  const headings = chunk.headingPath.join("\n");
  return {
    id: chunk.id,
    title: chunk.title ?? "",
    body: headings.length > 0 ? `${headings}\n${chunk.text}` : chunk.text,
  };
}

/** A stored chunk, analysed, with its document id and metadata: what a segment is built from. */
export function analyzeChunk(chunk: ChunkRecord, analyzer: Analyzer): SegmentDocument {
  const analyzed = analyzeBm25Document(chunkToBm25Document(chunk), analyzer);
  return { ...analyzed, documentId: chunk.documentId, metadata: chunk.metadata };
}
