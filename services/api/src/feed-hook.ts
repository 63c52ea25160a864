import type { Collection } from "@sift/core";
import type { AppDependencies } from "./context";

/**
 * Waits until the feed has applied the changes this write's index sync reported (docs/adr/0021): document
 * changes reach the feed only through the engine's snapshot changes, whoever wrote them, so the write path
 * reports nothing itself; it waits, so a writer reads its own writes in the feed. A feed failure never fails
 * the committed write (`CatalogFeed` logs it, and the collection's next change catches up from its cursor).
 */
export async function feedSettled(deps: AppDependencies): Promise<void> {
  await deps.feed?.settled();
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
