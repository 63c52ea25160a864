/**
 * Graceful shutdown of a real service: new connections are refused at once, readiness fails, a batch in
 * flight finishes and is in the indexes after a restart; a request that does not finish is cut at
 * SIFT_SHUTDOWN_TIMEOUT_MS.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "./config";
import { type RunningService, startService } from "./service";
import { createTestApp } from "./test-support";

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function start(dataDir: string, env: Record<string, string> = {}): Promise<RunningService> {
  return startService(
    parseConfig({
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_AUTH: "off",
      SIFT_EMBEDDING_MODEL: "none",
      SIFT_SAMPLE_CORPUS: "0",
      SIFT_RATE_LIMIT_RPS: "0",
      SIFT_LOG_LEVEL: "error",
      ...env,
    }),
    silentLogger,
  );
}

const json = { "content-type": "application/json" };

describe("graceful shutdown", () => {
  it("refuses new connections, finishes the batch in flight, and keeps it indexed across a restart", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sift-shutdown-"));
    scratch.push(dataDir);
    const service = await start(dataDir, { SIFT_SHUTDOWN_TIMEOUT_MS: "120000" });
    const { url } = service;
    await fetch(`${url}/v1/collections/notes`, { method: "PUT" });
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `doc-${i}`,
      text: `Note ${i} on tides, marked uniq${i}x. ${"filler words for a longer chunk ".repeat(30)}`,
    }));
    const inFlight = fetch(`${url}/v1/collections/notes/documents`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ documents }),
    });
    // The batch is in flight once its job exists.
    for (;;) {
      const jobs = (await (await fetch(`${url}/v1/collections/notes/jobs`)).json()) as { jobs: unknown[] };
      if (jobs.jobs.length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const closing = service.close();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    const { job } = (await response.json()) as { job: { status: string; counts: { created: number } } };
    expect(job).toMatchObject({ status: "succeeded", counts: { created: 1000 } });
    await closing;

    const again = await start(dataDir);
    try {
      const search = await fetch(`${again.url}/v1/collections/notes/search`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ query: "uniq999x", k: 1 }),
      });
      const body = (await search.json()) as { hits: Array<{ documentId: string }> };
      expect(body.hits.map((h) => h.documentId)).toEqual(["doc-999"]);
      const jobs = (await (await fetch(`${again.url}/v1/collections/notes/jobs`)).json()) as {
        jobs: Array<{ status: string }>;
      };
      expect(jobs.jobs.map((j) => j.status)).toEqual(["succeeded"]);
    } finally {
      await again.close();
    }
  }, 300_000);

  it("cuts a request still unfinished at SIFT_SHUTDOWN_TIMEOUT_MS", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sift-shutdown-"));
    scratch.push(dataDir);
    const service = await start(dataDir, { SIFT_SHUTDOWN_TIMEOUT_MS: "1500" });
    const { port } = new URL(service.url);
    // A request whose body never arrives in full: in flight until the server gives up on it.
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /v1/collections/notes/documents HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
    );
    const socketClosed = new Promise<number>((resolve) =>
      socket.once("close", () => resolve(performance.now())),
    );
    socket.on("error", () => {});
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const started = performance.now();
    const closing = service.close();
    await closing;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
    // The cut came at the bound, not before.
    expect((await socketClosed) - started).toBeGreaterThanOrEqual(1400);
  }, 60_000);

  it("fails readiness once draining, so load balancers stop sending", async () => {
    let draining = false;
    const t = await createTestApp({ draining: () => draining });
    try {
      expect((await t.call("GET", "/readyz")).status).toBe(200);
      draining = true;
      const res = await t.call("GET", "/readyz");
      expect(res.status).toBe(503);
      expect(res.body.checks.process).toBe("shutting-down");
    } finally {
      await t.close();
    }
  });
});
