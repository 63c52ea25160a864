import { generateApiKey } from "@sift/access";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditPageSchema,
  collectionDetailSchema,
  documentsPageSchema,
  errorBodySchema,
  jobsListSchema,
  keyCreatedSchema,
  keysListSchema,
  searchResponseSchema,
} from "./schemas";
import { createTestApp } from "./test-support";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
type Bearer = { authorization: string };

const documents = [
  { id: "e1", text: "Oil prices rose on supply fears.", metadata: { desk: "energy" } },
  { id: "e2", text: "Gas storage fell as prices rose.", metadata: { desk: "energy" } },
  { id: "m1", text: "Bond prices rose after the rate cut.", metadata: { desk: "macro" } },
];

describe("API keys, roles and tenants over app.request()", () => {
  let t: TestApp;
  let admin: Bearer;
  let writer: Bearer;
  let reader: Bearer;
  let scoped: Bearer;
  let otherAdmin: Bearer;

  beforeAll(async () => {
    t = await createTestApp({ auth: "required" });
    admin = (await t.createKey("acme", "admin")).bearer;
    writer = (await t.createKey("acme", "writer")).bearer;
    reader = (await t.createKey("acme", "reader")).bearer;
    scoped = (await t.createKey("acme", "reader", { filter: { field: "desk", eq: "energy" } })).bearer;
    otherAdmin = (await t.createKey("globex", "admin")).bearer;
    expect((await t.call("PUT", "/v1/collections/news", undefined, writer)).status).toBe(201);
    expect((await t.call("POST", "/v1/collections/news/documents", { documents }, writer)).status).toBe(200);
  });
  afterAll(async () => t.close());

  it("refuses requests without a key, or with a malformed, unknown or revoked one, with 401", async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer not-a-key" },
      { authorization: `Bearer ${generateApiKey()}` },
    ];
    for (const headers of cases) {
      const res = await t.call("GET", "/v1/collections", undefined, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="sift"');
      expect(errorBodySchema.parse(res.body).error.code).toBe("unauthorized");
    }
    const doomed = await t.createKey("acme", "reader");
    expect((await t.call("GET", "/v1/collections", undefined, doomed.bearer)).status).toBe(200);
    expect((await t.call("DELETE", `/v1/keys/${doomed.record.id}`, undefined, admin)).status).toBe(200);
    const after = await t.call("GET", "/v1/collections", undefined, doomed.bearer);
    expect(after.status).toBe(401);
    expect(after.body.error.message).toContain("revoked");
    // Health and the OpenAPI document need no key.
    expect((await t.call("GET", "/healthz")).status).toBe(200);
    expect((await t.call("GET", "/openapi.json")).status).toBe(200);
  });

  it("lets each role do what it may and refuses the rest with 403", async () => {
    const search = { query: "prices rose" };
    for (const key of [reader, writer, admin]) {
      const res = await t.call("POST", "/v1/collections/news/search", search, key);
      expect(res.status).toBe(200);
      expect(searchResponseSchema.parse(res.body).hits).toHaveLength(3);
    }
    const write = { documents: [{ id: "x", text: "new" }] };
    expect((await t.call("POST", "/v1/collections/news/documents", write, reader)).status).toBe(403);
    expect((await t.call("DELETE", "/v1/collections/news", undefined, reader)).status).toBe(403);
    expect((await t.call("PUT", "/v1/collections/more", undefined, reader)).status).toBe(403);
    expect((await t.call("GET", "/v1/keys", undefined, writer)).status).toBe(403);
    expect((await t.call("GET", "/v1/audit", undefined, writer)).status).toBe(403);
    const refused = await t.call("POST", "/v1/keys", { role: "reader" }, reader);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: "forbidden",
      message: expect.stringContaining("admin"),
    });
    expect((await t.call("POST", "/v1/collections/news/documents", write, writer)).status).toBe(200);
    expect((await t.call("DELETE", "/v1/collections/news/documents/x", undefined, writer)).status).toBe(204);
  });

  it("takes the tenant from the key: another tenant's collection is 404, and the header is ignored", async () => {
    for (const [method, path, body] of [
      ["GET", "/v1/collections/news", undefined],
      ["POST", "/v1/collections/news/search", { query: "prices" }],
      ["GET", "/v1/collections/news/documents/e1", undefined],
      ["DELETE", "/v1/collections/news", undefined],
    ] as const) {
      const res = await t.call(method, path, body, { ...otherAdmin, "x-sift-tenant": "acme" });
      expect(res.status).toBe(404);
    }
    const listed = await t.call("GET", "/v1/collections", undefined, {
      ...otherAdmin,
      "x-sift-tenant": "acme",
    });
    expect(listed.body.collections).toEqual([]);
  });

  it("ANDs a scoped key's filter into search and hides out-of-scope documents and collection totals", async () => {
    const hits = await t.call("POST", "/v1/collections/news/search", { query: "prices rose", k: 10 }, scoped);
    expect(hits.body.hits.map((h: { documentId: string }) => h.documentId).sort()).toEqual(["e1", "e2"]);
    // Asking for the other desk explicitly cannot widen the scope.
    const widened = await t.call(
      "POST",
      "/v1/collections/news/search",
      { query: "prices rose", filter: { field: "desk", eq: "macro" } },
      scoped,
    );
    expect(widened.body.hits).toEqual([]);
    expect((await t.call("GET", "/v1/collections/news/documents/m1", undefined, scoped)).status).toBe(404);
    expect((await t.call("GET", "/v1/collections/news/documents/e1", undefined, scoped)).status).toBe(200);
    const page = documentsPageSchema.parse(
      (await t.call("GET", "/v1/collections/news/documents?limit=1", undefined, scoped)).body,
    );
    expect(page.documents.map((d) => d.id)).toEqual(["e1"]);
    const next = documentsPageSchema.parse(
      (
        await t.call(
          "GET",
          `/v1/collections/news/documents?limit=5&cursor=${page.nextCursor}`,
          undefined,
          scoped,
        )
      ).body,
    );
    expect(next.documents.map((d) => d.id)).toEqual(["e2"]);
    expect(next.nextCursor).toBeNull();
    const detail = collectionDetailSchema.parse(
      (await t.call("GET", "/v1/collections/news", undefined, scoped)).body,
    );
    expect(detail).toMatchObject({ documents: null, indexes: null });
    expect((await t.call("GET", "/v1/collections/news/jobs", undefined, scoped)).status).toBe(403);
    expect((await t.call("GET", "/v1/collections/news/jobs/1", undefined, scoped)).status).toBe(403);
  });

  it("lets an admin create, list and revoke its tenant's keys, never another tenant's", async () => {
    const created = await t.call(
      "POST",
      "/v1/keys",
      { role: "reader", name: "portal", filter: { field: "desk", eq: "macro" }, user: "ana" },
      admin,
    );
    expect(created.status).toBe(201);
    const key = keyCreatedSchema.parse(created.body);
    expect(key).toMatchObject({
      tenant: "acme",
      role: "reader",
      user: "ana",
      createdBy: expect.stringMatching(/^key:/),
    });
    const listed = keysListSchema.parse((await t.call("GET", "/v1/keys", undefined, admin)).body);
    expect(listed.keys.map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(key.key);
    expect(listed.keys.every((k) => k.tenant === "acme")).toBe(true);
    const macro = { authorization: `Bearer ${key.key}` };
    const hits = await t.call("POST", "/v1/collections/news/search", { query: "prices rose" }, macro);
    expect(hits.body.hits.map((h: { documentId: string }) => h.documentId)).toEqual(["m1"]);
    expect((await t.call("DELETE", `/v1/keys/${key.id}`, undefined, otherAdmin)).status).toBe(404);
    expect((await t.call("DELETE", `/v1/keys/${key.id}`, undefined, admin)).status).toBe(200);
    // A key cannot revoke itself (an admin would lock itself out).
    const self = await t.createKey("acme", "admin");
    expect((await t.call("DELETE", `/v1/keys/${self.record.id}`, undefined, self.bearer)).status).toBe(409);
    expect(
      (await t.call("POST", "/v1/keys", { role: "writer", filter: { field: "a", eq: 1 } }, admin)).status,
    ).toBe(400);
    expect((await t.call("POST", "/v1/keys", { role: "owner" }, admin)).status).toBe(400);
  });

  it("keeps an audit trail of writes, deletes and key changes, paged, per tenant", async () => {
    const first = auditPageSchema.parse((await t.call("GET", "/v1/audit?limit=2", undefined, admin)).body);
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page = auditPageSchema.parse(
        (
          await t.call(
            "GET",
            `/v1/audit?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`,
            undefined,
            admin,
          )
        ).body,
      );
      all.push(...page.events.map((e) => e.action));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(all).toEqual(
      expect.arrayContaining([
        "collection.create",
        "document.write",
        "document.delete",
        "key.create",
        "key.revoke",
      ]),
    );
    expect(first.events[0]?.actor).toMatch(/^key:key_/);
    const theirs = auditPageSchema.parse((await t.call("GET", "/v1/audit", undefined, otherAdmin)).body);
    expect(theirs.events).toEqual([]);
    expect((await t.call("GET", "/v1/audit?cursor=9999999999999999", undefined, admin)).status).toBe(400);
  });

  it("shows jobs by their number in the collection and chunk ids that do not count globally", async () => {
    const jobs = jobsListSchema.parse(
      (await t.call("GET", "/v1/collections/news/jobs", undefined, reader)).body,
    ).jobs;
    // The first batch, then the writer's one-document batch (a delete is not a job).
    expect(jobs.map((j) => j.id)).toEqual([2, 1]);
    expect((await t.call("GET", "/v1/collections/news/jobs/1", undefined, reader)).body.job.id).toBe(1);
    const hits = (await t.call("POST", "/v1/collections/news/search", { query: "prices rose" }, reader)).body
      .hits;
    const internal = await t.store.listChunkIds((await t.store.getCollection("acme", "news"))!.id);
    const shown = hits.map((h: { chunkId: number }) => h.chunkId);
    expect(shown.some((id: number) => internal.includes(id))).toBe(false);
    // Stable across requests.
    const again = (await t.call("POST", "/v1/collections/news/search", { query: "prices rose" }, reader)).body
      .hits;
    expect(again.map((h: { chunkId: number }) => h.chunkId)).toEqual(shown);
  });

  it("records key use in batches: last-used and key.used after a flush", async () => {
    const { record, bearer } = await t.createKey("acme", "reader");
    for (let i = 0; i < 3; i++) await t.call("GET", "/v1/collections", undefined, bearer);
    expect((await t.store.listApiKeys("acme")).find((k) => k.id === record.id)?.lastUsedAt).toBeNull();
    await t.usage.flush();
    expect((await t.store.listApiKeys("acme")).find((k) => k.id === record.id)?.lastUsedAt).toBeInstanceOf(
      Date,
    );
    const trail = await t.store.listAudit("acme", { limit: 50 });
    expect(trail.find((e) => e.action === "key.used" && e.target === record.id)?.detail).toMatchObject({
      requests: 3,
    });
  });
});

describe("per-key rate limits", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ auth: "required", rateLimit: { ratePerSecond: 0.001, burst: 3 } });
  });
  afterAll(async () => t.close());

  it("answers 429 with Retry-After past the burst, per key", async () => {
    const one = (await t.createKey("acme", "reader")).bearer;
    const two = (await t.createKey("acme", "reader")).bearer;
    for (let i = 0; i < 3; i++)
      expect((await t.call("GET", "/v1/collections", undefined, one)).status).toBe(200);
    const limited = await t.call("GET", "/v1/collections", undefined, one);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.body.error.code).toBe("rate_limited");
    expect((await t.call("GET", "/v1/collections", undefined, two)).status).toBe(200);
  });
});
