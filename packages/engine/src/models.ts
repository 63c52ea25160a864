import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Embedder, Logger, Reranker } from "@sift/core";
import {
  createHttpReranker,
  createOpenAICompatibleEmbedder,
  createTransformersEmbedder,
  createTransformersReranker,
  loadModelProfiles,
  ModelNotFoundError,
  type OnnxDtype,
  type RerankApi,
  withRerankCache,
} from "@sift/models";
import type { RerankBlend, RerankOptions } from "@sift/retrieval";
import { z } from "zod";
import { type DeviceRequest, deviceEnvSchema, logPlacement, type ModelStage, onnxDeviceFor } from "./device";

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
      /** Default `auto`: CUDA when onnxruntime-node can use it, else the CPU (see `onnxDeviceFor`). */
      device?: DeviceRequest | undefined;
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
  /** Which stage this embedder serves, for the start-up line: the service's queries or the indexer's batches. */
  stage: Extract<ModelStage, "query-embedding" | "batch-embedding"> = "query-embedding",
): Promise<Embedder | undefined> {
  const requested = settings.kind === "local" ? (settings.device ?? "auto") : "auto";
  if (settings.kind === "none") {
    logPlacement(logger, { stage, runs: "none", backend: "SIFT_EMBEDDING_MODEL=none", requested });
    return undefined;
  }
  const profiles = await loadModelProfiles(settings.manifestPath);
  const entry = profiles.resolveEmbeddingProfile(settings.model);
  if (settings.kind === "openai") {
    logPlacement(logger, {
      stage,
      runs: "remote",
      backend: `OpenAI-compatible embeddings at ${settings.url}`,
      requested,
    });
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
    logPlacement(logger, { stage, runs: "none", backend: "no embedding model in the store", requested });
    return undefined;
  }
  const placed = onnxDeviceFor(requested);
  const embedder = createTransformersEmbedder({
    profile: entry.profile,
    modelStore: settings.modelStore,
    dtype,
    device: placed.device,
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
  });
  await embedder.load();
  logPlacement(logger, {
    stage,
    runs: placed.device,
    backend: `onnxruntime-node ${entry.profile.id} ${dtype}`,
    requested,
    ...(placed.reason === undefined ? {} : { reason: placed.reason }),
  });
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
  ...deviceEnvSchema.shape,
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
    device: env.SIFT_DEVICE,
  };
}

/** Which reranker the engine uses and how; parsed from the environment by the wiring. */
export type RerankSettings =
  | { kind: "none" }
  | ((
      | {
          kind: "local";
          /** Manifest key or model id; undefined: the manifest's default reranker. */
          model: string | undefined;
          modelStore: string;
          manifestPath: string;
          threads?: number | undefined;
          /** Default `auto` (see `onnxDeviceFor`). */
          device?: DeviceRequest | undefined;
        }
      | {
          kind: "http";
          /** Server root: TEI's `POST {url}/rerank`, vLLM's `POST {url}/v1/rerank`. */
          url: string;
          api: RerankApi;
          remoteModel?: string | undefined;
          apiKey?: string | undefined;
        }
    ) & {
      candidates?: number | undefined;
      timeoutMs?: number | undefined;
      blend?: RerankBlend | undefined;
    });

/**
 * Builds the configured rerank stage (with an in-memory score cache keyed by model, query and passage).
 * A reranker named explicitly must be present; the manifest's default, when absent from the store (or when
 * the manifest names none), leaves reranking off with a warning.
 */
export async function createRerankStage(
  settings: RerankSettings,
  logger: Logger,
): Promise<RerankOptions | undefined> {
  const requested = settings.kind === "local" ? (settings.device ?? "auto") : "auto";
  const off = (backend: string) =>
    logPlacement(logger, { stage: "rerank", runs: "none", backend, requested });
  if (settings.kind === "none") {
    off("SIFT_RERANK_MODEL=none");
    return undefined;
  }
  let reranker: Reranker;
  if (settings.kind === "http") {
    logPlacement(logger, {
      stage: "rerank",
      runs: "remote",
      backend: `${settings.api} rerank at ${settings.url}`,
      requested,
    });
    reranker = createHttpReranker({
      url: settings.url,
      api: settings.api,
      ...(settings.remoteModel === undefined ? {} : { model: settings.remoteModel }),
      ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
    });
  } else {
    const profiles = await loadModelProfiles(settings.manifestPath);
    if (settings.model === undefined && profiles.defaultReranker === null) {
      logger.warn("no reranker: the model manifest names no default one; reranking is off");
      off("the manifest names no default reranker");
      return undefined;
    }
    const entry = profiles.resolveRerankerProfile(settings.model);
    const directory = path.join(settings.modelStore, entry.profile.id);
    const weights = entry.dtypes.fp32;
    if (weights === undefined || !existsSync(path.join(directory, weights))) {
      const error = new ModelNotFoundError(directory, `missing ${weights ?? "fp32 weights"}`);
      if (settings.model !== undefined) throw error;
      logger.warn("no reranker: reranking is off", { reason: error.message });
      off("no reranker model in the store");
      return undefined;
    }
    const placed = onnxDeviceFor(requested);
    const local = createTransformersReranker({
      modelStore: settings.modelStore,
      profile: entry.profile,
      device: placed.device,
      ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    });
    await local.load();
    logPlacement(logger, {
      stage: "rerank",
      runs: placed.device,
      backend: `onnxruntime-node ${entry.profile.id}`,
      requested,
      ...(placed.reason === undefined ? {} : { reason: placed.reason }),
    });
    reranker = local;
  }
  return {
    reranker: withRerankCache(reranker, { maxEntries: 50_000 }),
    candidates: settings.candidates,
    timeoutMs: settings.timeoutMs,
    blend: settings.blend,
  };
}

/** The environment variables of the reranker, shared by the service and the eval harness. */
export const rerankEnvSchema = z.object({
  SIFT_RERANK_MODEL: optional(z.string()),
  SIFT_RERANK_URL: optional(z.string().regex(/^https?:\/\//, "must be an http:// or https:// URL")),
  SIFT_RERANK_API: optional(z.enum(["tei", "vllm"])),
  SIFT_RERANK_REMOTE_MODEL: optional(z.string()),
  SIFT_RERANK_API_KEY: optional(z.string()),
  SIFT_RERANK_CANDIDATES: optional(z.coerce.number().int().min(1).max(1000)),
  SIFT_RERANK_TIMEOUT_MS: optional(z.coerce.number().int().min(1).max(600_000)),
  SIFT_RERANK_BLEND: optional(z.enum(["none", "rrf", "minmax"])),
  ...deviceEnvSchema.shape,
});

/** Rerank settings from already-validated variables (see `rerankEnvSchema`); `SIFT_RERANK_MODEL=none` turns it off. */
export function rerankSettingsFromEnv(
  env: z.output<typeof rerankEnvSchema> & {
    SIFT_MODEL_STORE?: string | undefined;
    SIFT_MODEL_MANIFEST?: string | undefined;
  },
  cwd: string,
): RerankSettings {
  if (env.SIFT_RERANK_MODEL === "none") return { kind: "none" };
  const stage = {
    candidates: env.SIFT_RERANK_CANDIDATES,
    timeoutMs: env.SIFT_RERANK_TIMEOUT_MS,
    blend: env.SIFT_RERANK_BLEND,
  };
  if (env.SIFT_RERANK_URL !== undefined) {
    return {
      kind: "http",
      url: env.SIFT_RERANK_URL,
      api: env.SIFT_RERANK_API ?? "tei",
      remoteModel: env.SIFT_RERANK_REMOTE_MODEL,
      apiKey: env.SIFT_RERANK_API_KEY,
      ...stage,
    };
  }
  return {
    kind: "local",
    model: env.SIFT_RERANK_MODEL,
    modelStore: path.resolve(cwd, env.SIFT_MODEL_STORE ?? defaultModelStore),
    manifestPath: path.resolve(cwd, env.SIFT_MODEL_MANIFEST ?? defaultManifestPath),
    device: env.SIFT_DEVICE,
    ...stage,
  };
}
