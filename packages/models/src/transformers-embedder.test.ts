import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmbeddingModelProfile } from "@sift/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defaultEmbeddingEntry, describeWithModels, modelStore } from "./test-support";
import {
  createTransformersEmbedder,
  ModelNotFoundError,
  type TransformersEmbedder,
} from "./transformers-embedder";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describeWithModels("TransformersEmbedder (all-MiniLM-L6-v2, real ONNX)", () => {
  let profile: EmbeddingModelProfile;
  let embedder: TransformersEmbedder;

  beforeAll(async () => {
    profile = (await defaultEmbeddingEntry()).profile;
    embedder = createTransformersEmbedder({ profile, modelStore, batchSize: 4 });
    await embedder.load();
  });
  afterAll(() => embedder.dispose());

  it("returns unit vectors of the profile's dimensions", async () => {
    const { embeddings, warnings } = await embedder.embed({
      texts: ["The cat sat on the mat.", "Mitochondria are the powerhouse of the cell."],
      kind: "passage",
    });
    expect(warnings).toEqual([]);
    expect(embeddings).toHaveLength(2);
    for (const vector of embeddings) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(profile.dimensions);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
  });

  it("scores similar sentences above unrelated ones", async () => {
    const [query, near, far] = (
      await embedder.embed({
        texts: [
          "How do vaccines train the immune system?",
          "Vaccination teaches immune cells to recognise a pathogen.",
          "The stock market closed lower on Friday.",
        ],
        kind: "passage",
      })
    ).embeddings as [Float32Array, Float32Array, Float32Array];
    expect(dot(query, near)).toBeGreaterThan(0.5);
    expect(dot(query, near)).toBeGreaterThan(dot(query, far) + 0.3);
  });

  it("keeps input order although batches are sorted by length", async () => {
    const texts = Array.from({ length: 11 }, (_, i) => `${"word ".repeat((i * 7) % 11)}sentence number ${i}`);
    const together = (await embedder.embed({ texts, kind: "passage" })).embeddings;
    for (const [i, text] of texts.entries()) {
      const [alone] = (await embedder.embed({ texts: [text], kind: "passage" })).embeddings;
      // Padding changes the float path slightly; the vector is still the same.
      expect(dot(together[i]!, alone!)).toBeGreaterThan(0.9999);
    }
  });

  it("applies the profile's query and passage prefixes (synthetic e5-style profile)", async () => {
    const e5 = createTransformersEmbedder({
      profile: { ...profile, queryPrefix: "query: ", passagePrefix: "passage: " },
      modelStore,
    });
    const text = "treatment of type 2 diabetes";
    const [asQuery] = (await e5.embed({ texts: [text], kind: "query" })).embeddings;
    const [asPassage] = (await e5.embed({ texts: [text], kind: "passage" })).embeddings;
    const [manual] = (await embedder.embed({ texts: [`query: ${text}`], kind: "query" })).embeddings;
    const [plain] = (await embedder.embed({ texts: [text], kind: "query" })).embeddings;
    expect(dot(asQuery!, manual!)).toBeCloseTo(1, 5);
    expect(dot(asQuery!, asPassage!)).toBeLessThan(0.999);
    expect(dot(asQuery!, plain!)).toBeLessThan(0.999);
  });

  it("truncates at maxTokens and says so", async () => {
    const long = "evidence ".repeat(400);
    const short = createTransformersEmbedder({ profile: { ...profile, maxTokens: 16 }, modelStore });
    const result = await short.embed({ texts: [long, "tiny"], kind: "passage" });
    expect(result.warnings).toEqual(["1 of 2 texts were truncated to 16 tokens"]);
    const [cut] = (await short.embed({ texts: ["evidence ".repeat(14)], kind: "passage" })).embeddings;
    // 14 words + [CLS] + [SEP] = 16 tokens: the same input the long text was cut down to.
    expect(dot(result.embeddings[0]!, cut!)).toBeCloseTo(1, 5);
  });

  it("returns nothing for no input", async () => {
    expect(await embedder.embed({ texts: [], kind: "query" })).toEqual({ embeddings: [], warnings: [] });
  });

  it("honours an abort signal between batches", async () => {
    const controller = new AbortController();
    const texts = Array.from({ length: 40 }, (_, i) => `text ${i}`);
    const pending = embedder.embed({ texts, kind: "passage", signal: controller.signal });
    // Fires while the first batch runs on ONNX Runtime's threads; the next batch does not start.
    setTimeout(() => controller.abort(new Error("stop")), 1);
    await expect(pending).rejects.toThrow("stop");
    await expect(
      embedder.embed({ texts, kind: "passage", signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      name: "AbortError",
    });
  });

  it("q8 weights give nearly the same vectors as fp32", async () => {
    const q8 = createTransformersEmbedder({ profile, modelStore, dtype: "q8" });
    const texts = [
      "Aspirin reduces the risk of heart attack.",
      "Bacteria develop resistance to antibiotics.",
    ];
    const [a, b] = [
      (await embedder.embed({ texts, kind: "passage" })).embeddings,
      (await q8.embed({ texts, kind: "passage" })).embeddings,
    ];
    for (const i of [0, 1]) expect(dot(a[i]!, b[i]!)).toBeGreaterThan(0.98);
    expect(q8.cacheKey).not.toBe(embedder.cacheKey);
    await q8.dispose();
    // A disposed embedder loads again on demand.
    expect((await q8.embed({ texts, kind: "passage" })).embeddings[1]).toEqual(b[1]);
    await q8.dispose();
  });
});

describeWithModels("TransformersEmbedder without its model", () => {
  const empty = mkdtempSync(join(tmpdir(), "sift-models-"));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it("fails with the missing path and the assemble command, and recovers once the model is there", async () => {
    const profile = (await defaultEmbeddingEntry()).profile;
    const embedder = createTransformersEmbedder({ profile, modelStore: empty });
    const failure = await embedder.embed({ texts: ["x"], kind: "query" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as Error).message).toContain(join(empty, "Xenova/all-MiniLM-L6-v2"));
    expect((failure as Error).message).toContain("python3 infra/models/assemble.py");
    const missingWeights = createTransformersEmbedder({
      profile: { ...profile, id: "." },
      modelStore: empty,
    });
    await expect(missingWeights.load()).rejects.toThrow(/missing onnx\/model\.onnx/);
    // A failed load is not remembered: once the store has the model, the same embedder works.
    symlinkSync(join(modelStore, "Xenova"), join(empty, "Xenova"));
    expect((await embedder.embed({ texts: ["x"], kind: "query" })).embeddings[0]).toHaveLength(
      profile.dimensions,
    );
  });
});
