import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const evalRoot = fileURLToPath(new URL("..", import.meta.url));
export const pythonDir = path.join(evalRoot, "python");

/**
 * Where `eval/scripts/python-env.sh` keeps the venv: `<cacheRoot>/eval-<first 12 hex of sha256(requirements)>`.
 * `cacheRoot` defaults to ~/.cache/sift/py (the script's SIFT_PY_CACHE).
 */
export function pythonEnvPath(cacheRoot = path.join(homedir(), ".cache", "sift", "py")): string {
  const hash = createHash("sha256")
    .update(readFileSync(path.join(pythonDir, "requirements.txt")))
    .digest("hex")
    .slice(0, 12);
  return path.join(cacheRoot, `eval-${hash}`);
}

/** The venv's python when the venv is complete, else undefined (nothing is installed). */
export function readyPython(cacheRoot?: string): string | undefined {
  const venv = pythonEnvPath(cacheRoot);
  return existsSync(path.join(venv, ".complete")) ? path.join(venv, "bin", "python") : undefined;
}

/** Runs the setup script (a no-op when warm, PyPI when cold) and returns the venv's python. */
export function ensurePython(): string {
  const result = spawnSync("bash", [path.join(evalRoot, "scripts", "python-env.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (result.status !== 0) throw new Error(`eval/scripts/python-env.sh failed with ${result.status}`);
  return path.join(result.stdout.trim(), "bin", "python");
}

/** Runs `eval/python/<script>` with JSON on stdin and parses JSON from its stdout. */
export async function runPythonJson<T>(
  python: string,
  script: string,
  input: unknown,
  args: readonly string[] = [],
): Promise<T> {
  const child = spawn(python, [path.join(pythonDir, script), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  child.stdin.end(JSON.stringify(input));
  const code = await exited;
  if (code !== 0) throw new Error(`python ${script} exited with ${code}:\n${stderr.slice(-4000)}`);
  return JSON.parse(Buffer.concat(stdout).toString("utf8")) as T;
}
