import { describe, expect, it } from "vitest";
import { adaptAnswerResponse, citationIsValid } from "./answers";

describe("answer adapter", () => {
  it("reads the answer text, citations, passages, removed citations and the evidence decision", () => {
    const outcome = adaptAnswerResponse({
      answer: "Fusion helps [1].",
      citations: [{ source: 1, chunkId: 7, documentId: "d1", charStart: 0, charEnd: 10 }],
      removedCitations: [{ source: 3 }],
      noEvidence: false,
      passages: [{ chunkId: 7, documentId: "d1", charStart: 0, charEnd: 40 }],
      degraded: [],
    });
    expect(outcome.text).toBe("Fusion helps [1].");
    expect(outcome.citations).toHaveLength(1);
    expect(outcome.removedCitations).toBe(1);
    expect(outcome.noEvidence).toBe(false);
    expect(outcome.passages).toHaveLength(1);
  });

  it("reads @sift/answer's AnswerResult: outcome, evidence.sufficient, passages with spans", () => {
    const answered = adaptAnswerResponse({
      text: "Yes [1].",
      passages: [
        { n: 1, chunkId: 3, documentId: "d9", title: null, text: "…", charStart: 10, charEnd: 90, score: 1 },
      ],
      citations: [
        { source: 1, chunkId: 3, documentId: "d9", title: null, charStart: 10, charEnd: 90, occurrences: 1 },
      ],
      removedCitations: [],
      outcome: "answered",
      evidence: { sufficient: true, reason: "at-or-above-threshold" },
      degraded: ["rerank"],
    });
    expect(answered.noEvidence).toBe(false);
    expect(answered.passages?.[0]?.chunkId).toBe(3);
    expect(answered.degraded).toEqual(["rerank"]);
    const none = adaptAnswerResponse({
      text: "Not enough evidence.",
      passages: [],
      citations: [],
      outcome: "no-evidence",
      evidence: { sufficient: false, reason: "below-threshold" },
    });
    expect(none.noEvidence).toBe(true);
    expect(adaptAnswerResponse({ text: "x", evidence: { sufficient: false } }).noEvidence).toBe(true);
  });

  it("accepts the nested and decision spellings and leaves passages undefined when absent", () => {
    const outcome = adaptAnswerResponse({
      answer: { text: "I found nothing.", citations: [] },
      evidence: { decision: "no-evidence" },
    });
    expect(outcome.text).toBe("I found nothing.");
    expect(outcome.noEvidence).toBe(true);
    expect(outcome.passages).toBeUndefined();
  });

  it("a citation is valid only inside its document and inside a given passage", () => {
    const text = "0123456789".repeat(10);
    const passages = [{ documentId: "d1", chunkId: 1, charStart: 0, charEnd: 50 }];
    expect(citationIsValid({ documentId: "d1", chunkId: 1, charStart: 5, charEnd: 20 }, passages, text)).toBe(
      true,
    );
    expect(
      citationIsValid({ documentId: "d1", chunkId: 1, charStart: 40, charEnd: 60 }, passages, text),
    ).toBe(false);
    expect(citationIsValid({ documentId: "d1", chunkId: 2, charStart: 5, charEnd: 20 }, passages, text)).toBe(
      false,
    );
    expect(citationIsValid({ documentId: "d2", charStart: 5, charEnd: 20 }, passages, text)).toBe(false);
    expect(citationIsValid({ documentId: "d1", charStart: 5, charEnd: 200 }, undefined, text)).toBe(false);
    expect(citationIsValid({ documentId: "d1", charStart: 5, charEnd: 20 }, undefined, undefined)).toBe(
      false,
    );
    expect(citationIsValid({ documentId: "d1", charStart: 5, charEnd: 20 }, undefined, text)).toBe(true);
  });
});
