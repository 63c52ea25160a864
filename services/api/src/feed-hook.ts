import type { Collection } from "@sift/core";
import type { DocumentsChanged } from "@sift/engine";
import type { AppDependencies } from "./context";

/**
 * The one place the service's write path tells the feed about committed changes (docs/adr/0017). A feed
 * failure never fails the write that already committed: it is logged at error level with the change, and
 * the documents reach the feed on their next change.
 */
export async function reportDocumentsChanged(deps: AppDependencies, change: DocumentsChanged): Promise<void> {
  if (deps.feed === undefined) return;
  if (change.added.length + change.updated.length + change.removed.length === 0) return;
  try {
    await deps.feed.onDocumentsChanged(change);
  } catch (error) {
    deps.logger.error("feed: a committed change did not reach the feed", {
      collectionId: change.collectionId,
      added: change.added.length,
      updated: change.updated.length,
      removed: change.removed.length,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}

/** A collection about to be dropped: its documents leave every feed (`externalIds` read before the drop). */
export async function reportCollectionDropped(
  deps: AppDependencies,
  collection: Collection,
  externalIds: readonly string[],
): Promise<void> {
  if (deps.feed === undefined || externalIds.length === 0) return;
  try {
    await deps.feed.onCollectionDropped(collection, externalIds);
  } catch (error) {
    deps.logger.error("feed: a dropped collection's documents did not leave the feed", {
      collection: `${collection.tenant}/${collection.name}`,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}

/**
 * Which of a batch's documents a write added or changed, from their content hashes read before and after
 * it (an unchanged document keeps its hash; a failed one keeps its old hash or stays absent).
 */
export function writtenDocuments(
  ids: readonly string[],
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): { added: string[]; updated: string[] } {
  const added: string[] = [];
  const updated: string[] = [];
  for (const id of ids) {
    const now = after.get(id);
    if (now === undefined) continue;
    const was = before.get(id);
    if (was === undefined) added.push(id);
    else if (was !== now) updated.push(id);
  }
  return { added, updated };
}
