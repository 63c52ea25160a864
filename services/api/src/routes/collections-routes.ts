import { Hono } from "hono";
import { z } from "zod";
import {
  type AppDependencies,
  type AppEnv,
  collectionNameOf,
  readBody,
  resolveCollection,
  tenantOf,
} from "../context";
import { collectionView } from "../views";

const createSchema = z.strictObject({ settings: z.record(z.string(), z.json()).optional() }).optional();

export function collectionsRoutes(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  app.get("/", async (c) => {
    const collections = await deps.store.listCollections(tenantOf(c));
    return c.json({ collections: collections.map(collectionView) });
  });

  app.put("/:collection", async (c) => {
    const tenant = tenantOf(c);
    const name = collectionNameOf(c);
    const hasBody = (await c.req.raw.clone().text()) !== "";
    const body = hasBody ? await readBody(c, createSchema) : undefined;
    const { collection, created } = await deps.store.ensureCollection({
      tenant,
      name,
      ...(body?.settings === undefined ? {} : { settings: body.settings }),
    });
    await deps.engine.load(collection.id);
    return c.json({ collection: collectionView(collection), created }, created ? 201 : 200);
  });

  app.get("/:collection", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const documents = await deps.store.countDocuments(collection.id);
    return c.json({
      collection: collectionView(collection),
      documents,
      indexes: await deps.engine.stats(collection.id),
    });
  });

  app.delete("/:collection", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    await deps.store.deleteCollection(collection.id);
    await deps.engine.drop(collection.id);
    return c.body(null, 204);
  });

  return app;
}
