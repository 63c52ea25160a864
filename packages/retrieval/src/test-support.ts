// Test helpers: a collection snapshot read straight from a store and a lexical index manager (what the
// engine's refresher maintains in production). Not part of the runtime API.
import type { DocumentStore, VectorIndex } from "@sift/core";
import type { LexicalIndexManager } from "@sift/lexical";
import { ChunkCatalog } from "./chunk-catalog";
import type { CollectionSnapshot, CollectionSnapshots } from "./collection-snapshot";

/** A snapshot of the store's chunks now (the lexical index must be synced with the store already). */
export async function snapshotFromStore(options: {
  store: DocumentStore;
  lexical: LexicalIndexManager;
  collectionId: number;
  vectors?: VectorIndex | undefined;
}): Promise<CollectionSnapshot> {
  const { store, lexical, collectionId } = options;
  const chunks = await store.scanChunks(collectionId, { afterId: 0, limit: 1_000_000 });
  return {
    collectionId,
    revision: await store.getRevision(collectionId),
    catalog: ChunkCatalog.of(chunks),
    lexical: await lexical.openSnapshot(collectionId),
    dense:
      options.vectors === undefined ? { unavailable: "no vectors in this test" } : { index: options.vectors },
  };
}

/** Serves one fixed snapshot. */
export function fixedSnapshots(snapshot: CollectionSnapshot): CollectionSnapshots {
  return { current: () => snapshot, open: async () => snapshot };
}
