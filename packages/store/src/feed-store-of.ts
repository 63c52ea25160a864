import type { SiftStore } from "@sift/core";
import type { FeedStore } from "@sift/feed";
import { DrizzleDocumentStore } from "./drizzle-document-store";

/**
 * The durable {@link FeedStore} of a store opened by `openStore` (its tables, its connection; migrated with
 * it). Throws for any other `SiftStore`: the feed is kept where the documents are.
 */
export function feedStoreOf(store: SiftStore): FeedStore {
  if (store instanceof DrizzleDocumentStore) return store.feed;
  throw new Error("feedStoreOf: not a store opened by openStore()");
}
