import { describe, expect, it } from "vitest";
import { loadPages } from "./pages";
import { createTestApp } from "./test-support";

describe("the OpenAPI document", () => {
  it("lists every route the app serves, and nothing else", async () => {
    const pages = await loadPages({ playgroundDir: "/nonexistent", evalReport: "/nonexistent/report.html" });
    const t = await createTestApp({ metrics: {}, pages });
    try {
      const res = await t.call("GET", "/openapi.json");
      expect(res.status).toBe(200);
      const document = res.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(document.openapi).toBe("3.1.0");
      const documented = Object.entries(document.paths)
        .flatMap(([path, item]) =>
          Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
        )
        .sort();
      // Hono's own route list: a route registered without a spec (app.get(...) directly) fails here.
      const served = [
        ...new Set(t.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`)),
      ].sort();
      expect(documented).toEqual(served);
      expect(served.length).toBeGreaterThanOrEqual(24);
      for (const page of ["GET /", "GET /docs", "GET /metrics", "GET /eval/report.html"])
        expect(served).toContain(page);
    } finally {
      await t.close();
    }
  });

  it("documents the security scheme, error responses with Retry-After, and the answer's event stream", async () => {
    const t = await createTestApp();
    try {
      const document = (await t.call("GET", "/openapi.json")).body;
      expect(document.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
      const search = document.paths["/v1/collections/{collection}/search"].post;
      expect(search.security).toEqual([{ apiKey: [] }]);
      expect(Object.keys(search.responses).sort()).toEqual(
        ["200", "400", "401", "403", "404", "413", "429", "500", "502", "503", "504"].sort(),
      );
      expect(search.requestBody.content["application/json"].schema).toEqual({
        $ref: "#/components/schemas/SearchRequest",
      });
      expect(document.components.responses.TooManyRequests.headers["Retry-After"]).toBeDefined();
      const answer = document.paths["/v1/collections/{collection}/answer"].post.responses["200"].content;
      expect(Object.keys(answer)).toEqual(["application/json", "text/event-stream"]);
      expect(Object.keys(answer["text/event-stream"]["x-sift-events"])).toEqual([
        "retrieval",
        "delta",
        "citations",
        "done",
        "error",
      ]);
      expect(document.paths["/healthz"].get.security).toEqual([]);
      // The filter is one recursive component, referred to by its own ref.
      expect(JSON.stringify(document.components.schemas.Filter)).toContain(
        '"$ref":"#/components/schemas/Filter"',
      );
      expect(JSON.stringify(document)).not.toContain("$defs");
      expect(JSON.stringify(document)).not.toContain('"$id"');
    } finally {
      await t.close();
    }
  });
});
