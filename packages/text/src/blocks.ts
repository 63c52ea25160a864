import { isWhitespaceCode } from "./html-text";
import { pushTrimmed, type Span } from "./sentences";

export type BlockKind = "paragraph" | "code" | "list" | "table";

/** A run of non-blank lines, trimmed of surrounding whitespace. */
export interface Block extends Span {
  kind: BlockKind;
  /** Leading whitespace (characters) of the block's first line. */
  indent: number;
}

const listItem = /^(?:[-+*]|\d{1,9}[.)])[ \t]/;
const tableDelimiterRow = /^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\r?$/;

/**
 * Splits `text[start, end)` into blocks at blank lines. A fenced code block (``` or ~~~) is one block
 * however many blank lines it holds (an unclosed fence runs to `end`); list items separated by blank
 * lines, and the indented paragraphs that continue them, join into one list block.
 */
export function splitBlocks(text: string, start: number, end: number): Block[] {
  const blocks: Block[] = [];
  let blockStart = -1;
  let blockEnd = -1;
  let blockIndent = 0;
  let fence: { marker: number; length: number } | undefined;

  let lineStart = start;
  while (lineStart < end) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const next = lineEnd < end ? lineEnd + 1 : end;
    let first = lineStart;
    while (first < lineEnd && isWhitespaceCode(text.charCodeAt(first))) first++;

    if (fence !== undefined) {
      const run = fenceRun(text, first, lineEnd);
      if (run !== undefined && run.marker === fence.marker && run.length >= fence.length && run.restBlank) {
        fence = undefined;
      }
      blockEnd = lineEnd;
      lineStart = next;
      continue;
    }
    if (first === lineEnd) {
      if (blockStart >= 0) addBlock(text, blockStart, blockEnd, blockIndent, blocks);
      blockStart = -1;
      lineStart = next;
      continue;
    }
    if (blockStart < 0) {
      blockStart = first;
      blockIndent = first - lineStart;
    }
    if (first - lineStart <= 3) {
      const run = fenceRun(text, first, lineEnd);
      if (run !== undefined && !(run.marker === 0x60 && run.infoHasBacktick)) fence = run;
    }
    blockEnd = lineEnd;
    lineStart = next;
  }
  if (blockStart >= 0) addBlock(text, blockStart, blockEnd, blockIndent, blocks);
  return mergeLists(blocks);
}

function addBlock(text: string, start: number, end: number, indent: number, blocks: Block[]): void {
  const spans: Span[] = [];
  pushTrimmed(text, start, end, spans);
  const span = spans[0];
  if (span === undefined) return;
  blocks.push({ start: span.start, end: span.end, kind: classify(text, span.start, span.end), indent });
}

function classify(text: string, start: number, end: number): BlockKind {
  const code = text.charCodeAt(start);
  if ((code === 0x60 || code === 0x7e) && fenceRun(text, start, end) !== undefined) return "code";
  const firstLineEnd = text.indexOf("\n", start);
  const firstLine = text.slice(start, firstLineEnd === -1 || firstLineEnd > end ? end : firstLineEnd);
  if (listItem.test(firstLine)) return "list";
  if (code === 0x7c) return "table";
  if (firstLineEnd !== -1 && firstLineEnd < end) {
    const secondEnd = text.indexOf("\n", firstLineEnd + 1);
    const secondLine = text
      .slice(firstLineEnd + 1, secondEnd === -1 || secondEnd > end ? end : secondEnd)
      .trim();
    if (secondLine.includes("-") && tableDelimiterRow.test(secondLine) && firstLine.includes("|"))
      return "table";
  }
  return "paragraph";
}

function mergeLists(blocks: Block[]): Block[] {
  if (blocks.length < 2) return blocks;
  const merged: Block[] = [];
  for (const block of blocks) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && previous.kind === "list" && (block.kind === "list" || block.indent >= 2)) {
      previous.end = block.end;
      continue;
    }
    merged.push(block);
  }
  return merged;
}

/** A fence marker run (three or more backticks or tildes) starting at `at`, if there is one. */
function fenceRun(
  text: string,
  at: number,
  lineEnd: number,
): { marker: number; length: number; restBlank: boolean; infoHasBacktick: boolean } | undefined {
  const marker = text.charCodeAt(at);
  if (marker !== 0x60 && marker !== 0x7e) return undefined;
  let index = at;
  while (index < lineEnd && text.charCodeAt(index) === marker) index++;
  const length = index - at;
  if (length < 3) return undefined;
  let restBlank = true;
  let infoHasBacktick = false;
  for (; index < lineEnd; index++) {
    const code = text.charCodeAt(index);
    if (!isWhitespaceCode(code)) restBlank = false;
    if (code === 0x60) infoHasBacktick = true;
  }
  return { marker, length, restBlank, infoHasBacktick };
}
