import { type DocumentSummary, matchesFilter, NotFoundError, ValidationError } from "@sift/core";
import { deleteDocuments, ingestDocuments } from "@sift/ingest";
import { recordAudit } from "../audit";
import { authOf } from "../auth";
import { type AppDependencies, resolveCollection } from "../context";
import { feedSettled } from "../feed-hook";
import type { RouteTable } from "../route-table";
import {
  collectionParams,
  documentBatchSchema,
  documentParams,
  documentSchema,
  documentsPageSchema,
  jobBodySchema,
  pageQuerySchema,
} from "../schemas";
import { documentSummaryView, documentView, jobView } from "../views";

/** A scoped key's page scans at most this many documents per requested one before it returns short. */
const scopedScanFactor = 10;

export function documentsRoutes(routes: RouteTable, deps: AppDependencies): void {
  routes.define(
    {
      method: "post",
      path: "/v1/collections/{collection}/documents",
      operationId: "writeDocuments",
      summary: "Create or replace a batch of documents (one ingestion job)",
      description:
        "Unchanged documents (same content hash) are left alone. Body limit: SIFT_MAX_BODY_BYTES. " +
        "Metadata nests at most 32 levels.",
      tag: "documents",
      role: "writer",
      params: collectionParams,
      body: { schema: documentBatchSchema, required: true, limit: "documents" },
      responses: {
        200: { description: "the job, succeeded", schema: jobBodySchema },
        500: { description: "the job, failed (see its errors)", schema: jobBodySchema },
      },
      errors: [409],
    },
    async (c, { body }) => {
      const collection = await resolveCollection(c, deps.store);
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
      deps.metrics?.registry.observeIngest(job.counts);
      await feedSettled(deps);
      await recordAudit(c, deps, {
        action: "document.write",
        collection: collection.name,
        detail: {
          job: job.number,
          status: job.status,
          counts: { ...job.counts },
          documents: [...seen.keys()],
        },
      });
      return c.json({ job: jobView(job) }, job.status === "succeeded" ? 200 : 500);
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/collections/{collection}/documents",
      operationId: "listDocuments",
      summary: "Page through documents by id",
      description:
        "Pass `nextCursor` back as `cursor`; null on the last page. With a scoped key a page holds only " +
        "documents in scope and may be shorter than `limit` while more follow.",
      tag: "documents",
      role: "reader",
      params: collectionParams,
      query: pageQuerySchema,
      responses: { 200: { description: "one page", schema: documentsPageSchema } },
    },
    async (c, { query }) => {
      const collection = await resolveCollection(c, deps.store);
      const scope = authOf(c).filter;
      if (scope === undefined) {
        const page = await deps.store.listDocuments(collection.id, {
          limit: query.limit,
          ...(query.cursor === undefined ? {} : { after: query.cursor }),
        });
        return c.json({
          documents: page.documents.map(documentSummaryView),
          nextCursor: page.nextCursor ?? null,
        });
      }
      // Scoped: filter pages until this one is full, the collection ends, or the scan budget is spent.
      const documents: DocumentSummary[] = [];
      let cursor = query.cursor;
      let scanned = 0;
      let more = true;
      while (documents.length < query.limit && more && scanned < query.limit * scopedScanFactor) {
        const page = await deps.store.listDocuments(collection.id, {
          limit: query.limit - documents.length,
          ...(cursor === undefined ? {} : { after: cursor }),
        });
        scanned += page.documents.length;
        documents.push(...page.documents.filter((d) => matchesFilter(scope, d.metadata)));
        cursor = page.documents.at(-1)?.externalId ?? cursor;
        more = page.nextCursor !== undefined;
      }
      return c.json({
        documents: documents.map(documentSummaryView),
        nextCursor: more ? (cursor ?? null) : null,
      });
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/collections/{collection}/documents/{id}",
      operationId: "getDocument",
      summary: "A document with its text",
      tag: "documents",
      role: "reader",
      params: documentParams,
      responses: { 200: { description: "the document", schema: documentSchema } },
    },
    async (c) => {
      const collection = await resolveCollection(c, deps.store);
      const id = c.req.param("id")!;
      const document = await deps.store.getDocument(collection.id, id);
      const scope = authOf(c).filter;
      if (document === undefined || (scope !== undefined && !matchesFilter(scope, document.metadata))) {
        throw new NotFoundError("document", id);
      }
      return c.json({ document: documentView(document) });
    },
  );

  routes.define(
    {
      method: "delete",
      path: "/v1/collections/{collection}/documents/{id}",
      operationId: "deleteDocument",
      summary: "Delete a document from the store and every index",
      tag: "documents",
      role: "writer",
      params: documentParams,
      responses: { 204: { description: "deleted" } },
    },
    async (c) => {
      const collection = await resolveCollection(c, deps.store);
      const id = c.req.param("id")!;
      const deleted = await deleteDocuments({
        store: deps.store,
        lexical: deps.engine.indexes,
        collectionId: collection.id,
        externalIds: [id],
      });
      if (deleted.deleted.length === 0) throw new NotFoundError("document", id);
      await feedSettled(deps);
      await recordAudit(c, deps, { action: "document.delete", collection: collection.name, target: id });
      return c.body(null, 204);
    },
  );
}
