/**
 * The client against the service's own /openapi.json: every route in the document has a client method
 * (or is a page or the MCP endpoint, which have their own clients), and each method sends the documented
 * method and path. Then the methods this check added are run against the service for real.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SiftApiError, SiftClient } from "./client";
import { bootstrapKey, type SiftProcess, startSiftProcess } from "./test-support";

/** Each documented route, by `METHOD /path/{param}`, and a call of the client method serving it. */
const calls: Record<string, (c: SiftClient) => Promise<unknown>> = {
  "GET /healthz": (c) => c.health(),
  "GET /readyz": (c) => c.ready(),
  "GET /openapi.json": (c) => c.openApiDocument(),
  "GET /metrics": (c) => c.metrics("token"),
  "GET /v1/collections": (c) => c.listCollections(),
  "PUT /v1/collections/{collection}": (c) => c.ensureCollection("notes"),
  "GET /v1/collections/{collection}": (c) => c.getCollection("notes"),
  "DELETE /v1/collections/{collection}": (c) => c.deleteCollection("notes"),
  "POST /v1/collections/{collection}/documents": (c) => c.ingestDocuments("notes", [{ id: "a", text: "x" }]),
  "GET /v1/collections/{collection}/documents": (c) => c.listDocuments("notes", { limit: 5 }),
  "GET /v1/collections/{collection}/documents/{id}": (c) => c.getDocument("notes", "a b"),
  "DELETE /v1/collections/{collection}/documents/{id}": (c) => c.deleteDocument("notes", "a"),
  "GET /v1/collections/{collection}/jobs": (c) => c.listJobs("notes"),
  "GET /v1/collections/{collection}/jobs/{jobId}": (c) => c.getJob("notes", 3),
  "POST /v1/collections/{collection}/search": (c) => c.search("notes", { query: "x" }),
  "POST /v1/collections/{collection}/answer": (c) => c.answer("notes", { question: "x" }),
  "POST /v1/keys": (c) => c.createKey({ role: "reader" }),
  "GET /v1/keys": (c) => c.listKeys(),
  "DELETE /v1/keys/{id}": (c) => c.revokeKey("k1"),
  "GET /v1/audit": (c) => c.listAudit({ limit: 10 }),
  "PUT /v1/users/{user}": (c) => c.putUser("ana", { collections: ["notes"] }),
  "GET /v1/users/{user}": (c) => c.getUser("ana"),
  "DELETE /v1/users/{user}": (c) => c.deleteUser("ana"),
  "GET /v1/users/{user}/feed": (c) => c.feed("ana", { limit: 5 }),
  "GET /v1/users/{user}/feed/stream": async (c) => {
    for await (const _ of c.feedStream("ana")) break;
  },
  "POST /v1/users/{user}/events": (c) => c.sendFeedEvents("ana", [{ type: "open", itemId: "notes/a" }]),
  // The item id's `/` must travel as %2F: the template's {itemId} matches no `/`.
  "GET /v1/users/{user}/feed/{itemId}/why": (c) => c.feedWhy("ana", "notes/a"),
};
/** Routes a typed API client has no business with: web pages, and MCP (served to MCP clients). */
const notForTheClient = new Set([
  "GET /",
  "GET /assets/{file}",
  "GET /docs",
  "GET /docs/redoc.standalone.js",
  "GET /eval/report.html",
  "POST /mcp",
  "GET /mcp",
  "DELETE /mcp",
]);

let service: SiftProcess;
let routes: string[];
let admin: SiftClient;

beforeAll(async () => {
  service = await startSiftProcess({
    SIFT_AUTH: "required",
    SIFT_EMBEDDING_MODEL: "none",
    SIFT_METRICS_TOKEN: "metrics-token-for-the-client-test",
  });
  admin = new SiftClient({ baseUrl: service.url, apiKey: await bootstrapKey(service) });
  const document = await admin.openApiDocument();
  routes = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}, 120_000);
afterAll(async () => {
  await service?.stop();
});

describe("@sift/client against /openapi.json", () => {
  it("has a method for every route in the document, and no method for a route it does not serve", () => {
    expect(routes.length).toBeGreaterThanOrEqual(25);
    expect(routes.filter((r) => calls[r] === undefined && !notForTheClient.has(r))).toEqual([]);
    const served = new Set(routes);
    expect(Object.keys(calls).filter((r) => !served.has(r))).toEqual([]);
    expect([...notForTheClient].filter((r) => !served.has(r))).toEqual([]);
  });

  it("sends each route's documented method and path", async () => {
    const templates = routes.map((route) => {
      const [method, path] = route.split(" ") as [string, string];
      const pattern = path.replace(/\{\w+\}/g, "[^/]+").replace(/\./g, "\\.");
      return { route, method, pattern: new RegExp(`^${pattern}$`) };
    });
    for (const [route, call] of Object.entries(calls)) {
      const sent: Array<{ method: string; path: string }> = [];
      const recording = new SiftClient({
        baseUrl: "http://sift.test",
        fetch: async (input, init) => {
          const url = new URL(String(input));
          sent.push({ method: init?.method ?? "GET", path: url.pathname });
          return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
        },
      });
      await call(recording).catch(() => {});
      expect(sent.length, route).toBeGreaterThanOrEqual(1);
      const { method, path } = sent[0]!;
      const matched = templates
        .filter((t) => t.method === method && t.pattern.test(path))
        .map((t) => t.route);
      expect(matched, `${route} sent ${method} ${path}`).toContain(route);
    }
  });

  it("runs the key, audit, collection-delete, document and metrics methods against the service", async () => {
    const created = await admin.createKey({ role: "reader", name: "client-test" });
    expect(created.key).toMatch(/^sift_[0-9A-Za-z]{49}$/);
    expect((await admin.listKeys()).map((k) => k.id)).toContain(created.id);
    await admin.revokeKey(created.id);
    const revoked = new SiftClient({ baseUrl: service.url, apiKey: created.key });
    await expect(revoked.listCollections()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    const audit = await admin.listAudit({ limit: 50 });
    expect(audit.events.map((e) => e.action)).toEqual(expect.arrayContaining(["key.create", "key.revoke"]));

    await admin.ensureCollection("scratch");
    await admin.deleteCollection("scratch");
    await expect(admin.getCollection("scratch")).rejects.toBeInstanceOf(SiftApiError);

    await expect(admin.metrics()).rejects.toMatchObject({ status: 401 });
    const text = await admin.metrics("metrics-token-for-the-client-test");
    expect(text).toMatch(/^# TYPE sift_http_requests_total counter$/m);
  });
});
