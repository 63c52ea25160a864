import type { Collection, DocumentSummary, IngestionJob, StoredDocument } from "@sift/core";

/** Public JSON shapes. Internal numeric ids stay internal except chunk and job ids. */
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
  id: j.id,
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
