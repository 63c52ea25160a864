import { describe, expect, it } from "vitest";
import {
  type CitableSource,
  CitationStreamFilter,
  checkCitations,
  readCitationGroup,
  removeInvalidCitations,
} from "./citations";

const sources: CitableSource[] = [
  { n: 1, chunkId: 11, documentId: "doc-a", title: "A", charStart: 0, charEnd: 120 },
  { n: 2, chunkId: 27, documentId: "doc-b", title: null, charStart: 300, charEnd: 410 },
  { n: 3, chunkId: 28, documentId: "doc-b", title: null, charStart: 410, charEnd: 530 },
];

describe("readCitationGroup", () => {
  it("reads single numbers, lists, ranges and a Source prefix", () => {
    expect(readCitationGroup("1")).toEqual({ kind: "citation", sources: [1] });
    expect(readCitationGroup("1, 2")).toEqual({ kind: "citation", sources: [1, 2] });
    expect(readCitationGroup(" 2;3 ")).toEqual({ kind: "citation", sources: [2, 3] });
    expect(readCitationGroup("1-3")).toEqual({ kind: "citation", sources: [1, 2, 3] });
    expect(readCitationGroup("Source 2")).toEqual({ kind: "citation", sources: [2] });
    expect(readCitationGroup("sources 1, 3")).toEqual({ kind: "citation", sources: [1, 3] });
  });

  it("tells malformed citations from bracketed text", () => {
    expect(readCitationGroup("1,")).toEqual({ kind: "malformed" });
    expect(readCitationGroup("2a")).toEqual({ kind: "malformed" });
    expect(readCitationGroup("3-1")).toEqual({ kind: "malformed" });
    expect(readCitationGroup("sic")).toEqual({ kind: "not-a-citation" });
    expect(readCitationGroup("a")).toEqual({ kind: "not-a-citation" });
  });
});

describe("checkCitations", () => {
  it("resolves valid citations to chunks, documents and spans, in order of first use", () => {
    const check = checkCitations("Vitamin D helps [2]. It was shown twice [2][3]. Also [1, 3].", sources);
    expect(check.text).toBe("Vitamin D helps [2]. It was shown twice [2][3]. Also [1, 3].");
    expect(check.citations).toEqual([
      {
        source: 2,
        chunkId: 27,
        documentId: "doc-b",
        title: null,
        charStart: 300,
        charEnd: 410,
        occurrences: 2,
      },
      {
        source: 3,
        chunkId: 28,
        documentId: "doc-b",
        title: null,
        charStart: 410,
        charEnd: 530,
        occurrences: 2,
      },
      { source: 1, chunkId: 11, documentId: "doc-a", title: "A", charStart: 0, charEnd: 120, occurrences: 1 },
    ]);
    expect(check.sentences.map(({ text, sources: cited }) => [text, cited])).toEqual([
      ["Vitamin D helps [2].", [2]],
      ["It was shown twice [2][3].", [2, 3]],
      ["Also [1, 3].", [1, 3]],
    ]);
    expect(check.uncitedSentences).toBe(0);
    expect(check.removed).toEqual([]);
    expect(check.malformed).toEqual([]);
  });

  it("removes citations to sources that were not given and reports them", () => {
    const raw = "Paris is the capital [4]. It is large [1, 7]. Nothing [0][2].";
    const check = checkCitations(raw, sources);
    expect(check.text).toBe("Paris is the capital. It is large [1]. Nothing [2].");
    expect(check.removed).toEqual([
      { marker: "[4]", source: 4, offset: raw.indexOf("[4]") },
      { marker: "[1, 7]", source: 7, offset: raw.indexOf("[1, 7]") },
      { marker: "[0]", source: 0, offset: raw.indexOf("[0]") },
    ]);
    expect(check.citations.map((citation) => citation.source)).toEqual([1, 2]);
    expect(check.sentences.map((sentence) => sentence.cited)).toEqual([false, true, true]);
    expect(check.uncitedSentences).toBe(1);
  });

  it("reports malformed markers without touching them, and ignores links and bracketed words", () => {
    const raw = "One [1,]. Two [2a]. See [RFC 2119](https://example.org) and [sic] [3].";
    const check = checkCitations(raw, sources);
    expect(check.text).toBe(raw);
    expect(check.malformed).toEqual([
      { marker: "[1,]", offset: raw.indexOf("[1,]") },
      { marker: "[2a]", offset: raw.indexOf("[2a]") },
    ]);
    expect(check.citations.map((citation) => citation.source)).toEqual([3]);
  });

  it("marks sentences without a citation, with offsets into the checked text", () => {
    const check = checkCitations(
      "Cited here [1]. Not cited at all. Cited after the stop. [3]\n\nA closing remark",
      sources,
    );
    expect(check.sentences.map(({ text, cited }) => ({ text, cited }))).toEqual([
      { text: "Cited here [1].", cited: true },
      { text: "Not cited at all.", cited: false },
      { text: "Cited after the stop. [3]", cited: true },
      { text: "A closing remark", cited: false },
    ]);
    for (const sentence of check.sentences)
      expect(check.text.slice(sentence.start, sentence.end)).toBe(sentence.text);
    expect(check.uncitedSentences).toBe(2);
  });

  it("handles an answer without sources: every citation is removed", () => {
    const check = checkCitations("Made up [1].", []);
    expect(check.text).toBe("Made up.");
    expect(check.removed).toHaveLength(1);
    expect(check.citations).toEqual([]);
  });
});

describe("CitationStreamFilter", () => {
  const raw =
    "Vitamin D [1] reduces risk [4]. Trials [2, 9] disagree [sic]. See [RFC 2119](x) and [7][3]. " +
    "Runs [9][2] [0] [3][1]. Open bracket [ 12 chars never closed and more text follows here at length beyond forty. End [2]  ";

  it("streams exactly the checked text, however the deltas are cut", () => {
    const expected = checkCitations(raw, sources).text;
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const filter = new CitationStreamFilter(3);
      let out = "";
      let index = 0;
      while (index < raw.length) {
        const size = 1 + Math.floor(random() * (round % 3 === 0 ? 3 : 12));
        out += filter.push(raw.slice(index, index + size));
        index += size;
      }
      out += filter.flush();
      expect(out).toBe(expected);
    }
  });

  it("holds back only an undecided tail", () => {
    const filter = new CitationStreamFilter(3);
    expect(filter.push("Paris is big")).toBe("Paris is big");
    expect(filter.push(" [")).toBe("");
    expect(filter.push("9")).toBe("");
    expect(filter.push("]. Next")).toBe(". Next");
    expect(filter.flush()).toBe("");
    expect(removeInvalidCitations("x [9].", 3).text).toBe("x.");
  });
});
