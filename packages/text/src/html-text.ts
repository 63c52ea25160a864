import { Parser } from "htmlparser2";
import type { Heading, ParsedDocument } from "./document-types";

/** Elements whose content is never readable text. `head` is handled apart, for its `<title>`. */
const droppedElements = new Set([
  "script",
  "style",
  "noscript",
  "nav",
  "svg",
  "math",
  "template",
  "iframe",
  "object",
  "canvas",
  "select",
]);

/** What a head holds besides dropped elements; anything else opened in an unclosed head starts the body. */
const headContent = new Set(["title", "meta", "link", "base"]);

/** Elements that stand as paragraphs of their own: a blank line before and after. */
const paragraphElements = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "details",
  "dialog",
  "div",
  "dl",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "header",
  "hgroup",
  "hr",
  "main",
  "ol",
  "p",
  "pre",
  "section",
  "table",
  "ul",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
]);

/** Elements that start a new line. */
const lineElements = new Set(["br", "li", "dt", "dd", "tr", "caption", "summary", "legend", "option"]);

const listElements = new Set(["ul", "ol", "dl"]);
const cellElements = new Set(["td", "th"]);

const headingLevel = (name: string): number =>
  name.length === 2 && name[0] === "h" && name[1]! >= "1" && name[1]! <= "6" ? Number(name[1]) : 0;

/** Whitespace as `String.prototype.trim` sees it (so a no-break space collapses like a space). */
export function isWhitespaceCode(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

const Break = { None: 0, Line: 1, Paragraph: 2 } as const;
type Break = (typeof Break)[keyof typeof Break];

/**
 * Readable text of an HTML document, as a person would copy it from a browser window: the content of
 * script, style, head, nav, noscript, svg (and a few more non-text elements) is dropped, entities are
 * decoded, block elements become blank lines (paragraphs, headings, lists, tables) or line breaks (list
 * items, table rows, `<br>`), table cells in a row are joined with " | ", runs of whitespace collapse to
 * one space except inside `<pre>`. Headings h1–h6 are recorded with offsets into the extracted text;
 * the title is `<title>`, else the first h1. Malformed markup is read the way htmlparser2 reads it
 * (unclosed elements end at their parent's end or at the end of input); it never throws.
 */
export function htmlToDocument(html: string): ParsedDocument {
  let out = "";
  let pendingBreak: Break = Break.None;
  let pendingSpace = false;
  let pendingCellSeparator = false;

  let droppedDepth = 0;
  let headDepth = 0;
  let preDepth = 0;
  let listDepth = 0;
  let cellDepth = 0;
  let titleDepth = 0;
  let titleText = "";
  let firstH1: string | undefined;
  let preStart = false;

  const headings: Heading[] = [];
  /** The heading being read: where its text starts in `out` (-1 before its first character), and its text. */
  let openHeading: { level: number; depth: number; start: number; text: string } | undefined;
  let endsWithNewline = false;

  // Only ever appended to: reading `out` back while it grows would flatten the rope again and again.
  const emit = (value: string) => {
    out += value;
    endsWithNewline = value.endsWith("\n");
    if (openHeading !== undefined && openHeading.start >= 0) openHeading.text += value;
  };
  let elementDepth = 0;

  const requestBreak = (kind: Break) => {
    if (cellDepth > 0) {
      pendingSpace = true;
      return;
    }
    const effective = kind === Break.Paragraph && listDepth > 0 ? Break.Line : kind;
    if (effective > pendingBreak) pendingBreak = effective;
    pendingSpace = false;
  };

  /** Writes pending separators before the next visible character. */
  const flush = () => {
    if (out.length > 0) {
      if (pendingBreak !== Break.None) {
        emit(pendingBreak === Break.Paragraph ? "\n\n" : "\n");
      } else if (pendingCellSeparator) {
        emit(" | ");
      } else if (pendingSpace) {
        emit(" ");
      }
    }
    pendingBreak = Break.None;
    pendingSpace = false;
    pendingCellSeparator = false;
    if (openHeading !== undefined && openHeading.start < 0) openHeading.start = out.length;
  };

  const appendText = (text: string) => {
    if (preDepth > 0) {
      let raw = text.replace(/\r\n?/g, "\n");
      if (preStart && raw.startsWith("\n")) raw = raw.slice(1);
      if (raw.length === 0) return;
      preStart = false;
      flush();
      emit(raw);
      return;
    }
    const collapsed = text.replace(/\s+/g, " ");
    if (collapsed.length === 0) return;
    const leading = collapsed.charCodeAt(0) === 32;
    const trailing = collapsed.charCodeAt(collapsed.length - 1) === 32;
    if (leading) pendingSpace = true;
    if (collapsed.length > 1 || !leading) {
      flush();
      emit(collapsed.slice(leading ? 1 : 0, trailing ? collapsed.length - 1 : collapsed.length));
    }
    if (trailing) pendingSpace = true;
  };

  const parser = new Parser(
    {
      onopentag(name) {
        elementDepth++;
        if (droppedElements.has(name)) {
          droppedDepth++;
          return;
        }
        if (name === "head") headDepth++;
        // Body content in an unclosed head ends the head, as in a browser.
        else if (headDepth > 0 && droppedDepth === 0 && !headContent.has(name)) headDepth = 0;
        if (name === "title" && droppedDepth === 0) titleDepth++;
        if (droppedDepth > 0 || headDepth > 0) return;

        const level = headingLevel(name);
        if (level > 0) {
          // A heading inside an unclosed heading ends it, as in a browser.
          finishHeading();
          requestBreak(Break.Paragraph);
          openHeading = { level, depth: elementDepth, start: -1, text: "" };
        } else if (paragraphElements.has(name)) {
          requestBreak(Break.Paragraph);
        } else if (lineElements.has(name)) {
          requestBreak(Break.Line);
        }
        if (cellElements.has(name)) {
          if (cellDepth === 0 && pendingBreak === Break.None && out.length > 0 && !atLineStart())
            pendingCellSeparator = true;
          cellDepth++;
        }
        if (listElements.has(name)) listDepth++;
        if (name === "pre") {
          preDepth++;
          preStart = true;
        }
      },
      ontext(text) {
        if (droppedDepth > 0) return;
        if (titleDepth > 0) {
          titleText += text;
          return;
        }
        if (headDepth > 0) return;
        appendText(text);
      },
      onclosetag(name) {
        const depth = elementDepth;
        elementDepth = Math.max(0, elementDepth - 1);
        if (droppedElements.has(name)) {
          droppedDepth = Math.max(0, droppedDepth - 1);
          return;
        }
        if (name === "head") headDepth = Math.max(0, headDepth - 1);
        if (name === "title" && titleDepth > 0) titleDepth--;
        if (droppedDepth > 0 || headDepth > 0) return;

        if (cellElements.has(name)) cellDepth = Math.max(0, cellDepth - 1);
        if (listElements.has(name)) listDepth = Math.max(0, listDepth - 1);
        if (name === "pre") preDepth = Math.max(0, preDepth - 1);
        if (openHeading !== undefined && depth === openHeading.depth) finishHeading();
        if (paragraphElements.has(name)) requestBreak(Break.Paragraph);
        else if (lineElements.has(name) && name !== "br") requestBreak(Break.Line);
      },
    },
    { decodeEntities: true },
  );

  function finishHeading(): void {
    if (openHeading === undefined) return;
    const { level, start, text } = openHeading;
    openHeading = undefined;
    if (start < 0) return;
    // Only the heading's first line: an unclosed heading in malformed markup can swallow what follows.
    const lineEnd = text.indexOf("\n");
    const title = text
      .slice(0, lineEnd === -1 ? text.length : lineEnd)
      .replace(/\s+/g, " ")
      .trim();
    if (title === "") return;
    headings.push({ level, title, charStart: start });
    if (level === 1 && firstH1 === undefined) firstH1 = title;
  }

  function atLineStart(): boolean {
    return out.length === 0 || endsWithNewline;
  }

  parser.write(html);
  parser.end();
  finishHeading();

  const text = out.trimEnd();
  const title = titleText.replace(/\s+/g, " ").trim() || firstH1;
  return title === undefined ? { text, headings } : { title, text, headings };
}
