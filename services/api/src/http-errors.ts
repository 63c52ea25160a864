import {
  ConflictError,
  DeadlineExceededError,
  type FieldIssue,
  ForbiddenError,
  maxFieldIssues,
  NotFoundError,
  OverloadedError,
  PayloadTooLargeError,
  QuotaExceededError,
  RateLimitedError,
  SiftError,
  StoreLockedError,
  UnauthorizedError,
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

/** The one table from error kinds to HTTP statuses (first match wins). */
export const statusTable: Array<[new (...args: never[]) => SiftError, ContentfulStatusCode]> = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [QuotaExceededError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [RateLimitedError, 429],
  [OverloadedError, 503],
  [StoreLockedError, 503],
  [UnavailableError, 503],
  [DeadlineExceededError, 504],
  [UpstreamError, 502],
];

/**
 * What a client reads of a 5xx: never the error's own text (driver messages, file paths), except for
 * the limits the API itself enforces (a full queue, a deadline), whose messages are written here.
 */
const publicMessages: Record<number, string> = {
  500: "internal error; quote the request id when reporting it",
  502: "a dependency of the service failed; retry later, or quote the request id",
  503: "the service is unavailable right now; retry later",
  504: "the request ran out of time",
};

function publicMessage(error: SiftError, status: number): string {
  if (status < 500 || error instanceof OverloadedError || error instanceof DeadlineExceededError) {
    return error.message;
  }
  return publicMessages[status] ?? publicMessages[500]!;
}

/**
 * The response for any error a handler throws. Every 5xx goes to `onServerError` (which logs it with its
 * stack and the request id); 401 says how to authenticate, 429 and 503 (overloaded) when to retry.
 */
export function errorResponse(error: unknown, c: Context, onServerError: (error: unknown) => void) {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  if (SiftError.is(error)) {
    const status = statusTable.find(([type]) => error instanceof type)?.[1] ?? 500;
    const body: ErrorBody = { error: { code: error.code, message: publicMessage(error, status), requestId } };
    if (error instanceof ValidationError) body.error.fields = error.fields;
    if (status >= 500) onServerError(error);
    if (error instanceof UnauthorizedError) c.header("WWW-Authenticate", 'Bearer realm="sift"');
    if (error instanceof RateLimitedError || error instanceof OverloadedError) {
      c.header("Retry-After", String(error.retryAfterSeconds));
    }
    return c.json(body, status);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const status = error.status as ContentfulStatusCode;
    return c.json(
      { error: { code: `http_${status}`, message: error.message || "request failed", requestId } },
      status,
    );
  }
  onServerError(error);
  return c.json({ error: { code: "internal", message: publicMessages[500]!, requestId } }, 500);
}

/** Converts zod issues into field issues with dotted paths (`filter.and.0.field`). */
export function toFieldIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  // One more than the cap, so ValidationError can tell that some were left out.
  return withoutRepeats(
    error.issues.slice(0, maxFieldIssues + 1).flatMap((issue) => issuesOf(issue, prefix)),
  );
}

/** Two checks of one field can fail with the same sentence (`min(1)` and a non-blank pattern): say it once. */
function withoutRepeats(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function issuesOf(issue: z.core.$ZodIssue, prefix: string): FieldIssue[] {
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
}

function score(branch: z.core.$ZodIssue[]): number {
  // Fewer issues and deeper paths mean the branch matched more of the input.
  const depth = Math.max(0, ...branch.map((i) => i.path.length));
  const unknownKeys = branch.some((i) => i.code === "unrecognized_keys") ? 1 : 0;
  return depth * 10 - branch.length - unknownKeys * 5;
}
