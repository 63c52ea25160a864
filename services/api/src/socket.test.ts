import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBanner } from "./banner";
import { parseConfig } from "./config";
import { type RunningService, sampleCollection, startService } from "./service";

// The real embedding model from the offline model store (CI assembles it; naming it makes a missing store
// fail loudly). SIFT_SKIP_MODEL_TESTS=1 runs the service BM25-only instead.
const withModel = process.env.SIFT_SKIP_MODEL_TESTS !== "1";
const env = (dataDir: string) => ({
  PORT: "0",
  SIFT_DATA_DIR: dataDir,
  SIFT_EMBEDDING_MODEL: withModel ? "all-minilm-l6-v2" : "none",
  ...(process.env.SIFT_MODEL_STORE === undefined ? {} : { SIFT_MODEL_STORE: process.env.SIFT_MODEL_STORE }),
});

describe("the service over a real socket, embedded default", () => {
  let dataDir: string;
  let service: RunningService;
  let key: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-socket-"));
    service = await startService(parseConfig(env(dataDir)), silentLogger);
    key = service.bootstrapKey!;
  });
  afterAll(async () => {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("seeds the sample corpus on first start and searches it over HTTP with the bootstrap key", async () => {
    expect(service.sampleIngested).toBe(true);
    expect(service.auth).toBe("required");
    expect(key).toMatch(/^sift_/);
    const anonymous = await fetch(`${service.url}/v1/collections`);
    expect(anonymous.status).toBe(401);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    const res = await fetch(`${service.url}/v1/collections/${sampleCollection}/search`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: "reciprocal rank fusion", k: 3 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      mode: string;
      degraded: string[];
      hits: Array<{ documentId: string; snippet: { html: string }; legs: Record<string, { rank: number }> }>;
    };
    expect(body.hits[0]?.documentId).toBe("hybrid-search.md");
    expect(body.hits[0]?.snippet.html).toContain("<mark>");
    // With a model the default mode is hybrid, and the sample corpus was embedded while it was seeded.
    expect(body.mode).toBe(withModel ? "hybrid" : "bm25");
    expect(body.degraded).toEqual([]);
    if (withModel) expect(body.hits[0]?.legs.dense?.rank).toBeGreaterThan(0);
  });

  it("prints, on a fresh start, a search request that works when pasted into a shell", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const banner = startBanner(service, parseConfig(env(dataDir)), sampleCollection);
    expect(banner).toContain(`export SIFT_API_KEY=${key}`);
    const command = banner.slice(banner.indexOf("curl ")).split("\nStop with")[0]!.replace("\\\n", " ");
    // Asynchronously: the service runs in this process and must answer while curl waits.
    const { stdout: output } = await promisify(execFile)("bash", ["-c", command], { encoding: "utf8" });
    expect(JSON.parse(output).hits[0].documentId).toBe("hybrid-search.md");
  });

  it("keeps data across a restart and does not seed twice", async () => {
    await service.close();
    service = await startService(parseConfig(env(dataDir)), silentLogger);
    expect(service.sampleIngested).toBe(false);
    expect(service.bootstrapKey).toBeUndefined(); // a key exists: no second bootstrap key
    const res = await fetch(`${service.url}/v1/collections/${sampleCollection}/documents?limit=100`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await res.json()) as { documents: unknown[] };
    expect(body.documents.length).toBe(8);
  });

  it("refuses a second process on the same embedded data directory", async () => {
    const { spawnSync } = await import("node:child_process");
    const result = spawnSync(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], {
      env: { ...process.env, ...env(dataDir) },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("in use by process");
  });
});
