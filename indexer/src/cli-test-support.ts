// The CLI run in-process for tests, with its output captured, and a scratch folder per test file.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type CliIo, main } from "./cli";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sift argv` in-process with the given environment and working folder; stderr is not a TTY. */
export async function runCli(
  argv: string[],
  options: { env: Record<string, string>; cwd: string },
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: options.env,
    cwd: options.cwd,
  };
  return { code: await main(argv, io), stdout, stderr };
}

export interface CliScratch {
  /** The scratch folder (the CLI's working folder); set once `beforeAll` has run. */
  readonly dir: string;
  /** `SIFT_DATA_DIR` for every run: `data` under the scratch folder. */
  readonly dataDir: string;
  /** Runs `sift argv` in the scratch folder with `SIFT_DATA_DIR` alone in its environment. */
  run(argv: string[]): Promise<CliRun>;
}

/** Registers a scratch folder for this test file: made (named `prefix…`) before all tests, removed after. */
export function useCliScratch(prefix: string): CliScratch {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get dataDir() {
      return path.join(dir, "data");
    },
    run(argv) {
      return runCli(argv, { env: { SIFT_DATA_DIR: path.join(dir, "data") }, cwd: dir });
    },
  };
}
