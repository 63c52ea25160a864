import { type FeedItem, type FeedPage, type Profile, parseDocumentKey } from "@sift/feed";
import type { z } from "zod";
import type { feedItemSchema, feedPageSchema, profileSchema } from "./feed-schemas";

const iso = (ms: number) => new Date(ms).toISOString();

/** A profile as the API shows it: stated parts in full, learned state without its vectors. */
export function profileView(profile: Profile): z.output<typeof profileSchema> {
  return {
    user: profile.user,
    savedQueries: profile.savedQueries.map((q) => ({ id: q.id, text: q.text })),
    ...(profile.coverage === null ? {} : { coverage: profile.coverage }),
    collections: profile.collections,
    mutes: {
      sources: profile.mutes.sources,
      tags: profile.mutes.tags,
      documents: profile.mutes.documents.map(parseDocumentKey),
    },
    learned: {
      centroids: profile.learned.centroids.map((c) => ({
        id: c.id,
        mass: c.mass,
        updatedAt: iso(c.updatedAt),
        origin:
          c.origin.kind === "query"
            ? { kind: "query" as const, queryId: c.origin.queryId }
            : { kind: "feedback" as const, document: parseDocumentKey(c.origin.documentKey) },
      })),
      saved: profile.learned.saved.map((s) => ({
        document: parseDocumentKey(s.documentKey),
        title: s.title,
        savedAt: iso(s.savedAt),
      })),
      avoided: profile.learned.avoided.length,
    },
    createdAt: iso(profile.createdAt),
    updatedAt: iso(profile.updatedAt),
    version: profile.version,
  };
}

export function feedItemView(item: FeedItem): z.output<typeof feedItemSchema> {
  return {
    itemId: item.itemId,
    collection: item.collection,
    documentId: item.documentId,
    title: item.title,
    source: item.source,
    publishedAt: iso(item.publishedAt),
    score: item.score,
    features: item.features,
    alsoFrom: item.alsoFrom,
    members: item.members.map(parseDocumentKey),
  };
}

/** A page with each item's 1-based position in the whole ranking (what impression events report). */
export function feedPageView(page: FeedPage): z.output<typeof feedPageSchema> {
  return {
    requestId: page.requestId,
    ranker: page.ranker,
    asOf: iso(page.asOf),
    items: page.items.map((item, i) => ({ ...feedItemView(item), position: page.offset + i + 1 })),
    nextCursor: page.nextCursor,
  };
}
