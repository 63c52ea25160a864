/**
 * Fuzzing from the OpenAPI document: schemathesis (pinned, from PyPI, in a cached venv made by
 * `services/api/scripts/fuzz-env.sh`) generates requests for every route, valid and invalid, and checks
 * every response against the document: no 5xx, documented status codes, content types, headers and
 * bodies, invalid input refused, and auth not ignored. Its HAR report is read back to count the requests.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenWithLimits, type RunningServer } from "./server";
import { createTestApp } from "./test-support";

const envScript = fileURLToPath(new URL("../scripts/fuzz-env.sh", import.meta.url));
const seed = process.env.SIFT_FUZZ_SEED ?? "1";
/** Test cases per operation and phase; about 2,000 requests over the 18 routes. */
const examplesPerOperation = process.env.SIFT_FUZZ_EXAMPLES ?? "20";

const checks = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "negative_data_rejection",
  "ignored_auth",
];

interface HarEntry {
  request: { method: string; url: string };
  response: { status: number };
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronously: the service under test runs in this process.
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("fuzzing every route from /openapi.json (schemathesis)", () => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  let server: RunningServer;
  let scratch: string;
  let venv: string;

  beforeAll(async () => {
    venv = (await promisify(execFile)("bash", [envScript], { encoding: "utf8" })).stdout.trim();
    scratch = await mkdtemp(path.join(tmpdir(), "sift-fuzz-"));
    t = await createTestApp({ auth: "required", embedder: bagOfWordsEmbedder().embedder });
    server = await listenWithLimits(t.app.fetch, {
      host: "127.0.0.1",
      port: 0,
      maxConnections: 256,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    });
  }, 600_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await t?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("sends at least 1,000 generated requests across every route: no 5xx, every response as documented", async () => {
    const admin = await t.createKey("fuzz", "admin");
    await t.call("PUT", "/v1/collections/docs", undefined, admin.bearer);
    const documents = [
      { id: "a", title: "Tides", text: "The moon raises the tides twice a day.", metadata: { desk: "sea" } },
      { id: "b", text: "Honey bees dance to show where flowers grow.", metadata: { year: 2024 } },
    ];
    await t.call("POST", "/v1/collections/docs/documents", { documents }, admin.bearer);
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const har = path.join(scratch, "fuzz.har");
    const result = await run(
      path.join(venv, "bin", "schemathesis"),
      [
        "run",
        `${base}/openapi.json`,
        "--header",
        `Authorization: Bearer ${admin.key}`,
        "--checks",
        checks.join(","),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        examplesPerOperation,
        "--seed",
        seed,
        "--workers",
        "2",
        "--generation-database",
        "none",
        "--report",
        "har",
        "--report-har-path",
        har,
        "--no-color",
      ],
      scratch,
    );
    const entries = (JSON.parse(await readFile(har, "utf8")) as { log: { entries: HarEntry[] } }).log.entries;
    const document = (await t.call("GET", "/openapi.json")).body as { paths: Record<string, object> };
    const templates = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.keys(item).map((method) => ({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`),
      })),
    );
    const perRoute = new Map(templates.map((r) => [`${r.method} ${r.template}`, 0]));
    for (const entry of entries) {
      const pathname = new URL(entry.request.url).pathname;
      const route = templates.find((r) => r.method === entry.request.method && r.pattern.test(pathname));
      if (route !== undefined)
        perRoute.set(
          `${route.method} ${route.template}`,
          perRoute.get(`${route.method} ${route.template}`)! + 1,
        );
    }
    const serverErrors = entries.filter((e) => e.response.status >= 500);
    const summary = result.output.slice(result.output.lastIndexOf("SUMMARY"));
    await writeFile(path.join(tmpdir(), "sift-fuzz-last-output.txt"), result.output);
    console.log(
      `fuzz: ${entries.length} requests (seed ${seed}), ${serverErrors.length} with 5xx, per route:`,
      Object.fromEntries(perRoute),
    );
    expect(result.code, summary).toBe(0);
    expect(serverErrors.map((e) => `${e.request.method} ${e.request.url} ${e.response.status}`)).toEqual([]);
    expect(entries.length).toBeGreaterThanOrEqual(1000);
    // schemathesis reads /openapi.json to load it (outside the report); every other route is fuzzed.
    perRoute.delete("GET /openapi.json");
    for (const [route, count] of perRoute) expect(count, route).toBeGreaterThan(0);
  }, 900_000);
});
