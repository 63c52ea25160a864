// Test and benchmark helpers: where the offline model store keeps the local generation model.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const modelStore = process.env.SIFT_MODEL_STORE ?? join(homedir(), ".cache", "sift", "models");

/** The GGUF the manifest lists as `gemma3-270m-q4km` (a base model: no chat template). */
export const localGenerationModelPath = join(
  modelStore,
  "hugginllam",
  "gemma-3-270m-Q4_K_M-GGUF",
  "gemma-3-270m-q4_k_m.gguf",
);

export const assembleGenerationModelCommand = "python3 infra/models/assemble.py --only gemma3-270m-q4km";

/** Why the local model tests cannot run, or undefined when the model file is there. */
export function localModelMissingReason(): string | undefined {
  if (existsSync(localGenerationModelPath)) return undefined;
  return `the local generation model ${localGenerationModelPath} is absent; run \`${assembleGenerationModelCommand}\``;
}
