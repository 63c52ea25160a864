// Shared by this package's tests: a feed over the in-memory store, real BM25 statistics and the
// deterministic bag-of-words embedder of @sift/core/testing. Not part of the runtime API.
import type { Metadata } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { createAnalyzer } from "@sift/text";
import { CollectionStatisticsCorpus } from "./corpus";
import { type BackfillSearch, Feed, type FeedOptions } from "./feed";
import { getOrCreate } from "./maps";
import { MemoryFeedStore } from "./memory-feed-store";
import { prepareFeedDocument } from "./prepare";
import type { FeedDocument } from "./types";

export const hour = 3_600_000;

export function testFeed(options: Partial<FeedOptions> = {}) {
  const analyzer = createAnalyzer();
  const corpora = new Map<string, CollectionStatisticsCorpus>();
  const corpusOf = (tenant: string, collection: string) => {
    const key = `${tenant}/${collection}`;
    return getOrCreate(corpora, key, () => new CollectionStatisticsCorpus(analyzer));
  };
  const { embedder, vector } = bagOfWordsEmbedder({ dimensions: 128 });
  const store = new MemoryFeedStore();
  const clock = { now: Date.parse("2026-03-01T08:00:00Z") };
  const feed = new Feed({
    store,
    corpora: { corpus: corpusOf },
    embedder,
    clock: () => clock.now,
    ...options,
  });
  /** A document as the catalog would hand it over, counted into its collection's statistics. */
  const document = (
    id: string,
    text: string,
    extra: { tenant?: string; collection?: string; title?: string; metadata?: Metadata } = {},
  ): FeedDocument => {
    const tenant = extra.tenant ?? "acme";
    const collection = extra.collection ?? "news";
    const prepared = prepareFeedDocument(
      {
        tenant,
        collection,
        documentId: id,
        title: extra.title ?? id,
        text,
        chunks: [{ text, headingPath: [] }],
        chunkVectors: [vector(`${extra.title ?? id} ${text}`)],
        metadata: extra.metadata ?? {},
        arrivedAt: clock.now,
      },
      analyzer,
    );
    for (const chunk of prepared.chunks) corpusOf(tenant, collection).add(chunk);
    return prepared;
  };
  return { feed, store, clock, document, vector, analyzer };
}

/** A backfill over a fixed list: every document sharing a word with the query, in list order. */
export function listBackfill(documents: () => FeedDocument[]): BackfillSearch {
  return {
    async search({ tenant, collection, query, limit }) {
      const words = new Set(
        query
          .toLowerCase()
          .split(/\W+/)
          .filter((w) => w.length > 3),
      );
      return documents()
        .filter((d) => d.tenant === tenant && d.collection === collection)
        .filter((d) =>
          d.text
            .toLowerCase()
            .split(/\W+/)
            .some((w) => words.has(w)),
        )
        .slice(0, limit);
    },
  };
}
