import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { DocumentStore } from "@sift/core";
import { LexicalIndexManager } from "@sift/lexical";
import { openStore } from "@sift/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodes } from "./cli";
import { runCli } from "./cli-test-support";

const cliPath = fileURLToPath(new URL("./cli.ts", import.meta.url));
const repoRoot = path.resolve(path.dirname(cliPath), "..", "..");

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "sift-cli-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the CLI in-process with captured output. */
function run(argv: string[], env: Record<string, string> = {}) {
  return runCli(argv, { env, cwd: scratch });
}

describe("usage errors exit 2 with a message naming the problem", () => {
  it.each([
    [[], /Usage: sift <command>/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["ingest"], /sift ingest: missing <path>/],
    [["ingest", ".", "--colection", "x"], /Unknown option '--colection'/],
    [["ingest", ".", "--batch-size", "0"], /--batch-size '0' is invalid/],
    [["ingest", ".", "--batch-size", "ten"], /--batch-size 'ten' is invalid/],
    [
      ["ingest", ".", "--format", "pdf"],
      /--format 'pdf' is invalid: expected one of auto, files, jsonl, beir/,
    ],
    [["ingest", ".", "--collection", "no spaces"], /--collection 'no spaces' is invalid/],
    [["ingest", ".", "--tenant"], /--tenant/],
    [["ingest", "does-not-exist"], /source path '.*does-not-exist' does not exist/],
    [["ingest", ".", "extra"], /unexpected argument 'extra'/],
    [["delete", "a"], /sift delete: --collection is required/],
    [["delete", "--collection", "c"], /missing <externalId...>/],
    [["reindex"], /sift reindex: --collection is required/],
    [["jobs", "--limit", "-1"], /--limit/],
    [["collections", "stray"], /unexpected argument 'stray'/],
  ])("sift %j", async (argv, message) => {
    const result = await run(argv as string[]);
    expect(result.code).toBe(exitCodes.usage);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("rejects a bad environment variable, naming it without echoing its value", async () => {
    const result = await run(["collections"], { DATABASE_URL: "mysql://user:hunter2@host/db" });
    expect(result.code).toBe(exitCodes.usage);
    expect(result.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(result.stderr).not.toContain("hunter2");
  });

  it("prints help for every command with exit 0", async () => {
    for (const command of ["ingest", "delete", "jobs", "collections", "reindex"]) {
      const result = await run([command, "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: sift ${command}`));
    }
    expect((await run(["--help"])).stdout).toMatch(/Commands:/);
  });
});

describe("commands against a real store", () => {
  let env: Record<string, string>;
  let folder: string;

  beforeAll(async () => {
    env = { SIFT_DATA_DIR: path.join(scratch, "data"), SIFT_EMBEDDING_MODEL: "none" };
    folder = path.join(scratch, "docs");
    await mkdir(path.join(folder, "sub"), { recursive: true });
    await writeFile(path.join(folder, "a.md"), "# Aardvark\n\nAardvarks dig burrows.");
    await writeFile(path.join(folder, "sub", "b.txt"), "Badgers dig setts.");
    await writeFile(path.join(folder, "c.bin"), new Uint8Array([0, 1, 2, 3]));
  });

  it("ingest prints the summary; a rerun finds everything unchanged", async () => {
    const first = await run(["ingest", folder, "--collection", "docs"], env);
    expect(first.code).toBe(0);
    const lines = first.stdout.split("\n");
    expect(lines[0]).toMatch(/docs → default\/docs \(files, job #\d+, succeeded\)$/);
    expect(first.stdout).toMatch(/^ {2}created +2$/m);
    expect(first.stdout).toMatch(/^ {2}skipped +1$/m);
    expect(first.stdout).toMatch(/^ {2}failed +0$/m);
    expect(first.stdout).toMatch(/^ {2}chunks +2$/m);
    expect(first.stdout).toMatch(/^ {2}elapsed +[\d.]+ s$/m);
    expect(first.stdout).toMatch(/^ {2}rate +[\d,]+ docs\/s$/m);
    expect(first.stdout).toMatch(/c\.bin: skipped: unsupported file type '\.bin'/);
    // stderr is not a terminal: JSON lines only.
    for (const line of first.stderr.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
    expect(first.stderr).toContain('"msg":"ingest finished"');

    const second = await run(["ingest", folder, "--collection", "docs"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^ {2}unchanged +2$/m);
    expect(second.stdout).toMatch(/^ {2}created +0$/m);
  });

  it("lists collections and jobs", async () => {
    const collections = await run(["collections"], env);
    expect(collections.code).toBe(0);
    expect(collections.stdout).toMatch(/^tenant +collection +id +documents +created$/m);
    expect(collections.stdout).toMatch(/^default +docs +\d+ +2 /m);

    const jobs = await run(["jobs", "--collection", "docs"], env);
    expect(jobs.code).toBe(0);
    const rows = jobs.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^job +collection +status/);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/^#\d+ +docs +succeeded/);

    const json = await run(["jobs", "--json", "--limit", "1"], env);
    const parsed = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ collection: "docs", status: "succeeded", counts: { unchanged: 2 } });
  });

  it("delete removes documents and reports the missing ones; reindex merges", async () => {
    const deleted = await run(["delete", "a.md", "nope", "--collection", "docs"], env);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain("deleted 1 document(s) from default/docs");
    expect(deleted.stdout).toMatch(/not found nope/);
    const reindex = await run(["reindex", "--collection", "docs"], env);
    expect(reindex.code).toBe(0);
    expect(reindex.stdout).toMatch(/reindexed default\/docs: lexical index merged/);
    const missing = await run(["reindex", "--collection", "nope"], env);
    expect(missing.code).toBe(exitCodes.failed);
    expect(missing.stderr).toMatch(/collection 'nope' does not exist for tenant 'default'/);
  });

  it("--prune deletes documents that left the folder", async () => {
    await rm(path.join(folder, "sub"), { recursive: true });
    const result = await run(["ingest", folder, "--collection", "docs", "--prune"], env);
    expect(result.code).toBe(0);
    // a.md was deleted above, so it comes back; sub/b.txt left the folder.
    expect(result.stdout).toMatch(/^ {2}created +1$/m);
    expect(result.stdout).toMatch(/^ {2}deleted +1$/m);
  });

  it("exits 3 with the lock message when another process holds the embedded store", async () => {
    const holder = await openStore({ driver: "pglite", dataDir: path.join(env.SIFT_DATA_DIR!, "pglite") });
    try {
      const result = await run(["collections"], env);
      expect(result.code).toBe(exitCodes.storeLocked);
      expect(result.stderr).toMatch(/the data directory .* is in use by process \d+/);
    } finally {
      await holder.close();
    }
  });
});

// The real embedding model from the offline model store (CI assembles it; naming the model makes a
// missing store fail loudly). SIFT_SKIP_MODEL_TESTS=1 skips this block with its reason.
describe.skipIf(process.env.SIFT_SKIP_MODEL_TESTS === "1")("vectors with the real embedding model", () => {
  let env: Record<string, string>;
  let folder: string;

  beforeAll(async () => {
    env = {
      SIFT_DATA_DIR: path.join(scratch, "dense-data"),
      SIFT_EMBEDDING_MODEL: "all-minilm-l6-v2",
      ...(process.env.SIFT_MODEL_STORE === undefined
        ? {}
        : { SIFT_MODEL_STORE: process.env.SIFT_MODEL_STORE }),
    };
    folder = path.join(scratch, "dense-docs");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "tides.md"), "# Tides\n\nThe moon's gravity raises the ocean tides.");
    await writeFile(path.join(folder, "bees.md"), "# Bees\n\nHoney bees dance to show where flowers are.");
  });

  it("ingest embeds new chunks; a rerun embeds nothing", async () => {
    const first = await run(["ingest", folder, "--collection", "notes"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/vectors: 2 new chunk\(s\) embedded with Xenova\/all-MiniLM-L6-v2/);
    const again = await run(["ingest", folder, "--collection", "notes"], env);
    expect(again.stdout).toMatch(/vectors: 0 new chunk\(s\) embedded/);
  });

  it("a collection indexed without the model is embedded only by reindex --dense --yes, after the estimate", async () => {
    const bm25Only = await run(["ingest", folder, "--collection", "plain"], {
      ...env,
      SIFT_EMBEDDING_MODEL: "none",
    });
    expect(bm25Only.stdout).toMatch(/vectors: none \(no embedding model; BM25 only\)/);
    const later = await run(["ingest", folder, "--collection", "plain"], env);
    expect(later.stdout).toMatch(
      /vectors: not updated: .*reindex --collection plain --tenant default --dense/,
    );

    const estimate = await run(["reindex", "--collection", "plain", "--dense"], env);
    expect(estimate.code).toBe(0);
    // Both texts were embedded for 'notes' already (same model, same text): the cache covers them.
    expect(estimate.stdout).toMatch(/2 chunk\(s\), 2 already in the embedding cache, 0 text\(s\) to embed/);
    expect(estimate.stdout).toMatch(/nothing embedded; rerun with --yes/);

    const done = await run(["reindex", "--collection", "plain", "--dense", "--yes"], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /reindexed default\/plain: 2 vector\(s\) added, 0 removed with Xenova\/all-MiniLM-L6-v2/,
    );
    const rerun = await run(["ingest", folder, "--collection", "plain"], env);
    expect(rerun.stdout).toMatch(/vectors: 0 new chunk\(s\) embedded/);
  });

  it("refuses --yes without --dense, and a model name the manifest does not know", async () => {
    const usage = await run(["reindex", "--collection", "plain", "--yes"], env);
    expect(usage.code).toBe(exitCodes.usage);
    expect(usage.stderr).toMatch(/--yes goes with --dense/);
    const unknown = await run(["collections"], { ...env, SIFT_EMBEDDING_MODEL: "no-such-model" });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-model/);
  });
});

// ---- real processes ----

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderrLines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first JSON stderr line matching `predicate`. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/**
 * `via: "tsx-cli"` runs it as `pnpm sift` does (`tsx indexer/src/cli.ts`) in its own process group, so
 * a signal can be sent to the whole group as a terminal's Ctrl-C is.
 */
function spawnCli(argv: string[], env: Record<string, string>, via: "node" | "tsx-cli" = "node"): Spawned {
  const [command, args] =
    via === "node"
      ? [process.execPath, ["--import", "tsx", cliPath, ...argv]]
      : [path.join(repoRoot, "node_modules", ".bin", "tsx"), [cliPath, ...argv]];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: via === "tsx-cli",
  });
  let stdout = "";
  child.stdout!.on("data", (data: Buffer) => (stdout += data.toString()));
  const stderrLines: string[] = [];
  const waiters: {
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderrLines.push(line);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of [...waiters]) {
      if (waiter.predicate(parsed)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => stdout,
    stderrLines,
    exit,
    waitFor(predicate) {
      return Promise.race([
        new Promise<Record<string, unknown>>((resolve) => waiters.push({ predicate, resolve })),
        exit.then((e) => {
          throw new Error(
            `the CLI exited (${e.code ?? e.signal}) first:\n${stderrLines.slice(-10).join("\n")}`,
          );
        }),
      ]);
    },
  };
}

async function writeCorpus(file: string, total: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < total; i += 1) {
    out.write(
      `${JSON.stringify({ id: `doc-${i}`, title: `Doc ${i}`, text: `Document ${i} mentions token${i}x and common words.` })}\n`,
    );
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

const committedTwoBatches = (line: Record<string, unknown>) =>
  line.msg === "ingest progress" && typeof line.created === "number" && line.created >= 40;

describe("the CLI as a process", () => {
  it("exits 2 on a usage error", async () => {
    const cli = spawnCli(["ingest", "--batch-size", "x", "."], {});
    expect((await cli.exit).code).toBe(2);
    expect(cli.stderrLines.join("\n")).toMatch(/--batch-size 'x' is invalid/);
  });

  it("survives Ctrl-C and a SIGKILL mid-run: a rerun completes with exactly the source's documents", async () => {
    const total = 3000;
    const dataDir = path.join(scratch, "crash-data");
    const corpus = path.join(scratch, "crash.jsonl");
    const out = createWriteStream(corpus);
    for (let i = 0; i < total; i += 1) {
      out.write(
        `${JSON.stringify({ id: `doc-${i}`, title: `Doc ${i}`, text: `Document ${i} mentions token${i}x and common words.` })}\n`,
      );
    }
    await new Promise<void>((resolve) => out.end(resolve));
    const env = {
      SIFT_DATA_DIR: dataDir,
      SIFT_PROGRESS_INTERVAL_MS: "50",
      SIFT_LOG_LEVEL: "info",
      SIFT_EMBEDDING_MODEL: "none",
    };
    const argv = ["ingest", corpus, "--collection", "crash", "--batch-size", "20"];
    const committed = committedTwoBatches;

    // 1. Ctrl-C: the batch in flight commits, the job is marked interrupted, exit 130 with a resume hint.
    const interrupted = spawnCli(argv, env);
    const firstJobId = (await interrupted.waitFor(committed)).jobId;
    interrupted.child.kill("SIGINT");
    const first = await interrupted.exit;
    expect(first.code, interrupted.stderrLines.slice(-5).join("\n")).toBe(exitCodes.interrupted);
    expect(interrupted.stderrLines.join("\n")).toMatch(/Rerun the same command to resume/);
    expect(interrupted.stdout()).toMatch(new RegExp(`job #${firstJobId}, interrupted`));

    // 2. SIGKILL: no handler runs; whatever batch was in flight rolls back.
    const killed = spawnCli(argv, env);
    await killed.waitFor((line) => committed(line) && line.jobId !== firstJobId);
    killed.child.kill("SIGKILL");
    expect((await killed.exit).signal).toBe("SIGKILL");

    // 3. The rerun finishes the job.
    const rerun = spawnCli(argv, env);
    const last = await rerun.exit;
    expect(last.code, rerun.stderrLines.slice(-5).join("\n")).toBe(0);
    // Not "job #3": Postgres sequences skip ahead after a crash (values are WAL-logged 32 at a time).
    expect(rerun.stdout()).toMatch(/job #\d+, succeeded/);
    expect(rerun.stderrLines.join("\n")).toMatch(
      /marked jobs left running by a stopped process as interrupted/,
    );

    const store: DocumentStore = await openStore({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
    const lexical = new LexicalIndexManager({ store, dataDir });
    try {
      const collection = (await store.getCollection("default", "crash"))!;
      expect(await store.countDocuments(collection.id)).toBe(total);
      const chunkIds = await store.listChunkIds(collection.id);
      expect(new Set(chunkIds).size).toBe(chunkIds.length);
      // One short document, one chunk: any duplicate write would show up as extra chunks.
      expect(chunkIds).toHaveLength(total);
      const chunks = await store.getChunks(chunkIds);
      expect(new Set(chunks.map((c) => c.externalId)).size).toBe(total);

      const jobs = (await store.listJobs(collection.id, { limit: 10 })).sort((a, b) => a.id - b.id);
      expect(jobs.map((j) => j.status)).toEqual(["interrupted", "interrupted", "succeeded"]);
      const [, crashed, finished] = jobs;
      expect(crashed!.finishedAt).not.toBeNull();
      // Every document was committed by exactly one run; the last run saw the others unchanged.
      expect(finished!.counts.documentsSeen).toBe(total);
      expect(finished!.counts.unchanged).toBeGreaterThanOrEqual(
        jobs[0]!.counts.created + crashed!.counts.created,
      );
      expect(
        jobs[0]!.counts.created + crashed!.counts.created + finished!.counts.created,
      ).toBeLessThanOrEqual(total);
      expect(finished!.counts.created + finished!.counts.unchanged).toBe(total);

      const index = await lexical.open(collection.id);
      const { hits } = await index.search({ query: "token2999x", limit: 5 });
      expect(hits).toHaveLength(1);
      expect((await store.getChunks([hits[0]!.chunkId]))[0]?.externalId).toBe("doc-2999");
    } finally {
      await lexical.close();
      await store.close();
    }
  }, 180_000);

  it("under the tsx CLI (pnpm sift), Ctrl-C to the process group still stops gracefully", async () => {
    const corpus = path.join(scratch, "tsx.jsonl");
    await writeCorpus(corpus, 3000);
    const env = { SIFT_DATA_DIR: path.join(scratch, "tsx-data"), SIFT_PROGRESS_INTERVAL_MS: "50" };
    const cli = spawnCli(["ingest", corpus, "--batch-size", "20"], env, "tsx-cli");
    await cli.waitFor(committedTwoBatches);
    process.kill(-cli.child.pid!, "SIGINT");
    const exit = await cli.exit;
    expect(exit.code, cli.stderrLines.slice(-5).join("\n")).toBe(exitCodes.interrupted);
    expect(cli.stdout()).toMatch(/job #\d+, interrupted/);
    expect(cli.stderrLines.join("\n")).toMatch(/Rerun the same command to resume/);
  }, 120_000);
});
