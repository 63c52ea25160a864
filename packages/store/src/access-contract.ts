/**
 * The contract of what keeps tenants apart in the store: API keys, the audit trail, service secrets,
 * per-collection job numbers, collection-scoped chunk reads and the per-tenant collection quota. Every
 * driver runs it from its own test file, like `describeDocumentStoreContract`.
 */
import { randomUUID } from "node:crypto";
import { QuotaExceededError, type SiftStore } from "@sift/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentWrite } from "./sample-documents";

export function describeAccessStoreContract(name: string, open: () => Promise<SiftStore>): void {
  describe(`access and tenancy contract: ${name}`, () => {
    let store: SiftStore;
    beforeAll(async () => {
      store = await open();
      await store.migrate();
    });
    afterAll(async () => {
      await store.close();
    });

    const tenant = () => `t-${randomUUID()}`;
    const keyInput = (t: string, extra: Partial<Parameters<SiftStore["createApiKey"]>[0]> = {}) => ({
      id: `key_${randomUUID()}`,
      tenant: t,
      role: "reader" as const,
      hash: randomUUID().replaceAll("-", "").repeat(2),
      preview: "sift_abc",
      createdBy: "test",
      ...extra,
    });

    describe("API keys", () => {
      it("creates, finds by hash, lists per tenant newest first and revokes idempotently", async () => {
        const t = tenant();
        const first = await store.createApiKey(
          keyInput(t, { role: "admin", name: "ops", user: "u-1", filter: { field: "desk", eq: "energy" } }),
        );
        expect(first).toMatchObject({
          tenant: t,
          role: "admin",
          name: "ops",
          user: "u-1",
          filter: { field: "desk", eq: "energy" },
          revokedAt: null,
          lastUsedAt: null,
          expiresAt: null,
        });
        expect(first.createdAt).toBeInstanceOf(Date);
        const second = await store.createApiKey(keyInput(t, { expiresAt: new Date("2099-01-01T00:00:00Z") }));
        const other = await store.createApiKey(keyInput(tenant()));
        const found = await store.findApiKeyByHash(keyInput(t).hash);
        expect(found).toBeUndefined();
        expect((await store.listApiKeys(t)).map((k) => k.id)).toEqual([second.id, first.id]);
        expect((await store.listApiKeys()).map((k) => k.id)).toEqual(expect.arrayContaining([other.id]));

        // Another tenant's key is "missing" for a tenant-scoped revoke.
        expect(await store.revokeApiKey(other.id, t)).toBeUndefined();
        expect((await store.listApiKeys(other.tenant))[0]?.revokedAt).toBeNull();
        const revoked = await store.revokeApiKey(first.id, t);
        expect(revoked?.revokedAt).toBeInstanceOf(Date);
        const again = await store.revokeApiKey(first.id);
        expect(again?.revokedAt?.getTime()).toBe(revoked?.revokedAt?.getTime());
        expect(await store.revokeApiKey("key_missing")).toBeUndefined();
      });

      it("finds a key by its hash only, and refuses a second key with the same hash", async () => {
        const input = keyInput(tenant());
        await store.createApiKey(input);
        expect(await store.findApiKeyByHash(input.hash)).toMatchObject({ id: input.id, hash: input.hash });
        await expect(store.createApiKey({ ...input, id: `key_${randomUUID()}` })).rejects.toMatchObject({
          code: "conflict",
        });
      });

      it("raises lastUsedAt in one call and never lowers it", async () => {
        const t = tenant();
        const a = await store.createApiKey(keyInput(t));
        const b = await store.createApiKey(keyInput(t));
        const later = new Date("2030-01-02T03:04:05.678Z");
        await store.touchApiKeys([
          { id: a.id, lastUsedAt: later },
          { id: b.id, lastUsedAt: new Date("2030-01-01T00:00:00Z") },
        ]);
        await store.touchApiKeys([{ id: a.id, lastUsedAt: new Date("2029-01-01T00:00:00Z") }]);
        await store.touchApiKeys([]);
        const keys = new Map((await store.listApiKeys(t)).map((k) => [k.id, k]));
        expect(keys.get(a.id)?.lastUsedAt?.toISOString()).toBe(later.toISOString());
        expect(keys.get(b.id)?.lastUsedAt?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
        expect(await store.countApiKeys()).toBeGreaterThanOrEqual(2);
      });
    });

    describe("audit trail", () => {
      it("appends events and pages a tenant's trail newest first, never another tenant's", async () => {
        const [t, other] = [tenant(), tenant()];
        await store.appendAudit(
          Array.from({ length: 5 }, (_, i) => ({
            tenant: t,
            actor: "key:k1",
            action: "document.write",
            collection: "c",
            target: `d${i}`,
            detail: { i },
            requestId: `r${i}`,
          })),
        );
        await store.appendAudit([{ tenant: other, actor: "cli:root", action: "collection.delete" }]);
        await store.appendAudit([]);
        const first = await store.listAudit(t, { limit: 3 });
        expect(first.map((e) => e.target)).toEqual(["d4", "d3", "d2"]);
        expect(first[0]).toMatchObject({ tenant: t, actor: "key:k1", collection: "c", detail: { i: 4 } });
        expect(first[0]?.at).toBeInstanceOf(Date);
        const next = await store.listAudit(t, { limit: 3, beforeId: first[2]!.id });
        expect(next.map((e) => e.target)).toEqual(["d1", "d0"]);
        expect(await store.listAudit(other, { limit: 10 })).toMatchObject([
          { action: "collection.delete", collection: null, target: null, detail: {}, requestId: null },
        ]);
      });
    });

    describe("service secrets", () => {
      it("makes a secret once and returns the same bytes afterwards", async () => {
        const name = `s-${randomUUID()}`;
        const [a, b] = await Promise.all([store.serviceSecret(name, 32), store.serviceSecret(name, 32)]);
        expect(a).toHaveLength(32);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        expect(Buffer.from(await store.serviceSecret(name, 32)).equals(Buffer.from(a))).toBe(true);
      });
    });

    describe("tenancy of ids", () => {
      it("numbers jobs 1, 2, 3 … per collection, whatever other collections do", async () => {
        const one = (await store.ensureCollection({ tenant: tenant(), name: "jobs" })).collection.id;
        const two = (await store.ensureCollection({ tenant: tenant(), name: "jobs" })).collection.id;
        const a1 = await store.createJob({ collectionId: one, kind: "api", source: "s" });
        const b1 = await store.createJob({ collectionId: two, kind: "api", source: "s" });
        const concurrent = await Promise.all(
          [1, 2, 3].map(() => store.createJob({ collectionId: one, kind: "api", source: "s" })),
        );
        expect(a1.number).toBe(1);
        expect(b1.number).toBe(1);
        expect(concurrent.map((j) => j.number).sort()).toEqual([2, 3, 4]);
        expect((await store.getJobByNumber(one, 1))?.id).toBe(a1.id);
        expect((await store.getJobByNumber(two, 1))?.id).toBe(b1.id);
        expect(await store.getJobByNumber(two, 2)).toBeUndefined();
        expect((await store.listJobs(one, { limit: 10 })).map((j) => j.number)).toEqual([4, 3, 2, 1]);
      });

      it("reads chunks of the named collection only", async () => {
        const mine = (await store.ensureCollection({ tenant: tenant(), name: "c" })).collection.id;
        const theirs = (await store.ensureCollection({ tenant: tenant(), name: "c" })).collection.id;
        await store.writeDocuments(mine, [documentWrite("a", "my text")]);
        await store.writeDocuments(theirs, [documentWrite("a", "their text")]);
        const [myIds, theirIds] = [await store.listChunkIds(mine), await store.listChunkIds(theirs)];
        const read = await store.getCollectionChunks(mine, [...myIds, ...theirIds, 987_654_321]);
        expect(read.map((c) => c.id)).toEqual(myIds);
        expect(read.every((c) => c.collectionId === mine && c.text === "my text")).toBe(true);
        expect(await store.getCollectionChunks(theirs, myIds)).toEqual([]);
        expect(await store.getCollectionChunks(mine, [])).toEqual([]);
      });

      it("caps a tenant's collections exactly, even when created concurrently", async () => {
        const t = tenant();
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.ensureCollection({ tenant: t, name: `c${i}`, maxPerTenant: 3 }),
          ),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
        const refused = results.filter((r) => r.status === "rejected");
        expect(refused).toHaveLength(3);
        for (const r of refused) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
        }
        expect(await store.listCollections(t)).toHaveLength(3);
        // An existing collection is returned whatever the count; other tenants are not counted.
        const existing = (await store.listCollections(t))[0]!;
        await expect(
          store.ensureCollection({ tenant: t, name: existing.name, maxPerTenant: 3 }),
        ).resolves.toMatchObject({ created: false });
        await expect(
          store.ensureCollection({ tenant: tenant(), name: "c0", maxPerTenant: 1 }),
        ).resolves.toMatchObject({ created: true });
      });
    });
  });
}
