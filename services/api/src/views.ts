import type { IdCodec } from "@sift/access";
import type { AnswerResult } from "@sift/answer";
import type {
  ApiKeyRecord,
  AuditEvent,
  Collection,
  DocumentSummary,
  IngestionJob,
  StoredDocument,
} from "@sift/core";
import type { SearchResponse } from "@sift/retrieval";

/**
 * Public JSON shapes (see `schemas.ts`). Nothing global leaves through them: collections by name, jobs by
 * their number in the collection, chunks by an id permuted per collection, audit events without their id.
 */
export const collectionView = (c: Collection) => ({
  name: c.name,
  tenant: c.tenant,
  settings: c.settings,
  createdAt: c.createdAt.toISOString(),
});

export const documentSummaryView = (d: DocumentSummary) => ({
  id: d.externalId,
  title: d.title,
  sourceUri: d.sourceUri,
  metadata: d.metadata,
  contentHash: d.contentHash,
  version: d.version,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

export const documentView = (d: StoredDocument) => ({ ...documentSummaryView(d), text: d.content });

export const jobView = (j: IngestionJob) => ({
  id: j.number,
  kind: j.kind,
  source: j.source,
  status: j.status,
  counts: j.counts,
  errors: j.errors,
  timings: j.timings,
  startedAt: j.startedAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
  finishedAt: j.finishedAt?.toISOString() ?? null,
});

/** The permutation domain of a collection's chunk ids. */
export const chunkDomain = (collectionId: number) => `chunk:${collectionId}`;

/** A search response with public chunk ids. */
export function searchView(result: SearchResponse, collectionId: number, ids: IdCodec) {
  const chunkIds = ids.encodeMany(
    chunkDomain(collectionId),
    result.hits.map((hit) => hit.chunkId),
  );
  return { ...result, hits: result.hits.map((hit, i) => ({ ...hit, chunkId: chunkIds[i]! })) };
}

/** An answer's JSON body (its chunk ids are already public: the route hands public ids to the pipeline). */
export const answerView = (answered: AnswerResult) => ({
  ...answered,
  evidence: {
    ...answered.evidence,
    threshold: Number.isFinite(answered.evidence.threshold) ? answered.evidence.threshold : null,
  },
});

export const keyView = (k: ApiKeyRecord) => ({
  id: k.id,
  tenant: k.tenant,
  role: k.role,
  name: k.name,
  filter: k.filter,
  user: k.user,
  preview: k.preview,
  createdAt: k.createdAt.toISOString(),
  createdBy: k.createdBy,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

export const auditView = (e: AuditEvent) => ({
  at: e.at.toISOString(),
  actor: e.actor,
  action: e.action,
  collection: e.collection,
  target: e.target,
  detail: e.detail,
  requestId: e.requestId,
});

/** The permutation domain of a tenant's audit cursors. */
export const auditDomain = (tenant: string) => `audit:${tenant}`;
