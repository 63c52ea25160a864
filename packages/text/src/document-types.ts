export type SourceFormat = "markdown" | "text" | "html";

/** A heading of a parsed document. */
export interface Heading {
  /** 1 (outermost, `#` / `<h1>`) to 6. */
  level: number;
  /** The heading's text, inline markup removed, whitespace collapsed. Never empty. */
  title: string;
  /** Offset (UTF-16 code units) of the start of the heading's first line in `ParsedDocument.text`. */
  charStart: number;
}

/**
 * A document reduced to the text that gets chunked and indexed. Chunk offsets point into `text`, so
 * `text` is what the store keeps as the document's content.
 */
export interface ParsedDocument {
  title?: string | undefined;
  text: string;
  /** In document order (ascending `charStart`). */
  headings: Heading[];
}
