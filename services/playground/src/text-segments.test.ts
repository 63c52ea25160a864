import { describe, expect, it } from "vitest";
import { citationSegments, highlightSegments } from "./text-segments";

describe("text segments", () => {
  it("marks the highlighted ranges of a snippet and keeps every character once", () => {
    const text = "Reciprocal rank fusion adds ranks";
    const segments = highlightSegments(text, [
      [0, 10],
      [16, 22],
    ]);
    expect(segments).toEqual([
      { kind: "mark", text: "Reciprocal" },
      { kind: "text", text: " rank " },
      { kind: "mark", text: "fusion" },
      { kind: "text", text: " adds ranks" },
    ]);
    expect(segments.map((s) => s.text).join("")).toBe(text);
  });

  it("skips overlapping or empty highlight ranges instead of repeating text", () => {
    const segments = highlightSegments("abcdef", [
      [0, 3],
      [2, 4],
      [5, 5],
    ]);
    expect(segments.map((s) => s.text).join("")).toBe("abcdef");
  });

  it("finds citation markers with one or several sources", () => {
    const segments = citationSegments("RRF adds ranks [1]. Both legs count [2, 3].");
    expect(segments).toEqual([
      { kind: "text", text: "RRF adds ranks " },
      { kind: "cite", text: "[1]", sources: [1] },
      { kind: "text", text: ". Both legs count " },
      { kind: "cite", text: "[2, 3]", sources: [2, 3] },
      { kind: "text", text: "." },
    ]);
    expect(citationSegments("no citations [a]")).toEqual([{ kind: "text", text: "no citations [a]" }]);
  });
});
