import type { EvidencePolicy, Generator } from "@sift/answer";
import type { Collection, DocumentStore, Logger } from "@sift/core";
import { NotFoundError, ValidationError } from "@sift/core";
import type { Engine } from "@sift/engine";
import type { Context } from "hono";
import { z } from "zod";
import { toFieldIssues } from "./http-errors";

/** What the answer route needs beyond the search dependencies (built by the entrypoint). */
export interface AnswerDependencies {
  generator: Generator;
  /** Answers when `generator` fails before writing anything (extractive: no model needed). */
  fallback: Generator;
  evidence: EvidencePolicy;
  /** Passages retrieved (and reranked) before packing. */
  candidates: number;
  contextTokens: number;
  maxTokens: number;
  /** The whole answer (retrieval to last token); past it generation is cancelled and the answer ends. */
  timeoutMs: number;
}

/** Everything the routes need, constructed by the entrypoint (or a test) and passed in explicitly. */
export interface AppDependencies {
  store: DocumentStore;
  /** Indexes (BM25, vectors) and the searcher over them. */
  engine: Engine;
  /** The answer route's generator and settings; without them `…/answer` is not served. */
  answer?: AnswerDependencies | undefined;
  logger: Logger;
  maxBodyBytes: number;
  /** How stale (ms) a collection's in-memory index may be before a search re-checks the store. */
  indexRefreshMs: number;
  /** False until the entrypoint has loaded every collection's indexes. */
  indexesLoaded: () => boolean;
}

export type AppEnv = { Variables: { requestId: string } };

export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const nameMessage = "1–128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

export const tenantHeader = "x-sift-tenant";

export function tenantOf(c: Context): string {
  const tenant = c.req.header(tenantHeader) ?? "default";
  if (!namePattern.test(tenant)) {
    throw new ValidationError("invalid tenant header", [
      { path: `header.${tenantHeader}`, message: nameMessage },
    ]);
  }
  return tenant;
}

export function collectionNameOf(c: Context): string {
  const name = c.req.param("collection") ?? "";
  if (!namePattern.test(name)) {
    throw new ValidationError("invalid collection name", [{ path: "path.collection", message: nameMessage }]);
  }
  return name;
}

export async function resolveCollection(c: Context, store: DocumentStore): Promise<Collection> {
  const tenant = tenantOf(c);
  const name = collectionNameOf(c);
  const collection = await store.getCollection(tenant, name);
  if (collection === undefined) {
    throw new NotFoundError(
      "collection",
      name,
      `collection '${name}' does not exist for tenant '${tenant}'; create it with PUT /v1/collections/${name}`,
    );
  }
  return collection;
}

/** Reads and validates a JSON body; every offending field is listed in the 400. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`request body is not valid JSON: ${(error as Error).message}`, [
      { path: "", message: "invalid JSON" },
    ]);
  }
  if (json === undefined)
    throw new ValidationError("request body is required", [{ path: "", message: "required" }]);
  const result = schema.safeParse(json);
  if (!result.success) throw new ValidationError("invalid request body", toFieldIssues(result.error));
  return result.data;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success)
    throw new ValidationError("invalid query parameters", toFieldIssues(result.error, "query"));
  return result.data;
}

export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(1024).optional(),
});

/**
 * The retrieval mode and rerank flag of a request, checked against what the service can do: `mode`
 * defaults to `hybrid` with an embedding model (else `bm25`), `rerank` to `rerankDefault`; asking for a
 * leg or a stage the service lacks is a 400 naming the field.
 */
export function retrievalOf(
  searcher: Engine["searcher"],
  request: { mode?: "bm25" | "dense" | "hybrid" | undefined; rerank?: boolean | undefined },
  rerankDefault: boolean,
): { mode: "bm25" | "dense" | "hybrid"; rerank: boolean } {
  const mode = request.mode ?? (searcher.denseAvailable ? "hybrid" : "bm25");
  if (mode !== "bm25" && !searcher.denseAvailable) {
    throw new ValidationError("dense retrieval is not configured on this service", [
      { path: "mode", message: `'${mode}' needs an embedding model; this service has none (use 'bm25')` },
    ]);
  }
  if (request.rerank === true && !searcher.rerankAvailable) {
    throw new ValidationError("reranking is not configured on this service", [
      { path: "rerank", message: "this service has no reranker (see SIFT_RERANK_MODEL)" },
    ]);
  }
  return { mode, rerank: request.rerank ?? rerankDefault };
}
