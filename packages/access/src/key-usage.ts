import type { AccessStore, ApiKeyRecord, Logger } from "@sift/core";
import { silentLogger } from "@sift/core";

export interface KeyUsageOptions {
  store: AccessStore;
  /** How often `lastUsedAt` of the keys used meanwhile is written (one statement for all). Default 60 s. */
  touchIntervalMs?: number | undefined;
  /**
   * At most one `key.used` audit event per key per this interval, counting the requests since the previous
   * one (the first use after a start is recorded at the next flush). Default 1 h.
   */
  auditIntervalMs?: number | undefined;
  now?: (() => number) | undefined;
  logger?: Logger | undefined;
}

type Usage = {
  tenant: string;
  lastUsedAt: number;
  dirty: boolean;
  requests: number;
  since: number;
  lastAuditAt: number | undefined;
};

/**
 * Records key use without a store write per request: uses accumulate in memory and a timer writes them
 * every `touchIntervalMs` (`touchApiKeys` for all keys in one statement, plus `key.used` audit events at
 * most once per key per `auditIntervalMs`). `close()` writes what is pending. A crash loses at most one
 * interval of last-used times and request counts, never a write's own audit event.
 */
export class KeyUsage {
  readonly #store: AccessStore;
  readonly #touchMs: number;
  readonly #auditMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #usage = new Map<string, Usage>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: KeyUsageOptions) {
    this.#store = options.store;
    this.#touchMs = options.touchIntervalMs ?? 60_000;
    this.#auditMs = options.auditIntervalMs ?? 3_600_000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Starts the flush timer (unref'd: it never keeps the process alive). */
  start(): this {
    this.#timer ??= setInterval(() => void this.flush(), this.#touchMs);
    this.#timer.unref();
    return this;
  }

  record(key: Pick<ApiKeyRecord, "id" | "tenant">): void {
    const now = this.#now();
    const usage = this.#usage.get(key.id);
    if (usage === undefined) {
      this.#usage.set(key.id, {
        tenant: key.tenant,
        lastUsedAt: now,
        dirty: true,
        requests: 1,
        since: now,
        lastAuditAt: undefined,
      });
      return;
    }
    usage.lastUsedAt = now;
    usage.dirty = true;
    if (usage.requests === 0) usage.since = now;
    usage.requests += 1;
  }

  /** Writes pending last-used times and due audit events; failures are logged and retried next time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #write(): Promise<void> {
    const now = this.#now();
    const touches: { id: string; lastUsedAt: Date }[] = [];
    const events: Parameters<AccessStore["appendAudit"]>[0][number][] = [];
    const touched: Array<[Usage, number]> = [];
    const audited: Array<[Usage, number]> = [];
    for (const [id, usage] of this.#usage) {
      if (usage.dirty) {
        touches.push({ id, lastUsedAt: new Date(usage.lastUsedAt) });
        touched.push([usage, usage.lastUsedAt]);
      }
      const due = usage.lastAuditAt === undefined || now - usage.lastAuditAt >= this.#auditMs;
      if (usage.requests > 0 && due) {
        events.push({
          tenant: usage.tenant,
          actor: `key:${id}`,
          action: "key.used",
          target: id,
          detail: {
            requests: usage.requests,
            from: new Date(usage.since).toISOString(),
            to: new Date(usage.lastUsedAt).toISOString(),
          },
        });
        audited.push([usage, usage.requests]);
      }
    }
    try {
      await this.#store.touchApiKeys(touches);
      // Uses recorded while writing stay pending.
      for (const [usage, at] of touched) if (usage.lastUsedAt === at) usage.dirty = false;
      await this.#store.appendAudit(events);
      for (const [usage, requests] of audited) {
        usage.requests -= requests;
        usage.lastAuditAt = now;
      }
    } catch (error) {
      this.#logger.warn("could not record key use; retrying at the next flush", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
