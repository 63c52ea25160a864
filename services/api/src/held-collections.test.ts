import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestApp } from "./test-support";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const doc = (id: string, text: string) => ({ id, title: id, text });

describe("searches resolve their collection from memory (HeldCollections)", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function appWith(docs: { id: string; title: string; text: string }[]) {
    t = await createTestApp({ refreshIntervalMs: 50 });
    expect((await t.call("PUT", "/v1/collections/papers")).status).toBe(201);
    expect((await t.call("POST", "/v1/collections/papers/documents", { documents: docs })).status).toBe(200);
    return t;
  }

  it("reads the store for the first search only", async () => {
    const app = await appWith([doc("a", "nitrogen fixing soil bacteria")]);
    const reads = vi.spyOn(app.store, "getCollection");
    for (let i = 0; i < 5; i++) {
      const found = await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" });
      expect(found.status).toBe(200);
      expect(found.body.hits).toHaveLength(1);
    }
    // The PUT and the write read the store themselves; of the searches only the first one does.
    expect(reads).toHaveBeenCalledTimes(1);
    const answered = await app.call("POST", "/v1/collections/papers/answer", {
      question: "what fixes nitrogen?",
    });
    expect(answered.status).toBe(200);
    expect(reads).toHaveBeenCalledTimes(1);
    // Another tenant's name is not held: the store answers, with a 404.
    const other = await app.call(
      "POST",
      "/v1/collections/papers/search",
      { query: "nitrogen" },
      {
        "x-sift-tenant": "acme",
      },
    );
    expect(other.status).toBe(404);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it("forgets a collection deleted here and finds the new one of that name", async () => {
    const app = await appWith([doc("a", "nitrogen fixing soil bacteria")]);
    expect((await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" })).status).toBe(200);
    expect((await app.call("DELETE", "/v1/collections/papers")).status).toBe(204);
    expect((await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" })).status).toBe(404);
    expect((await app.call("PUT", "/v1/collections/papers")).status).toBe(201);
    const written = await app.call("POST", "/v1/collections/papers/documents", {
      documents: [doc("b", "nitrogen in the atmosphere")],
    });
    expect(written.status).toBe(200);
    const found = await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" });
    expect(found.status).toBe(200);
    expect(found.body.hits.map((h: { documentId: string }) => h.documentId)).toEqual(["b"]);
  });

  it("forgets a collection another process deleted once its refresher finds it gone", async () => {
    const app = await appWith([doc("a", "nitrogen fixing soil bacteria")]);
    expect((await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" })).status).toBe(200);
    const collection = (await app.store.getCollection("default", "papers"))!;
    // Straight to the store, as the CLI or another replica would: this process's engine is not told.
    await app.store.deleteCollection(collection.id);
    await vi.waitFor(() => expect(app.engine.snapshot(collection.id)).toBeUndefined(), { timeout: 5000 });
    expect((await app.call("POST", "/v1/collections/papers/search", { query: "nitrogen" })).status).toBe(404);
  });
});
