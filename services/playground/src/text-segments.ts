/** A piece of text to render: plain, or marked (a highlight), or a citation marker naming its sources. */
export type Segment =
  | { kind: "text"; text: string }
  | { kind: "mark"; text: string }
  | { kind: "cite"; text: string; sources: number[] };

/** Splits a snippet into plain and highlighted pieces; `highlights` are [start, end) offsets, ascending. */
export function highlightSegments(
  text: string,
  highlights: ReadonlyArray<readonly [number, number]>,
): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end <= start) continue;
    if (start > at) segments.push({ kind: "text", text: text.slice(at, start) });
    segments.push({ kind: "mark", text: text.slice(start, end) });
    at = end;
  }
  if (at < text.length) segments.push({ kind: "text", text: text.slice(at) });
  return segments;
}

const citationMarker = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/** Splits an answer's text at its citation markers (`[1]`, `[2, 3]`) so that each can become a link. */
export function citationSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  for (const match of text.matchAll(citationMarker)) {
    const start = match.index;
    if (start > at) segments.push({ kind: "text", text: text.slice(at, start) });
    const sources = (match[1] ?? "").split(",").map((n) => Number(n.trim()));
    segments.push({ kind: "cite", text: match[0], sources });
    at = start + match[0].length;
  }
  if (at < text.length) segments.push({ kind: "text", text: text.slice(at) });
  return segments;
}
