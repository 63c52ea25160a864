import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ServiceProcess {
  url: string;
  /** The service's process id (for its resident memory in `/proc`). */
  pid: number;
  /** The last 16 KiB the service wrote on stderr (its log), for error messages. */
  stderrTail: () => string;
  /** Sends SIGTERM; resolves once the process has exited (SIGKILL after `graceMs`, default 15 s). */
  stop: (graceMs?: number) => Promise<void>;
}

/**
 * Starts the API service as a child process and resolves with its URL once it listens. The harness talks to
 * a throwaway service on the loopback address without keys or rate limits (`SIFT_AUTH=off`,
 * `SIFT_RATE_LIMIT_RPS=0`) unless `env` says otherwise.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], {
    cwd: repositoryRoot,
    env: { ...process.env, SIFT_AUTH: "off", SIFT_RATE_LIMIT_RPS: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const onData = (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) {
        child.stdout.off("data", onData);
        child.stdout.resume(); // keep draining so the child never blocks on a full pipe
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`service exited with ${code} before listening:\n${stderr}`)),
    );
  });
  return {
    url,
    pid: child.pid ?? -1,
    stderrTail: () => stderr,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once the service answers `GET /readyz` with 200 (its indexes are loaded). */
export async function waitUntilReady(service: ServiceProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${service.url}/readyz`);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `the service did not become ready in ${timeoutMs / 1000} s: ${last}\n${service.stderrTail()}`,
  );
}
