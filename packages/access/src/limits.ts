import { OverloadedError, RateLimitedError } from "@sift/core";

export interface TokenBucketOptions {
  /** Tokens added per second (the sustained request rate). */
  ratePerSecond: number;
  /** Bucket size (the burst allowed after a quiet spell). */
  burst: number;
  /** Buckets kept; past it, full (idle) buckets are dropped first, then the oldest. Default 100,000. */
  maxBuckets?: number | undefined;
  now?: (() => number) | undefined;
}

type Bucket = { tokens: number; updatedAt: number };

/**
 * One token bucket per caller (an API key, or a client address when auth is off), in memory, per process.
 * `take(id)` spends one token or throws `RateLimitedError` with the seconds until one is back.
 */
export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError("a token bucket needs a positive rate and a burst of at least 1");
    }
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#max = options.maxBuckets ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  take(id: string): void {
    const now = this.#now();
    let bucket = this.#buckets.get(id);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#max) this.#evict(now);
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(id, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
    throw new RateLimitedError(
      `rate limit of ${this.#rate} requests/s (burst ${this.#burst}) exceeded; retry in ${seconds} s`,
      seconds,
    );
  }

  #evict(now: number): void {
    for (const [id, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate >= this.#burst)
        this.#buckets.delete(id);
    }
    if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
  }
}

export interface ConcurrencyGateOptions {
  /** Holders at once. */
  concurrency: number;
  /** Callers allowed to wait; one more is refused with `OverloadedError`. */
  queue: number;
  /** The `Retry-After` given with a refusal, in seconds. */
  retryAfterSeconds: number;
}

/**
 * A semaphore with a bounded queue: `acquire` resolves with a release function once a slot is free, and
 * throws `OverloadedError` at once when `queue` callers are already waiting. A caller whose `signal` aborts
 * while it waits leaves the queue and gets the signal's reason.
 */
export class ConcurrencyGate {
  readonly #options: ConcurrencyGateOptions;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: ConcurrencyGateOptions) {
    if (!(options.concurrency >= 1) || !(options.queue >= 0)) {
      throw new RangeError("a gate needs a concurrency of at least 1 and a queue of at least 0");
    }
    this.#options = options;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#active < this.#options.concurrency) {
      this.#active += 1;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.#options.queue) {
      throw new OverloadedError(
        `the service is at capacity (${this.#options.concurrency} running, ${this.#options.queue} waiting); retry later`,
        this.#options.retryAfterSeconds,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(wake);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(wake);
    });
    return this.#releaser();
  }

  /** The slot passes straight to the next waiter, so `active` never dips while callers wait. */
  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#active -= 1;
      else next();
    };
  }
}
