import { describe, expect, it } from "vitest";
import { splitSentences } from "./sentences";

const split = (text: string) => splitSentences(text).map(({ start, end }) => text.slice(start, end));

describe("splitSentences", () => {
  it("splits at terminators followed by whitespace and a non-lower-case start", () => {
    expect(
      split('Vitamin D matters. It was tested in 2019! Was it? Yes… "Quoted." (Bracketed.) End'),
    ).toEqual([
      "Vitamin D matters.",
      "It was tested in 2019!",
      "Was it?",
      "Yes…",
      '"Quoted."',
      "(Bracketed.)",
      "End",
    ]);
  });

  it("keeps decimals, initials, abbreviations and lower-case continuations together", () => {
    expect(
      split(
        "Levels rose 3.5 fold (Smith et al. 2019; Fig. 2) in the U.S. Army. J. Doe agreed, e.g. here. x. and more.",
      ),
    ).toEqual([
      "Levels rose 3.5 fold (Smith et al. 2019; Fig. 2) in the U.S. Army.",
      "J. Doe agreed, e.g. here. x. and more.",
    ]);
  });

  it("keeps citation markers with the sentence they end", () => {
    expect(split("Paris is the capital. [1] It is large.[2][3] Rome [4]. Bern. [5, 6]")).toEqual([
      "Paris is the capital. [1]",
      "It is large.[2][3]",
      "Rome [4].",
      "Bern. [5, 6]",
    ]);
  });

  it("splits at blank lines and list items but not at a wrapped line", () => {
    expect(
      split("Intro line\nwrapped here\n\nSecond paragraph\n- item one\n- item two\n1. numbered"),
    ).toEqual(["Intro line\nwrapped here", "Second paragraph", "- item one", "- item two", "1. numbered"]);
  });

  it("returns offsets into the original text and covers all non-whitespace", () => {
    const text = "  First one.   Second one!\n\n  Third  ";
    const spans = splitSentences(text);
    expect(spans).toEqual([
      { start: 2, end: 12 },
      { start: 15, end: 26 },
      { start: 30, end: 35 },
    ]);
    const covered = spans
      .map(({ start, end }) => text.slice(start, end))
      .join("")
      .replace(/\s/g, "");
    expect(covered).toBe(text.replace(/\s/g, ""));
    expect(splitSentences("   ")).toEqual([]);
  });
});
