import { filterSchema } from "@sift/core";
import { Hono } from "hono";
import { z } from "zod";
import { type AppDependencies, type AppEnv, readBody, resolveCollection, retrievalOf } from "../context";

const weight = z.number().min(0).max(100);

export const searchRequestSchema = z.strictObject({
  query: z.string().trim().min(1, "must not be empty").max(4096),
  k: z.number().int().min(1).max(200).default(10),
  offset: z.number().int().min(0).max(10_000).default(0),
  filter: filterSchema.optional(),
  /** Default: `hybrid` when the service has an embedding model, else `bm25`. */
  mode: z.enum(["bm25", "dense", "hybrid"]).optional(),
  fusion: z
    .strictObject({
      method: z.enum(["rrf", "minmax", "zscore", "dbsf"]).optional(),
      rrfK: z.number().min(0).max(10_000).optional(),
      weights: z.strictObject({ bm25: weight.optional(), dense: weight.optional() }).optional(),
      candidates: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  /** Rerank the top candidates with the service's reranker (default false: a cross-encoder costs time). */
  rerank: z.boolean().default(false),
});

export function searchRoute(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  app.post("/:collection/search", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const body = await readBody(c, searchRequestSchema);
    const searcher = deps.engine.searcher;
    const { mode, rerank } = retrievalOf(searcher, body, false);
    // Picks up writes made by other processes (e.g. the CLI against the same Postgres).
    await deps.engine.refreshIfStale(collection.id, deps.indexRefreshMs);
    const { weights, ...fusion } = body.fusion ?? {};
    const result = await searcher.search({
      collectionId: collection.id,
      query: body.query,
      k: body.k,
      offset: body.offset,
      filter: body.filter,
      mode,
      fusion: {
        ...fusion,
        ...(weights === undefined ? {} : { weights: { bm25: weights.bm25 ?? 1, dense: weights.dense ?? 1 } }),
      },
      rerank,
      signal: c.req.raw.signal,
    });
    return c.json({ query: body.query, collection: collection.name, ...result });
  });

  return app;
}
