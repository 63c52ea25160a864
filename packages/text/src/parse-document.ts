import { ValidationError } from "@sift/core";
import type { ParsedDocument, SourceFormat } from "./document-types";
import { htmlToDocument } from "./html-text";
import { markdownHeadings } from "./markdown-headings";

export type { Heading, ParsedDocument, SourceFormat } from "./document-types";

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
