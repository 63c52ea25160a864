import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  embeddingEnvSchema,
  embeddingSettingsFromEnv,
  generatorEnvSchema,
  generatorSettingsFromEnv,
  rerankEnvSchema,
  rerankSettingsFromEnv,
} from "@sift/engine";
import { z } from "zod";

/** The evidence threshold learned on the eval set (`pnpm eval:calibrate`), committed with the code. */
export const defaultCalibrationPath = fileURLToPath(
  new URL("../../../infra/calibration/evidence.json", import.meta.url),
);

const boolean = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

/**
 * Service configuration, parsed once from the environment at start-up. See the README's configuration
 * reference for every variable.
 */
export const configSchema = z
  .object({
    HOST: z.string().min(1).default("127.0.0.1"),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    SIFT_DATA_DIR: z.string().min(1).default(".sift-data"),
    SIFT_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    SIFT_SAMPLE_CORPUS: boolean.default(true),
    SIFT_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    SIFT_INDEX_REFRESH_MS: z.coerce.number().int().min(0).default(1000),
    SIFT_LEG_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(5000),
  })
  .extend(embeddingEnvSchema.shape)
  .extend(rerankEnvSchema.shape)
  .extend(generatorEnvSchema.shape)
  .extend({
    SIFT_ANSWER_CANDIDATES: z.coerce.number().int().min(1).max(100).default(20),
    SIFT_ANSWER_CONTEXT_TOKENS: z.coerce.number().int().min(64).max(100_000).default(1500),
    SIFT_ANSWER_MAX_TOKENS: z.coerce.number().int().min(1).max(4096).default(256),
    SIFT_ANSWER_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(120_000),
    SIFT_ANSWER_CALIBRATION: z.string().min(1).optional(),
  })
  .transform((env) => ({
    host: env.HOST,
    port: env.PORT,
    store:
      env.DATABASE_URL === undefined
        ? ({ driver: "pglite", dataDir: path.resolve(env.SIFT_DATA_DIR, "pglite") } as const)
        : ({ driver: "postgres", url: env.DATABASE_URL } as const),
    dataDir: path.resolve(env.SIFT_DATA_DIR),
    maxBodyBytes: env.SIFT_MAX_BODY_BYTES,
    sampleCorpus: env.SIFT_SAMPLE_CORPUS,
    logLevel: env.SIFT_LOG_LEVEL,
    indexRefreshMs: env.SIFT_INDEX_REFRESH_MS,
    legTimeoutMs: env.SIFT_LEG_TIMEOUT_MS,
    embedding: embeddingSettingsFromEnv(env, process.cwd()),
    rerank: rerankSettingsFromEnv(env, process.cwd()),
    generator: generatorSettingsFromEnv(env, process.cwd()),
    answer: {
      candidates: env.SIFT_ANSWER_CANDIDATES,
      contextTokens: env.SIFT_ANSWER_CONTEXT_TOKENS,
      maxTokens: env.SIFT_ANSWER_MAX_TOKENS,
      timeoutMs: env.SIFT_ANSWER_TIMEOUT_MS,
      calibrationPath: path.resolve(env.SIFT_ANSWER_CALIBRATION ?? defaultCalibrationPath),
    },
  }));

export type ServiceConfig = z.output<typeof configSchema>;

/** Parses the environment; throws an Error listing every bad variable (secrets never echoed). */
export function parseConfig(env: Record<string, string | undefined>): ServiceConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}
