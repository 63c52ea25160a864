import { ValidationError } from "@sift/core";
import { createAnalyzer, estimateTokens } from "@sift/text";
import { describe, expect, it } from "vitest";
import { checkCitations } from "./citations";
import { createExtractiveGenerator, extractiveLabel, rankSupportingSentences } from "./extractive-generator";
import type { GenerateRequest, GeneratorEvent } from "./generator";

const sources = [
  {
    n: 1,
    text:
      "Birds migrate in autumn. Vitamin D supplementation lowered the rate of hip fractures in women over 70 [12]. " +
      "The trial ran for three years.",
  },
  {
    n: 2,
    text:
      "Calcium alone did not change fracture rates. Vitamin D with calcium reduced fractures in older adults. " +
      "Fractures of the hip were the main outcome. Vitamin D levels rose in all groups.",
  },
  { n: 3, text: "Swallows fly at night across the Sahara desert." },
];
const question = "Does vitamin D reduce hip fractures?";

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  system: "ignored",
  prompt: "ignored",
  maxTokens: 500,
  grounding: { question, sources },
  ...overrides,
});

async function collect(events: AsyncIterable<GeneratorEvent>) {
  const all: GeneratorEvent[] = [];
  for await (const event of events) all.push(event);
  const text = all.flatMap((event) => (event.type === "delta" ? [event.text] : [])).join("");
  return { all, text, done: all.at(-1)! };
}

describe("rankSupportingSentences", () => {
  it("ranks sentences by the weighted share of question terms they contain", () => {
    const ranked = rankSupportingSentences(question, sources, createAnalyzer());
    // Both best sentences hold four of the five question terms; "reduc" is rarer than "hip", so it weighs more.
    expect(ranked.slice(0, 2).map((sentence) => sentence.text)).toEqual([
      "Vitamin D with calcium reduced fractures in older adults.",
      "Vitamin D supplementation lowered the rate of hip fractures in women over 70 [12].",
    ]);
    expect(ranked[1]!.score).toBeGreaterThan(ranked[2]!.score * 1.5);
    expect(ranked.every((sentence) => sentence.score > 0 && sentence.score <= 1)).toBe(true);
    expect(ranked.some((sentence) => sentence.source === 3)).toBe(false);
    expect(ranked.some((sentence) => sentence.text === "Birds migrate in autumn.")).toBe(false);
  });
});

describe("ExtractiveGenerator", () => {
  it("quotes the best-supported sentences with their citations under a label that says so", async () => {
    const generator = createExtractiveGenerator();
    expect(generator.kind).toBe("extractive");
    const { text, done, all } = await collect(generator.generate(request()));
    const lines = text.split("\n");
    expect(lines[0]).toBe(extractiveLabel);
    expect(lines.slice(1)).toEqual([
      '- "Vitamin D with calcium reduced fractures in older adults." [2]',
      '- "Vitamin D supplementation lowered the rate of hip fractures in women over 70 (12)." [1]',
      '- "Fractures of the hip were the main outcome." [2]',
    ]);
    expect(all.filter((event) => event.type === "delta")).toHaveLength(4);
    expect(done).toMatchObject({
      type: "done",
      finishReason: "stop",
      usage: { promptTokens: 0, estimated: true },
    });
    // Every quoted line carries a valid citation; only the label is uncited.
    const check = checkCitations(
      text,
      sources.map((source) => ({
        ...source,
        chunkId: source.n,
        documentId: `d${source.n}`,
        title: null,
        charStart: 0,
        charEnd: source.text.length,
      })),
    );
    expect(check.removed).toEqual([]);
    expect(check.sentences.filter((sentence) => !sentence.cited).map((sentence) => sentence.text)).toEqual([
      extractiveLabel,
    ]);
  });

  it("takes at most maxPerSource sentences from one source", async () => {
    const { text } = await collect(
      createExtractiveGenerator({ maxPerSource: 1, maxSentences: 5 }).generate(request()),
    );
    expect(
      text
        .split("\n")
        .slice(1)
        .map((line) => line.slice(-3)),
    ).toEqual(["[2]", "[1]"]);
  });

  it("stops at maxTokens; a quote that does not fit is cut at a word, keeping its citation", async () => {
    const { text, done } = await collect(createExtractiveGenerator().generate(request({ maxTokens: 40 })));
    const lines = text.split("\n");
    expect(lines[0]).toBe(extractiveLabel);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(1)) expect(line).toMatch(/^- ".+" \[\d+\]$/);
    expect(estimateTokens(text)).toBeLessThanOrEqual(40);
    expect(done).toMatchObject({ finishReason: "length" });
  });

  it("quotes part of a sentence longer than the whole budget rather than nothing", async () => {
    const long = `Gravity ${"pulls the ocean water toward the moon and ".repeat(30)}raises tides.`;
    const { text } = await collect(
      createExtractiveGenerator().generate(
        request({
          maxTokens: 60,
          grounding: {
            question: "what does gravity do to the ocean water?",
            sources: [{ n: 1, text: long }],
          },
        }),
      ),
    );
    const [, quoted] = text.split("\n");
    expect(quoted).toMatch(/^- "Gravity pulls the ocean water .* …" \[1\]$/);
    expect(estimateTokens(text)).toBeLessThanOrEqual(60);
  });

  it("says so when no sentence shares a term with the question", async () => {
    const { text } = await collect(
      createExtractiveGenerator().generate(
        request({ grounding: { question: "quantum chromodynamics", sources } }),
      ),
    );
    expect(text).toBe(`${extractiveLabel}\nNone of the sources' sentences shares a term with the question.`);
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const events: GeneratorEvent[] = [];
    for await (const event of createExtractiveGenerator().generate(request({ signal: controller.signal }))) {
      events.push(event);
      controller.abort();
    }
    expect(events.map((event) => event.type)).toEqual(["delta", "done"]);
    expect(events[1]).toMatchObject({ finishReason: "cancelled" });
  });

  it("refuses a request without grounding", async () => {
    const failure = await collect(
      createExtractiveGenerator().generate(request({ grounding: undefined as never })),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ValidationError);
  });
});
