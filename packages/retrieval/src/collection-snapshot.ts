import type { VectorIndex } from "@sift/core";
import type { LexicalSnapshot } from "@sift/lexical";
import type { ChunkCatalog } from "./chunk-catalog";

/** The dense side of a snapshot: the collection's vector index, or why a search cannot use one. */
export type DenseHandle = { readonly index: VectorIndex } | { readonly unavailable: string };

/**
 * Everything a search of one collection reads, as of one store revision: the chunk catalog, the lexical
 * snapshot over exactly the catalog's chunks, and the vector index. Immutable except the vector index, a
 * live handle shared by successive snapshots: it may briefly hold chunks a snapshot does not (added before
 * the swap, deleted after it), so the searcher keeps only dense hits the catalog holds.
 */
export interface CollectionSnapshot {
  readonly collectionId: number;
  /** The store revision the catalog and the lexical snapshot correspond to. */
  readonly revision: number;
  readonly catalog: ChunkCatalog;
  readonly lexical: LexicalSnapshot;
  readonly dense: DenseHandle;
}

/** Where the searcher gets snapshots: the engine's per-collection refreshers. */
export interface CollectionSnapshots {
  /** The collection's current snapshot, synchronously; undefined when it is not loaded. */
  current(collectionId: number): CollectionSnapshot | undefined;
  /** Loads the collection (reading the store once) and returns its snapshot. */
  open(collectionId: number): Promise<CollectionSnapshot>;
}
