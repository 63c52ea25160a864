import { describe, expect, it } from "vitest";
import { checkCitations } from "./citations";
import { inferCitations } from "./inferred-citations";

const sources = [
  {
    n: 1,
    chunkId: 11,
    documentId: "doc-a",
    title: "Vitamin D trial",
    charStart: 0,
    charEnd: 120,
    text: "Vitamin D supplementation reduced hip fractures by 14% in women over 70. Adverse events were rare.",
  },
  {
    n: 2,
    chunkId: 12,
    documentId: "doc-b",
    title: "Swallows",
    charStart: 5,
    charEnd: 80,
    text: "Swallows migrate across the Sahara in autumn and fly at night over the desert.",
  },
  {
    n: 3,
    chunkId: 13,
    documentId: "doc-c",
    title: "Calcium",
    charStart: 0,
    charEnd: 90,
    text: "Calcium alone did not change fracture rates in older adults.",
  },
];
const question = "Does vitamin D prevent fractures?";
const infer = (answer: string, options = {}) =>
  inferCitations(checkCitations(answer, sources).sentences, sources, question, options);

describe("inferCitations", () => {
  it("attaches an uncited sentence to the one source it overlaps strongly, marked inferred", () => {
    const result = infer("Supplementation reduced hip fractures in women over 70.");
    expect(result.sentences).toEqual([{ sentence: 0, source: 1, overlap: 1 }]);
    expect(result.citations).toEqual([
      {
        source: 1,
        chunkId: 11,
        documentId: "doc-a",
        title: "Vitamin D trial",
        charStart: 0,
        charEnd: 120,
        occurrences: 1,
        inferred: true,
      },
    ]);
  });

  it("leaves sentences the model cited alone, and counts several sentences matched to one source", () => {
    const result = infer(
      "Swallows migrate across the Sahara in autumn [2]. Supplementation reduced hip fractures in women. " +
        "Adverse events of supplementation were rare in women over 70.",
    );
    expect(result.sentences.map(({ sentence, source }) => [sentence, source])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(result.citations).toEqual([
      expect.objectContaining({ source: 1, occurrences: 2, inferred: true }),
    ]);
  });

  it("attaches nothing to a sentence that matches no source, or too weakly", () => {
    expect(infer("The moon landing happened in 1969 with three astronauts.").citations).toEqual([]);
    // Half the terms match source 1: below the 0.7 bar.
    expect(
      infer("Supplementation reduced hip fractures, says a blog about cooking pasta.").citations,
    ).toEqual([]);
  });

  it("attaches nothing when two sources match (ambiguous)", () => {
    const twins = [sources[0]!, { ...sources[1]!, text: sources[0]!.text }];
    const sentences = checkCitations(
      "Supplementation reduced hip fractures in women over 70.",
      twins,
    ).sentences;
    expect(inferCitations(sentences, twins, question).citations).toEqual([]);
  });

  it("does not cite a sentence that only restates the question", () => {
    // Every term is in source 1, but all of them come from the question: the sentence adds nothing to check.
    expect(infer("Yes, vitamin D does prevent fractures.").citations).toEqual([]);
  });

  it("skips sentences with too few content terms, and honours its options", () => {
    expect(infer("Hip fractures fell.").citations).toEqual([]);
    expect(
      infer("Hip fractures fell.", { minTerms: 2, minNovelTerms: 1, minOverlap: 0.5 }).citations,
    ).toEqual([expect.objectContaining({ source: 1 })]);
  });
});
