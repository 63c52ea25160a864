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

/** Where `pnpm --filter @sift/playground build` writes the page the service serves at `/`. */
export const defaultPlaygroundDir = fileURLToPath(new URL("../../playground/dist", import.meta.url));

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
    SIFT_DENSE_FLUSH_MS: z.coerce.number().int().min(0).default(30_000),
    SIFT_LEG_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(5000),
  })
  .extend({
    SIFT_AUTH: z.enum(["required", "off"]).default("required"),
    SIFT_BOOTSTRAP_KEY: boolean.default(true),
    SIFT_METRICS: boolean.default(true),
    SIFT_PLAYGROUND_DIR: z.string().min(1).optional(),
    SIFT_EVAL_REPORT: z.string().min(1).default("eval-out/scifact/report.html"),
    SIFT_METRICS_TOKEN: z.string().min(16, "use at least 16 characters").optional(),
    SIFT_KEY_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
    SIFT_MAX_QUERY_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(64 * 1024),
    SIFT_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(10_000),
    SIFT_RATE_LIMIT_RPS: z.coerce.number().min(0).max(100_000).default(50),
    SIFT_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(100_000).default(100),
    SIFT_ANSWER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(2),
    SIFT_ANSWER_QUEUE: z.coerce.number().int().min(0).max(100_000).default(16),
    SIFT_MAX_COLLECTIONS_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(100),
    SIFT_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(512),
    SIFT_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    SIFT_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    SIFT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    SIFT_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
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
    auth: {
      mode: env.SIFT_AUTH,
      bootstrapKey: env.SIFT_BOOTSTRAP_KEY,
      keyCacheMs: env.SIFT_KEY_CACHE_MS,
    },
    metrics: { enabled: env.SIFT_METRICS, token: env.SIFT_METRICS_TOKEN },
    pages: {
      playgroundDir: path.resolve(env.SIFT_PLAYGROUND_DIR ?? defaultPlaygroundDir),
      evalReport: path.resolve(env.SIFT_EVAL_REPORT),
    },
    limits: {
      maxQueryBodyBytes: env.SIFT_MAX_QUERY_BODY_BYTES,
      requestTimeoutMs: env.SIFT_REQUEST_TIMEOUT_MS,
      /** 0 turns rate limiting off. */
      rateLimitPerSecond: env.SIFT_RATE_LIMIT_RPS,
      rateLimitBurst: env.SIFT_RATE_LIMIT_BURST,
      answerConcurrency: env.SIFT_ANSWER_CONCURRENCY,
      answerQueue: env.SIFT_ANSWER_QUEUE,
      maxCollectionsPerTenant: env.SIFT_MAX_COLLECTIONS_PER_TENANT,
    },
    server: {
      maxConnections: env.SIFT_MAX_CONNECTIONS,
      headersTimeoutMs: env.SIFT_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.SIFT_BODY_TIMEOUT_MS,
      keepAliveTimeoutMs: env.SIFT_KEEP_ALIVE_TIMEOUT_MS,
    },
    shutdownTimeoutMs: env.SIFT_SHUTDOWN_TIMEOUT_MS,
    sampleCorpus: env.SIFT_SAMPLE_CORPUS,
    logLevel: env.SIFT_LOG_LEVEL,
    indexRefreshMs: env.SIFT_INDEX_REFRESH_MS,
    denseFlushMs: env.SIFT_DENSE_FLUSH_MS,
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

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses the environment; throws an Error listing every bad variable (secrets never echoed). */
export function parseConfig(env: Record<string, string | undefined>): ServiceConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  const config = result.data;
  if (config.server.headersTimeoutMs > config.server.requestTimeoutMs) {
    throw new Error(
      "invalid configuration:\n  SIFT_HEADERS_TIMEOUT_MS: must not exceed SIFT_BODY_TIMEOUT_MS (headers are part of the request)",
    );
  }
  return config;
}
