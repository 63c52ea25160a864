import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runExample } from "./example";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("examples/embedded: openSift in-process", () => {
  it("ingests, searches, filters, answers with citations whose spans are the documents' own text", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sift-example-test-"));
    scratch.push(dataDir);
    const { job, found, filtered, answered, cited } = await runExample(dataDir);
    expect(job.counts.created).toBe(3);
    expect(found.hits[0]?.documentId).toBe("aurora.md");
    expect(found.degraded).toEqual([]);
    expect(filtered.hits).toEqual([]);
    expect(answered.outcome).toBe("answered");
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((c) => c.documentId === "aurora.md")).toBe(true);
    expect(cited.map((c) => c.span).join(" ")).toContain("aurora");

    // Reopened: the same data dir, nothing re-ingested, the same top hit.
    const again = await runExample(dataDir);
    expect(again.job.counts).toMatchObject({ created: 0, unchanged: 3 });
    expect(again.found.hits.map((h) => h.chunkId)).toEqual(found.hits.map((h) => h.chunkId));
  }, 180_000);

  it("runs as the README says: pnpm --silent --filter @sift/example-embedded start", async () => {
    const { stdout } = await promisify(execFile)(
      "pnpm",
      ["--silent", "--filter", "@sift/example-embedded", "start"],
      {
        cwd: repositoryRoot,
        encoding: "utf8",
      },
    );
    expect(stdout).toMatch(/^ingested: 3 created, 0 unchanged, \d+ chunks$/m);
    expect(stdout).toMatch(/^search \((hybrid|bm25)\): aurora\.md /m);
    expect(stdout).toMatch(/^answer \(answered\): /m);
    expect(stdout).toMatch(/^ {2}\[1\] aurora\.md \d+-\d+: /m);
  }, 180_000);
});
