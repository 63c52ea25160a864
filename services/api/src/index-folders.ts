import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@sift/core";

/**
 * The per-collection index folders under a data directory: `<dataDir>/lexical/<collectionId>/` (BM25) and
 * `<dataDir>/dense/<collectionId>/` (vectors), as `@sift/lexical` and `@sift/dense` lay them out.
 */
const indexKinds = ["lexical", "dense"] as const;

/**
 * Deletes the index folders of collections the store no longer has: what a crash between deleting a
 * collection in the store and dropping its files leaves behind. Collection ids are identities, never
 * reused, so such folders can only be garbage (nothing can come back from them). Run it while holding the
 * data-dir lock, before the engine loads anything. Returns the folders removed.
 */
export async function sweepOrphanIndexFolders(
  dataDir: string,
  liveCollectionIds: ReadonlySet<number>,
  logger: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const kind of indexKinds) {
    let entries: string[];
    try {
      entries = await readdir(path.join(dataDir, kind));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || liveCollectionIds.has(Number(entry))) continue;
      const folder = path.join(dataDir, kind, entry);
      await rm(folder, { recursive: true, force: true });
      removed.push(folder);
    }
  }
  if (removed.length > 0) {
    logger.warn("removed index folders of collections that no longer exist (left by a crash)", { removed });
  }
  return removed;
}
