import {
  checkFilterLimits,
  type FieldIssue,
  inspectJson,
  isWellFormed,
  maxFieldIssues,
  PayloadTooLargeError,
  type Role,
  ValidationError,
} from "@sift/core";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { requireRole } from "./auth";
import type { AppDependencies, AppEnv } from "./context";
import { toFieldIssues } from "./http-errors";

export type Method = "get" | "post" | "put" | "delete";

export interface ResponseSpec {
  description: string;
  /** JSON body schema; none for an empty body (204). */
  schema?: z.ZodType | undefined;
  /** Server-Sent Events as an alternative body, with one schema per event type. */
  events?: Record<string, z.ZodType> | undefined;
  /** A text body of this media type instead (`text/html`, the metrics' `text/plain`). */
  text?: string | string[] | undefined;
}

/**
 * One route: what `defineRoute` registers and what the OpenAPI document says about it.
 * - `path` is OpenAPI-style (`/v1/collections/{collection}`).
 * - `role` is the least role allowed; `public` routes need no key.
 * - `body.limit`: `query` bodies (search, answer, keys) get the small limit, `documents` the large one.
 * - `body.filterAt`: where a metadata filter sits in the body (capped before schema validation).
 */
export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  role: Role | "public";
  params?: Record<string, z.ZodType>;
  query?: Q;
  body?: { schema: B; required: boolean; limit: "query" | "documents"; filterAt?: string };
  responses: Record<number, ResponseSpec>;
  /** Error statuses this route answers beyond the ones every route of its kind has. */
  errors?: number[];
}

export interface RouteInput<B extends z.ZodType, Q extends z.ZodType> {
  body: B extends z.ZodType ? z.output<B> : undefined;
  query: Q extends z.ZodType ? z.output<Q> : undefined;
}

/** Deepest JSON nesting accepted in any body (metadata has its own, smaller cap). */
export const maxBodyDepth = 64;
/** Metadata of a document may nest this deep below `metadata`. */
export const maxMetadataDepth = 32;

/**
 * Registers routes on the app and keeps their specs, so the OpenAPI document lists exactly what is
 * served (a test compares the two). Each route gets, in order: its body limit, its role check, and its
 * query and body parsed (JSON checks, filter caps, then the schema), before the handler runs.
 */
export class RouteTable {
  readonly specs: RouteSpec[] = [];

  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly deps: AppDependencies,
  ) {}

  define<B extends z.ZodType, Q extends z.ZodType>(
    spec: RouteSpec<B, Q>,
    handler: (c: Context<AppEnv>, input: RouteInput<B, Q>) => Response | Promise<Response>,
  ): void {
    this.specs.push(spec as unknown as RouteSpec);
    const path = spec.path.replace(/\{(\w+)\}/g, ":$1");
    const maxSize =
      spec.body?.limit === "documents" ? this.deps.limits.maxBodyBytes : this.deps.limits.maxQueryBodyBytes;
    const limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new PayloadTooLargeError(maxSize);
      },
    });
    this.app.on(spec.method.toUpperCase(), path, limit, async (c) => {
      if (spec.role !== "public") requireRole(c, spec.role);
      checkParams(c, spec.params);
      const query = spec.query === undefined ? undefined : parseQuery(c, spec.query);
      const body = spec.body === undefined ? undefined : await readBody(c, spec.body);
      return handler(c, { body, query } as RouteInput<B, Q>);
    });
  }
}

/** Path parameters against their schemas (400 naming `path.<name>`). */
function checkParams(c: Context, params: Record<string, z.ZodType> | undefined): void {
  if (params === undefined) return;
  const issues: FieldIssue[] = [];
  for (const [name, schema] of Object.entries(params)) {
    const value = c.req.param(name);
    const result = schema.safeParse(value);
    if (!result.success) issues.push(...toFieldIssues(result.error, `path.${name}`));
    else if (typeof value === "string" && !isWellFormed(value)) {
      issues.push({ path: `path.${name}`, message: "not well-formed Unicode (a lone surrogate)" });
    }
  }
  if (issues.length > 0) throw new ValidationError("invalid path parameters", issues);
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const raw = c.req.query();
  const issues = inspectJson(raw, { maxDepth: 2, maxIssues: maxFieldIssues, path: "query" });
  if (issues.length > 0) throw new ValidationError("invalid query parameters", issues);
  const result = schema.safeParse(raw);
  if (!result.success)
    throw new ValidationError("invalid query parameters", toFieldIssues(result.error, "query"));
  return result.data;
}

/**
 * Reads a JSON body and validates it: well-formed Unicode and bounded nesting everywhere, capped metadata
 * depth and filter size, then the schema. Every check before the schema is iterative and bounded, so no
 * body can make validation recurse or run long; at most 20 offending fields are listed.
 */
async function readBody<S extends z.ZodType>(
  c: Context,
  spec: { schema: S; required: boolean; filterAt?: string },
): Promise<z.output<S> | undefined> {
  const text = await c.req.text();
  if (text === "" && !spec.required) return undefined;
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
  // The specific caps first, so a too-deep document or filter names its own cap; then the whole body.
  const issues = metadataIssues(json);
  const filter = spec.filterAt === undefined ? undefined : (json as Record<string, unknown>)?.[spec.filterAt];
  if (filter !== undefined) {
    const capped = checkFilterLimits(filter, spec.filterAt!);
    if (capped !== undefined) issues.push(capped);
  }
  if (issues.length === 0)
    issues.push(...inspectJson(json, { maxDepth: maxBodyDepth, maxIssues: maxFieldIssues }));
  if (issues.length > 0) throw new ValidationError("invalid request body", issues);
  const result = spec.schema.safeParse(json);
  if (!result.success) throw new ValidationError("invalid request body", toFieldIssues(result.error));
  return result.data;
}

/** Document batches: each document's metadata nests at most `maxMetadataDepth` deep. */
function metadataIssues(json: unknown): FieldIssue[] {
  const documents = (json as { documents?: unknown } | null)?.documents;
  if (!Array.isArray(documents)) return [];
  const issues: FieldIssue[] = [];
  documents.forEach((document, i) => {
    const metadata = (document as { metadata?: unknown } | null)?.metadata;
    if (typeof metadata !== "object" || metadata === null || issues.length >= maxFieldIssues) return;
    issues.push(
      ...inspectJson(metadata, {
        maxDepth: maxMetadataDepth,
        maxIssues: maxFieldIssues - issues.length,
        path: `documents.${i}.metadata`,
      }),
    );
  });
  return issues;
}
