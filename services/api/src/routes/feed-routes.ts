import { ForbiddenError, NotFoundError, type Role } from "@sift/core";
import type { CatalogFeed } from "@sift/engine";
import type { FeedItem } from "@sift/feed";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { recordAudit } from "../audit";
import { authOf, requireRole } from "../auth";
import type { AppDependencies, AppEnv } from "../context";
import {
  eventsAcceptedSchema,
  eventsRequestSchema,
  explanationBodySchema,
  feedPageSchema,
  feedQuerySchema,
  feedStreamEventSchemas,
  itemParams,
  profileBodySchema,
  profileRequestSchema,
  userParams,
} from "../feed-schemas";
import { feedItemView, feedPageView, profileView } from "../feed-views";
import type { RouteTable } from "../route-table";

/** Milliseconds between keep-alive comments on an idle feed stream (proxies drop silent connections). */
const keepAliveMs = 15_000;
/** What a stream tells EventSource clients to wait before reconnecting after the server ended it. */
const reconnectMs = 1_000;

/**
 * The analyst named in the path (with the caller's tenant), as the caller may reach them (docs/security.md):
 * - a key bound to a user reaches only that user: any other is not found (404), as if absent;
 * - a key bound to no user (a service acting for its analysts) reaches every user of its tenant, with
 *   `unbound` as the least role (changing a profile or logging feedback for someone else is a write);
 * - a scoped key (filter) is refused: feed items are not filtered by key scope.
 */
function analystOf(c: Context<AppEnv>, unbound: Role): { tenant: string; user: string } {
  const auth = authOf(c);
  const user = c.req.param("user")!;
  if (auth.filter !== undefined) {
    throw new ForbiddenError("a scoped key cannot use feeds: feed items are not limited to a key's scope");
  }
  if (auth.user !== undefined && auth.user !== user) throw new NotFoundError("user", user);
  if (auth.user === undefined) requireRole(c, unbound);
  return { tenant: auth.tenant, user };
}

export function feedRoutes(routes: RouteTable, deps: AppDependencies & { feed: CatalogFeed }): void {
  const { feed } = deps.feed;

  routes.define(
    {
      method: "put",
      path: "/v1/users/{user}",
      operationId: "putUser",
      summary: "Create or replace an analyst's profile (a new one is backfilled from the corpus)",
      description:
        "Saved queries, coverage filter, followed collections and mutes. Learned state (interest centroids, " +
        "saved documents) is kept across replacements. A key bound to a user may set its own profile; " +
        "otherwise a writer key is needed. Body limit: SIFT_MAX_BODY_BYTES (mutes may list 1,000 documents).",
      tag: "feed",
      role: "reader",
      params: userParams,
      body: { schema: profileRequestSchema, required: true, limit: "documents", filterAt: "coverage" },
      responses: { 200: { description: "the profile as stored", schema: profileBodySchema } },
    },
    async (c, { body }) => {
      const { tenant, user } = analystOf(c, "writer");
      const profile = await deps.feed.putProfile(tenant, user, body, c.req.raw.signal);
      await recordAudit(c, deps, { action: "feed.user.put", target: user });
      return c.json({ profile: profileView(profile) });
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/users/{user}",
      operationId: "getUser",
      summary: "An analyst's profile, with what the feed has learned (without vectors)",
      tag: "feed",
      role: "reader",
      params: userParams,
      responses: { 200: { description: "the profile", schema: profileBodySchema } },
    },
    async (c) => {
      const { tenant, user } = analystOf(c, "reader");
      return c.json({ profile: profileView(await feed.getProfile(tenant, user)) });
    },
  );

  routes.define(
    {
      method: "delete",
      path: "/v1/users/{user}",
      operationId: "deleteUser",
      summary: "Delete an analyst's profile with their feed, events and served feeds",
      tag: "feed",
      role: "reader",
      params: userParams,
      responses: { 204: { description: "deleted" } },
    },
    async (c) => {
      const { tenant, user } = analystOf(c, "writer");
      if (!(await feed.deleteProfile(tenant, user))) throw new NotFoundError("user", user);
      await recordAudit(c, deps, { action: "feed.user.delete", target: user });
      return c.body(null, 204);
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/users/{user}/feed",
      operationId: "readFeed",
      summary: "The analyst's ranked feed, one page",
      description:
        "Pass `nextCursor` back as `cursor` for the next page of the same ranking (null on the last). Each " +
        "read is logged with its `requestId`, positions and features, for impression events and training.",
      tag: "feed",
      role: "reader",
      params: userParams,
      query: feedQuerySchema,
      responses: { 200: { description: "one page of the feed", schema: feedPageSchema } },
    },
    async (c, { query }) => {
      const { tenant, user } = analystOf(c, "reader");
      const page = await feed.read(tenant, user, {
        limit: query.limit,
        cursor: query.cursor ?? null,
      });
      return c.json(feedPageView(page));
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/users/{user}/feed/stream",
      operationId: "streamFeed",
      summary: "New feed items as soon as they are ranked (Server-Sent Events)",
      description:
        "First a `ready` event, then an `item` event for each document matched for the analyst while the " +
        "connection is open (the item as ranked at that moment; read the feed for positions). A comment " +
        "line every 15 s keeps idle connections open. The server ends a stream after 5 minutes; " +
        "EventSource clients reconnect by themselves (`retry: 1000`).",
      tag: "feed",
      role: "reader",
      params: userParams,
      responses: { 200: { description: "the stream", events: feedStreamEventSchemas } },
    },
    async (c) => {
      const { tenant, user } = analystOf(c, "reader");
      await feed.getProfile(tenant, user);
      const endsAt = Date.now() + (deps.limits.feedStreamMs ?? 300_000);
      return streamSSE(c, async (stream) => {
        const pending: FeedItem[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = feed.subscribe(tenant, user, (item) => {
          pending.push(item);
          wake?.();
        });
        let open = true;
        stream.onAbort(() => {
          open = false;
          wake?.();
        });
        try {
          await stream.writeSSE({
            event: "ready",
            data: JSON.stringify({ user, at: new Date().toISOString() }),
            retry: reconnectMs,
          });
          let id = 0;
          while (open && Date.now() < endsAt) {
            const item = pending.shift();
            if (item !== undefined) {
              await stream.writeSSE({
                event: "item",
                id: String(id++),
                data: JSON.stringify(feedItemView(item)),
              });
              continue;
            }
            const timedOut = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(true), Math.min(keepAliveMs, endsAt - Date.now()));
              wake = () => {
                clearTimeout(timer);
                resolve(false);
              };
            });
            wake = undefined;
            if (timedOut && open) await stream.write(": keep-alive\n\n");
          }
        } finally {
          unsubscribe();
        }
      });
    },
  );

  routes.define(
    {
      method: "post",
      path: "/v1/users/{user}/events",
      operationId: "recordFeedEvents",
      summary:
        "A batch of feedback: impressions, opens, dwell, saves, dismissals, mutes, more/less like this",
      description:
        "Each event names an item of this analyst's feed; an impression also the `requestId` of the read " +
        "and the item's `position` in it. The whole batch is refused (400 naming `events.N.field`) when any " +
        "event is invalid or names an item that is not in this analyst's feed. Feedback moves the profile. " +
        "Body limit: SIFT_MAX_BODY_BYTES (a batch holds up to 1,000 events).",
      tag: "feed",
      role: "reader",
      params: userParams,
      body: { schema: eventsRequestSchema, required: true, limit: "documents" },
      responses: { 200: { description: "how many events were logged", schema: eventsAcceptedSchema } },
    },
    async (c, { body }) => {
      const { tenant, user } = analystOf(c, "writer");
      return c.json(await feed.recordEvents(tenant, user, body));
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/users/{user}/feed/{itemId}/why",
      operationId: "explainFeedItem",
      summary:
        "Why an item is in the analyst's feed: matched query and terms, neighbours, peers, contributions",
      tag: "feed",
      role: "reader",
      params: itemParams,
      responses: { 200: { description: "the explanation", schema: explanationBodySchema } },
    },
    async (c) => {
      const { tenant, user } = analystOf(c, "reader");
      const why = await feed.why(tenant, user, c.req.param("itemId")!);
      return c.json({ why });
    },
  );
}
