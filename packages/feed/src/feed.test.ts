import { NotFoundError, SiftError, ValidationError } from "@sift/core";
import { describe, expect, it } from "vitest";
import { hour, listBackfill, testFeed } from "./test-support";
import { documentKey, type FeedDocument } from "./types";
import { dot } from "./vectors";

const solar =
  "Solar panel prices fell again this quarter as new factories opened in three countries, and solar power " +
  "installations hit a record while grid operators warned about midday surpluses and curtailment of output.";
const solarCopy = `${solar.replace("again", "once more")} Reported by Wire B.`;
const solarAnalysis =
  "Why cheap solar power changes utility planning: an analysis of panel prices, storage costs and demand.";
const banks = "Quarterly earnings of the largest banks beat expectations on trading revenue.";
const wind = "Offshore wind auctions drew fewer bidders as turbine costs rose sharply this year.";

async function analyst(
  world: ReturnType<typeof testFeed>,
  user = "ana",
  extra: Record<string, unknown> = {},
) {
  return world.feed.putProfile("acme", user, {
    savedQueries: [{ id: "solar", text: "solar power prices" }],
    collections: ["news"],
    ...extra,
  });
}

async function caught(promise: Promise<unknown>): Promise<SiftError> {
  try {
    await promise;
  } catch (error) {
    if (SiftError.is(error)) return error;
    throw error;
  }
  throw new Error("expected a SiftError");
}

describe("Feed: matching on arrival", () => {
  it("scores a new document against every following profile and stores a candidate with its reasons", async () => {
    const world = testFeed();
    await analyst(world, "ana");
    await world.feed.putProfile("acme", "bob", {
      savedQueries: [{ text: "bank earnings" }],
      collections: ["news"],
    });
    await world.feed.putProfile("acme", "cy", { savedQueries: [{ text: "solar" }], collections: ["other"] });
    const result = await world.feed.applyChanges({
      tenant: "acme",
      upserted: [world.document("d1", solar), world.document("d2", banks)],
      removed: [],
    });
    expect(result.matchMs).toHaveLength(2);
    const ana = await world.store.listCandidates("acme", "ana");
    const d1 = ana.find((c) => c.documentId === "d1")!;
    expect(d1.bestQuery).toMatchObject({ queryId: "solar", terms: ["solar", "power", "price"] });
    expect(d1.match.bm25).toBeGreaterThan(0);
    expect(d1.match.queryCosine).toBeGreaterThan(0);
    expect(await world.store.listCandidates("acme", "cy")).toEqual([]);
    const page = await world.feed.read("acme", "ana");
    expect(page.items[0]?.documentId).toBe("d1");
    const bob = await world.feed.read("acme", "bob");
    expect(bob.items[0]?.documentId).toBe("d2");
  });

  it("applies the coverage filter and the coverage feature", async () => {
    const world = testFeed();
    await analyst(world, "ana", { coverage: { field: "sector", eq: "energy" } });
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [
        world.document("in", solar, { metadata: { sector: "energy" } }),
        world.document("out", solar, { metadata: { sector: "banking" } }),
      ],
      removed: [],
    });
    const candidates = await world.store.listCandidates("acme", "ana");
    expect(candidates.map((c) => [c.documentId, c.match.coverage])).toEqual([["in", 1]]);
  });

  it("lets updates and deletes reach the candidates", async () => {
    const world = testFeed({ match: { minRelevance: 0.05 } });
    await analyst(world);
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", solar)], removed: [] });
    expect((await world.store.listCandidates("acme", "ana")).map((c) => c.title)).toEqual(["d1"]);
    // Changed into something the profile no longer matches: the candidate goes.
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", banks)], removed: [] });
    expect(await world.store.listCandidates("acme", "ana")).toEqual([]);
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [world.document("d1", solar, { title: "Solar, revised" })],
      removed: [],
    });
    expect((await world.store.listCandidates("acme", "ana")).map((c) => c.title)).toEqual(["Solar, revised"]);
    const deleted = await world.feed.applyChanges({
      tenant: "acme",
      upserted: [],
      removed: [{ collection: "news", documentId: "d1" }],
    });
    expect(deleted.removed).toBe(1);
    expect(await world.store.listCandidates("acme", "ana")).toEqual([]);
    expect((await world.feed.read("acme", "ana")).items).toEqual([]);
  });

  it("backfills a new profile from the existing corpus by search", async () => {
    const existing: FeedDocument[] = [];
    const world = testFeed({ backfill: listBackfill(() => existing) });
    existing.push(world.document("old-solar", solar), world.document("old-banks", banks));
    await analyst(world);
    const candidates = await world.store.listCandidates("acme", "ana");
    expect(candidates.map((c) => c.documentId)).toEqual(["old-solar"]);
  });

  it("delivers a new item to a subscriber as soon as it is ranked", async () => {
    const world = testFeed();
    await analyst(world);
    const received: string[] = [];
    const unsubscribe = world.feed.subscribe("acme", "ana", (item) => received.push(item.documentId));
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", solar)], removed: [] });
    unsubscribe();
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d2", wind)], removed: [] });
    expect(received).toEqual(["d1"]);
  });
});

describe("Feed: reading", () => {
  it("makes near-duplicates one item 'also from' the other sources, read once for all", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [
        world.document("a", solar, { metadata: { source: "wire-a" } }),
        world.document("b", solarCopy, { metadata: { source: "wire-b" } }),
        world.document("w", wind, { metadata: { source: "wire-a" } }),
      ],
      removed: [],
    });
    const page = await world.feed.read("acme", "ana");
    const story = page.items.find((i) => i.itemId === "news/a")!;
    expect(story.members.sort()).toEqual(["news/a", "news/b"]);
    expect(story.alsoFrom).toEqual([story.source === "wire-a" ? "wire-b" : "wire-a"]);
    expect(page.items).toHaveLength(2);
    await world.feed.recordEvents("acme", "ana", {
      events: [
        {
          type: "open",
          itemId: "news/a",
          document: { collection: "news", documentId: "b" },
          requestId: page.requestId,
          position: 1,
        },
      ],
    });
    const after = await world.feed.read("acme", "ana");
    expect(after.items.map((i) => i.itemId)).toEqual(["news/w"]);
  });

  it("holds mutes of sources, tags and documents, also for candidates matched before the mute", async () => {
    const world = testFeed();
    await analyst(world, "ana", { mutes: { tags: ["gossip"] } });
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [
        world.document("s1", solar, { metadata: { source: "tabloid" } }),
        world.document("s2", `${wind} solar power`, { metadata: { source: "wire", tags: ["gossip"] } }),
        world.document("s3", `Solar power prices: ${banks}`, { metadata: { source: "wire" } }),
      ],
      removed: [],
    });
    expect((await world.feed.read("acme", "ana")).items.map((i) => i.documentId).sort()).toEqual([
      "s1",
      "s3",
    ]);
    await world.feed.recordEvents("acme", "ana", {
      events: [
        { type: "mute", itemId: "news/s1", mute: { source: "tabloid" } },
        { type: "mute", itemId: "news/s3", mute: { document: true } },
      ],
    });
    expect((await world.feed.read("acme", "ana")).items).toEqual([]);
    expect((await world.feed.getProfile("acme", "ana")).mutes).toEqual({
      sources: ["tabloid"],
      tags: ["gossip"],
      documents: ["news/s3"],
    });
  });

  it("caps one source in the first window and pages with a cursor", async () => {
    const world = testFeed({ diversity: { window: 4, perSource: 2 } });
    await analyst(world);
    const docs = Array.from({ length: 6 }, (_, i) =>
      world.document(`d${i}`, `Solar power prices, note ${i}: ${"solar ".repeat(6 - i)}`, {
        metadata: { source: i < 4 ? "big" : `small-${i}` },
      }),
    );
    await world.feed.applyChanges({ tenant: "acme", upserted: docs, removed: [] });
    const first = await world.feed.read("acme", "ana", { limit: 4 });
    expect(first.items.filter((i) => i.source === "big")).toHaveLength(2);
    expect(first.items.map((i) => i.source)).toEqual(expect.arrayContaining(["small-4", "small-5"]));
    const second = await world.feed.read("acme", "ana", { limit: 4, cursor: first.nextCursor });
    expect(second.items.map((i) => i.source)).toEqual(["big", "big"]);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((i) => i.documentId)).size).toBe(6);
  });

  it("explains an item: query and terms, centroid, saved document, peers, contributions", async () => {
    const world = testFeed();
    await analyst(world, "ana");
    await analyst(world, "bob");
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [world.document("d1", solar), world.document("d2", solarAnalysis)],
      removed: [],
    });
    const bobPage = await world.feed.read("acme", "bob");
    const d2 = bobPage.items.find((i) => i.documentId === "d2")!;
    await world.feed.recordEvents("acme", "bob", {
      events: [
        { type: "dwell", itemId: d2.itemId, dwellSeconds: 120, requestId: bobPage.requestId, position: 1 },
      ],
    });
    const anaPage = await world.feed.read("acme", "ana");
    await world.feed.recordEvents("acme", "ana", {
      events: [{ type: "save", itemId: anaPage.items[0]!.itemId }],
    });
    const remaining = (await world.feed.read("acme", "ana")).items[0]!;
    const why = await world.feed.why("acme", "ana", remaining.itemId);
    expect(why.matchedQuery).toMatchObject({ queryId: "solar", text: "solar power prices" });
    expect(why.matchedQuery!.terms.length).toBeGreaterThan(0);
    // The saved document was far from the saved query, so it started an interest of its own.
    expect(why.nearestCentroid?.origin).toMatch(/^(saved query solar|feedback on news\/d[12])$/);
    expect(why.nearestSaved?.title).toBeDefined();
    const total = Object.values(why.contributions).reduce((s, v) => s + (v ?? 0), 0);
    expect(total).toBeCloseTo(why.score, 9);
    expect(why.reasons.at(-1)).toContain("score");
    if (remaining.itemId === d2.itemId) {
      expect(why.collaborative?.peers).toBe(1);
      expect(why.reasons).toContain("1 analyst who cover the same names read this");
    }
    await expect(world.feed.why("acme", "ana", "news/none")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("Feed: feedback", () => {
  it("moves the nearest centroid towards a document read at length and away from 'less like this'", async () => {
    const world = testFeed();
    const before = await analyst(world);
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [
        world.document("d1", "Solar power prices: solar power gets cheaper."),
        world.document("d2", `${wind} solar`),
      ],
      removed: [],
    });
    const vectorOf = async (id: string) =>
      (await world.store.getDocuments("acme", [{ collection: "news", documentId: id }])).get(`news/${id}`)!
        .embedding!;
    const [v1, v2] = [await vectorOf("d1"), await vectorOf("d2")];
    const centroid0 = before.learned.centroids[0]!.vector;
    world.clock.now += hour;
    await world.feed.recordEvents("acme", "ana", {
      events: [{ type: "dwell", itemId: "news/d1", dwellSeconds: 90 }],
    });
    const moved = (await world.feed.getProfile("acme", "ana")).learned.centroids[0]!;
    expect(dot(moved.vector, v1)).toBeGreaterThan(dot(centroid0, v1));
    expect(moved.mass).toBeGreaterThan(before.learned.centroids[0]!.mass - 0.01);
    await world.feed.recordEvents("acme", "ana", { events: [{ type: "less-like-this", itemId: "news/d2" }] });
    const pushed = (await world.feed.getProfile("acme", "ana")).learned;
    expect(dot(pushed.centroids[0]!.vector, v2)).toBeLessThan(dot(moved.vector, v2));
    expect(pushed.avoided.map((a) => a.documentKey)).toEqual(["news/d2"]);
    // A short click is no evidence: nothing moves.
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d3", banks)], removed: [] });
    await world.feed.recordEvents("acme", "ana", {
      events: [{ type: "dwell", itemId: "news/d3", dwellSeconds: 3 }],
    });
    expect((await world.feed.getProfile("acme", "ana")).learned.centroids).toEqual(pushed.centroids);
  });

  it("logs events with the impression they answer", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", solar)], removed: [] });
    const page = await world.feed.read("acme", "ana");
    await world.feed.recordEvents("acme", "ana", {
      events: [
        { type: "impression", itemId: "news/d1", requestId: page.requestId, position: 1 },
        { type: "open", itemId: "news/d1", requestId: page.requestId, position: 1, dwellSeconds: 45 },
      ],
    });
    const events = await world.store.listEvents("acme", { user: "ana" });
    expect(events.map((e) => [e.type, e.requestId, e.position])).toEqual([
      ["impression", page.requestId, 1],
      ["open", page.requestId, 1],
    ]);
    const groups = await world.feed.trainingGroups("acme");
    expect(groups[0]?.items[0]).toMatchObject({ itemId: "news/d1", position: 1, label: 1 });
  });
});

describe("Feed: bad input at the boundary", () => {
  it("refuses a bad profile naming each field", async () => {
    const world = testFeed();
    const error = await caught(
      world.feed.putProfile("acme", "ana", {
        savedQueries: [{ text: "" }],
        collections: [],
        coverage: { field: "x", gte: 1, lt: "2024-01-01" },
        colour: "blue",
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).fields.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["savedQueries.0.text", "collections", "colour"]));
  });

  it("refuses events naming the field, for unknown users, items and other tenants' documents", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.putProfile("other", "ana", {
      savedQueries: [{ text: "solar power" }],
      collections: ["news"],
    });
    await world.feed.applyChanges({
      tenant: "other",
      upserted: [world.document("secret", solar, { tenant: "other" })],
      removed: [],
    });
    const unknownUser = await caught(
      world.feed.recordEvents("acme", "nobody", { events: [{ type: "open", itemId: "x" }] }),
    );
    expect(unknownUser).toBeInstanceOf(NotFoundError);
    const bad = await caught(
      world.feed.recordEvents("acme", "ana", { events: [{ type: "click", itemId: "x" }] }),
    );
    expect((bad as ValidationError).fields.map((f) => f.path)).toEqual(["events.0.type"]);
    const dwell = await caught(
      world.feed.recordEvents("acme", "ana", { events: [{ type: "dwell", itemId: "x" }] }),
    );
    expect((dwell as ValidationError).fields.map((f) => f.path)).toEqual(["events.0.dwellSeconds"]);
    const foreign = await caught(
      world.feed.recordEvents("acme", "ana", { events: [{ type: "save", itemId: "news/secret" }] }),
    );
    expect((foreign as ValidationError).fields).toEqual([
      { path: "events.0.itemId", message: "not an item of this user's feed" },
    ]);
    expect(await world.store.listEvents("acme")).toEqual([]);
    await expect(world.feed.read("acme", "nobody")).rejects.toBeInstanceOf(NotFoundError);
    await expect(world.feed.read("acme", "ana", { cursor: "nonsense" })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(world.feed.read("acme", "ana", { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it("keeps tenants apart: the same user id in two tenants has two feeds", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.putProfile("other", "ana", {
      savedQueries: [{ text: "solar power" }],
      collections: ["news"],
    });
    await world.feed.applyChanges({
      tenant: "other",
      upserted: [world.document("secret", solar, { tenant: "other" })],
      removed: [],
    });
    expect((await world.feed.read("acme", "ana")).items).toEqual([]);
    expect((await world.feed.read("other", "ana")).items.map((i) => documentKey(i))).toEqual(["news/secret"]);
  });
});

describe("Feed: the read cache", () => {
  /** Counts the store reads a feed read makes for profiles, item states, candidates and document records. */
  function counted(world: ReturnType<typeof testFeed>) {
    const counts = { profiles: 0, states: 0, candidates: 0, documents: 0 };
    const { store } = world;
    const getProfile = store.getProfile.bind(store);
    const getItemStates = store.getItemStates.bind(store);
    const listCandidates = store.listCandidates.bind(store);
    const getDocuments = store.getDocuments.bind(store);
    store.getProfile = (...args) => {
      counts.profiles += 1;
      return getProfile(...args);
    };
    store.getItemStates = (...args) => {
      counts.states += 1;
      return getItemStates(...args);
    };
    store.listCandidates = (...args) => {
      counts.candidates += 1;
      return listCandidates(...args);
    };
    store.getDocuments = (...args) => {
      counts.documents += 1;
      return getDocuments(...args);
    };
    return counts;
  }

  it("reads a user's state and a document's record once, and this feed's own writes reach the next read", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", solar)], removed: [] });
    const counts = counted(world);
    const ids = async () => (await world.feed.read("acme", "ana")).items.map((i) => i.documentId);
    expect(await ids()).toEqual(["d1"]);
    expect(await ids()).toEqual(["d1"]);
    // A record loaded within clockSkewMs (1 s) of the match that named it is read again: another
    // process's clock may be that far behind.
    expect(counts).toEqual({ profiles: 1, states: 1, candidates: 1, documents: 2 });
    world.clock.now += 1_000;
    expect(await ids()).toEqual(["d1"]);
    expect(await ids()).toEqual(["d1"]);
    expect(counts).toEqual({ profiles: 1, states: 1, candidates: 1, documents: 3 });

    // An arrival and a retitling drop the cached entries: the next read sees both.
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [world.document("d2", solarAnalysis), world.document("d1", solar, { title: "Renamed" })],
      removed: [],
    });
    const page = await world.feed.read("acme", "ana");
    expect(page.items.map((i) => [i.documentId, i.title]).sort()).toEqual([
      ["d1", "Renamed"],
      ["d2", "d2"],
    ]);
    await world.feed.applyChanges({
      tenant: "acme",
      upserted: [],
      removed: [{ collection: "news", documentId: "d2" }],
    });
    expect(await ids()).toEqual(["d1"]);

    // Feedback raises the user's generation: the next read loads the user's state again, once.
    const { requestId } = await world.feed.read("acme", "ana");
    await world.feed.recordEvents("acme", "ana", {
      events: [{ type: "dismiss", itemId: "news/d1", requestId }],
    });
    const before = { ...counts };
    expect(await ids()).toEqual([]);
    expect(await ids()).toEqual([]);
    expect(counts.states - before.states).toBe(1);
    expect(counts.profiles - before.profiles).toBe(1);
  });

  it("sees another process's writes to the user at its next read (the store's generation moved)", async () => {
    const world = testFeed();
    await analyst(world);
    await world.feed.applyChanges({ tenant: "acme", upserted: [world.document("d1", solar)], removed: [] });
    const replica = testFeed({ store: world.store, clock: () => world.clock.now });
    const ids = async () => (await world.feed.read("acme", "ana")).items.map((i) => i.documentId);
    expect(await ids()).toEqual(["d1"]);
    const counts = counted(world);
    expect(await ids()).toEqual(["d1"]);
    expect(counts).toMatchObject({ profiles: 0, states: 0, candidates: 0 });

    const { requestId } = await replica.feed.read("acme", "ana");
    await replica.feed.recordEvents("acme", "ana", {
      events: [{ type: "dismiss", itemId: "news/d1", requestId }],
    });
    const before = { ...counts };
    expect(await ids()).toEqual([]);
    expect(counts.profiles - before.profiles).toBe(1);
    expect(counts.states - before.states).toBe(1);
    expect(counts.candidates - before.candidates).toBe(1);
  });

  it("skips an upsert of a document version it already holds", async () => {
    const world = testFeed();
    await analyst(world);
    const first = { ...world.document("d1", solar), version: 7 };
    expect(
      (await world.feed.applyChanges({ tenant: "acme", upserted: [first], removed: [] })).candidates,
    ).toBe(1);
    const again = await world.feed.applyChanges({ tenant: "acme", upserted: [first], removed: [] });
    expect(again).toMatchObject({ candidates: 0, unchanged: 1 });
    const rewritten = { ...world.document("d1", banks), version: 9 };
    expect(
      await world.feed.applyChanges({ tenant: "acme", upserted: [rewritten], removed: [] }),
    ).toMatchObject({
      candidates: 1,
      unchanged: 0,
    });
  });
});
