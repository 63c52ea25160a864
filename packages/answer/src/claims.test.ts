import { describe, expect, it } from "vitest";
import { answer, collectAnswer } from "./answer";
import { ClaimTextRenderer, claimCharsFor, claimsJsonSchema } from "./claims";
import type { GenerateRequest, Generator, GeneratorEvent } from "./generator";
import { type JsonStreamEvent, JsonStreamReader, JsonStreamSyntaxError } from "./json-stream-reader";
import type { Passage } from "./passages";

/** Feeds `text` to a reader in pieces of `size` characters and gathers the events. */
function readInPieces(text: string, size: number): JsonStreamEvent[] {
  const reader = new JsonStreamReader();
  const events: JsonStreamEvent[] = [];
  for (let at = 0; at < text.length; at += size) events.push(...reader.push(text.slice(at, at + size)));
  return events;
}

/** Concatenates the string chunks per path and keeps the other events, so piece sizes can be compared. */
function summary(events: JsonStreamEvent[]) {
  const strings = new Map<string, string>();
  const rest: unknown[] = [];
  for (const event of events) {
    if (event.type === "string-chunk") {
      const key = JSON.stringify(event.path);
      strings.set(key, (strings.get(key) ?? "") + event.text);
    } else rest.push(event);
  }
  return { strings: Object.fromEntries(strings), rest };
}

const sample =
  '{"claims": [{"text": "Caf\\u00e9 \\"au lait\\" \\ud83d\\ude00 lowers\\nrisk.", "sources": [1, 3]}, ' +
  '{"text": "Second", "sources": []}], "n": -1.5e2, "ok": true, "none": null}';

describe("JsonStreamReader", () => {
  it("reads the same events whatever the piece size, unescaping strings (surrogate pairs too)", () => {
    const whole = summary(readInPieces(sample, sample.length));
    expect(whole.strings).toEqual({
      '["claims",0,"text"]': 'Café "au lait" 😀 lowers\nrisk.',
      '["claims",1,"text"]': "Second",
    });
    expect(whole.rest).toEqual([
      { type: "value", path: ["claims", 0, "text"], value: 'Café "au lait" 😀 lowers\nrisk.' },
      { type: "value", path: ["claims", 0, "sources", 0], value: 1 },
      { type: "value", path: ["claims", 0, "sources", 1], value: 3 },
      { type: "close", path: ["claims", 0, "sources"], container: "array" },
      { type: "close", path: ["claims", 0], container: "object" },
      { type: "value", path: ["claims", 1, "text"], value: "Second" },
      { type: "close", path: ["claims", 1, "sources"], container: "array" },
      { type: "close", path: ["claims", 1], container: "object" },
      { type: "close", path: ["claims"], container: "array" },
      { type: "value", path: ["n"], value: -150 },
      { type: "value", path: ["ok"], value: true },
      { type: "value", path: ["none"], value: null },
      { type: "close", path: [], container: "object" },
    ]);
    for (const size of [1, 2, 3, 7]) expect(summary(readInPieces(sample, size))).toEqual(whole);
  });

  it("reports a string's text before the string ends", () => {
    const reader = new JsonStreamReader();
    expect(reader.push('{"claims": [{"text": "Aspirin lo')).toEqual([
      { type: "string-chunk", path: ["claims", 0, "text"], text: "Aspirin lo" },
    ]);
    expect(reader.done).toBe(false);
  });

  it("throws a syntax error with the offset for input that is not JSON", () => {
    const reader = new JsonStreamReader();
    expect(() => reader.push('{"a": [1 2]}')).toThrow(JsonStreamSyntaxError);
    expect(() => new JsonStreamReader().push('{"a": tru}')).toThrow(/bad literal "tru"/);
    expect(() => new JsonStreamReader().push('{"a": "\\q"}')).toThrow(/bad escape/);
  });

  it("ignores text after the value and counts it", () => {
    const reader = new JsonStreamReader();
    reader.push('{"a": 1} trailing');
    expect(reader.done).toBe(true);
    expect(reader.trailing).toBe(8);
  });
});

function render(text: string, size: number) {
  const renderer = new ClaimTextRenderer();
  let out = "";
  for (let at = 0; at < text.length; at += size) out += renderer.push(text.slice(at, at + size));
  out += renderer.end();
  return { out, renderer };
}

describe("ClaimTextRenderer", () => {
  const json =
    '{"claims": [{"text": " Aspirin lowers risk.", "sources": [2]}, {"text": "It is cheap", "sources": [1, 3]},' +
    ' {"text": "Nobody knows!", "sources": []}]}';

  it("renders each claim with its citations before its final punctuation, the same for any piece size", () => {
    const expected = "Aspirin lowers risk [2]. It is cheap [1][3]. Nobody knows!";
    for (const size of [1, 2, 5, json.length]) expect(render(json, size).out).toBe(expected);
    expect(render(json, 3).renderer.claims).toEqual([
      { text: " Aspirin lowers risk.", sources: [2], complete: true },
      { text: "It is cheap", sources: [1, 3], complete: true },
      { text: "Nobody knows!", sources: [], complete: true },
    ]);
  });

  it("streams a claim's words before the claim ends", () => {
    const renderer = new ClaimTextRenderer();
    expect(renderer.push('{"claims": [{"text": "Aspirin lowers risk')).toBe("Aspirin lowers risk");
    expect(renderer.push(". ")).toBe("");
    expect(renderer.push('More", "sources": [1]}')).toBe(". More [1].");
  });

  it("renders sources written before the text, and a claim the output broke off in", () => {
    expect(render('{"claims": [{"sources": [3], "text": "First."}, {"text": "Cut off mid', 4).out).toBe(
      "First [3]. Cut off mid.",
    );
    const broken = render('{"claims": [{"text": "Cut", "sources": [1, 2', 1);
    expect(broken.out).toBe("Cut [1][2].");
    expect(broken.renderer.claims[0]?.complete).toBe(false);
  });

  it("passes free text through when the output is not JSON", () => {
    const { out, renderer } = render("  Aspirin lowers risk [1].", 2);
    expect(out).toBe("  Aspirin lowers risk [1].");
    expect(renderer.format).toBe("text");
  });

  it("stops at malformed JSON, keeping what was rendered, and says where", () => {
    const { out, renderer } = render('{"claims": [{"text": "Fine", "sources": [1]}, {"text": "x" "y"}]}', 3);
    expect(out).toBe("Fine [1]. x.");
    expect(renderer.syntaxError).toMatch(/expected , or } but found/);
  });

  it("drops source numbers that are not integers and counts them", () => {
    const { out, renderer } = render('{"claims": [{"text": "A", "sources": [1.5, "2", 3]}]}', 4);
    expect(out).toBe("A [3].");
    expect(renderer.malformed).toBe(2);
  });
});

describe("claimsJsonSchema", () => {
  it("allows only the numbers of the sources given, at least one per claim", () => {
    const schema = claimsJsonSchema(3) as {
      properties: { claims: { minItems: number; items: { properties: { sources: unknown } } } };
    };
    expect(schema.properties.claims.minItems).toBe(1);
    expect(schema.properties.claims.items.properties.sources).toEqual({
      type: "array",
      minItems: 1,
      maxItems: 3,
      items: { enum: [1, 2, 3] },
    });
    expect(() => claimsJsonSchema(0)).toThrow(RangeError);
  });

  it("bounds a claim's text by the token budget, so that its sources still fit", () => {
    expect([16, 64, 96, 256, 1000].map(claimCharsFor)).toEqual([40, 120, 216, 400, 400]);
  });
});

/** A claims generator that writes fixed JSON, split into small pieces, and keeps the requests it got. */
function fixedClaimsGenerator(json: string): Generator & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    id: "fixed-claims",
    kind: "openai",
    output: "claims",
    requests,
    async *generate(request): AsyncGenerator<GeneratorEvent> {
      requests.push(request);
      const renderer = new ClaimTextRenderer();
      for (let at = 0; at < json.length; at += 5) {
        const text = renderer.push(json.slice(at, at + 5));
        if (text !== "") yield { type: "delta", text };
      }
      const rest = renderer.end();
      if (rest !== "") yield { type: "delta", text: rest };
      yield {
        type: "done",
        finishReason: "stop",
        usage: { promptTokens: 10, completionTokens: 20 },
        timings: { firstTokenMs: 1, totalMs: 2 },
        output: "claims",
      };
    },
  };
}

const passages: Passage[] = [1, 2].map((n) => ({
  chunkId: n,
  documentId: `doc-${n}`,
  title: `Doc ${n}`,
  text: `Passage ${n} says that aspirin ${n === 1 ? "lowers" : "raises"} the risk.`,
  charStart: 0,
  charEnd: 50,
  score: 1 - n / 10,
  scoreKind: "fused" as const,
}));

describe("answer with a claims generator", () => {
  it("asks for claims over the given sources, removes a citation to nothing and marks an uncited claim", async () => {
    const generator = fixedClaimsGenerator(
      '{"claims": [{"text": "Aspirin lowers the risk.", "sources": [1, 9]}, {"text": "It raises it", "sources": []}]}',
    );
    const result = await collectAnswer(
      answer({
        question: "Does aspirin lower the risk?",
        passages,
        generator,
        contextTokens: 500,
        maxTokens: 64,
        evidence: { threshold: 0 },
        inferCitations: false,
      }),
    );
    const claims = generator.requests[0]?.claims;
    expect(`${claims?.system}${claims?.prompt}`).toContain('{"claims": [{"text": "...", "sources": [1]}]}');
    // maxTokens 64 leaves (64 − 24) × 3 = 120 characters per claim.
    expect(claims?.schema).toEqual(claimsJsonSchema(2, { maxClaimChars: 120 }));
    expect(generator.requests[0]?.prompt).not.toContain('"claims"');
    expect(result.text).toBe("Aspirin lowers the risk [1]. It raises it.");
    expect(result.removedCitations).toEqual([{ marker: "[9]", source: 9, offset: 27 }]);
    expect(result.citations.map((citation) => citation.documentId)).toEqual(["doc-1"]);
    expect(result.sentences.map((sentence) => sentence.cited)).toEqual([true, false]);
    expect(result.uncitedSentences).toBe(1);
    expect(result.output).toBe("claims");
  });
});
