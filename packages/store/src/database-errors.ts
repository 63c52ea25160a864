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
  "CONNECTION_ENDED",
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

/** What a client may read of input the database refused: the SQLSTATE and its class, no driver text. */
function refusal(code: string): string {
  if (code === "23505") return `a conflicting write (a unique constraint, SQLSTATE ${code})`;
  if (code === "23502") return `a required value is missing (SQLSTATE ${code})`;
  if (code === "23514") return `a value breaks a constraint (SQLSTATE ${code})`;
  return `the store cannot hold this input (SQLSTATE ${code})`;
}

/**
 * Maps a driver error to the core hierarchy, keeping the vendor error as `cause` (never the drizzle
 * wrapper, whose message embeds every bound parameter, i.e. whole documents).
 * - Connection failures and retryable SQLSTATEs: retryable `UpstreamError`; other database errors:
 *   `UpstreamError` (their text stays in the message, which only the log shows).
 * - Unique violations: `ConflictError`; data exceptions, NOT NULL and CHECK violations: `ValidationError`,
 *   both with messages a client may read (no driver text: that stays in `cause`).
 * - Anything that did not come from the driver (no SQLSTATE or socket code: a bug in our code, a
 *   serialisation error) passes through unchanged, so it becomes a 500 with its stack, not a 502.
 */
export function toStoreError(error: unknown, upstream: string, operation: string): Error {
  if (SiftError.is(error)) return error;
  const vendor = findVendorError(error);
  if (vendor === undefined) return error instanceof Error ? error : new Error(String(error));
  const cause = innermost(error);
  const code = vendor.code;
  const message = `${upstream}: ${operation} failed: ${vendor.message}`;
  if (connectionCodes.has(code) || code.startsWith("08") || retryableStates.has(code)) {
    return new UpstreamError(message, upstream, { cause, retryable: true });
  }
  if (code === "23505") return new ConflictError(`${operation}: ${refusal(code)}`, { cause });
  // Data exceptions, NOT NULL and CHECK violations: the input cannot be stored (e.g. a NUL character).
  if (code.startsWith("22") || code === "23502" || code === "23514") {
    return Object.assign(new ValidationError(`${operation}: ${refusal(code)}`), { cause });
  }
  if (/^[0-9A-Z]{5}$/.test(code) || connectionCodes.has(code)) {
    return new UpstreamError(message, upstream, { cause, retryable: false });
  }
  // A `code` that is no SQLSTATE (e.g. ERR_INVALID_ARG_TYPE from Node): not the database's doing.
  return error instanceof Error ? error : new Error(String(error));
}
