import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Runs the real `sift` CLI (`indexer/src/cli.ts`, what `pnpm sift` runs) as a child process with the given
 * environment. Its stderr is not a terminal, so it logs JSON lines; each is handed to `onLog` as a short
 * line of text. Resolves with the exit code and every log line.
 */
export async function runSiftCli(
  args: readonly string[],
  env: Record<string, string>,
  onLog: (line: string) => void = () => {},
): Promise<{ code: number; log: string[]; stdout: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "indexer/src/cli.ts", ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  let stdout = "";
  let pending = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      const text = summarizeLogLine(line);
      log.push(text);
      onLog(text);
    }
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode ?? 1));
  });
  if (pending.trim() !== "") log.push(summarizeLogLine(pending));
  return { code, log, stdout };
}

/** A JSON log line as `level msg key=value …` (scalars only); other text unchanged. */
export function summarizeLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return line;
  const record = parsed as Record<string, unknown>;
  const message = record.msg ?? record.message ?? "";
  const fields = Object.entries(record)
    .filter(([key]) => !["msg", "message", "level", "time", "timestamp", "ts"].includes(key))
    .flatMap(([key, value]) => {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        return Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => typeof v === "number" || typeof v === "string" || typeof v === "boolean")
          .map(([k, v]) => `${key}.${k}=${String(v)}`);
      }
      return typeof value === "number" || typeof value === "string" || typeof value === "boolean"
        ? [`${key}=${String(value)}`]
        : [];
    });
  return [record.level, message, ...fields].filter((p) => p !== undefined && p !== "").join(" ");
}
