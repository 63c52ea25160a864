import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { buildSnippet, snippetToHtml } from "./snippet";

const analyzer = createAnalyzer();
const terms = (q: string) => new Set(analyzer.analyze(q));

describe("buildSnippet", () => {
  it("marks words that analyze to a query term, including stemmed forms", () => {
    const s = buildSnippet({
      text: "Runners were running fast.",
      documentOffset: 10,
      queryTerms: terms("run"),
      analyzer,
    });
    expect(s.text).toBe("Runners were running fast.");
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(["running"]);
    expect(s.charStart).toBe(10);
    expect(s.charEnd).toBe(10 + s.text.length);
  });

  it("centres a long text on the densest window and marks the cuts", () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(40);
    const text = `${filler}the vaccine reduced infection risk in the vaccine group ${filler}`;
    const s = buildSnippet({
      text,
      documentOffset: 0,
      queryTerms: terms("vaccine infection"),
      analyzer,
      maxChars: 120,
    });
    expect(s.text.startsWith("…")).toBe(true);
    expect(s.text.endsWith("…")).toBe(true);
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(["vaccine", "infection", "vaccine"]);
    // Offsets point back into the document.
    expect(text.slice(s.charStart, s.charEnd)).toBe(s.text.slice(1, -1));
  });

  it("returns the head of the text when nothing matches", () => {
    const s = buildSnippet({
      text: "alpha beta gamma",
      documentOffset: 0,
      queryTerms: terms("zeta"),
      analyzer,
    });
    expect(s).toEqual({ text: "alpha beta gamma", highlights: [], charStart: 0, charEnd: 16 });
  });

  it("renders escaped HTML with marks", () => {
    const s = buildSnippet({
      text: "<b>cells</b> & cell",
      documentOffset: 0,
      queryTerms: terms("cell"),
      analyzer,
    });
    expect(snippetToHtml(s)).toBe("&lt;b&gt;<mark>cells</mark>&lt;/b&gt; &amp; <mark>cell</mark>");
  });
});
