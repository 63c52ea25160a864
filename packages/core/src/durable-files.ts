import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes `data` to `path` (creating its directory) and fsyncs the file before returning. */
export async function writeFileDurably(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so renames inside it survive a crash; a no-op where the platform cannot. */
export async function fsyncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the files themselves are already durable.
  }
}

/**
 * Writes `data` so that `path` holds either its old content or all of `data`, never a part: a temp file
 * beside it, fsync, rename over, then fsync of the directory so the rename itself survives a crash.
 */
export async function writeFileAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFileDurably(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await fsyncDirectory(dirname(path));
}
