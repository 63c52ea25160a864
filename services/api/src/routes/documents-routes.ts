import { NotFoundError, ValidationError } from "@sift/core";
import { deleteDocuments, ingestDocuments } from "@sift/ingest";
import { Hono } from "hono";
import { z } from "zod";
import {
  type AppDependencies,
  type AppEnv,
  pageQuerySchema,
  parseQuery,
  readBody,
  resolveCollection,
} from "../context";
import { documentSummaryView, documentView, jobView } from "../views";

const documentSchema = z.strictObject({
  id: z.string().min(1).max(512),
  title: z.string().max(10_000).optional(),
  text: z.string(),
  sourceUri: z.string().max(4096).optional(),
  metadata: z.record(z.string(), z.json()).optional(),
});

const batchSchema = z.strictObject({ documents: z.array(documentSchema).min(1).max(1000) });

export function documentsRoutes(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  // Create or replace a batch. Unchanged documents (same content hash) are left alone.
  app.post("/:collection/documents", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const body = await readBody(c, batchSchema);
    const seen = new Map<string, number>();
    const duplicates = body.documents.flatMap((d, i) => {
      const first = seen.get(d.id);
      seen.set(d.id, i);
      return first === undefined
        ? []
        : [{ path: `documents.${i}.id`, message: `duplicate of documents.${first}.id ('${d.id}')` }];
    });
    if (duplicates.length > 0) throw new ValidationError("duplicate document ids in one batch", duplicates);
    // Settles whether the collection's vectors are in step before this write adds chunks to it.
    await deps.engine.denseStatus(collection.id);
    const job = await ingestDocuments({
      store: deps.store,
      lexical: deps.engine.indexes,
      collectionId: collection.id,
      documents: body.documents.map((d) => ({
        externalId: d.id,
        title: d.title,
        text: d.text,
        sourceUri: d.sourceUri,
        metadata: d.metadata,
      })),
      logger: deps.logger,
    });
    return c.json({ job: jobView(job) }, job.status === "succeeded" ? 200 : 500);
  });

  app.get("/:collection/documents", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const query = parseQuery(c, pageQuerySchema);
    const page = await deps.store.listDocuments(collection.id, {
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { after: query.cursor }),
    });
    return c.json({
      documents: page.documents.map(documentSummaryView),
      nextCursor: page.nextCursor ?? null,
    });
  });

  app.get("/:collection/documents/:id", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const id = c.req.param("id");
    const document = await deps.store.getDocument(collection.id, id);
    if (document === undefined) throw new NotFoundError("document", id);
    return c.json({ document: documentView(document) });
  });

  app.delete("/:collection/documents/:id", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const id = c.req.param("id");
    const deleted = await deleteDocuments({
      store: deps.store,
      lexical: deps.engine.indexes,
      collectionId: collection.id,
      externalIds: [id],
    });
    if (deleted.deleted.length === 0) throw new NotFoundError("document", id);
    return c.body(null, 204);
  });

  return app;
}
