import { existsSync } from "node:fs";
import path from "node:path";
import type { Embedder, Logger } from "@sift/core";
import {
  createOpenAICompatibleEmbedder,
  createTransformersEmbedder,
  loadModelProfiles,
  ModelNotFoundError,
  type OnnxDtype,
} from "@sift/models";

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
