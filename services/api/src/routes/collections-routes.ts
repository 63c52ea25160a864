import { recordAudit } from "../audit";
import { authOf } from "../auth";
import { type AppDependencies, collectionNameOf, resolveCollection } from "../context";
import { reportCollectionDropped } from "../feed-hook";
import type { RouteTable } from "../route-table";
import {
  collectionCreatedSchema,
  collectionDetailSchema,
  collectionParams,
  collectionsListSchema,
  createCollectionSchema,
} from "../schemas";
import { collectionView } from "../views";

export function collectionsRoutes(routes: RouteTable, deps: AppDependencies): void {
  routes.define(
    {
      method: "get",
      path: "/v1/collections",
      operationId: "listCollections",
      summary: "List the tenant's collections",
      tag: "collections",
      role: "reader",
      responses: { 200: { description: "the collections, by name", schema: collectionsListSchema } },
    },
    async (c) => {
      const collections = await deps.store.listCollections(authOf(c).tenant);
      return c.json({ collections: collections.map(collectionView) });
    },
  );

  routes.define(
    {
      method: "put",
      path: "/v1/collections/{collection}",
      operationId: "putCollection",
      summary: "Create a collection (or return it unchanged)",
      description: `At most SIFT_MAX_COLLECTIONS_PER_TENANT (${deps.limits.maxCollectionsPerTenant}) per tenant.`,
      tag: "collections",
      role: "writer",
      params: collectionParams,
      body: { schema: createCollectionSchema, required: false, limit: "query" },
      responses: {
        200: { description: "it existed", schema: collectionCreatedSchema },
        201: { description: "created", schema: collectionCreatedSchema },
      },
    },
    async (c, { body }) => {
      const name = collectionNameOf(c);
      const { collection, created } = await deps.store.ensureCollection({
        tenant: authOf(c).tenant,
        name,
        maxPerTenant: deps.limits.maxCollectionsPerTenant,
        ...(body?.settings === undefined ? {} : { settings: body.settings }),
      });
      await deps.engine.load(collection.id);
      if (created) await recordAudit(c, deps, { action: "collection.create", collection: name });
      return c.json({ collection: collectionView(collection), created }, created ? 201 : 200);
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/collections/{collection}",
      operationId: "getCollection",
      summary: "A collection with its document count and index state",
      description:
        "For a scoped key, `documents` and `indexes` are null: they describe the whole collection.",
      tag: "collections",
      role: "reader",
      params: collectionParams,
      responses: { 200: { description: "the collection", schema: collectionDetailSchema } },
    },
    async (c) => {
      const collection = await resolveCollection(c, deps.store);
      if (authOf(c).filter !== undefined) {
        return c.json({ collection: collectionView(collection), documents: null, indexes: null });
      }
      return c.json({
        collection: collectionView(collection),
        documents: await deps.store.countDocuments(collection.id),
        indexes: await deps.engine.stats(collection.id),
      });
    },
  );

  routes.define(
    {
      method: "delete",
      path: "/v1/collections/{collection}",
      operationId: "deleteCollection",
      summary: "Delete a collection with its documents and indexes",
      tag: "collections",
      role: "writer",
      params: collectionParams,
      responses: { 204: { description: "deleted" } },
    },
    async (c) => {
      const collection = await resolveCollection(c, deps.store);
      const externalIds = deps.feed === undefined ? [] : await deps.store.listExternalIds(collection.id);
      await deps.store.deleteCollection(collection.id);
      await deps.engine.drop(collection.id);
      await reportCollectionDropped(deps, collection, externalIds);
      await recordAudit(c, deps, { action: "collection.delete", collection: collection.name });
      return c.body(null, 204);
    },
  );
}
