import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const docs = [
  {
    id: "vax-1",
    title: "Vaccine trial",
    text: "The vaccine reduced infection rates in adults.",
    metadata: { year: 2021, lang: "en", tags: ["med", "trial"], published: "2021-03-01" },
  },
  {
    id: "vax-2",
    title: "Booster study",
    text: "A booster vaccine dose restored waning immunity against infection.",
    metadata: { year: 2023, lang: "en", tags: ["med"], published: "2023-06-15" },
  },
  {
    id: "vax-3",
    title: "Étude vaccinale",
    text: "Le vaccin réduit les infections; vaccine efficacy in French cohorts.",
    metadata: { year: 2022, lang: "fr", tags: ["med"], published: "2022-01-10" },
  },
  {
    id: "soil",
    title: "Soil microbes",
    text: "Soil bacteria fix nitrogen for legumes.",
    metadata: { year: 2019, lang: "en", tags: ["bio"], published: "2019-09-09" },
  },
];

describe("HTTP API over app.request()", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ maxBodyBytes: 64 * 1024 });
    expect((await t.call("PUT", "/v1/collections/papers")).status).toBe(201);
    const ingest = await t.call("POST", "/v1/collections/papers/documents", { documents: docs });
    expect(ingest.status).toBe(200);
    expect(ingest.body.job.counts.created).toBe(4);
  });
  afterAll(async () => t.close());

  it("answers health and readiness", async () => {
    expect(await t.call("GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await t.call("GET", "/readyz")).toMatchObject({ status: 200, body: { status: "ready" } });
  });

  it("creates collections idempotently and lists them per tenant", async () => {
    expect((await t.call("PUT", "/v1/collections/papers")).status).toBe(200);
    expect(
      (await t.call("PUT", "/v1/collections/other", undefined, { "x-sift-tenant": "acme" })).status,
    ).toBe(201);
    const mine = await t.call("GET", "/v1/collections");
    expect(mine.body.collections.map((c: { name: string }) => c.name)).toEqual(["papers"]);
    const theirs = await t.call("GET", "/v1/collections", undefined, { "x-sift-tenant": "acme" });
    expect(theirs.body.collections.map((c: { name: string }) => c.name)).toEqual(["other"]);
    // Another tenant cannot see this tenant's collection.
    expect(
      (
        await t.call(
          "POST",
          "/v1/collections/papers/search",
          { query: "vaccine" },
          { "x-sift-tenant": "acme" },
        )
      ).status,
    ).toBe(404);
  });

  it("searches with BM25 and explains every hit", async () => {
    const res = await t.call("POST", "/v1/collections/papers/search", { query: "vaccine infection", k: 3 });
    expect(res.status).toBe(200);
    expect(res.body.hits).toHaveLength(3);
    const [first] = res.body.hits;
    expect(["vax-1", "vax-2"]).toContain(first.documentId);
    expect(first).toMatchObject({ scoreKind: "bm25", legs: { bm25: { rank: 1 } } });
    expect(first.score).toBe(first.legs.bm25.score);
    expect(first.snippet.html).toContain("<mark>");
    expect(typeof first.chunkId).toBe("number");
    const scores = res.body.hits.map((h: { score: number }) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // Offsets point into the stored document text.
    const doc = await t.call("GET", `/v1/collections/papers/documents/${first.documentId}`);
    expect(doc.body.document.text.slice(first.charStart, first.charEnd).length).toBeGreaterThan(0);
    expect(res.body.degraded).toEqual([]);
  });

  it("pages with offset without repeating hits", async () => {
    const all = await t.call("POST", "/v1/collections/papers/search", { query: "vaccine", k: 3 });
    const page2 = await t.call("POST", "/v1/collections/papers/search", {
      query: "vaccine",
      k: 2,
      offset: 1,
    });
    expect(page2.body.hits.map((h: { chunkId: number }) => h.chunkId)).toEqual(
      all.body.hits.slice(1, 3).map((h: { chunkId: number }) => h.chunkId),
    );
    expect(page2.body.hits[0].legs.bm25.rank).toBe(2);
  });

  it.each([
    [{ field: "lang", eq: "fr" }, ["vax-3"]],
    [{ field: "tags", in: ["trial"] }, ["vax-1"]],
    [{ field: "year", gte: 2022 }, ["vax-2", "vax-3"]],
    [{ field: "published", lt: "2022-01-01" }, ["vax-1"]],
    [{ and: [{ field: "lang", eq: "en" }, { not: { field: "year", lt: 2022 } }] }, ["vax-2"]],
    [
      {
        or: [
          { field: "lang", eq: "fr" },
          { field: "year", eq: 2021 },
        ],
      },
      ["vax-1", "vax-3"],
    ],
  ])("filters on metadata %j", async (filter, expected) => {
    const res = await t.call("POST", "/v1/collections/papers/search", { query: "vaccine", k: 10, filter });
    expect(res.status).toBe(200);
    expect(res.body.hits.map((h: { documentId: string }) => h.documentId).sort()).toEqual(expected);
  });

  it("rejects bad bodies naming each offending field", async () => {
    const res = await t.call("POST", "/v1/collections/papers/search", {
      query: "",
      k: 0,
      extra: 1,
      filter: { field: "x", gte: "not a date" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    const paths = res.body.error.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["query", "k", "extra", "filter.gte"]));
    expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("refuses dense and hybrid modes when no embedding model is configured, naming the field", async () => {
    for (const mode of ["dense", "hybrid"]) {
      const res = await t.call("POST", "/v1/collections/papers/search", { query: "vaccine", mode });
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0].path).toBe("mode");
    }
    const bad = await t.call("POST", "/v1/collections/papers/search", {
      query: "x",
      fusion: { method: "max", rrfK: -1 },
    });
    expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      "fusion.method",
      "fusion.rrfK",
    ]);
  });

  it("rejects invalid JSON, a missing body and a bad tenant", async () => {
    expect((await t.call("POST", "/v1/collections/papers/search", "{nope")).body.error.code).toBe(
      "invalid_request",
    );
    expect((await t.call("POST", "/v1/collections/papers/search")).status).toBe(400);
    const bad = await t.call(
      "POST",
      "/v1/collections/papers/search",
      { query: "x" },
      { "x-sift-tenant": "bad tenant!" },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe("header.x-sift-tenant");
  });

  it("answers 404 for unknown collections, documents, jobs and routes in the error shape", async () => {
    for (const [method, url] of [
      ["POST", "/v1/collections/nope/search"],
      ["GET", "/v1/collections/papers/documents/nope"],
      ["GET", "/v1/collections/papers/jobs/999999"],
      ["GET", "/v2/whatever"],
    ] as const) {
      const res = await t.call(method, url, method === "POST" ? { query: "x" } : undefined);
      expect(res.status, url).toBe(404);
      expect(res.body.error).toMatchObject({ code: "not_found" });
      expect(res.body.error.requestId).toBeTruthy();
    }
  });

  it("answers 413 when the body is too large", async () => {
    const big = { documents: [{ id: "big", text: "x".repeat(70 * 1024) }] };
    const res = await t.call("POST", "/v1/collections/papers/documents", big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("rejects duplicate ids within one batch", async () => {
    const res = await t.call("POST", "/v1/collections/papers/documents", {
      documents: [
        { id: "a", text: "one" },
        { id: "a", text: "two" },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields[0].path).toBe("documents.1.id");
  });

  it("lists documents with paging", async () => {
    const first = await t.call("GET", "/v1/collections/papers/documents?limit=3");
    expect(first.body.documents).toHaveLength(3);
    const second = await t.call(
      "GET",
      `/v1/collections/papers/documents?limit=3&cursor=${first.body.nextCursor}`,
    );
    const ids = [...first.body.documents, ...second.body.documents].map((d: { id: string }) => d.id);
    expect(ids).toEqual(["soil", "vax-1", "vax-2", "vax-3"]);
    expect(second.body.nextCursor).toBeNull();
    expect((await t.call("GET", "/v1/collections/papers/documents?limit=0")).status).toBe(400);
  });

  it("replaces changed documents, skips unchanged ones, and deletes everywhere", async () => {
    const again = await t.call("POST", "/v1/collections/papers/documents", {
      documents: [docs[0], { ...docs[3], text: "Soil fungi trade phosphorus with plant roots." }],
    });
    expect(again.body.job.counts).toMatchObject({ unchanged: 1, updated: 1 });
    const fungi = await t.call("POST", "/v1/collections/papers/search", { query: "fungi phosphorus" });
    expect(fungi.body.hits.map((h: { documentId: string }) => h.documentId)).toEqual(["soil"]);
    expect(
      (await t.call("POST", "/v1/collections/papers/search", { query: "nitrogen legumes" })).body.hits,
    ).toEqual([]);
    expect((await t.call("GET", "/v1/collections/papers/documents/soil")).body.document.version).toBe(2);

    expect((await t.call("DELETE", "/v1/collections/papers/documents/soil")).status).toBe(204);
    expect((await t.call("DELETE", "/v1/collections/papers/documents/soil")).status).toBe(404);
    expect(
      (await t.call("POST", "/v1/collections/papers/search", { query: "fungi phosphorus" })).body.hits,
    ).toEqual([]);
  });

  it("lists ingestion jobs and shows one", async () => {
    const jobs = await t.call("GET", "/v1/collections/papers/jobs");
    expect(jobs.body.jobs.length).toBeGreaterThanOrEqual(2);
    const job = await t.call("GET", `/v1/collections/papers/jobs/${jobs.body.jobs[0].id}`);
    expect(job.body.job.status).toBe("succeeded");
  });
});
