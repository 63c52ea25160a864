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

export class ValidationError extends SiftError {
  override readonly code = "invalid_request";
  constructor(
    message: string,
    readonly fields: FieldIssue[] = [],
  ) {
    super(message);
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

/** The embedded store's data directory is held by another live process. */
export class StoreLockedError extends SiftError {
  override readonly code = "store_locked";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded store at ${dataDir} is in use by process ${pid}; stop that process first ` +
        "(or point both at a Postgres server with DATABASE_URL)",
    );
  }
}
