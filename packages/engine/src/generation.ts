import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  createExtractiveGenerator,
  createLlamaCppGenerator,
  createOpenAICompatibleGenerator,
  type Generator,
} from "@sift/answer";
import { type Logger, NotFoundError } from "@sift/core";
import { assembleCommand } from "@sift/models";
import { z } from "zod";
import { type DeviceRequest, deviceEnvSchema, llamaGpuFor, logPlacement } from "./device";
import { defaultManifestPath, defaultModelStore } from "./models";

/**
 * What model generators write: `structured` (JSON claims, each with its source numbers: a grammar for the
 * local model, `response_format`/`guided_json` for a server, free text when the server refuses) or `text`.
 */
export type GeneratorOutputMode = "structured" | "text";

/** Which generator writes answers; parsed from the environment by the wiring. */
export type GeneratorSettings =
  | { kind: "extractive" }
  | (ModelGeneratorSettings & { output?: GeneratorOutputMode | undefined });

type ModelGeneratorSettings =
  | {
      /** `auto`: the local model when the store holds it, else extractive (with a warning). */
      kind: "local" | "auto";
      /** Manifest key or id of a GGUF generator; undefined: the manifest's default generator. */
      model: string | undefined;
      /** A GGUF file to use instead of a manifest entry. */
      modelPath: string | undefined;
      modelStore: string;
      manifestPath: string;
      threads?: number | undefined;
      /** Default `auto`: node-llama-cpp's CUDA build when it loads and sees a GPU, else the CPU. */
      device?: DeviceRequest | undefined;
    }
  | {
      kind: "openai";
      url: string;
      remoteModel: string;
      apiKey?: string | undefined;
      /** How the schema is sent in structured mode; default `response_format`. */
      structuredApi?: "response_format" | "guided_json" | undefined;
    };

const manifestSchema = z.object({
  defaults: z.object({ generator: z.string().nullable().optional() }),
  models: z.record(
    z.string(),
    z.object({
      id: z.string(),
      kind: z.string(),
      profile: z.object({ file: z.string().optional() }).loose(),
    }),
  ),
});

/** The GGUF file of a manifest generator (by key or id; undefined: the default), or why there is none. */
async function manifestGguf(settings: {
  model: string | undefined;
  modelStore: string;
  manifestPath: string;
}): Promise<{ file: string; key: string } | { missing: string }> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(settings.manifestPath, "utf8")));
  const wanted = settings.model ?? manifest.defaults.generator ?? undefined;
  if (wanted === undefined) return { missing: "the model manifest names no default generator" };
  const entry = Object.entries(manifest.models).find(
    ([key, m]) => m.kind === "generator" && (key === wanted || m.id === wanted),
  );
  if (entry === undefined) {
    const known = Object.entries(manifest.models)
      .filter(([, m]) => m.kind === "generator")
      .map(([key]) => key);
    throw new NotFoundError(
      "generator model",
      wanted,
      `unknown generator '${wanted}'; the manifest has: ${known.join(", ") || "none"}`,
    );
  }
  const [key, model] = entry;
  const file = path.join(settings.modelStore, model.id, model.profile.file ?? "model.gguf");
  return existsSync(file)
    ? { file, key }
    : { missing: `${file} is missing; build it with \`${assembleCommand} --only ${key}\`` };
}

/**
 * Builds the answer generator. `extractive` needs no model; `local` must find its GGUF (else it throws);
 * `auto` takes the local model when present and otherwise answers extractively, saying so in the log.
 */
export async function createGenerator(settings: GeneratorSettings, logger: Logger): Promise<Generator> {
  const requested =
    settings.kind === "local" || settings.kind === "auto" ? (settings.device ?? "auto") : "auto";
  const extractive = (why: string) => {
    logPlacement(logger, {
      stage: "generation",
      runs: "cpu",
      backend: `extractive, no model (${why})`,
      requested,
    });
    return createExtractiveGenerator();
  };
  if (settings.kind === "extractive") return extractive("SIFT_GENERATOR=extractive");
  const output = settings.output === "structured" ? "claims" : "text";
  if (settings.kind === "openai") {
    logPlacement(logger, {
      stage: "generation",
      runs: "remote",
      backend: `OpenAI-compatible chat completions at ${settings.url}, ${output}`,
      requested,
    });
    return createOpenAICompatibleGenerator({
      baseUrl: settings.url,
      model: settings.remoteModel,
      output,
      ...(settings.structuredApi === undefined ? {} : { structuredApi: settings.structuredApi }),
      ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
    });
  }
  let file: string;
  if (settings.modelPath !== undefined) {
    if (!existsSync(settings.modelPath)) {
      throw new NotFoundError("generator model", settings.modelPath, `no GGUF file at ${settings.modelPath}`);
    }
    file = settings.modelPath;
  } else {
    const found = await manifestGguf(settings);
    if ("missing" in found) {
      if (settings.kind === "local") {
        throw new NotFoundError("generator model", settings.model ?? "default", found.missing);
      }
      logger.warn("no local generator model: answers are extractive", { reason: found.missing });
      return extractive("no local model in the store");
    }
    file = found.file;
  }
  const generator = createLlamaCppGenerator({
    modelPath: file,
    output,
    gpu: llamaGpuFor(requested),
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
  });
  const info = await generator.load();
  logger.info("local generator loaded", { file, output, ...info });
  logPlacement(logger, {
    stage: "generation",
    runs: info.gpu === "cuda" ? "cuda" : "cpu",
    backend: `node-llama-cpp ${path.basename(file)}, ${output}${info.gpuDevices.length > 0 ? ` on ${info.gpuDevices.join(", ")}` : ""}`,
    requested,
    ...(info.gpuFallback === undefined ? {} : { reason: info.gpuFallback }),
  });
  return generator;
}

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** The environment variables of the answer generator. */
export const generatorEnvSchema = z.object({
  SIFT_GENERATOR: optional(z.enum(["auto", "local", "openai", "extractive"])),
  SIFT_GENERATOR_MODEL: optional(z.string()),
  SIFT_GENERATOR_MODEL_PATH: optional(z.string()),
  SIFT_GENERATOR_THREADS: optional(z.coerce.number().int().min(1).max(256)),
  SIFT_GENERATOR_URL: optional(z.string().regex(/^https?:\/\//, "must be an http:// or https:// URL")),
  SIFT_GENERATOR_API_KEY: optional(z.string()),
  SIFT_GENERATOR_OUTPUT: optional(z.enum(["structured", "text"])),
  SIFT_GENERATOR_STRUCTURED_API: optional(z.enum(["response_format", "guided_json"])),
  ...deviceEnvSchema.shape,
});

export function generatorSettingsFromEnv(
  env: z.output<typeof generatorEnvSchema> & {
    SIFT_MODEL_STORE?: string | undefined;
    SIFT_MODEL_MANIFEST?: string | undefined;
  },
  cwd: string,
): GeneratorSettings {
  const kind = env.SIFT_GENERATOR ?? (env.SIFT_GENERATOR_URL === undefined ? "auto" : "openai");
  if (kind === "extractive") return { kind };
  if (kind === "openai") {
    if (env.SIFT_GENERATOR_URL === undefined || env.SIFT_GENERATOR_MODEL === undefined) {
      throw new Error(
        "invalid configuration:\n  SIFT_GENERATOR_URL: SIFT_GENERATOR=openai needs SIFT_GENERATOR_URL and SIFT_GENERATOR_MODEL (the server's name for the model)",
      );
    }
    return {
      kind,
      url: env.SIFT_GENERATOR_URL,
      remoteModel: env.SIFT_GENERATOR_MODEL,
      apiKey: env.SIFT_GENERATOR_API_KEY,
      output: env.SIFT_GENERATOR_OUTPUT,
      structuredApi: env.SIFT_GENERATOR_STRUCTURED_API,
    };
  }
  return {
    kind,
    model: env.SIFT_GENERATOR_MODEL,
    modelPath:
      env.SIFT_GENERATOR_MODEL_PATH === undefined
        ? undefined
        : path.resolve(cwd, env.SIFT_GENERATOR_MODEL_PATH),
    modelStore: path.resolve(cwd, env.SIFT_MODEL_STORE ?? defaultModelStore),
    manifestPath: path.resolve(cwd, env.SIFT_MODEL_MANIFEST ?? defaultManifestPath),
    threads: env.SIFT_GENERATOR_THREADS,
    output: env.SIFT_GENERATOR_OUTPUT,
    device: env.SIFT_DEVICE,
  };
}
