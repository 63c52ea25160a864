import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoreLockedError } from "@sift/core";

export const lockFileName = "sift.lock";

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Creates the lock file with its content in one step (link of a private temp file): never half-written. */
function tryCreate(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.${randomUUID()}`;
  writeFileSync(temporary, content);
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Takes `<dataDir>/sift.lock` for this process. PGlite corrupts a data directory that two instances
 * open at once, and two processes writing index files into one `SIFT_DATA_DIR` delete each other's, so a
 * lock naming a live process (this one included) throws `StoreLockedError` (with `hint` saying what to do);
 * a lock left by a dead process is taken over. Caveat: a recycled pid makes a stale lock look live.
 */
export function acquireDataDirLock(dataDir: string, hint?: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, lockFileName);
  const ours = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, ours)) {
      return {
        path,
        release() {
          if (readLock(path) === ours) remove(path);
        },
      };
    }
    const content = readLock(path);
    if (content === undefined) continue; // released meanwhile
    const holder = Number.parseInt(content.trim(), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new StoreLockedError(dataDir, holder, hint);
    }
    // Stale: remove it unless another process took it over since we read it.
    if (readLock(path) === content) remove(path);
  }
  throw new StoreLockedError(dataDir, Number.parseInt(readLock(path) ?? "0", 10) || 0, hint);
}
