import { ValidationError } from "@sift/core";
import { htmlToDocument } from "./html-text";
import { markdownHeadings } from "./markdown-headings";

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

/**
 * Parses a source document.
 *
 * - `markdown`: `text` is the source unchanged, so offsets point into the original file; headings are
 *   the ATX and setext headings outside code; `title` is the first level-1 heading.
 * - `text`: `text` is the source unchanged; no headings, no title.
 * - `html`: `text` is the readable text (see `htmlToDocument`); headings h1–h6 with offsets into that
 *   text; `title` is `<title>`, else the first h1.
 *
 * Never throws on malformed input; throws `ValidationError` for an unknown format.
 */
export function parseDocument(content: string, format: SourceFormat): ParsedDocument {
  switch (format) {
    case "markdown": {
      const headings = markdownHeadings(content);
      const title = headings.find((heading) => heading.level === 1)?.title;
      return title === undefined ? { text: content, headings } : { title, text: content, headings };
    }
    case "html":
      return htmlToDocument(content);
    case "text":
      return { text: content, headings: [] };
  }
  throw new ValidationError(`unknown source format '${String(format)}'`, [
    { path: "format", message: "expected markdown, text or html" },
  ]);
}
