import { type SiftStore, UnauthorizedError, ValidationError } from "@sift/core";
import { openStore } from "@sift/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiKeyPattern,
  apiKeySearchPattern,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
} from "./api-key";
import { ApiKeys } from "./api-keys";
import { IdCodec, maxEncodableId } from "./id-codec";
import { KeyUsage } from "./key-usage";
import { ConcurrencyGate, TokenBuckets } from "./limits";

describe("the API key format", () => {
  it("makes distinct 54-character keys that scanners and the checksum recognise", () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys).size).toBe(200);
    for (const key of keys) {
      expect(key).toMatch(apiKeyPattern);
      expect(key).toHaveLength(54);
      expect(isWellFormedApiKey(key)).toBe(true);
    }
    const leaked = `config: token=${keys[0]} # oops`;
    expect(leaked.match(apiKeySearchPattern)).toEqual([keys[0]]);
  });

  it("refuses a key with one character changed (checksum) or the wrong shape", () => {
    const key = generateApiKey();
    const flipped = key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21);
    expect(isWellFormedApiKey(flipped)).toBe(false);
    expect(isWellFormedApiKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey(`sk_${key.slice(5)}`)).toBe(false);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("IdCodec", () => {
  const codec = new IdCodec(Buffer.alloc(32, 1));

  it("is a permutation per domain, reversible, and unrelated across domains", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => i + 1);
    const encoded = codec.encodeMany("chunk:1", ids);
    expect(new Set(encoded).size).toBe(ids.length);
    expect(encoded.every((v) => Number.isSafeInteger(v) && v >= 0 && v <= maxEncodableId)).toBe(true);
    expect(encoded.map((v) => codec.decode("chunk:1", v))).toEqual(ids);
    expect(ids.map((id) => codec.encode("chunk:1", id))).toEqual(encoded);
    const other = codec.encodeMany("chunk:2", ids);
    expect(other.filter((v, i) => v === encoded[i])).toEqual([]);
    // Consecutive ids do not come out consecutive (what a global counter would reveal).
    const gaps = encoded.slice(1).map((v, i) => Math.abs(v - encoded[i]!));
    expect(gaps.filter((g) => g === 1)).toEqual([]);
    expect(codec.decode("chunk:1", maxEncodableId + 1)).toBeUndefined();
    expect(codec.decode("chunk:1", 1.5)).toBeUndefined();
    expect(() => codec.encode("chunk:1", -1)).toThrow(RangeError);
  });

  it("depends on the secret", () => {
    const another = new IdCodec(Buffer.alloc(32, 2));
    expect(another.encode("chunk:1", 42)).not.toBe(codec.encode("chunk:1", 42));
  });
});

describe("ApiKeys and KeyUsage over a real store", () => {
  let store: SiftStore;
  let clock = Date.parse("2030-01-01T00:00:00Z");
  const now = () => clock;
  beforeAll(async () => {
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  it("verifies a created key, refuses unknown, revoked and expired keys with 401 errors", async () => {
    const keys = new ApiKeys({ store, now, cacheMs: 60_000 });
    const { key, record } = await keys.create({ tenant: "acme", role: "writer", createdBy: "test" });
    expect(record).toMatchObject({ tenant: "acme", role: "writer", revokedAt: null });
    expect(record.preview).toBe(`${key.slice(0, 12)}…`);
    expect(await keys.verify(key)).toMatchObject({ id: record.id, tenant: "acme", role: "writer" });
    expect(JSON.stringify(await store.listApiKeys("acme"))).not.toContain(key.slice(5));

    await expect(keys.verify(generateApiKey())).rejects.toThrow(/not known/);
    await expect(keys.verify("sift_short")).rejects.toThrow(/malformed/);
    await keys.revoke(record.id, "acme");
    await expect(keys.verify(key)).rejects.toBeInstanceOf(UnauthorizedError);

    const expiring = await keys.create({
      tenant: "acme",
      role: "reader",
      createdBy: "test",
      expiresAt: new Date(clock + 1000),
    });
    expect((await keys.verify(expiring.key)).id).toBe(expiring.record.id);
    clock += 1000;
    await expect(keys.verify(expiring.key)).rejects.toThrow(/expired/);
  });

  it("a revocation by another process takes effect once the cache entry ages out", async () => {
    const here = new ApiKeys({ store, now, cacheMs: 5_000 });
    const elsewhere = new ApiKeys({ store, now });
    const { key, record } = await here.create({ tenant: "acme", role: "reader", createdBy: "test" });
    await here.verify(key);
    await elsewhere.revoke(record.id);
    await expect(here.verify(key)).resolves.toBeDefined(); // still cached
    clock += 5_000;
    await expect(here.verify(key)).rejects.toThrow(/revoked/);
  });

  it("refuses scoped keys that are not readers, bad filters and past expiry, naming the fields", async () => {
    const keys = new ApiKeys({ store, now });
    const failure = await keys
      .create({
        tenant: "acme",
        role: "writer",
        createdBy: "test",
        filter: { field: "desk", eq: "energy" },
        expiresAt: new Date(clock - 1),
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).fields.map((f) => f.path)).toEqual(["filter", "expiresAt"]);
    let deep: unknown = { field: "a", eq: 1 };
    for (let i = 0; i < 50; i++) deep = { not: deep };
    await expect(
      keys.create({ tenant: "acme", role: "reader", createdBy: "t", filter: deep as never }),
    ).rejects.toThrow(ValidationError);
  });

  it("writes last-used times and key.used audit events in batches, not per request", async () => {
    const keys = new ApiKeys({ store, now });
    const { record } = await keys.create({ tenant: "usage", role: "reader", createdBy: "test" });
    const usage = new KeyUsage({ store, now, auditIntervalMs: 3_600_000 });
    for (let i = 0; i < 5; i++) usage.record(record);
    expect((await store.listApiKeys("usage"))[0]?.lastUsedAt).toBeNull();
    await usage.flush();
    expect((await store.listApiKeys("usage"))[0]?.lastUsedAt?.getTime()).toBe(clock);
    const audit = await store.listAudit("usage", { limit: 10 });
    expect(audit).toMatchObject([{ action: "key.used", actor: `key:${record.id}`, detail: { requests: 5 } }]);

    // Within the audit interval: last-used moves, no second audit event until the interval passes.
    clock += 60_000;
    usage.record(record);
    usage.record(record);
    await usage.flush();
    expect((await store.listApiKeys("usage"))[0]?.lastUsedAt?.getTime()).toBe(clock);
    expect(await store.listAudit("usage", { limit: 10 })).toHaveLength(1);
    clock += 3_600_000;
    await usage.close();
    const later = await store.listAudit("usage", { limit: 10 });
    expect(later[0]).toMatchObject({ action: "key.used", detail: { requests: 2 } });
  });
});

describe("TokenBuckets", () => {
  it("allows the burst, then refills at the rate, with a Retry-After", () => {
    let clock = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, now: () => clock });
    for (let i = 0; i < 3; i++) buckets.take("k");
    let refused: unknown;
    try {
      buckets.take("k");
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: "rate_limited", retryAfterSeconds: 1 });
    buckets.take("other"); // separate buckets
    clock += 500;
    buckets.take("k");
    expect(() => buckets.take("k")).toThrow(/rate limit/);
  });

  it("keeps at most maxBuckets, dropping idle ones first", () => {
    let clock = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxBuckets: 2, now: () => clock });
    buckets.take("a");
    buckets.take("b");
    clock += 10_000;
    buckets.take("c"); // a and b are full again: dropped
    expect(() => buckets.take("c")).toThrow();
  });
});

describe("ConcurrencyGate", () => {
  it("runs `concurrency` at once, queues up to `queue`, refuses beyond with OverloadedError", async () => {
    const gate = new ConcurrencyGate({ concurrency: 1, queue: 1, retryAfterSeconds: 2 });
    const first = await gate.acquire();
    const waiting = gate.acquire();
    expect(gate.queued).toBe(1);
    await expect(gate.acquire()).rejects.toMatchObject({ code: "overloaded", retryAfterSeconds: 2 });
    first();
    first(); // idempotent
    const second = await waiting;
    expect(gate.active).toBe(1);
    second();
    expect(gate.active).toBe(0);
  });

  it("lets an aborted waiter leave the queue", async () => {
    const gate = new ConcurrencyGate({ concurrency: 1, queue: 2, retryAfterSeconds: 1 });
    const held = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    expect(gate.queued).toBe(0);
    held();
    expect(gate.active).toBe(0);
  });
});
