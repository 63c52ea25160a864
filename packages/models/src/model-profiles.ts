import { readFile } from "node:fs/promises";
import {
  type EmbeddingModelProfile,
  NotFoundError,
  type RerankerModelProfile,
  ValidationError,
} from "@sift/core";
import { z } from "zod";

/** ONNX weight variants as transformers.js names them (`dtype`). */
export type OnnxDtype = "fp32" | "q8";

/** An embedding profile plus what the in-process runtime needs to find its weights. */
export interface EmbeddingModelEntry {
  /** The manifest key, e.g. `all-minilm-l6-v2`. */
  key: string;
  profile: EmbeddingModelProfile;
  /** Which ONNX file (relative to the model directory) holds each available dtype. */
  dtypes: Partial<Record<OnnxDtype, string>>;
}

/** A cross-encoder reranker profile plus where its ONNX weights are. */
export interface RerankerModelEntry {
  /** The manifest key, e.g. `ms-marco-minilm-l6-v2`. */
  key: string;
  profile: RerankerModelProfile;
  dtypes: Partial<Record<OnnxDtype, string>>;
}

export interface ModelProfiles {
  /** Manifest key of the default embedder. */
  defaultEmbedder: string;
  /** Manifest key of the default reranker; null when the manifest names none (`defaults.reranker`). */
  defaultReranker: string | null;
  embedding: ReadonlyMap<string, EmbeddingModelEntry>;
  reranker: ReadonlyMap<string, RerankerModelEntry>;
  /**
   * Finds an embedding model by manifest key or model id (`all-minilm-l6-v2` or `Xenova/all-MiniLM-L6-v2`);
   * without an argument, the default embedder. Throws `NotFoundError` naming the known models.
   */
  resolveEmbeddingProfile(id?: string): EmbeddingModelEntry;
  /**
   * Finds a reranker by manifest key or model id; without an argument, the default reranker. Throws
   * `NotFoundError` naming the known rerankers, or saying that the manifest has no default one.
   */
  resolveRerankerProfile(id?: string): RerankerModelEntry;
}

// Tolerant: the manifest carries much more (sources, files, toolchains) than profiles need.
const manifestSchema = z.object({
  defaults: z.object({ embedder: z.string(), reranker: z.string().nullable().optional() }),
  models: z.record(
    z.string(),
    z.object({
      id: z.string(),
      kind: z.string(),
      profile: z.record(z.string(), z.unknown()),
    }),
  ),
});

const embeddingProfileSchema = z.object({
  dimensions: z.number().int().positive(),
  pooling: z.enum(["cls", "mean"]),
  normalize: z.boolean(),
  query_prefix: z.string(),
  passage_prefix: z.string(),
  max_tokens: z.number().int().positive(),
  dtypes: z.object({ fp32: z.string().optional(), q8: z.string().optional() }).default({}),
});

const rerankerProfileSchema = z.object({
  max_tokens: z.number().int().positive(),
  dtypes: z.object({ fp32: z.string().optional(), q8: z.string().optional() }).default({}),
});

const definedDtypes = (dtypes: Partial<Record<OnnxDtype, string | undefined>>) =>
  Object.fromEntries(Object.entries(dtypes).filter(([, file]) => file !== undefined)) as Partial<
    Record<OnnxDtype, string>
  >;

function invalid(manifestPath: string, error: z.ZodError, prefix = ""): ValidationError {
  return new ValidationError(
    `model manifest ${manifestPath} is invalid`,
    error.issues.map((issue) => ({
      path: [prefix, ...issue.path].filter(Boolean).join("."),
      message: issue.message,
    })),
  );
}

/** Reads the embedding profiles of `infra/models/manifest.json` (the wiring passes its path). */
export async function loadModelProfiles(manifestPath: string): Promise<ModelProfiles> {
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(manifestPath, "utf8")));
  if (!parsed.success) throw invalid(manifestPath, parsed.error);
  const embedding = new Map<string, EmbeddingModelEntry>();
  const reranker = new Map<string, RerankerModelEntry>();
  for (const [key, model] of Object.entries(parsed.data.models)) {
    if (model.kind === "reranker") {
      const profile = rerankerProfileSchema.safeParse(model.profile);
      if (!profile.success) throw invalid(manifestPath, profile.error, `models.${key}.profile`);
      reranker.set(key, {
        key,
        profile: { id: model.id, maxTokens: profile.data.max_tokens },
        dtypes: definedDtypes(profile.data.dtypes),
      });
      continue;
    }
    if (model.kind !== "embedding") continue;
    const profile = embeddingProfileSchema.safeParse(model.profile);
    if (!profile.success) throw invalid(manifestPath, profile.error, `models.${key}.profile`);
    const { dtypes, ...p } = profile.data;
    embedding.set(key, {
      key,
      profile: {
        id: model.id,
        dimensions: p.dimensions,
        pooling: p.pooling,
        normalize: p.normalize,
        queryPrefix: p.query_prefix,
        passagePrefix: p.passage_prefix,
        maxTokens: p.max_tokens,
      },
      dtypes: definedDtypes(dtypes),
    });
  }
  const defaultEmbedder = parsed.data.defaults.embedder;
  const defaultReranker = parsed.data.defaults.reranker ?? null;
  return {
    defaultEmbedder,
    defaultReranker,
    embedding,
    reranker,
    resolveEmbeddingProfile(id = defaultEmbedder) {
      const entry = embedding.get(id) ?? [...embedding.values()].find((each) => each.profile.id === id);
      if (entry) return entry;
      const known = [...embedding.values()].map((each) => `${each.key} (${each.profile.id})`).join(", ");
      throw new NotFoundError("embedding model", id, `unknown embedding model '${id}'; known: ${known}`);
    },
    resolveRerankerProfile(id = defaultReranker ?? undefined) {
      if (id === undefined) {
        throw new NotFoundError(
          "reranker model",
          "(default)",
          `the model manifest ${manifestPath} names no default reranker (defaults.reranker is null); ` +
            "name one, or use an HTTP reranker",
        );
      }
      const entry = reranker.get(id) ?? [...reranker.values()].find((each) => each.profile.id === id);
      if (entry) return entry;
      const known = [...reranker.values()].map((each) => `${each.key} (${each.profile.id})`).join(", ");
      throw new NotFoundError(
        "reranker model",
        id,
        `unknown reranker model '${id}'; known: ${known || "none"}`,
      );
    },
  };
}
