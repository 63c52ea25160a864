import type { Heading } from "./document-types";

const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const fenceOpen = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const setextUnderline = /^ {0,3}(=+|-+)[ \t]*$/;
const thematicBreak = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
/** Lines that open a block a setext underline cannot turn into a heading. */
const nonParagraphStart = /^ {0,3}(?:[-+*][ \t]|\d{1,9}[.)][ \t]|>|\||<)/;
const blank = /^[ \t]*$/;

/**
 * Headings of a Markdown document, in document order, with `charStart` at the start of the heading's
 * first line. ATX headings (`#` to `######`) and setext headings (a paragraph underlined with `=` or
 * `-`) count; headings inside fenced code blocks, indented code, and a leading YAML front-matter block do
 * not. Headings whose title is empty after clean-up are skipped.
 */
export function markdownHeadings(source: string): Heading[] {
  const headings: Heading[] = [];
  let fence: { marker: string; length: number } | undefined;
  /** Start offset and text lines of the paragraph being read, for setext headings. */
  let paragraphStart = -1;
  let paragraphLines: string[] = [];
  let paragraphSetextAllowed = false;

  let position = skipFrontMatter(source);
  while (position < source.length) {
    const newline = source.indexOf("\n", position);
    const lineEnd = newline === -1 ? source.length : newline;
    const next = newline === -1 ? source.length : newline + 1;
    let line = source.slice(position, lineEnd);
    if (line.endsWith("\r")) line = line.slice(0, -1);

    if (fence !== undefined) {
      const close = fenceOpen.exec(line);
      if (close?.[1] !== undefined && close[1][0] === fence.marker && close[1].length >= fence.length) {
        if (blank.test(close[2] ?? "")) fence = undefined;
      }
      position = next;
      continue;
    }

    const open = fenceOpen.exec(line);
    const openMarker = open?.[1];
    if (openMarker !== undefined && !(openMarker[0] === "`" && (open?.[2] ?? "").includes("`"))) {
      fence = { marker: openMarker[0] ?? "`", length: openMarker.length };
      paragraphStart = -1;
      position = next;
      continue;
    }

    if (blank.test(line)) {
      paragraphStart = -1;
      position = next;
      continue;
    }

    const atx = atxHeading.exec(line);
    if (atx !== null) {
      const title = cleanTitle(atx[2] ?? "");
      if (title !== "") headings.push({ level: atx[1]?.length ?? 1, title, charStart: position });
      paragraphStart = -1;
      position = next;
      continue;
    }

    const underline = setextUnderline.exec(line);
    if (underline !== null && paragraphStart >= 0 && paragraphSetextAllowed) {
      const title = cleanTitle(paragraphLines.join(" "));
      if (title !== "") {
        headings.push({ level: underline[1]?.startsWith("=") ? 1 : 2, title, charStart: paragraphStart });
      }
      paragraphStart = -1;
      position = next;
      continue;
    }

    if (paragraphStart >= 0) {
      paragraphLines.push(line.trim());
    } else if (thematicBreak.test(line) || /^(?: {4}|\t)/.test(line)) {
      // A thematic break or indented code: neither opens a paragraph.
    } else {
      paragraphStart = position;
      paragraphLines = [line.trim()];
      paragraphSetextAllowed = !nonParagraphStart.test(line);
    }
    position = next;
  }
  return headings;
}

/** Offset just past a YAML front-matter block (`---` … `---` or `...` at the very start), else 0. */
function skipFrontMatter(source: string): number {
  const first = /^---[ \t]*\r?\n/.exec(source);
  if (first === null) return 0;
  const close = /^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m;
  const rest = source.slice(first[0].length);
  const match = close.exec(rest);
  return match === null ? 0 : first[0].length + match.index + match[0].length;
}

/** Inline Markdown out of a heading title: links and images keep their text, code spans and emphasis lose their markers. */
export function cleanTitle(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`+([^`]*)`+/g, "$1")
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])/g, "$1$2")
    .replace(/(^|\W)_(?=\S)([^_]*?\S)_(?!\w)/g, "$1$2")
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}
