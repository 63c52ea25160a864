// Test helpers (no test-runner imports at module level besides vitest's describe/it).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Reranker } from "@sift/core";
import { describe, expect, it } from "vitest";
import { loadModelProfiles } from "./model-profiles";
import { assembleCommand } from "./transformers-embedder";

export const manifestPath = fileURLToPath(new URL("../../../infra/models/manifest.json", import.meta.url));
export const modelStore = process.env.SIFT_MODEL_STORE ?? join(homedir(), ".cache", "sift", "models");

export async function defaultEmbeddingEntry() {
  return (await loadModelProfiles(manifestPath)).resolveEmbeddingProfile();
}

/**
 * `describe` for tests that run real models from the model store. A missing store FAILS the suite with
 * the command that builds it (CI assembles it first), unless SIFT_SKIP_MODEL_TESTS=1 says to skip.
 */
export function describeWithModels(name: string, body: () => void): void {
  const required = join(modelStore, "Xenova", "all-MiniLM-L6-v2", "onnx", "model.onnx");
  if (existsSync(required)) {
    describe(name, body);
    return;
  }
  const reason = `model store incomplete: ${required} is missing; run \`${assembleCommand}\` (store: ${modelStore})`;
  if (process.env.SIFT_SKIP_MODEL_TESTS === "1") {
    console.warn(`skipping "${name}": ${reason} (SIFT_SKIP_MODEL_TESTS=1)`);
    describe.skip(`${name} [skipped: ${reason}]`, body);
    return;
  }
  describe(name, () => {
    it("needs the offline model store", () => {
      throw new Error(reason);
    });
  });
}

/**
 * `describe` for tests that run the manifest's default cross-encoder reranker. The manifest names none today
 * (no cross-encoder weights are published on PyPI; see infra/models/README.md), so the suite is skipped with
 * that reason printed. Once one is named, a missing store fails like `describeWithModels`.
 */
export function describeWithReranker(
  name: string,
  body: (entry: { id: string; maxTokens: number }) => void,
): void {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    defaults: { reranker?: string | null };
    models: Record<string, { id: string; profile: { max_tokens: number } }>;
  };
  const key = manifest.defaults.reranker;
  if (!key) {
    const reason = "infra/models/manifest.json names no reranker (defaults.reranker is null)";
    console.warn(`skipping "${name}": ${reason}`);
    describe.skip(`${name} [skipped: ${reason}]`, () => body({ id: "", maxTokens: 0 }));
    return;
  }
  const model = manifest.models[key]!;
  const required = join(modelStore, model.id, "onnx", "model.onnx");
  const entry = { id: model.id, maxTokens: model.profile.max_tokens };
  if (existsSync(required)) {
    describe(name, () => body(entry));
    return;
  }
  const reason = `model store incomplete: ${required} is missing; run \`${assembleCommand}\` (store: ${modelStore})`;
  if (process.env.SIFT_SKIP_MODEL_TESTS === "1") {
    console.warn(`skipping "${name}": ${reason} (SIFT_SKIP_MODEL_TESTS=1)`);
    describe.skip(`${name} [skipped: ${reason}]`, () => body(entry));
    return;
  }
  describe(name, () => {
    it("needs the offline model store", () => {
      throw new Error(reason);
    });
  });
}

/**
 * Lays out `<store>/sift-test/pair-probe`: the real all-MiniLM-L6-v2 tokenizer (a BERT WordPiece tokenizer)
 * with `fixtures/pair-probe.onnx`, an ONNX graph with a cross-encoder's inputs and outputs and a known scoring
 * rule (see fixtures/make-pair-probe.py). Needs the model store (use inside `describeWithModels`).
 */
export function layOutPairProbe(store: string): string {
  const source = join(modelStore, "Xenova", "all-MiniLM-L6-v2");
  const target = join(store, "sift-test", "pair-probe");
  mkdirSync(join(target, "onnx"), { recursive: true });
  for (const file of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]) {
    copyFileSync(join(source, file), join(target, file));
  }
  const config = JSON.parse(readFileSync(join(source, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(
    join(target, "config.json"),
    JSON.stringify({
      ...config,
      architectures: ["BertForSequenceClassification"],
      id2label: { "0": "LABEL_0" },
      label2id: { LABEL_0: 0 },
    }),
  );
  copyFileSync(
    fileURLToPath(new URL("./fixtures/pair-probe.onnx", import.meta.url)),
    join(target, "onnx", "model.onnx"),
  );
  return "sift-test/pair-probe";
}

/**
 * The Reranker contract (see `@sift/core` rerank.ts), as `it` blocks for a describe that has a reranker:
 * one finite score per passage in input order (a batch scores each passage as it would alone), equal
 * passages score equally, no passages cost nothing, and an aborted signal rejects with its reason.
 */
export function rerankerContract(get: () => Reranker): void {
  const query = "does vitamin d prevent fractures";
  const passages = [
    "vitamin d supplements and fracture risk in older adults",
    "the stock market closed lower",
    "fractures",
    "vitamin d supplements and fracture risk in older adults",
    "a much longer passage about bone density, calcium intake, vitamin d levels and the risk of hip fracture",
  ];
  it("contract: one finite score per passage, in input order, as each would score alone", async () => {
    const reranker = get();
    expect(reranker.id).toMatch(/\S/);
    const together = await reranker.score(query, passages);
    expect(together).toHaveLength(passages.length);
    expect(together.every(Number.isFinite)).toBe(true);
    expect(together[3]).toBeCloseTo(together[0]!, 4);
    for (const [i, passage] of passages.entries()) {
      const [alone] = await reranker.score(query, [passage]);
      expect(alone).toBeCloseTo(together[i]!, 4);
    }
  });
  it("contract: no passages resolve to [] and an aborted signal rejects with its reason", async () => {
    const reranker = get();
    expect(await reranker.score(query, [])).toEqual([]);
    await expect(
      reranker.score(query, passages, AbortSignal.abort(new Error("caller stopped"))),
    ).rejects.toThrow("caller stopped");
  });
}
