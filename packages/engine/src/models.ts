import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Embedder, Logger } from "@sift/core";
import {
  createOpenAICompatibleEmbedder,
  createTransformersEmbedder,
  loadModelProfiles,
  ModelNotFoundError,
  type OnnxDtype,
} from "@sift/models";
import { z } from "zod";

/** Which embedding model the engine uses; parsed from the environment by the wiring. */
export type EmbeddingSettings =
  | { kind: "none" }
  | {
      kind: "local";
      /** Manifest key or model id; undefined: the manifest's default embedder. */
      model: string | undefined;
      /** The offline model store (Hugging Face layout). */
      modelStore: string;
      manifestPath: string;
      dtype?: OnnxDtype | undefined;
      threads?: number | undefined;
    }
  | {
      kind: "openai";
      /** Server root, e.g. `http://tei:8080`; requests go to `{url}/v1/embeddings`. */
      url: string;
      /** Manifest key or id of the model the server runs: its profile gives dimensions and prefixes. */
      model: string | undefined;
      /** The server's name for the model (the request's `model` field); default the profile id. */
      remoteModel?: string | undefined;
      apiKey?: string | undefined;
      manifestPath: string;
    };

/**
 * Builds the configured embedder. A model named explicitly must be present (else `ModelNotFoundError`,
 * naming the assemble command); the default model, when the store lacks it, leaves the engine BM25-only
 * with a warning, so a first start without the model store still serves.
 */
export async function createEmbedder(
  settings: EmbeddingSettings,
  logger: Logger,
): Promise<Embedder | undefined> {
  if (settings.kind === "none") return undefined;
  const profiles = await loadModelProfiles(settings.manifestPath);
  const entry = profiles.resolveEmbeddingProfile(settings.model);
  if (settings.kind === "openai") {
    return createOpenAICompatibleEmbedder({
      profile: entry.profile,
      baseUrl: settings.url,
      model: settings.remoteModel ?? entry.profile.id,
      ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
    });
  }
  const dtype = settings.dtype ?? "fp32";
  const directory = path.join(settings.modelStore, entry.profile.id);
  const weights = entry.dtypes[dtype];
  const missing =
    weights === undefined
      ? `the manifest lists no ${dtype} weights for ${entry.key}`
      : existsSync(path.join(directory, weights))
        ? undefined
        : `missing ${weights}`;
  if (missing !== undefined) {
    const error = new ModelNotFoundError(directory, missing);
    if (settings.model !== undefined) throw error;
    logger.warn("no embedding model: dense and hybrid search are off", { reason: error.message });
    return undefined;
  }
  const embedder = createTransformersEmbedder({
    profile: entry.profile,
    modelStore: settings.modelStore,
    dtype,
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
  });
  await embedder.load();
  return embedder;
}

/** The pinned model manifest of this checkout (infra/models). */
export const defaultManifestPath = fileURLToPath(
  new URL("../../../infra/models/manifest.json", import.meta.url),
);
/** Where `python3 infra/models/assemble.py` builds the offline model store by default. */
export const defaultModelStore = path.join(homedir(), ".cache", "sift", "models");

// An empty variable means unset, as shells and compose files tend to produce them.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** The environment variables of the embedding model, shared by the service and the CLI. */
export const embeddingEnvSchema = z.object({
  SIFT_MODEL_STORE: optional(z.string()),
  SIFT_MODEL_MANIFEST: optional(z.string()),
  SIFT_EMBEDDING_MODEL: optional(z.string()),
  SIFT_EMBEDDING_DTYPE: optional(z.enum(["fp32", "q8"])),
  SIFT_EMBEDDING_THREADS: optional(z.coerce.number().int().min(1).max(256)),
  SIFT_EMBEDDING_URL: optional(z.string().regex(/^https?:\/\//, "must be an http:// or https:// URL")),
  SIFT_EMBEDDING_API_KEY: optional(z.string()),
  SIFT_EMBEDDING_REMOTE_MODEL: optional(z.string()),
});

/**
 * Embedding settings from already-validated variables (see `embeddingEnvSchema`):
 * `SIFT_EMBEDDING_MODEL=none` turns dense retrieval off; `SIFT_EMBEDDING_URL` selects an OpenAI-compatible
 * server (the model's profile still comes from the manifest); otherwise the in-process ONNX model from the
 * offline store. Relative paths resolve against `cwd`.
 */
export function embeddingSettingsFromEnv(
  env: z.output<typeof embeddingEnvSchema>,
  cwd: string,
): EmbeddingSettings {
  if (env.SIFT_EMBEDDING_MODEL === "none") return { kind: "none" };
  const manifestPath = path.resolve(cwd, env.SIFT_MODEL_MANIFEST ?? defaultManifestPath);
  if (env.SIFT_EMBEDDING_URL !== undefined) {
    return {
      kind: "openai",
      url: env.SIFT_EMBEDDING_URL,
      model: env.SIFT_EMBEDDING_MODEL,
      remoteModel: env.SIFT_EMBEDDING_REMOTE_MODEL,
      apiKey: env.SIFT_EMBEDDING_API_KEY,
      manifestPath,
    };
  }
  return {
    kind: "local",
    model: env.SIFT_EMBEDDING_MODEL,
    modelStore: path.resolve(cwd, env.SIFT_MODEL_STORE ?? defaultModelStore),
    manifestPath,
    dtype: env.SIFT_EMBEDDING_DTYPE ?? "fp32",
    threads: env.SIFT_EMBEDDING_THREADS,
  };
}
