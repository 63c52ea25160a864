// Shared by the HTTP adapters (embeddings, rerank): a JSON POST with retries, retry timing and reading
// vendor error bodies.
import { UpstreamError } from "@sift/core";

/** How long to wait before retrying; honours `retry-after` (seconds or an HTTP date), capped at 60 s. */
export function retryDelay(attempt: number, baseMs: number, retryAfter: string | null): number {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), 60_000);
  }
  return baseMs * 2 ** attempt * (0.5 + Math.random() / 2);
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The vendor's message: OpenAI `{error: {message}}`, TEI `{error: "…"}`, else the raw body. */
export function vendorMessage(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 500);
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : JSON.stringify(body).slice(0, 500);
}

export async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface PostJsonOptions<T> {
  fetch: typeof globalThis.fetch;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after a 429, a 5xx, a timeout or a network error. */
  maxRetries: number;
  /** First backoff delay (doubled per retry, with jitter) when the server sends no `retry-after`. */
  retryDelayMs: number;
  /** Names the server in messages, e.g. "embedding server". */
  what: string;
  /** `UpstreamError`'s upstream, e.g. `embeddings http://…/v1/embeddings`. */
  upstream: string;
  /** Reads a successful body (throws UpstreamError on a malformed one; never retried). */
  parse: (payload: unknown) => T;
  /** The vendor's message in an error body; default `vendorMessage`. */
  errorMessage?: (payload: unknown) => string;
  signal?: AbortSignal | undefined;
}

/**
 * POSTs JSON and parses the answer, retrying 429s, 5xx, timeouts and network errors (honouring
 * `retry-after`); other 4xx and malformed bodies fail at once as `UpstreamError`. An aborted `signal`
 * rejects with its reason.
 */
export async function postJsonWithRetries<T>(options: PostJsonOptions<T>): Promise<T> {
  const { signal, timeoutMs, what, upstream } = options;
  const errorMessage = options.errorMessage ?? vendorMessage;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const attemptSignal = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    let failure: UpstreamError;
    let retryAfter: string | null = null;
    try {
      const response = await options.fetch(options.url, {
        method: "POST",
        headers: options.headers,
        body: JSON.stringify(options.body),
        signal: attemptSignal,
      });
      const payload = await readBody(response);
      if (response.ok) return options.parse(payload);
      const retryable = response.status === 429 || response.status >= 500;
      failure = new UpstreamError(`${what} answered ${response.status}: ${errorMessage(payload)}`, upstream, {
        cause: payload,
        retryable,
      });
      if (!retryable) throw failure;
      retryAfter = response.headers.get("retry-after");
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof UpstreamError) throw error;
      // Timeouts and network errors (fetch rejects with a TypeError whose cause is the socket error).
      const timedOut = (error as Error).name === "TimeoutError";
      failure = new UpstreamError(
        timedOut ? `${what} did not answer within ${timeoutMs} ms` : `${what} unreachable`,
        upstream,
        { cause: error, retryable: true },
      );
    }
    if (attempt >= options.maxRetries) throw failure;
    await sleep(retryDelay(attempt, options.retryDelayMs, retryAfter), signal);
  }
}
