import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Starts the API service as a child process and resolves with its URL once it listens. */
export async function startServiceProcess(
  env: Record<string, string>,
): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`service exited with ${code} before listening:\n${stderr}`)),
    );
  });
  return { url, stop: () => child.kill("SIGTERM") };
}
