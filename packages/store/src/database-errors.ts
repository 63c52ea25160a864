import { ConflictError, SiftError, UpstreamError, ValidationError } from "@sift/core";

/** Node socket errors and postgres.js connection errors: the server could not be reached (retryable). */
const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
]);

/** SQLSTATEs worth retrying: connection exceptions, shutdowns, overload, serialisation failures, deadlocks. */
const retryableStates = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01"]);

interface VendorError {
  code: string;
  message: string;
}

/** drizzle wraps driver errors in `DrizzleQueryError` (whose message holds the query and its parameters). */
function findVendorError(error: unknown): VendorError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof candidate.code === "string") {
      return { code: candidate.code, message: String(candidate.message ?? "") };
    }
    current = candidate.cause;
  }
  return undefined;
}

function innermost(error: unknown): unknown {
  let current = error;
  while (typeof current === "object" && current !== null && "cause" in current && current.cause) {
    current = current.cause;
  }
  return current;
}

/**
 * Maps a driver error to the core hierarchy, keeping the vendor error as `cause` (never the drizzle
 * wrapper, whose message embeds every bound parameter, i.e. whole documents).
 */
export function toStoreError(error: unknown, upstream: string, operation: string): Error {
  if (SiftError.is(error)) return error;
  const vendor = findVendorError(error);
  const cause = innermost(error);
  const detail = vendor?.message ?? (error instanceof Error ? error.message : String(error));
  const message = `${upstream}: ${operation} failed: ${detail}`;
  const code = vendor?.code ?? "";
  if (connectionCodes.has(code) || code.startsWith("08") || retryableStates.has(code)) {
    return new UpstreamError(message, upstream, { cause, retryable: true });
  }
  if (code === "23505") return new ConflictError(message, { cause });
  // Data exceptions, NOT NULL and CHECK violations: the input cannot be stored (e.g. a NUL character).
  if (code.startsWith("22") || code === "23502" || code === "23514") {
    return Object.assign(new ValidationError(message), { cause });
  }
  return new UpstreamError(message, upstream, { cause, retryable: false });
}
