import { bagOfWordsEmbedder } from "@sift/core/testing";
import { CatalogFeed, Engine } from "@sift/engine";
import { deleteDocuments, ingestDocuments } from "@sift/ingest";
import { feedStoreOf } from "@sift/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

// The feed over HTTP on a real PGlite store and real BM25/usearch indexes; the embedder is the deterministic
// bag-of-words double of our own interface (as dense.test.ts), so the dense and centroid legs are exercised.
const { embedder } = bagOfWordsEmbedder({ seed: 11, dimensions: 128 });

const solar = {
  id: "solar-1",
  title: "Solar prices fall",
  text: "Solar panel prices fell again as new factories opened, and solar power installations hit a record.",
  metadata: { source: "wire-a", sector: "energy" },
};
const banks = {
  id: "banks-1",
  title: "Bank earnings",
  text: "Quarterly earnings of the largest banks beat expectations on trading revenue.",
  metadata: { source: "wire-a", sector: "finance" },
};
const solarAnalysis = {
  id: "solar-2",
  title: "Cheap solar and utilities",
  text: "Why cheap solar power changes utility planning: panel prices, storage costs and demand.",
  metadata: { source: "wire-b", sector: "energy" },
};

const profile = (extra: Record<string, unknown> = {}) => ({
  savedQueries: [{ id: "solar", text: "solar power prices" }],
  collections: ["news"],
  ...extra,
});

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function feedIds(t: TestApp, user: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await t.call("GET", `/v1/users/${user}/feed?limit=50`, undefined, headers);
  expect(res.status).toBe(200);
  return res.body.items.map((i: { documentId: string }) => i.documentId);
}

describe("the feed over HTTP", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ embedder, feedStreamMs: 120_000 });
    expect((await t.call("PUT", "/v1/collections/news")).status).toBe(201);
  });
  afterEach(async () => {
    await t.close();
  });

  const write = (...documents: object[]) => t.call("POST", "/v1/collections/news/documents", { documents });

  it("matches documents ingested over HTTP against the profile, and explains each item", async () => {
    const put = await t.call("PUT", "/v1/users/ana", profile());
    expect(put.status).toBe(200);
    expect(put.body.profile).toMatchObject({ user: "ana", collections: ["news"], version: 1 });
    expect(put.body.profile.learned.centroids).toHaveLength(1);
    expect(await feedIds(t, "ana")).toEqual([]);

    // Every document of a followed collection inside the coverage is a candidate, ranked by relevance.
    expect((await write(banks, solar)).status).toBe(200);
    const page = await t.call("GET", "/v1/users/ana/feed?limit=10");
    expect(page.body.items.map((i: { documentId: string }) => i.documentId)).toEqual(["solar-1", "banks-1"]);
    expect(page.body.items[0]).toMatchObject({ itemId: "news/solar-1", position: 1, source: "wire-a" });
    expect(page.body.items[0].features.bm25).toBeGreaterThan(0.3);
    expect(page.body.items[1].features.bm25).toBe(0);
    expect(page.body.items[0].score).toBeGreaterThan(page.body.items[1].score);
    const second = await t.call("GET", `/v1/users/ana/feed?limit=1&cursor=${page.body.nextCursor}`);
    expect(page.body.nextCursor).toBeNull();
    expect(second.status).toBe(400);
    const first = await t.call("GET", "/v1/users/ana/feed?limit=1");
    const next = await t.call("GET", `/v1/users/ana/feed?limit=1&cursor=${first.body.nextCursor}`);
    expect(
      next.body.items.map((i: { documentId: string; position: number }) => [i.documentId, i.position]),
    ).toEqual([["banks-1", 2]]);

    const why = await t.call("GET", "/v1/users/ana/feed/news%2Fsolar-1/why");
    expect(why.status).toBe(200);
    expect(why.body.why.matchedQuery).toMatchObject({ queryId: "solar", text: "solar power prices" });
    expect(why.body.why.matchedQuery.terms).toEqual(expect.arrayContaining(["solar", "power"]));
    const sum = Object.values(why.body.why.contributions as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    expect(sum).toBeCloseTo(why.body.why.score, 9);
    expect(why.body.why.reasons.length).toBeGreaterThan(0);
  });

  it("backfills a new profile from the existing corpus by hybrid search", async () => {
    await write(solar, banks, solarAnalysis);
    await t.call("PUT", "/v1/users/ana", profile());
    const ids = await feedIds(t, "ana");
    expect(ids.slice(0, 2).sort()).toEqual(["solar-1", "solar-2"]);
    // A profile following a collection that does not exist (yet) is stored with an empty feed.
    await t.call("PUT", "/v1/users/cy", profile({ collections: ["later"] }));
    expect(await feedIds(t, "cy")).toEqual([]);
  });

  it("applies the coverage filter at match time", async () => {
    await t.call("PUT", "/v1/users/ana", profile({ coverage: { field: "source", eq: "wire-b" } }));
    await write(solar, solarAnalysis);
    expect(await feedIds(t, "ana")).toEqual(["solar-2"]);
  });

  it("lets an update and a delete reach the feed", async () => {
    await t.call("PUT", "/v1/users/ana", profile());
    await write(solar, solarAnalysis);
    expect((await feedIds(t, "ana")).sort()).toEqual(["solar-1", "solar-2"]);

    // solar-1 rewritten about banks: its match is redone (no saved-query term left, ranked last); solar-2
    // retitled: the feed shows the new title.
    await write(
      { ...solar, title: "Banks", text: banks.text },
      { ...solarAnalysis, title: "Solar, revisited" },
    );
    const page = await t.call("GET", "/v1/users/ana/feed");
    expect(
      page.body.items.map((i: { documentId: string; title: string }) => [i.documentId, i.title]),
    ).toEqual([
      ["solar-2", "Solar, revisited"],
      ["solar-1", "Banks"],
    ]);
    expect(page.body.items[1].features.bm25).toBe(0);

    expect((await t.call("DELETE", "/v1/collections/news/documents/solar-2")).status).toBe(204);
    expect(await feedIds(t, "ana")).toEqual(["solar-1"]);

    await write(solar);
    const restored = (await t.call("GET", "/v1/users/ana/feed")).body.items;
    expect(restored.map((i: { title: string }) => i.title)).toEqual(["Solar prices fall"]);
    expect(restored[0].features.bm25).toBeGreaterThan(0.3);
    expect((await t.call("DELETE", "/v1/collections/news")).status).toBe(204);
    expect(await feedIds(t, "ana")).toEqual([]);
  });

  it("holds mutes: stated at match time, and a mute event from then on", async () => {
    await t.call("PUT", "/v1/users/ana", profile({ mutes: { sources: ["wire-b"] } }));
    await write(solar, solarAnalysis);
    expect(await feedIds(t, "ana")).toEqual(["solar-1"]);

    const muted = await t.call("POST", "/v1/users/ana/events", {
      events: [{ type: "mute", itemId: "news/solar-1", mute: { source: "wire-a" } }],
    });
    expect(muted.status).toBe(200);
    expect(muted.body).toEqual({ accepted: 1 });
    expect(await feedIds(t, "ana")).toEqual([]);
    expect((await t.call("GET", "/v1/users/ana")).body.profile.mutes.sources.sort()).toEqual([
      "wire-a",
      "wire-b",
    ]);
    await write({ ...solar, id: "solar-3" });
    expect(await feedIds(t, "ana")).toEqual([]);
  });

  it("moves the profile with feedback: a save pulls a centroid, less-like-this is remembered", async () => {
    await t.call("PUT", "/v1/users/ana", profile());
    await write(solar, solarAnalysis);
    const before = (await t.call("GET", "/v1/users/ana")).body.profile;
    const page = (await t.call("GET", "/v1/users/ana/feed")).body;
    const [first, second] = page.items;
    const res = await t.call("POST", "/v1/users/ana/events", {
      events: [
        { type: "impression", itemId: first.itemId, requestId: page.requestId, position: first.position },
        { type: "impression", itemId: second.itemId, requestId: page.requestId, position: second.position },
        { type: "open", itemId: first.itemId, requestId: page.requestId, position: first.position },
        { type: "dwell", itemId: first.itemId, dwellSeconds: 120 },
        { type: "save", itemId: first.itemId },
        { type: "less-like-this", itemId: second.itemId },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(6);
    const after = (await t.call("GET", "/v1/users/ana")).body.profile;
    expect(after.version).toBeGreaterThan(before.version);
    const massOf = (p: { learned: { centroids: Array<{ mass: number }> } }) =>
      p.learned.centroids.reduce((sum, c) => sum + c.mass, 0);
    expect(massOf(after)).toBeGreaterThan(massOf(before));
    expect(
      after.learned.saved.map((s: { document: { documentId: string } }) => s.document.documentId),
    ).toEqual([first.documentId]);
    expect(after.learned.avoided).toBe(1);
    // The opened item is read and the other dismissed ("less like this"): both leave the feed.
    expect(await feedIds(t, "ana")).toEqual([]);
  });

  it("streams an item written after the client connected (Server-Sent Events)", async () => {
    await t.call("PUT", "/v1/users/ana", profile());
    const controller = new AbortController();
    const response = await t.app.request("/v1/users/ana/feed/stream", { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${received}`);
        received += decoder.decode(value, { stream: true });
      }
    };
    try {
      await until(/event: ready\n/);
      expect(received).not.toContain("event: item");
      await write(solar);
      await until(/event: item\ndata: .*\nid: 0\n\n/);
      const data = /event: item\ndata: (.*)\n/.exec(received)![1]!;
      expect(JSON.parse(data)).toMatchObject({ itemId: "news/solar-1", documentId: "solar-1" });
    } finally {
      controller.abort();
      await reader.cancel().catch(() => {});
    }
  });

  it("refuses bad input: unknown user 404, bad events and profiles 400 naming the field", async () => {
    const missing = await t.call("GET", "/v1/users/nobody/feed");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect((await t.call("GET", "/v1/users/nobody")).status).toBe(404);
    expect((await t.call("DELETE", "/v1/users/nobody")).status).toBe(404);
    expect(
      (await t.call("POST", "/v1/users/nobody/events", { events: [{ type: "open", itemId: "x" }] })).status,
    ).toBe(404);

    const badProfile = await t.call("PUT", "/v1/users/ana", { collections: [], extra: 1 });
    expect(badProfile.status).toBe(400);
    expect(badProfile.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      "collections",
      "extra",
    ]);
    expect((await t.call("PUT", "/v1/users/a%20b", profile())).body.error.fields[0].path).toBe("path.user");

    await t.call("PUT", "/v1/users/ana", profile());
    await write(solar);
    const fieldsOf = async (events: unknown[]) => {
      const res = await t.call("POST", "/v1/users/ana/events", { events });
      expect(res.status).toBe(400);
      return res.body.error.fields.map((f: { path: string }) => f.path);
    };
    expect(await fieldsOf([{ type: "click", itemId: "news/solar-1" }])).toEqual(["events.0.type"]);
    expect(
      await fieldsOf([
        { type: "open", itemId: "news/solar-1" },
        { type: "impression", itemId: "news/solar-1" },
      ]),
    ).toEqual(["events.1.requestId"]);
    expect(await fieldsOf([{ type: "dwell", itemId: "news/solar-1" }])).toEqual(["events.0.dwellSeconds"]);
    expect(await fieldsOf([{ type: "open", itemId: "news/nope" }])).toEqual(["events.0.itemId"]);
    expect(await fieldsOf([{ type: "open", itemId: "news/solar-1", requestId: "made-up" }])).toEqual([
      "events.0.requestId",
    ]);
    expect((await t.call("GET", "/v1/users/ana/feed?limit=0")).body.error.fields[0].path).toBe("query.limit");
    expect((await t.call("GET", "/v1/users/ana/feed?cursor=zzz")).body.error.fields[0].path).toBe("cursor");
    expect((await t.call("GET", "/v1/users/ana/feed/news%2Fnope/why")).status).toBe(404);
    // Nothing of the refused batches was logged: the item is still unread.
    expect(await feedIds(t, "ana")).toEqual(["solar-1"]);
  });
});

describe("feed tenancy and user-bound keys", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ auth: "required" });
  });
  afterEach(async () => {
    await t.close();
  });

  it("keeps users, feeds and documents of one tenant invisible to another", async () => {
    const a = await t.createKey("tenant-a", "writer");
    const b = await t.createKey("tenant-b", "writer");
    for (const key of [a, b]) {
      await t.call("PUT", "/v1/collections/news", undefined, key.bearer);
      await t.call("PUT", "/v1/users/ana", profile(), key.bearer);
    }
    await t.call("POST", "/v1/collections/news/documents", { documents: [solar] }, a.bearer);
    await t.call("POST", "/v1/collections/news/documents", { documents: [solarAnalysis] }, b.bearer);
    expect(await feedIds(t, "ana", a.bearer)).toEqual(["solar-1"]);
    expect(await feedIds(t, "ana", b.bearer)).toEqual(["solar-2"]);

    await t.call("PUT", "/v1/users/only-a", profile(), a.bearer);
    expect((await t.call("GET", "/v1/users/only-a", undefined, b.bearer)).status).toBe(404);
    expect((await t.call("GET", "/v1/users/only-a/feed", undefined, b.bearer)).status).toBe(404);
    expect((await t.call("DELETE", "/v1/users/only-a", undefined, b.bearer)).status).toBe(404);
    expect((await t.call("GET", "/v1/users/only-a", undefined, a.bearer)).status).toBe(200);

    // An event naming tenant A's document, sent for tenant B's ana: refused, naming the item.
    const crossTenant = await t.call(
      "POST",
      "/v1/users/ana/events",
      { events: [{ type: "save", itemId: "news/solar-1" }] },
      b.bearer,
    );
    expect(crossTenant.status).toBe(400);
    expect(crossTenant.body.error.fields).toEqual([
      { path: "events.0.itemId", message: "not an item of this user's feed" },
    ]);
    // A read served to A's ana is no request id for B's ana either.
    const served = (await t.call("GET", "/v1/users/ana/feed", undefined, a.bearer)).body;
    const replayed = await t.call(
      "POST",
      "/v1/users/ana/events",
      { events: [{ type: "impression", itemId: "news/solar-2", requestId: served.requestId, position: 1 }] },
      b.bearer,
    );
    expect(replayed.body.error.fields.map((f: { path: string }) => f.path)).toEqual(["events.0.requestId"]);
  });

  it("lets a key bound to a user reach only that user, and unbound readers only read", async () => {
    const admin = await t.createKey("acme", "admin");
    await t.call("PUT", "/v1/collections/news", undefined, admin.bearer);
    await t.call("PUT", "/v1/users/bob", profile(), admin.bearer);
    const ana = await t.createKey("acme", "reader", { user: "ana" });

    expect((await t.call("PUT", "/v1/users/ana", profile(), ana.bearer)).status).toBe(200);
    await t.call("POST", "/v1/collections/news/documents", { documents: [solar] }, admin.bearer);
    expect(await feedIds(t, "ana", ana.bearer)).toEqual(["solar-1"]);
    const own = await t.call(
      "POST",
      "/v1/users/ana/events",
      { events: [{ type: "save", itemId: "news/solar-1" }] },
      ana.bearer,
    );
    expect(own.status).toBe(200);
    for (const [method, path] of [
      ["GET", "/v1/users/bob"],
      ["GET", "/v1/users/bob/feed"],
      ["GET", "/v1/users/bob/feed/stream"],
      ["PUT", "/v1/users/bob"],
      ["DELETE", "/v1/users/bob"],
      ["GET", "/v1/users/bob/feed/news%2Fsolar-1/why"],
    ] as const) {
      const res = await t.call(method, path, method === "PUT" ? profile() : undefined, ana.bearer);
      expect(res.status, `${method} ${path}`).toBe(404);
    }

    const reader = await t.createKey("acme", "reader");
    expect(await feedIds(t, "bob", reader.bearer)).toEqual(["solar-1"]);
    expect((await t.call("PUT", "/v1/users/bob", profile(), reader.bearer)).status).toBe(403);
    expect(
      (
        await t.call(
          "POST",
          "/v1/users/bob/events",
          { events: [{ type: "open", itemId: "news/solar-1" }] },
          reader.bearer,
        )
      ).status,
    ).toBe(403);
    // The server ends a stream after its lifetime (3 s in tests), telling the client when to reconnect.
    const stream = await t.app.request("/v1/users/ana/feed/stream", { headers: ana.bearer });
    const text = await stream.text();
    expect(text).toMatch(/^event: ready\ndata: .*\nretry: 1000\n\n/);

    const scoped = await t.createKey("acme", "reader", { filter: { field: "sector", eq: "energy" } });
    expect((await t.call("GET", "/v1/users/bob/feed", undefined, scoped.bearer)).status).toBe(403);
  });
});

// Writes made past this process's write path (the CLI, another replica on a shared store): written here
// through the store with a sync target that tells no index, so only the refresher's poll can find them.
describe("the feed and writes made by other processes", () => {
  const refreshIntervalMs = 100;
  const unseen = { sync: async () => {} };
  let t: TestApp;
  let collectionId: number;
  beforeEach(async () => {
    t = await createTestApp({ embedder, refreshIntervalMs });
    expect((await t.call("PUT", "/v1/collections/news")).status).toBe(201);
    collectionId = (await t.store.getCollection("default", "news"))!.id;
    expect((await t.call("PUT", "/v1/users/ana", profile())).status).toBe(200);
  });
  afterEach(async () => {
    await t.close();
  });

  const writeElsewhere = (...documents: Array<typeof solar>) =>
    ingestDocuments({
      store: t.store,
      lexical: unseen,
      collectionId,
      documents: documents.map((d) => ({ externalId: d.id, ...d })),
    });
  /** The feed's ids once they equal `expected`, polled until the deadline (many refresh intervals). */
  const feedBecomes = async (expected: string[]) => {
    const deadline = Date.now() + 10_000;
    let ids = await feedIds(t, "ana");
    while (JSON.stringify([...ids].sort()) !== JSON.stringify(expected) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, refreshIntervalMs / 2));
      ids = await feedIds(t, "ana");
    }
    return [...ids].sort();
  };

  it("takes in a document ingested past the service, and lets its delete take it out", async () => {
    const job = await writeElsewhere(solar, banks);
    expect(job.status).toBe("succeeded");
    expect(await feedIds(t, "ana")).toEqual([]);
    expect(await feedBecomes(["banks-1", "solar-1"])).toEqual(["banks-1", "solar-1"]);

    const deleted = await deleteDocuments({
      store: t.store,
      lexical: unseen,
      collectionId,
      externalIds: ["solar-1"],
    });
    expect(deleted.deleted).toEqual(["solar-1"]);
    expect(await feedBecomes(["banks-1"])).toEqual(["banks-1"]);
  });

  it("applies a change once when this process's write and the poll both meet it", async () => {
    await t.call("POST", "/v1/collections/news/documents", { documents: [solar] });
    const first = (await t.call("GET", "/v1/users/ana/feed")).body.items[0];
    // A catch-up replays from the cursor: nothing past it, and the held version is not matched again.
    const [caughtUp] = await t.feed.catchUp();
    expect(caughtUp).toMatchObject({ collection: "news", result: { candidates: 0, removed: 0 } });
    expect(caughtUp!.to).toBe(caughtUp!.from);
    const again = (await t.call("GET", "/v1/users/ana/feed")).body.items;
    expect(again.map((i: { documentId: string; matchedAt?: number }) => i.documentId)).toEqual(["solar-1"]);
    expect(again[0].score).toBeCloseTo(first.score, 3);
  });

  it("catches up on start with what was committed while no service watched", async () => {
    await t.call("POST", "/v1/collections/news/documents", { documents: [solar, banks] });
    expect((await feedIds(t, "ana")).sort()).toEqual(["banks-1", "solar-1"]);
    // The service stops; meanwhile another process adds one document, rewrites one and deletes one.
    await t.feed.close();
    await t.engine.close();
    await writeElsewhere(solarAnalysis, { ...banks, text: `${banks.text} Solar power helped utilities.` });
    await deleteDocuments({ store: t.store, lexical: unseen, collectionId, externalIds: ["solar-1"] });

    const engine = new Engine({ store: t.store, dataDir: t.dataDir, embedder });
    const feed = new CatalogFeed({ store: t.store, feedStore: feedStoreOf(t.store), engine });
    try {
      await engine.load(collectionId);
      const [caughtUp] = await feed.catchUp();
      expect(caughtUp!.to).toBeGreaterThan(caughtUp!.from!);
      expect(caughtUp!.result).toMatchObject({ unchanged: 0, removed: 1 });
      const page = await feed.feed.read("default", "ana", { limit: 50 });
      expect(page.items.map((i) => i.documentId).sort()).toEqual(["banks-1", "solar-2"]);
      expect(page.items.find((i) => i.documentId === "banks-1")!.features.bm25).toBeGreaterThan(0);
      // A second start finds nothing past the cursor.
      const [again] = await feed.catchUp();
      expect(again).toMatchObject({ from: caughtUp!.to, to: caughtUp!.to, result: { candidates: 0 } });
    } finally {
      await feed.close();
      await engine.close();
    }
  });
});
