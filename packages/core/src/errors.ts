const brand = Symbol.for("sift.error");

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `filter.and.0.field`. Empty for the whole body. */
  path: string;
  message: string;
}

/** Base of every error Sift raises on purpose. Use `SiftError.is(x)` rather than `instanceof` across packages. */
export class SiftError extends Error {
  readonly [brand] = true;
  readonly code: string = "internal";
  readonly isRetryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  static is(value: unknown): value is SiftError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** A 400 lists at most this many offending fields (the message says how many there were). */
export const maxFieldIssues = 20;

export class ValidationError extends SiftError {
  override readonly code = "invalid_request";
  /** The offending fields, at most `maxFieldIssues` of them. */
  readonly fields: FieldIssue[];
  constructor(message: string, fields: FieldIssue[] = []) {
    super(
      fields.length > maxFieldIssues
        ? `${message} (the first ${maxFieldIssues} of ${fields.length} field errors are listed)`
        : message,
    );
    this.fields = fields.slice(0, maxFieldIssues);
  }
}

export class NotFoundError extends SiftError {
  override readonly code = "not_found";
  constructor(
    readonly resource: string,
    readonly id: string,
    message?: string,
  ) {
    super(message ?? `${resource} '${id}' does not exist`);
  }
}

export class ConflictError extends SiftError {
  override readonly code = "conflict";
}

export class PayloadTooLargeError extends SiftError {
  override readonly code = "payload_too_large";
  constructor(readonly limitBytes: number) {
    super(`request body exceeds the limit of ${limitBytes} bytes`);
  }
}

export class UnavailableError extends SiftError {
  override readonly code = "unavailable";
  override readonly isRetryable = true;
}

export class DeadlineExceededError extends SiftError {
  override readonly code = "deadline_exceeded";
  override readonly isRetryable = true;
}

/** A dependency (database, model server) answered with an error. The vendor error is kept as `cause`. */
export class UpstreamError extends SiftError {
  override readonly code = "upstream_error";
  constructor(
    message: string,
    readonly upstream: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.isRetryable = options?.retryable ?? false;
  }
  override readonly isRetryable: boolean;
}

/** A data directory (the embedded store's, or a process's index files) is held by another live process. */
export class StoreLockedError extends SiftError {
  override readonly code = "store_locked";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    hint = "stop that process first (or point both at a Postgres server with DATABASE_URL)",
  ) {
    super(`the data directory ${dataDir} is in use by process ${pid}; ${hint}`);
  }
}

/** The request carries no credentials, or credentials that are unknown, malformed, expired or revoked. */
export class UnauthorizedError extends SiftError {
  override readonly code = "unauthorized";
}

/** The caller is known but its role (or its key's scope) does not allow the operation. */
export class ForbiddenError extends SiftError {
  override readonly code = "forbidden";
}

/** The caller sent more requests than its rate allows; retry after `retryAfterSeconds`. */
export class RateLimitedError extends SiftError {
  override readonly code = "rate_limited";
  override readonly isRetryable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The service is at capacity (a full queue): retry after `retryAfterSeconds`. */
export class OverloadedError extends SiftError {
  override readonly code = "overloaded";
  override readonly isRetryable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A per-tenant quota (e.g. the number of collections) would be exceeded. */
export class QuotaExceededError extends SiftError {
  override readonly code = "quota_exceeded";
  constructor(
    message: string,
    readonly quota: string,
    readonly limit: number,
  ) {
    super(message);
  }
}
