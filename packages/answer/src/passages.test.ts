import { estimateTokens } from "@sift/text";
import { describe, expect, it } from "vitest";
import { dedupePassages, type Passage, packPassages, rankPassages } from "./passages";
import { splitSentences } from "./sentences";

/** Documents by id; passages are real slices of them so offsets can be checked. */
const documents: Record<string, string> = {
  "doc-a":
    "Vitamin D deficiency is common in northern latitudes. Supplementation raised serum levels by 20 ng/ml " +
    "in a randomised trial (n = 312). Fracture risk fell by 14% over three years. The effect was larger in " +
    "women over 70. Adverse events were rare.",
  "doc-b":
    "Calcium intake alone did not change fracture rates. Combined with vitamin D, hip fractures fell. " +
    "The authors call for longer trials.",
  "doc-c": "Unrelated text about the migration of birds across the Sahara in autumn. Swallows fly at night.",
};

function slice(documentId: string, start: number, end: number, score: number, chunkId: number): Passage {
  const text = documents[documentId]!.slice(start, end);
  return {
    chunkId,
    documentId,
    title: `Title ${documentId}`,
    text,
    charStart: start,
    charEnd: end,
    score,
    scoreKind: "rerank",
  };
}

const whole = (documentId: string, score: number, chunkId: number) =>
  slice(documentId, 0, documents[documentId]!.length, score, chunkId);

describe("rankPassages", () => {
  it("orders by score, higher first, keeping ties in input order", () => {
    const ranked = rankPassages([whole("doc-c", 0.1, 3), whole("doc-a", 0.9, 1), whole("doc-b", 0.1, 2)]);
    expect(ranked.map((passage) => passage.chunkId)).toEqual([1, 3, 2]);
  });
});

describe("dedupePassages", () => {
  it("drops the same chunk twice, identical text, near-duplicates and overlapping windows, keeping the better one", () => {
    const a = whole("doc-a", 0.9, 1);
    const sameChunk = { ...a, score: 0.5 };
    const copy = { ...whole("doc-a", 0.8, 2), documentId: "doc-a-mirror", text: a.text.toUpperCase() };
    const nearCopy = {
      ...whole("doc-a", 0.7, 3),
      documentId: "doc-a-v2",
      text: a.text.replace("Adverse events were rare.", "Adverse events were very rare."),
    };
    const windowA = slice("doc-b", 0, 97, 0.6, 10);
    const windowB = slice("doc-b", 52, documents["doc-b"]!.length, 0.55, 11);
    const distinct = whole("doc-c", 0.4, 20);
    const { kept, dropped } = dedupePassages([a, sameChunk, copy, nearCopy, windowA, windowB, distinct]);
    expect(kept.map((passage) => passage.chunkId)).toEqual([1, 10, 20]);
    expect(dropped).toEqual([
      { chunkId: 1, documentId: "doc-a", reason: "duplicate", duplicateOf: 1, similarity: 1 },
      { chunkId: 2, documentId: "doc-a-mirror", reason: "duplicate", duplicateOf: 1, similarity: 1 },
      expect.objectContaining({ chunkId: 3, reason: "near-duplicate", duplicateOf: 1 }),
      expect.objectContaining({ chunkId: 11, reason: "overlap", duplicateOf: 10 }),
    ]);
    expect(dropped[2]!.similarity).toBeGreaterThan(0.8);
    expect(dropped[2]!.similarity).toBeLessThan(1);
  });

  it("keeps passages that merely share a topic, and windows of one document that barely touch", () => {
    const first = slice("doc-b", 0, 52, 0.9, 1);
    const second = slice("doc-b", 45, documents["doc-b"]!.length, 0.8, 2);
    const { kept, dropped } = dedupePassages([whole("doc-a", 1, 9), first, second]);
    expect(kept).toHaveLength(3);
    expect(dropped).toEqual([]);
  });
});

describe("packPassages", () => {
  const ranked = [whole("doc-a", 0.9, 1), whole("doc-b", 0.8, 2), whole("doc-c", 0.7, 3)];
  const cost = (passage: Passage, overhead = 16) =>
    overhead + estimateTokens(passage.title ?? "") + estimateTokens(passage.text);

  it("takes whole passages while they fit and numbers them in order", () => {
    const budget = cost(ranked[0]!) + cost(ranked[1]!) + cost(ranked[2]!);
    const { packed, dropped, usedTokens } = packPassages(ranked, { budgetTokens: budget });
    expect(packed.map(({ n, chunkId, trimmed }) => ({ n, chunkId, trimmed }))).toEqual([
      { n: 1, chunkId: 1, trimmed: false },
      { n: 2, chunkId: 2, trimmed: false },
      { n: 3, chunkId: 3, trimmed: false },
    ]);
    expect(dropped).toEqual([]);
    expect(usedTokens).toBe(budget);
  });

  it("trims at a sentence end within the budget, with offsets that address the document", () => {
    const budget = cost(ranked[0]!) + 30;
    const { packed, usedTokens } = packPassages(ranked, { budgetTokens: budget });
    expect(usedTokens).toBeLessThanOrEqual(budget);
    const trimmed = packed.find((passage) => passage.trimmed)!;
    expect(trimmed.chunkId).toBe(2);
    expect(trimmed.text).toBe("Calcium intake alone did not change fracture rates.");
    for (const passage of packed) {
      expect(documents[passage.documentId]!.slice(passage.charStart, passage.charEnd)).toBe(passage.text);
      // Ends at a sentence end of the original passage, never inside a sentence.
      const original = ranked.find((candidate) => candidate.chunkId === passage.chunkId)!;
      const ends = splitSentences(original.text).map((span) => original.charStart + span.end);
      expect(ends).toContain(passage.charEnd);
    }
    expect(packed.reduce((sum, passage) => sum + passage.tokens, 0)).toBe(usedTokens);
  });

  it("trims a passage that starts inside the document, keeping its start offset", () => {
    const inner = slice("doc-a", 54, 220, 1, 5);
    const { packed } = packPassages([inner], { budgetTokens: 16 + estimateTokens(inner.title!) + 24 });
    expect(packed).toHaveLength(1);
    const [passage] = packed;
    expect(passage!.trimmed).toBe(true);
    expect(passage!.charStart).toBe(54);
    expect(passage!.text.startsWith("Supplementation raised")).toBe(true);
    expect(passage!.text.endsWith(".")).toBe(true);
    expect(documents["doc-a"]!.slice(passage!.charStart, passage!.charEnd)).toBe(passage!.text);
  });

  it("leaves out a passage whose first sentence does not fit, and fills in with a smaller one", () => {
    const long = slice("doc-a", 0, documents["doc-a"]!.length, 0.9, 1);
    const small = { ...slice("doc-c", 72, documents["doc-c"]!.length, 0.5, 3), title: null };
    const budget = 16 + estimateTokens(small.text);
    const { packed, dropped } = packPassages([long, small], { budgetTokens: budget });
    expect(packed.map(({ chunkId, n, trimmed }) => ({ chunkId, n, trimmed }))).toEqual([
      { chunkId: 3, n: 1, trimmed: false },
    ]);
    expect(dropped).toEqual([{ chunkId: 1, documentId: "doc-a", reason: "budget" }]);
  });

  it("stops at maxPassages", () => {
    const { packed, dropped } = packPassages(ranked, { budgetTokens: 10_000, maxPassages: 2 });
    expect(packed).toHaveLength(2);
    expect(dropped).toEqual([{ chunkId: 3, documentId: "doc-c", reason: "limit" }]);
  });
});
