import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { describe, expect, it } from "vitest";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const scifact = path.join(repositoryRoot, "../shared/datasets/scifact");
const present = existsSync(path.join(scifact, "corpus.jsonl"));
if (!present) {
  console.warn(`skipping the bench:scale end-to-end test: no dataset at ${scifact}`);
  if (process.env.CI === "true") throw new Error(`CI must provide ${scifact}`);
}
const adminUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://root@127.0.0.1:5432/postgres";

const latency = expect.objectContaining({
  p50: expect.any(Number),
  p99: expect.any(Number),
  qps: expect.any(Number),
  errors: 0,
});

describe.skipIf(!present)("pnpm bench:scale at a tiny N, on the shared Postgres", () => {
  it("writes scale.json with the whole contract and sane values, and drops its database", {
    timeout: 240_000,
  }, async () => {
    const out = await mkdtemp(path.join(tmpdir(), "sift-scale-test-"));
    try {
      const args = ["--docs", "300", "--out", out, "--database-url", adminUrl, "--queries", "20"];
      args.push(
        "--recall-queries",
        "5",
        "--duration",
        "1",
        "--trickle",
        "3",
        "--burst",
        "200",
        "--burst-batch",
        "50",
      );
      await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "eval/src/scale/bench-scale.ts", ...args],
        { cwd: repositoryRoot, maxBuffer: 16 * 1024 * 1024 },
      );
      const report = JSON.parse(await readFile(path.join(out, "scale.json"), "utf8"));
      expect(report).toMatchObject({ docs: 300, command: expect.stringContaining("bench:scale") });
      expect(report.chunks).toBeGreaterThanOrEqual(300);
      expect(report.ingestDocsPerSecond).toBeGreaterThan(0);
      expect(report.bm25BuildSeconds).toBeGreaterThan(0);
      expect(report.rssBytes).toBeGreaterThan(50 * 1024 * 1024);
      expect(report.rssBytes).toBeLessThan(8 * 1024 ** 3);
      expect(report.restartSeconds).toBeGreaterThan(0);
      for (const key of ["freshnessMs", "freshnessBurstMs"]) {
        expect(report[key].p50).toBeGreaterThan(0);
        expect(report[key].p99).toBeGreaterThanOrEqual(report[key].p50);
      }
      expect(report.freshness).toMatchObject({ samples: 3, errors: 0 });
      expect(report.freshnessBurst).toMatchObject({ samples: 4, written: 200, errors: 0 });
      for (const mode of ["bm25", "dense", "hybrid"]) {
        expect(report.configs[mode]).toEqual({ concurrency1: latency, concurrency16: latency });
        expect(report.configs[mode].concurrency16.degraded).toBe(0);
      }
      for (const share of ["1%", "10%", "50%"]) {
        expect(report.filtered[share]).toEqual({
          p50: expect.any(Number),
          p99: expect.any(Number),
          recallAt10: expect.any(Number),
        });
        // 300 documents: every ANN search under a filter is exact or close to it.
        expect(report.filtered[share].recallAt10).toBeGreaterThan(0.8);
      }
      expect(report.filteredAllowedChunks["1%"]).toBeLessThan(report.filteredAllowedChunks["10%"]);
      expect(report.filteredAllowedChunks["10%"]).toBeLessThan(report.filteredAllowedChunks["50%"]);
      expect(report.queryEmbeddingMs.p50).toBeGreaterThan(0);
      expect(report.machine.before.cpus).toBeGreaterThan(0);
      const sql = postgres(adminUrl, { max: 1 });
      const left =
        await sql`select datname from pg_database where datname = ${report.store.match(/sift_scale_\w+/)[0]}`;
      await sql.end();
      expect(left).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
