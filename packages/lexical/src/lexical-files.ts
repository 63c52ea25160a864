import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DocumentStore, IndexGeneration, Logger } from "@sift/core";
import { manifestSegmentFiles } from "./segment-file";

/** The `kind` of BM25 generations in the store's generation table. */
export const BM25_GENERATION_KIND = "bm25";

let fileCounter = 0;

/**
 * A file name unique to this process: `<prefix>-<pid>-<time>-<counter><suffix>`. The pid tells other
 * processes whose file it is (they delete only their own files, and those of processes that are gone).
 */
export function ownFileName(prefix: "seg" | "manifest", suffix: string): string {
  fileCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${fileCounter}${suffix}`;
}

/** The pid a file name carries (ours, or a temporary's `.<pid>.<time>.tmp`), if any. */
function writerOf(name: string): number | undefined {
  const temporary = /\.(\d+)\.\d+\.tmp$/.exec(name);
  if (temporary !== null) return Number(temporary[1]);
  const own = /^(?:seg|manifest)-(\d+)-/.exec(name);
  return own === null ? undefined : Number(own[1]);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what the collection no longer needs, never what another live process may use:
 *
 * - generation rows: keeps `current` and `previous` (the fallback), deletes older non-building rows;
 * - files: a file is deleted only when this process wrote it (`written`), or its writer's pid is no longer
 *   alive (a crash's leftovers), or it is a version-1 `gen-<n>.json` that no row references; and never
 *   while a remaining row references it or any manifest in the directory (ours or another process's,
 *   registered or not yet) names it.
 */
export async function collectGarbage(input: {
  store: DocumentStore;
  directory: string;
  collectionId: number;
  current: IndexGeneration;
  previous: IndexGeneration | undefined;
  written: Set<string>;
  /** Files to keep whatever references them (segments written for a commit still to come). */
  keep?: ReadonlySet<string>;
  logger: Logger;
}): Promise<void> {
  const { store, directory, collectionId, current, previous, written, logger } = input;
  const keep = input.keep ?? new Set<string>();
  try {
    const rows = await store.listGenerations(collectionId, BM25_GENERATION_KIND);
    const kept: IndexGeneration[] = [];
    for (const row of rows) {
      const keep = row.id === current.id || row.id === previous?.id || row.status === "building";
      if (keep || row.generation > current.generation) kept.push(row);
      else await store.deleteGeneration(row.id);
    }
    const referenced = new Set(kept.map((row) => row.path.split("/").at(-1)!));
    const names = await readdir(directory);
    const deletable = (name: string) => {
      if (written.has(name)) return true;
      if (/^gen-\d+\.json$/.test(name)) return true;
      const pid = writerOf(name);
      return pid !== undefined && !processAlive(pid);
    };
    // Manifests that stay name the segment files that stay.
    const removedManifests = new Set(
      names.filter(
        (name) =>
          name.startsWith("manifest-") && !name.endsWith(".tmp") && !referenced.has(name) && deletable(name),
      ),
    );
    const inUse = new Set(referenced);
    for (const name of names) {
      if (!name.startsWith("manifest-") || name.endsWith(".tmp") || removedManifests.has(name)) continue;
      inUse.add(name);
      for (const file of (await manifestSegmentFiles(join(directory, name))) ?? []) inUse.add(file);
    }
    for (const name of names) {
      if (inUse.has(name) || keep.has(name) || !deletable(name)) continue;
      await rm(join(directory, name), { force: true });
      written.delete(name);
    }
  } catch (error) {
    logger.warn("lexical: could not remove old generations", { collectionId, error: String(error) });
  }
}
