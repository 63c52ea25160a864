import { describe, expect, it } from "vitest";
import { estimateTokens } from "./estimate-tokens";

/**
 * Sentences written for this test, with the token counts of the real bert-base-uncased WordPiece
 * tokenizer (without [CLS]/[SEP]), taken from its vocabulary with the reference algorithm (basic
 * tokenizer: lower-case, strip accents, split punctuation and CJK; then greedy longest-match pieces).
 */
const wordPieceCounts: [string, number][] = [
  [
    "The committee met on Tuesday to discuss the budget, and after a long debate it approved the proposal with only two votes against.",
    25,
  ],
  [
    "She walked along the river until the lights of the town disappeared behind the hills, then turned back as the rain began.",
    24,
  ],
  [
    "Software that is easy to change tends to be written in small pieces, each of which does one thing and says clearly what it expects.",
    27,
  ],
  [
    "Most readers skip the introduction, so the first paragraph of a chapter has to carry the argument on its own.",
    22,
  ],
  [
    "We measured plasma concentrations of interleukin-6 and tumour necrosis factor in 412 patients with community-acquired pneumonia.",
    26,
  ],
  [
    "Phosphorylation of the receptor tyrosine kinase was inhibited by gefitinib at concentrations above 0.5 μM (p < 0.01).",
    36,
  ],
  [
    "Randomized controlled trials comparing statin therapy with placebo showed a 25% relative reduction in major cardiovascular events.",
    22,
  ],
  [
    "Mitochondrial dysfunction and oxidative stress contribute to neurodegeneration in Parkinson's disease via dopaminergic neuronal loss.",
    30,
  ],
  [
    "CRISPR-Cas9 mediated knockout of BRCA1 in HEK293T cells increased sensitivity to PARP inhibitors such as olaparib.",
    31,
  ],
  [
    "The hazard ratio for all-cause mortality was 0.82 (95% CI, 0.71-0.94) among participants assigned to the intervention group.",
    33,
  ],
  [
    "Single-nucleotide polymorphisms in the APOE locus were associated with late-onset Alzheimer's disease in genome-wide analyses.",
    29,
  ],
  [
    "Immunohistochemical staining revealed overexpression of HER2/neu in 18 of 64 (28%) invasive ductal carcinomas.",
    33,
  ],
];

describe("estimateTokens", () => {
  it("counts nothing in blank text", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens(" \n\t\u00a0\u3000")).toBe(0);
  });

  it("counts short words and punctuation one each", () => {
    // WordPiece: 10. Every short word costs a little over one on average (rarer words split).
    expect(estimateTokens("The quick brown fox jumps over the lazy dog.")).toBeOneOf([10, 11]);
    expect(estimateTokens("don't")).toBe(3);
    expect(estimateTokens("a, b; c!")).toBe(6);
  });

  it("stays close to a WordPiece tokenizer on prose and scientific text", () => {
    let estimated = 0;
    let actual = 0;
    for (const [sentence, count] of wordPieceCounts) {
      const estimate = estimateTokens(sentence);
      expect(Math.abs(estimate - count) / count, sentence).toBeLessThan(0.2);
      estimated += estimate;
      actual += count;
    }
    expect(Math.abs(estimated - actual) / actual).toBeLessThan(0.1);
  });

  it("charges long and rare words more than short ones", () => {
    expect(estimateTokens("cat")).toBe(1);
    expect(estimateTokens("immunohistochemistry")).toBeGreaterThan(4);
    expect(estimateTokens("2015")).toBe(1);
    expect(estimateTokens("1234567890")).toBeGreaterThan(3);
  });

  it("counts CJK characters, emoji and symbols one each, and combining marks not at all", () => {
    expect(estimateTokens("東京は日本の首都です")).toBe(10);
    expect(estimateTokens("😀")).toBe(1);
    expect(estimateTokens("a 😀 b")).toBe(3);
    expect(estimateTokens("cafe\u0301")).toBe(estimateTokens("cafe"));
    expect(estimateTokens("≥ ±")).toBe(2);
  });

  it("adds up over text joined at whitespace", () => {
    const [first, second] = [wordPieceCounts[0]![0], wordPieceCounts[4]![0]];
    expect(
      Math.abs(estimateTokens(`${first}\n\n${second}`) - estimateTokens(first) - estimateTokens(second)),
    ).toBeLessThanOrEqual(1);
  });

  it("handles a lone surrogate and a megabyte of text", () => {
    expect(estimateTokens("a\ud800b")).toBeGreaterThan(0);
    const big = "lorem ipsum dolor sit amet, ".repeat(40_000);
    expect(estimateTokens(big)).toBeGreaterThan(200_000);
  });
});
