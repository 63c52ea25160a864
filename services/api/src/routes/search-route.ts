import { andFilters } from "@sift/core";
import { authOf } from "../auth";
import {
  type AppDependencies,
  requestDeadline,
  resolveCollection,
  retrievalOf,
  underDeadline,
} from "../context";
import type { HeldCollections } from "../held-collections";
import type { RouteTable } from "../route-table";
import { collectionParams, searchRequestSchema, searchResponseSchema } from "../schemas";
import { searchView } from "../views";

export function searchRoute(routes: RouteTable, deps: AppDependencies, held: HeldCollections): void {
  routes.define(
    {
      method: "post",
      path: "/v1/collections/{collection}/search",
      operationId: "search",
      summary: "Search a collection (BM25, dense or hybrid)",
      description:
        "A scoped key's filter is ANDed into `filter` in every leg. The request has a deadline " +
        "(SIFT_REQUEST_TIMEOUT_MS); a leg that runs out of time is named in `degraded`.",
      tag: "search",
      role: "reader",
      params: collectionParams,
      body: { schema: searchRequestSchema, required: true, limit: "query", filterAt: "filter" },
      responses: { 200: { description: "the hits, best first", schema: searchResponseSchema } },
      errors: [504],
    },
    async (c, { body }) => {
      const collection = await resolveCollection(c, held);
      const searcher = deps.engine.searcher;
      const { mode, rerank } = retrievalOf(searcher, body, false);
      const signal = requestDeadline(c, deps.limits.requestTimeoutMs);
      const result = await underDeadline(signal, "the search", async () => {
        const { weights, ...fusion } = body.fusion ?? {};
        return searcher.search({
          collectionId: collection.id,
          query: body.query,
          k: body.k,
          offset: body.offset,
          // The key's scope narrows every leg; the request cannot widen it.
          filter: andFilters(authOf(c).filter, body.filter),
          mode,
          fusion: {
            ...fusion,
            ...(weights === undefined
              ? {}
              : { weights: { bm25: weights.bm25 ?? 1, dense: weights.dense ?? 1 } }),
          },
          rerank,
          signal,
        });
      });
      deps.metrics?.registry.observeSearch(result.timings, result.mode);
      return c.json({
        query: body.query,
        collection: collection.name,
        ...searchView(result, collection.id, deps.access.ids),
      });
    },
  );
}
