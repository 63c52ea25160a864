/**
 * The feed's request and response shapes (`/v1/users/…`). Requests are `@sift/feed`'s own input schemas, so
 * the route and the package refuse the same input with the same field paths; responses describe what
 * `feed-views.ts` produces.
 */
import { filterSchema } from "@sift/core";
import { featureNames, feedEventsInputSchema, profileInputSchema } from "@sift/feed";
import { z } from "zod";

export const userPattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const userSchema = z
  .string()
  .regex(
    userPattern,
    "1–128 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
  )
  .describe("the analyst's id (yours)");

export const userParams = { user: userSchema };
export const itemParams = {
  user: userSchema,
  itemId: z
    .string()
    .min(1)
    .max(1024)
    .describe("an item id from the feed (`collection/documentId`; URL-encode the `/` as %2F)"),
};

export const profileRequestSchema = profileInputSchema;
export const eventsRequestSchema = feedEventsInputSchema;

export const feedQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z.string().min(1).max(1024).optional(),
});

const instant = z.iso.datetime({ offset: true }).describe("ISO 8601 instant");
const documentRef = z.object({ collection: z.string(), documentId: z.string() });
const features = z
  .object(Object.fromEntries(featureNames.map((name) => [name, z.number()])))
  .describe("every ranking feature of the item (see docs/feed.md)");

export const profileSchema = z.object({
  user: z.string(),
  savedQueries: z.array(z.object({ id: z.string(), text: z.string() })),
  coverage: filterSchema.optional().describe("absent: everything in the followed collections"),
  collections: z.array(z.string()),
  mutes: z.object({
    sources: z.array(z.string()),
    tags: z.array(z.string()),
    documents: z.array(documentRef),
  }),
  learned: z.object({
    centroids: z.array(
      z.object({
        id: z.string(),
        mass: z.number(),
        updatedAt: instant,
        origin: z.union([
          z.object({ kind: z.literal("query"), queryId: z.string() }),
          z.object({ kind: z.literal("feedback"), document: documentRef }),
        ]),
      }),
    ),
    saved: z.array(z.object({ document: documentRef, title: z.string(), savedAt: instant })),
    avoided: z.number().int().describe("documents marked 'less like this' that the feed keeps away from"),
  }),
  createdAt: instant,
  updatedAt: instant,
  version: z.number().int(),
});
export const profileBodySchema = z.object({ profile: profileSchema });

export const feedItemSchema = z.object({
  itemId: z.string(),
  collection: z.string(),
  documentId: z.string(),
  title: z.string(),
  source: z.string().nullable(),
  publishedAt: instant,
  score: z.number(),
  features,
  alsoFrom: z.array(z.string()).describe("other sources of the same story (near-duplicates)"),
  members: z.array(documentRef).describe("every document of the item's near-duplicate cluster"),
});

export const feedPageSchema = z.object({
  requestId: z.string().describe("pass with impression events, with each item's position"),
  ranker: z.string(),
  asOf: instant,
  items: z.array(feedItemSchema.extend({ position: z.number().int().min(1) })),
  nextCursor: z.string().nullable(),
});

export const eventsAcceptedSchema = z.object({ accepted: z.number().int() });

const contributionShape = Object.fromEntries(featureNames.map((name) => [name, z.number().optional()]));
export const explanationSchema = z.object({
  itemId: z.string(),
  documentKey: z.string(),
  title: z.string(),
  score: z.number(),
  ranker: z.string(),
  features,
  contributions: z.object(contributionShape),
  matchedQuery: z
    .object({ queryId: z.string(), text: z.string(), terms: z.array(z.string()), bm25: z.number() })
    .nullable(),
  nearestQuery: z.object({ queryId: z.string(), text: z.string(), cosine: z.number() }).nullable(),
  nearestCentroid: z.object({ centroidId: z.string(), origin: z.string(), cosine: z.number() }).nullable(),
  nearestSaved: z.object({ documentKey: z.string(), title: z.string(), cosine: z.number() }).nullable(),
  collaborative: z
    .object({
      peers: z.number(),
      coEngagement: z.number(),
      coRead: z.number(),
      coReadWith: z.string().nullable(),
    })
    .nullable(),
  alsoFrom: z.array(z.string()),
  reasons: z.array(z.string()),
});
export const explanationBodySchema = z.object({ why: explanationSchema });

export const feedStreamEventSchemas = {
  ready: z.object({ user: z.string(), at: instant }),
  item: feedItemSchema,
};
