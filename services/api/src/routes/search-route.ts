import { filterSchema } from "@sift/core";
import { Hono } from "hono";
import { z } from "zod";
import { type AppDependencies, type AppEnv, readBody, resolveCollection } from "../context";

export const searchRequestSchema = z.strictObject({
  query: z.string().trim().min(1, "must not be empty").max(4096),
  k: z.number().int().min(1).max(200).default(10),
  offset: z.number().int().min(0).max(10_000).default(0),
  filter: filterSchema.optional(),
  mode: z.enum(["bm25"]).default("bm25"),
});

export function searchRoute(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  app.post("/:collection/search", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const body = await readBody(c, searchRequestSchema);
    // Picks up writes made by other processes (e.g. the CLI against the same Postgres).
    await deps.lexical.refreshIfStale(collection.id, deps.indexRefreshMs);
    const result = await deps.searcher.search({
      collectionId: collection.id,
      query: body.query,
      k: body.k,
      offset: body.offset,
      filter: body.filter,
      mode: body.mode,
      signal: c.req.raw.signal,
    });
    return c.json({ query: body.query, collection: collection.name, ...result });
  });

  return app;
}
