import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError, ValidationError } from "@sift/core";
import { afterAll, describe, expect, it } from "vitest";
import { loadModelProfiles } from "./model-profiles";
import { manifestPath } from "./test-support";

describe("loadModelProfiles (infra/models/manifest.json)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "sift-manifest-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("reads the embedding profiles and resolves by key, by model id, and by default", async () => {
    const profiles = await loadModelProfiles(manifestPath);
    expect([...profiles.embedding.keys()]).toEqual(["all-minilm-l6-v2"]);
    const expected = {
      key: "all-minilm-l6-v2",
      profile: {
        id: "Xenova/all-MiniLM-L6-v2",
        dimensions: 384,
        pooling: "mean",
        normalize: true,
        queryPrefix: "",
        passagePrefix: "",
        maxTokens: 256,
      },
      dtypes: { fp32: "onnx/model.onnx", q8: "onnx/model_quantized.onnx" },
    };
    expect(profiles.resolveEmbeddingProfile()).toEqual(expected);
    expect(profiles.resolveEmbeddingProfile("all-minilm-l6-v2")).toEqual(expected);
    expect(profiles.resolveEmbeddingProfile("Xenova/all-MiniLM-L6-v2")).toEqual(expected);
    expect(() => profiles.resolveEmbeddingProfile("BAAI/bge-small-en-v1.5")).toThrow(NotFoundError);
    expect(() => profiles.resolveEmbeddingProfile("gemma3-270m-q4km")).toThrow(/known: all-minilm-l6-v2/);
  });

  it("names the offending field of an invalid profile", async () => {
    const path = join(scratch, "manifest.json");
    writeFileSync(
      path,
      JSON.stringify({
        defaults: { embedder: "x" },
        models: { x: { id: "X/x", kind: "embedding", profile: { dimensions: 8, pooling: "max" } } },
      }),
    );
    const failure = await loadModelProfiles(path).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).fields.map((field) => field.path)).toContain(
      "models.x.profile.pooling",
    );
  });

  it("has no default reranker today, and says so when asked for one", async () => {
    const profiles = await loadModelProfiles(manifestPath);
    expect(profiles.defaultReranker).toBeNull();
    expect(() => profiles.resolveRerankerProfile()).toThrow(/names no default reranker/);
    expect(() => profiles.resolveRerankerProfile("nope")).toThrow(NotFoundError);
  });

  it("reads reranker profiles and resolves them by key, model id and default", async () => {
    const path = join(scratch, "rerankers.json");
    writeFileSync(
      path,
      JSON.stringify({
        defaults: { embedder: "e", reranker: "ms-marco" },
        models: {
          e: {
            id: "X/e",
            kind: "embedding",
            profile: {
              dimensions: 8,
              pooling: "cls",
              normalize: true,
              query_prefix: "",
              passage_prefix: "",
              max_tokens: 16,
            },
          },
          "ms-marco": {
            id: "Xenova/ms-marco-MiniLM-L-6-v2",
            kind: "reranker",
            profile: { max_tokens: 512, dtypes: { fp32: "onnx/model.onnx" } },
          },
          broken: { id: "X/b", kind: "reranker", profile: { max_tokens: -1 } },
        },
      }),
    );
    const failure = await loadModelProfiles(path).catch((error: unknown) => error);
    expect((failure as ValidationError).fields.map((field) => field.path)).toContain(
      "models.broken.profile.max_tokens",
    );

    writeFileSync(
      path,
      JSON.stringify({
        defaults: { embedder: "e", reranker: "ms-marco" },
        models: {
          "ms-marco": {
            id: "Xenova/ms-marco-MiniLM-L-6-v2",
            kind: "reranker",
            profile: { max_tokens: 512, dtypes: { fp32: "onnx/model.onnx" } },
          },
        },
      }),
    );
    const profiles = await loadModelProfiles(path);
    const expected = {
      key: "ms-marco",
      profile: { id: "Xenova/ms-marco-MiniLM-L-6-v2", maxTokens: 512 },
      dtypes: { fp32: "onnx/model.onnx" },
    };
    expect(profiles.resolveRerankerProfile()).toEqual(expected);
    expect(profiles.resolveRerankerProfile("Xenova/ms-marco-MiniLM-L-6-v2")).toEqual(expected);
    expect(() => profiles.resolveRerankerProfile("bge")).toThrow(
      /known: ms-marco \(Xenova\/ms-marco-MiniLM-L-6-v2\)/,
    );
    expect(profiles.embedding.size).toBe(0);
  });
});
