import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { FeedStore } from "./feed-store";
import type { Candidate, FeedEvent, Profile, ServedFeed } from "./types";

/**
 * The contract every {@link FeedStore} passes (`feedStoreContract("memory", () => new MemoryFeedStore())`).
 * Each test works in a fresh tenant, so a shared database needs no cleaning between tests.
 */
export function feedStoreContract(name: string, open: () => Promise<FeedStore> | FeedStore): void {
  const tenant = () => `t-${randomUUID()}`;

  const profile = (t: string, user: string, collections = ["c"]): Profile => ({
    tenant: t,
    user,
    savedQueries: [{ id: "q1", text: "solar power", vector: new Float32Array([1, 0]) }],
    coverage: { field: "sector", eq: "energy" },
    collections,
    mutes: { sources: [], tags: [], documents: [] },
    learned: {
      centroids: [
        {
          id: "q:q1",
          vector: new Float32Array([1, 0]),
          mass: 2,
          updatedAt: 1,
          origin: { kind: "query", queryId: "q1" },
        },
      ],
      saved: [],
      avoided: [],
    },
    createdAt: 1,
    updatedAt: 1,
    version: 1,
  });

  const candidate = (t: string, user: string, documentId: string): Candidate => ({
    tenant: t,
    user,
    collection: "c",
    documentId,
    clusterId: `c/${documentId}`,
    title: documentId,
    source: "wire",
    tags: [],
    publishedAt: 10,
    matchedAt: 11,
    match: { bm25: 0.5, queryCosine: 0.4, coverage: 1 },
    bestQuery: { queryId: "q1", score: 0.5, raw: 3, terms: ["solar"] },
    nearestQuery: { queryId: "q1", cosine: 0.4 },
  });

  const event = (t: string, user: string, at: number, type: FeedEvent["type"] = "open"): FeedEvent => ({
    tenant: t,
    user,
    type,
    itemId: "c/d1",
    documentKey: "c/d1",
    requestId: null,
    position: null,
    at,
    dwellSeconds: null,
    mute: null,
  });

  describe(`FeedStore contract: ${name}`, () => {
    it("stores, lists by collection, isolates tenants and deletes profiles with their data", async () => {
      const store = await open();
      const [a, b] = [tenant(), tenant()];
      await store.putProfile(profile(a, "u2", ["c"]));
      await store.putProfile(profile(a, "u1", ["c", "d"]));
      await store.putProfile(profile(b, "u1", ["d"]));
      expect((await store.listProfiles(a)).map((p) => p.user)).toEqual(["u1", "u2"]);
      expect((await store.listProfiles(a, { collection: "d" })).map((p) => p.user)).toEqual(["u1"]);
      expect((await store.getProfile(b, "u1"))?.collections).toEqual(["d"]);
      expect(await store.getProfile(b, "u2")).toBeUndefined();
      const read = await store.getProfile(a, "u1");
      expect(Array.from(read!.learned.centroids[0]!.vector)).toEqual([1, 0]);
      await store.putCandidates([candidate(a, "u1", "d1")]);
      await store.appendEvents([event(a, "u1", 5)]);
      expect(await store.deleteProfile(a, "u1")).toBe(true);
      expect(await store.deleteProfile(a, "u1")).toBe(false);
      expect(await store.listCandidates(a, "u1")).toEqual([]);
      expect(await store.listEvents(a, { user: "u1" })).toEqual([]);
      expect(await store.getProfile(b, "u1")).toBeDefined();
    });

    it("keeps a copy: mutating what was written does not change the store", async () => {
      const store = await open();
      const t = tenant();
      const p = profile(t, "u1");
      await store.putProfile(p);
      p.collections.push("x");
      expect((await store.getProfile(t, "u1"))?.collections).toEqual(["c"]);
    });

    it("upserts candidates, lists them in key order and removes one document's for every or some users", async () => {
      const store = await open();
      const t = tenant();
      await store.putCandidates([
        candidate(t, "u1", "d2"),
        candidate(t, "u1", "d1"),
        candidate(t, "u2", "d1"),
      ]);
      await store.putCandidates([{ ...candidate(t, "u1", "d1"), title: "changed" }]);
      const mine = await store.listCandidates(t, "u1");
      expect(mine.map((c) => [c.documentId, c.title])).toEqual([
        ["d1", "changed"],
        ["d2", "d2"],
      ]);
      expect(await store.removeCandidates(t, { collection: "c", documentId: "d1" }, ["u2"])).toEqual(["u2"]);
      expect(await store.removeCandidates(t, { collection: "c", documentId: "d1" })).toEqual(["u1"]);
      expect((await store.listCandidates(t, "u1")).map((c) => c.documentId)).toEqual(["d2"]);
      expect(await store.listCandidates(tenant(), "u1")).toEqual([]);
    });

    it("stores document records with their signature and embedding", async () => {
      const store = await open();
      const t = tenant();
      const record = {
        tenant: t,
        collection: "c",
        documentId: "d1",
        clusterId: "c/d0",
        title: "T",
        source: null,
        publishedAt: 3,
        signature: new Uint32Array([1, 2, 3]),
        embedding: new Float32Array([0.6, 0.8]),
      };
      await store.putDocument(record);
      const found = await store.getDocuments(t, [
        { collection: "c", documentId: "d1" },
        { collection: "c", documentId: "zz" },
      ]);
      expect([...found.keys()]).toEqual(["c/d1"]);
      expect(Array.from(found.get("c/d1")!.signature)).toEqual([1, 2, 3]);
      expect(Array.from(found.get("c/d1")!.embedding!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
      expect((await store.listDocuments(t)).map((d) => d.documentId)).toEqual(["d1"]);
      expect(await store.removeDocument(t, { collection: "c", documentId: "d1" })).toBe(true);
      expect(await store.listDocuments(t)).toEqual([]);
    });

    it("lists events and served feeds by time, filtered by user and since", async () => {
      const store = await open();
      const t = tenant();
      await store.appendEvents([event(t, "u1", 30), event(t, "u2", 10), event(t, "u1", 20, "save")]);
      expect((await store.listEvents(t)).map((e) => e.at)).toEqual([10, 20, 30]);
      expect((await store.listEvents(t, { user: "u1", since: 25 })).map((e) => e.at)).toEqual([30]);
      const served: ServedFeed = {
        tenant: t,
        user: "u1",
        requestId: "r1",
        at: 40,
        ranker: "linear:hybrid",
        items: [
          {
            itemId: "c/d1",
            documentKey: "c/d1",
            position: 1,
            score: 0.5,
            features: {
              bm25: 1,
              queryCosine: 0,
              centroid: 0,
              coverage: 0,
              recency: 1,
              sourcePrior: 0.5,
              avoid: 0,
              coEngagement: 0,
              coRead: 0,
            },
          },
        ],
      };
      await store.appendServed(served);
      await store.appendServed({ ...served, requestId: "r0", at: 35 });
      expect((await store.getServed(t, "r1"))?.items[0]?.position).toBe(1);
      expect(await store.getServed(tenant(), "r1")).toBeUndefined();
      expect((await store.listServed(t)).map((s) => s.requestId)).toEqual(["r0", "r1"]);
    });

    it("keeps item states per user", async () => {
      const store = await open();
      const t = tenant();
      await store.putItemState(t, "u1", "c/d1", { read: true, saved: false, dismissed: false, updatedAt: 5 });
      expect((await store.getItemStates(t, "u1")).get("c/d1")?.read).toBe(true);
      expect((await store.getItemStates(t, "u2")).size).toBe(0);
    });

    it("raises a user's generation with every write to their profile, item states or candidates", async () => {
      const store = await open();
      const t = tenant();
      const generation = (user: string) => store.getUserGeneration(t, user);
      expect(await generation("u1")).toBe(0);
      const seen = [0];
      const raised = async (write: () => Promise<unknown>) => {
        await write();
        const now = await generation("u1");
        expect(now).toBeGreaterThan(seen.at(-1)!);
        seen.push(now);
      };
      await raised(() => store.putProfile(profile(t, "u1")));
      await raised(() => store.putCandidates([candidate(t, "u1", "d1"), candidate(t, "u2", "d1")]));
      await raised(() =>
        store.putItemState(t, "u1", "c/d1", { read: true, saved: false, dismissed: false, updatedAt: 5 }),
      );
      await raised(() => store.removeCandidates(t, { collection: "c", documentId: "d1" }, ["u1"]));
      await store.putCandidates([
        candidate(t, "u1", "d3"),
        candidate(t, "u1", "d4"),
        candidate(t, "u1", "d5"),
      ]);
      seen.push(await generation("u1"));
      await raised(async () => {
        const refs = ["d3", "d5", "d9"].map((documentId) => ({ collection: "c", documentId }));
        expect(await store.removeUserCandidates(t, "u1", refs)).toBe(2);
      });
      expect((await store.listCandidates(t, "u1")).map((c) => c.documentId)).toEqual(["d4"]);
      await raised(() => store.deleteProfile(t, "u1"));
      await raised(() => store.putProfile(profile(t, "u1")));
      // Other users, other tenants and reads leave it alone; removing nothing raises nothing.
      const last = seen.at(-1)!;
      await store.putCandidates([candidate(t, "u3", "d2")]);
      await store.removeCandidates(t, { collection: "c", documentId: "d2" }, ["u1"]);
      expect(await store.removeUserCandidates(t, "u1", [{ collection: "c", documentId: "d2" }])).toBe(0);
      await store.putProfile(profile(tenant(), "u1"));
      await store.listCandidates(t, "u1");
      expect(await generation("u1")).toBe(last);
      expect(await generation("u2")).toBeGreaterThan(0);
    });

    it("versions models from 1 per tenant and name", async () => {
      const store = await open();
      const [a, b] = [tenant(), tenant()];
      expect((await store.saveModel(a, "default", { w: 1 }, 100)).version).toBe(1);
      expect((await store.saveModel(a, "default", { w: 2 }, 200)).version).toBe(2);
      expect((await store.saveModel(b, "default", { w: 3 }, 300)).version).toBe(1);
      expect((await store.getModel(a, "default"))?.model).toEqual({ w: 2 });
      expect((await store.getModel(a, "default", 1))?.model).toEqual({ w: 1 });
      expect(await store.getModel(a, "default", 9)).toBeUndefined();
      expect((await store.listModels(a, "default")).map((m) => m.version)).toEqual([1, 2]);
    });

    it("keeps a change cursor per tenant and collection that never moves back", async () => {
      const store = await open();
      const [a, b] = [tenant(), tenant()];
      expect(await store.getCursor(a, "news")).toBeUndefined();
      await store.advanceCursor(a, "news", 41);
      await store.advanceCursor(a, "news", 9_007_199_254_740);
      await store.advanceCursor(a, "news", 7);
      await store.advanceCursor(a, "other", 3);
      expect(await store.getCursor(a, "news")).toBe(9_007_199_254_740);
      expect(await store.getCursor(a, "other")).toBe(3);
      expect(await store.getCursor(b, "news")).toBeUndefined();
    });
  });
}
