import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPages } from "./pages";
import { createTestApp } from "./test-support";

describe("the pages the service serves", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sift-pages-"));
    await mkdir(path.join(dir, "built", "assets"), { recursive: true });
    await writeFile(path.join(dir, "built", "index.html"), '<script src="./assets/app-1a2b.js"></script>');
    await writeFile(path.join(dir, "built", "assets", "app-1a2b.js"), "console.log('page')");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the built playground at / with its hashed assets, and the eval report once one exists", async () => {
    const report = path.join(dir, "report.html");
    const t = await createTestApp({
      auth: "required",
      pages: await loadPages({ playgroundDir: path.join(dir, "built"), evalReport: report }),
    });
    try {
      const index = await t.call("GET", "/");
      expect([index.status, index.text]).toEqual([200, '<script src="./assets/app-1a2b.js"></script>']);
      const asset = await t.call("GET", "/assets/app-1a2b.js");
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(asset.headers.get("cache-control")).toContain("immutable");
      expect((await t.call("GET", "/assets/..%2Findex.html")).status).toBe(404);
      expect((await t.call("GET", "/assets/other.js")).status).toBe(404);
      expect((await t.call("HEAD", "/eval/report.html")).status).toBe(404);
      await writeFile(report, "<h1>report</h1>");
      expect((await t.call("HEAD", "/eval/report.html")).status).toBe(200);
      expect((await t.call("GET", "/eval/report.html")).text).toBe("<h1>report</h1>");
    } finally {
      await t.close();
    }
  });

  it("says how to build the playground when it is not built, and serves the reference page with Redoc from this origin only", async () => {
    const t = await createTestApp({
      pages: await loadPages({
        playgroundDir: path.join(dir, "absent"),
        evalReport: path.join(dir, "none.html"),
      }),
    });
    try {
      const index = await t.call("GET", "/");
      expect(index.status).toBe(200);
      expect(index.text).toContain("pnpm --filter @sift/playground build");
      const docs = await t.call("GET", "/docs");
      expect(docs.status).toBe(200);
      expect(docs.text).toContain('<script src="./docs/redoc.standalone.js"></script>');
      expect(docs.text).not.toMatch(/https?:\/\//);
      expect(docs.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(docs.headers.get("content-security-policy")).toContain("img-src 'self' data:");
      const script = await t.call("GET", "/docs/redoc.standalone.js");
      expect(script.status).toBe(200);
      expect(script.text.length).toBeGreaterThan(500_000);
      expect(script.text).toContain("Redoc");
    } finally {
      await t.close();
    }
  });
});
