import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** True unless `SIFT_SKIP_MODEL_TESTS=1`: then services start BM25-only (no embedding model). */
export const withEmbeddingModel = process.env.SIFT_SKIP_MODEL_TESTS !== "1";

export interface SiftProcess {
  url: string;
  dataDir: string;
  /** The last 16 KiB of the service's log (stderr), for failure messages. */
  log: () => string;
  /** Everything the service printed on stdout (its start banner). */
  stdout: () => string;
  /** SIGTERM, then SIGKILL after 15 s; removes the temp data dir. */
  stop: () => Promise<void>;
}

/**
 * Starts this checkout's API service (`services/api/src/main.ts`) as a child process on a free port and a
 * fresh temp data dir (so the sample corpus is seeded into `sample`), with the extractive generator and,
 * unless {@link withEmbeddingModel} is false, the store's embedding model; resolves once `/readyz` answers
 * 200. `env` adds or overrides variables.
 */
export async function startSiftProcess(env: Record<string, string> = {}): Promise<SiftProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "sift-process-"));
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], {
    cwd: repositoryRoot,
    env: {
      ...inherited,
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_GENERATOR: "extractive",
      SIFT_EMBEDDING_MODEL: withEmbeddingModel ? "all-minilm-l6-v2" : "none",
      SIFT_LOG_LEVEL: "warn",
      // A throwaway service on the loopback address: no keys, no rate limit (tests may set them in `env`).
      SIFT_AUTH: "off",
      SIFT_RATE_LIMIT_RPS: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await listeningUrl(child.stdout, exited, () => log);
    await untilReady(url, exited, () => log);
    return { url, dataDir, log: () => log, stdout: () => out, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The admin key a first start with auth on (`SIFT_AUTH=required`) prints once in its banner. */
export async function bootstrapKey(service: SiftProcess): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const match = /export SIFT_API_KEY=(sift_[0-9A-Za-z]+)/.exec(service.stdout());
    if (match !== null) return match[1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no bootstrap key in the banner:\n${service.stdout()}`);
}

function listeningUrl(stdout: NodeJS.ReadableStream, exited: Promise<void>, log: () => string) {
  return new Promise<string>((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1] === undefined) return;
      stdout.off("data", onData);
      stdout.resume(); // keep draining so the child never blocks on a full pipe
      resolve(match[1]);
    };
    stdout.on("data", onData);
    void exited.then(() => reject(new Error(`the service exited before listening:\n${log()}`)));
  });
}

async function untilReady(url: string, exited: Promise<void>, log: () => string) {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let attempt = 0; attempt < 600; attempt++) {
    if (gone) throw new Error(`the service exited before it was ready:\n${log()}`);
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service at ${url} was not ready after 60 s:\n${log()}`);
}
