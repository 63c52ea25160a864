/**
 * Every request and response shape of the HTTP API, as zod schemas: routes validate requests with them,
 * and `openapi.ts` turns them into the OpenAPI document (one source of truth, docs/adr/0011). Response
 * schemas describe what the views in `views.ts` produce; tests parse real responses with them.
 */
import { filterSchema, roles } from "@sift/core";
import { z } from "zod";

export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const nameMessage =
  "1–128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";
export const nameSchema = z.string().regex(namePattern, nameMessage);

const instant = z.iso.datetime({ offset: true }).describe("ISO 8601 instant");
/** Any JSON value (recursive: one component in the OpenAPI document). */
export const jsonValueSchema = z.json();
export const metadataSchema = z.record(z.string(), jsonValueSchema);
const metadata = metadataSchema;

// ---------------------------------------------------------------------------------------------- requests

export const collectionParams = { collection: nameSchema.describe("collection name") };
export const documentParams = {
  ...collectionParams,
  id: z.string().min(1).max(512).describe("the document's id (yours)"),
};
export const jobParams = {
  ...collectionParams,
  jobId: z
    .string()
    .regex(/^\d{1,15}$/, "a job number")
    .describe("the job's number in the collection"),
};
export const keyParams = { id: z.string().min(1).max(64).describe("the key's id (key_…)") };

export const createCollectionSchema = z.strictObject({ settings: metadata.optional() });

export const documentInputSchema = z.strictObject({
  id: z.string().min(1).max(512),
  title: z.string().max(10_000).optional(),
  text: z.string(),
  sourceUri: z.string().max(4096).optional(),
  metadata: metadata.optional(),
});
export const documentBatchSchema = z.strictObject({
  documents: z.array(documentInputSchema).min(1).max(1000),
});

export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(1024).optional(),
});
export const jobsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
export const auditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,16}$/, "a cursor from nextCursor")
    .optional(),
});

const mode = z.enum(["bm25", "dense", "hybrid"]);
const weight = z.number().min(0).max(100);

export const searchRequestSchema = z.strictObject({
  query: z.string().trim().min(1, "must not be empty").max(4096).regex(/\S/, "must not be empty"),
  k: z.number().int().min(1).max(200).default(10),
  offset: z.number().int().min(0).max(10_000).default(0),
  filter: filterSchema.optional(),
  /** Default: `hybrid` when the service has an embedding model, else `bm25`. */
  mode: mode.optional(),
  fusion: z
    .strictObject({
      method: z
        .enum(["rrf", "minmax", "zscore", "dbsf"])
        .optional()
        .describe("default zscore (z-scores of each leg, averaged by weight)"),
      rrfK: z.number().min(0).max(10_000).optional().describe("RRF's k (method rrf only); default 60"),
      weights: z
        .strictObject({ bm25: weight.optional(), dense: weight.optional() })
        .optional()
        .describe("per-leg weights; default 1 each"),
      candidates: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .optional()
        .describe("hits each leg contributes; default 100"),
    })
    .optional()
    .describe(
      "hybrid only; fields left out keep the service's defaults (z-score, weights 1/1, 100 candidates a leg)",
    ),
  /** Rerank the top candidates with the service's reranker (default false: a cross-encoder costs time). */
  rerank: z.boolean().default(false),
});

export const answerRequestSchema = z.strictObject({
  question: z.string().trim().min(1, "must not be empty").max(4096).regex(/\S/, "must not be empty"),
  filter: filterSchema.optional(),
  /** Default: `hybrid` when the service has an embedding model, else `bm25`. */
  mode: mode.optional(),
  /** Default: true when the service has a reranker. */
  rerank: z.boolean().optional(),
  /** Passages retrieved before packing; default the service's setting. */
  candidates: z.number().int().min(1).max(100).optional(),
  /** Output token budget; default the service's setting. */
  maxTokens: z.number().int().min(1).max(4096).optional(),
  /** Server-Sent Events instead of one JSON body (also chosen by `Accept: text/event-stream`). */
  stream: z.boolean().optional(),
});

export const createKeySchema = z.strictObject({
  role: z.enum(roles),
  name: z.string().min(1).max(200).optional(),
  filter: filterSchema.optional().describe("reader keys only: ANDed into every search and answer"),
  user: nameSchema.optional().describe("the user the key acts for (feeds)"),
  expiresAt: instant.optional(),
});

// --------------------------------------------------------------------------------------------- responses

export const fieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    fields: z.array(fieldIssueSchema).max(20).optional(),
  }),
});

export const healthSchema = z.object({ status: z.literal("ok") });
export const readySchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.record(z.string(), z.string()),
});

export const collectionSchema = z.object({
  name: z.string(),
  tenant: z.string(),
  settings: metadata,
  createdAt: instant,
});
export const collectionCreatedSchema = z.object({ collection: collectionSchema, created: z.boolean() });
export const collectionsListSchema = z.object({ collections: z.array(collectionSchema) });
export const collectionDetailSchema = z.object({
  collection: collectionSchema,
  /** null for a scoped key: a count of the whole collection would tell what the scope hides. */
  documents: z.number().int().nullable(),
  indexes: z
    .object({
      bm25: z.looseObject({ generation: z.number().int(), baseChunks: z.number().int() }).nullable(),
      dense: z.looseObject({ status: z.enum(["ready", "needs-reindex", "unavailable"]) }),
    })
    .nullable(),
});

export const documentSummarySchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  sourceUri: z.string().nullable(),
  metadata,
  contentHash: z.string(),
  version: z.number().int(),
  createdAt: instant,
  updatedAt: instant,
});
export const documentSchema = z.object({ document: documentSummarySchema.extend({ text: z.string() }) });
export const documentsPageSchema = z.object({
  documents: z.array(documentSummarySchema),
  nextCursor: z.string().nullable(),
});

const jobCounts = z.object({
  documentsSeen: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  chunks: z.number().int(),
});
export const jobSchema = z.object({
  id: z.number().int().describe("the job's number within its collection (1, 2, 3 …)"),
  kind: z.string(),
  source: z.string(),
  status: z.enum(["running", "succeeded", "failed", "interrupted"]),
  counts: jobCounts,
  errors: z.array(z.object({ source: z.string(), message: z.string() })),
  timings: z.record(z.string(), z.number()),
  startedAt: instant,
  updatedAt: instant,
  finishedAt: instant.nullable(),
});
export const jobBodySchema = z.object({ job: jobSchema });
export const jobsListSchema = z.object({ jobs: z.array(jobSchema) });

const stage = z.enum(["bm25", "dense", "rerank"]);
const legProvenance = z.object({
  rank: z.number().int(),
  score: z.number(),
  normalized: z.number().optional(),
  contribution: z.number().optional(),
});
export const searchHitSchema = z.object({
  documentId: z.string(),
  chunkId: z.number().int().describe("stable within the collection; not comparable across collections"),
  title: z.string().nullable(),
  headingPath: z.array(z.string()),
  charStart: z.number().int(),
  charEnd: z.number().int(),
  snippet: z.object({
    text: z.string(),
    highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
    html: z.string(),
    charStart: z.number().int(),
    charEnd: z.number().int(),
  }),
  score: z.number().describe("higher is better; see scoreKind"),
  scoreKind: z.string().describe("bm25 | cosine | fused:<method> | rerank | rerank:<blend>"),
  legs: z.object({ bm25: legProvenance.optional(), dense: legProvenance.optional() }),
  rerank: z
    .object({ rank: z.number().int(), score: z.number(), firstStageRank: z.number().int() })
    .optional(),
  metadata,
});
export const searchResponseSchema = z.object({
  query: z.string(),
  collection: z.string(),
  mode,
  k: z.number().int(),
  offset: z.number().int(),
  fusion: z
    .object({
      method: z.enum(["rrf", "minmax", "zscore", "dbsf"]),
      rrfK: z.number(),
      weights: z.object({ bm25: z.number(), dense: z.number() }),
      candidates: z.number().int(),
    })
    .optional(),
  rerank: z
    .object({
      reranker: z.string(),
      candidates: z.number().int(),
      reranked: z.number().int(),
      blend: z.enum(["none", "rrf", "minmax"]),
    })
    .optional(),
  degraded: z.array(stage).describe("legs or stages that failed or ran out of time"),
  warnings: z.array(z.string()),
  timings: z.record(z.string(), z.number()),
  hits: z.array(searchHitSchema),
});

const passageSchema = z.object({
  n: z.number().int(),
  chunkId: z.number().int(),
  documentId: z.string(),
  title: z.string().nullable(),
  text: z.string(),
  charStart: z.number().int(),
  charEnd: z.number().int(),
  score: z.number(),
  scoreKind: z.string(),
  trimmed: z.boolean(),
  tokens: z.number().int(),
});
const droppedSchema = z.object({
  chunkId: z.number().int(),
  documentId: z.string(),
  reason: z.enum(["duplicate", "near-duplicate", "overlap", "budget", "limit"]),
  duplicateOf: z.number().int().optional(),
  similarity: z.number().optional(),
});
const citationSchema = z.object({
  source: z.number().int(),
  chunkId: z.number().int(),
  documentId: z.string(),
  title: z.string().nullable(),
  charStart: z.number().int(),
  charEnd: z.number().int(),
  occurrences: z.number().int(),
  inferred: z.literal(true).optional(),
});
const evidenceSchema = z.object({
  sufficient: z.boolean(),
  reason: z.string(),
  topScore: z.number().nullable(),
  scoreKind: z.string().nullable(),
  threshold: z.number().nullable().describe("null when no threshold applies (-Infinity)"),
  thresholdScoreKind: z.string().nullable(),
});
const generatorSchema = z
  .object({ id: z.string(), kind: z.enum(["openai", "local", "extractive"]) })
  .nullable();
const usageSchema = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  estimated: z.literal(true).optional(),
});
const answerTimingsSchema = z.record(z.string(), z.number().nullable());
const sentenceSchema = z.object({
  start: z.number().int(),
  end: z.number().int(),
  text: z.string(),
  sources: z.array(z.number().int()),
  cited: z.boolean(),
});
const answerContext = {
  collection: z.string(),
  mode,
  rerank: z.looseObject({ reranker: z.string() }).nullable(),
};
/** How an answer ended: the JSON answer's last fields and the stream's `done` event. */
const answerOutcome = {
  outcome: z.enum(["answered", "no-evidence"]),
  generator: generatorSchema,
  output: z
    .enum(["text", "claims"])
    .describe(
      "what the generator wrote: free text with [n] citations, or JSON claims rendered as cited text",
    ),
  finishReason: z.enum(["stop", "length", "cancelled"]),
  usage: usageSchema,
  timings: answerTimingsSchema,
  degraded: z.array(z.string()),
  evidence: evidenceSchema,
  warnings: z.array(z.string()),
};
export const answerResponseSchema = z.object({
  question: z.string(),
  ...answerContext,
  text: z.string(),
  passages: z.array(passageSchema),
  dropped: z.array(droppedSchema),
  citations: z.array(citationSchema),
  inferredCitations: z.array(citationSchema),
  inferredSentences: z.array(
    z.object({ sentence: z.number().int(), source: z.number().int(), overlap: z.number() }),
  ),
  sentences: z.array(sentenceSchema),
  uncitedSentences: z.number().int(),
  removedCitations: z.array(
    z.object({ marker: z.string(), source: z.number().int(), offset: z.number().int() }),
  ),
  malformedCitations: z.array(z.object({ marker: z.string(), offset: z.number().int() })),
  ...answerOutcome,
});

/** The events of a streamed answer (`text/event-stream`): `event:` names the type, `data:` holds JSON. */
export const answerEventSchemas = {
  retrieval: z.object({
    type: z.literal("retrieval"),
    passages: z.array(passageSchema),
    dropped: z.array(droppedSchema),
    evidence: evidenceSchema,
    ...answerContext,
    warnings: z.array(z.string()),
  }),
  delta: z.object({ type: z.literal("delta"), text: z.string() }),
  citations: z.looseObject({
    type: z.literal("citations"),
    text: z.string(),
    citations: z.array(citationSchema),
    inferredCitations: z.array(citationSchema),
  }),
  done: z.object({
    type: z.literal("done"),
    ...answerOutcome,
  }),
  error: errorBodySchema,
} as const;

export const keySchema = z.object({
  id: z.string(),
  tenant: z.string(),
  role: z.enum(roles),
  name: z.string().nullable(),
  filter: filterSchema.nullable(),
  user: z.string().nullable(),
  preview: z.string().describe("the first characters of the key"),
  createdAt: instant,
  createdBy: z.string(),
  expiresAt: instant.nullable(),
  revokedAt: instant.nullable(),
  lastUsedAt: instant.nullable().describe("refreshed about once a minute"),
});
export const keyCreatedSchema = keySchema.extend({
  key: z.string().describe("the key itself: shown once, never again"),
});
export const keysListSchema = z.object({ keys: z.array(keySchema) });

export const auditEventSchema = z.object({
  at: instant,
  actor: z.string().describe("key:<id>, cli:<user>, bootstrap or anonymous"),
  action: z.string(),
  collection: z.string().nullable(),
  target: z.string().nullable(),
  detail: metadata,
  requestId: z.string().nullable(),
});
export const auditPageSchema = z.object({
  events: z.array(auditEventSchema),
  nextCursor: z.string().nullable(),
});
