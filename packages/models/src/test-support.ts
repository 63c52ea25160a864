// Test helpers (no test-runner imports at module level besides vitest's describe/it).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
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
