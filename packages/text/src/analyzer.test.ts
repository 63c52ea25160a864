import { describe, expect, it } from "vitest";
import { createAnalyzer } from "./analyzer";

describe("createAnalyzer", () => {
  it("lower-cases, drops stop words and stems", () => {
    expect(createAnalyzer().analyze("The Receptors were BLOCKING the pathways")).toEqual([
      "receptor",
      "block",
      "pathway",
    ]);
  });

  it("splits on punctuation and keeps numbers", () => {
    expect(createAnalyzer().analyze("IL-6 rose by 12.5%")).toEqual(["il", "6", "rose", "12", "5"]);
  });

  it("can keep stop words and skip stemming", () => {
    expect(createAnalyzer({ stopWords: false, stem: false }).analyze("The cats")).toEqual(["the", "cats"]);
  });

  it("returns no terms for empty or punctuation-only text", () => {
    expect(createAnalyzer().analyze("  ?!  ")).toEqual([]);
  });

  it("maps single words to the same term as analyze", () => {
    const analyzer = createAnalyzer();
    for (const word of ["Receptors", "running", "IL", "2021", "the", "Über"]) {
      expect(analyzer.term(word)).toBe(analyzer.analyze(word)[0]);
    }
    expect(analyzer.term("the")).toBeUndefined();
  });
});
