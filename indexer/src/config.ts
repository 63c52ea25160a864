import path from "node:path";
import { logLevels } from "@sift/core";
import { type EmbeddingSettings, embeddingEnvSchema, embeddingSettingsFromEnv } from "@sift/engine";
import { z } from "zod";

/** What `openStore` receives: the embedded PGlite store in a folder, or a Postgres server. */
export type StoreConfig = { driver: "pglite"; dataDir: string } | { driver: "postgres"; url: string };

export interface IndexerConfig {
  store: StoreConfig;
  /**
   * `SIFT_DATA_DIR`, absolute: PGlite lives in `<dataDir>/pglite` (as for the API) and the lexical
   * manager, given this folder, keeps its generations in `<dataDir>/lexical/<collectionId>/`.
   */
  dataDir: string;
  /** `SIFT_LOG_LEVEL`; undefined when unset (the CLI then logs `info`, or `warn` on a terminal). */
  logLevel: (typeof logLevels)[number] | undefined;
  /** How often progress is logged as a JSON line when stderr is not a terminal. */
  progressIntervalMs: number;
  /**
   * `running` jobs not updated for this long are marked `interrupted` when the CLI starts. 0 for the
   * embedded store, whose lock already proves that no other process is writing; 15 minutes for Postgres,
   * where another indexer may be running.
   */
  staleJobAfterMs: number;
  /** The embedding model (`SIFT_EMBEDDING_*`, `SIFT_MODEL_STORE`; see @sift/engine). */
  embedding: EmbeddingSettings;
}

// An empty variable (`DATABASE_URL=`) means unset, as shells and compose files tend to produce them.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

const envSchema = z
  .object({
    DATABASE_URL: optional(
      z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL"),
    ),
    SIFT_DATA_DIR: optional(z.string()),
    SIFT_LOG_LEVEL: optional(z.enum(logLevels)),
    SIFT_PROGRESS_INTERVAL_MS: optional(z.coerce.number().int().min(50).max(3_600_000)),
    SIFT_STALE_JOB_MS: optional(z.coerce.number().int().min(0)),
  })
  .extend(embeddingEnvSchema.shape);

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the indexer's environment once, at the entrypoint. Messages name the variable but never echo
 * its value (a DATABASE_URL carries a password).
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): IndexerConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({ variable: issue.path.join("."), message: issue.message })),
    );
  }
  const parsed = result.data;
  const dataDir = path.resolve(cwd, parsed.SIFT_DATA_DIR ?? ".sift-data");
  const store: StoreConfig =
    parsed.DATABASE_URL === undefined
      ? { driver: "pglite", dataDir: path.join(dataDir, "pglite") }
      : { driver: "postgres", url: parsed.DATABASE_URL };
  return {
    store,
    dataDir,
    logLevel: parsed.SIFT_LOG_LEVEL,
    progressIntervalMs: parsed.SIFT_PROGRESS_INTERVAL_MS ?? 2000,
    staleJobAfterMs: parsed.SIFT_STALE_JOB_MS ?? (store.driver === "pglite" ? 0 : 15 * 60 * 1000),
    embedding: embeddingSettingsFromEnv(parsed, cwd),
  };
}

/** The store for messages: the folder, or the Postgres URL with its password masked. */
export function describeStore(store: StoreConfig): string {
  if (store.driver === "pglite") return `PGlite at ${store.dataDir}`;
  try {
    const url = new URL(store.url);
    if (url.password !== "") url.password = "***";
    return `Postgres at ${url.toString()}`;
  } catch {
    return "Postgres (unparseable URL)";
  }
}
