import {
  ConflictError,
  DeadlineExceededError,
  type FieldIssue,
  NotFoundError,
  PayloadTooLargeError,
  SiftError,
  StoreLockedError,
  UnavailableError,
  UpstreamError,
  ValidationError,
} from "@sift/core";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

/** The one error body every endpoint returns. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string; fields?: FieldIssue[] };
}

const statusTable: Array<[new (...args: never[]) => SiftError, ContentfulStatusCode]> = [
  [ValidationError, 400],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [StoreLockedError, 503],
  [UnavailableError, 503],
  [DeadlineExceededError, 504],
  [UpstreamError, 502],
];

export function errorResponse(error: unknown, c: Context, onUnknown: (error: unknown) => void) {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  if (SiftError.is(error)) {
    const status = statusTable.find(([type]) => error instanceof type)?.[1] ?? 500;
    const body: ErrorBody = { error: { code: error.code, message: error.message, requestId } };
    if (error instanceof ValidationError) body.error.fields = error.fields;
    if (status === 500) onUnknown(error);
    return c.json(body, status);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(
      { error: { code: `http_${status}`, message: error.message || "request failed", requestId } },
      status,
    );
  }
  onUnknown(error);
  return c.json(
    {
      error: {
        code: "internal",
        message: "internal error; quote the request id when reporting it",
        requestId,
      },
    },
    500,
  );
}

/** Converts zod issues into field issues with dotted paths (`filter.and.0.field`). */
export function toFieldIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: base === "" ? key : `${base}.${key}`,
        message: "unknown field",
      }));
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input" for the whole union.
      const best = issue.errors
        .map((branch) => branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })))
        .sort((a, b) => score(b) - score(a))[0];
      if (best !== undefined && best.length > 0) {
        return best.map((i) => ({
          path: [prefix, ...i.path.map(String)].filter((p) => p !== "").join("."),
          message: i.message,
        }));
      }
    }
    return [{ path: base, message: issue.message }];
  });
}

function score(branch: z.core.$ZodIssue[]): number {
  // Fewer issues and deeper paths mean the branch matched more of the input.
  const depth = Math.max(0, ...branch.map((i) => i.path.length));
  const unknownKeys = branch.some((i) => i.code === "unrecognized_keys") ? 1 : 0;
  return depth * 10 - branch.length - unknownKeys * 5;
}
