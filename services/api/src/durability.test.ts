/**
 * Durability: one process per data directory in both modes, no resurrection after a crash between a
 * store delete and the file drop, an HTTP ingest killed with SIGKILL mid-batch, and a Postgres server
 * restarted during ingestion (a throwaway server this test starts with initdb on its own port). In each
 * case nothing is lost, nothing is duplicated, and the index agrees with the store.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { StoreLockedError, silentLogger } from "@sift/core";
import { openStore } from "@sift/store";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "./config";
import { startService } from "./service";

/** Child processes, a Postgres cluster and 1,000-document batches on a loaded 2-core machine: minutes. */
const slow = { timeout: 600_000 };

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const run = promisify(execFile);
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});
async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

const baseEnv = {
  PORT: "0",
  SIFT_AUTH: "off",
  SIFT_EMBEDDING_MODEL: "none",
  SIFT_SAMPLE_CORPUS: "0",
  SIFT_RATE_LIMIT_RPS: "0",
  SIFT_LOG_LEVEL: "warn",
};

/** `count` documents, each with a word no other document has (`uniq<i>x`), so search can find each one. */
function batch(count: number, from = 0) {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      id: `doc-${i}`,
      text: `Document ${i} about tides and moons, marked uniq${i}x. ${"filler text ".repeat(40)}`,
    };
  });
}

interface ServiceChild {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The last 8,000 characters the service wrote to stderr (for failure messages). */
  stderr: () => string;
}

/** The real service as a child process (`node --import tsx services/api/src/main.ts`). */
async function spawnService(env: Record<string, string>): Promise<ServiceChild> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], {
    cwd: repositoryRoot,
    env: { ...process.env, ...baseEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`service exited with ${code}:\n${stderr}`)));
  });
  return { url, child, exited, stderr: () => stderr };
}

async function stopService(service: ServiceChild, signal: NodeJS.Signals = "SIGTERM") {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill(signal);
  await service.exited;
}

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Every document is found by its own word, once, as the top hit. */
async function expectEachFound(url: string, collection: string, ids: number[]) {
  for (const i of ids) {
    const res = await call(`${url}/v1/collections/${collection}/search`, "POST", {
      query: `uniq${i}x`,
      k: 5,
      mode: "bm25",
    });
    expect(res.status).toBe(200);
    expect(res.body.hits.map((h: { documentId: string }) => h.documentId)).toEqual([`doc-${i}`]);
  }
}

const sample = (n: number, size: number) =>
  Array.from({ length: size }, (_, k) => Math.floor((k * n) / size));

describe("one process per data directory", () => {
  it(
    "refuses a second service on the same SIFT_DATA_DIR in Postgres mode too, and allows its own folder",
    slow,
    async () => {
      const adminUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://root@127.0.0.1:5432/postgres";
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      const name = `sift_lock_${randomBytes(5).toString("hex")}`;
      await admin.unsafe(`create database ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const shared = await tempDir("sift-lock-");
      const env = (dir: string) => ({ ...baseEnv, DATABASE_URL: url.toString(), SIFT_DATA_DIR: dir });
      try {
        const first = await startService(parseConfig(env(shared)), silentLogger);
        try {
          const failure = await startService(parseConfig(env(shared)), silentLogger).catch(
            (error: unknown) => error,
          );
          expect(failure).toBeInstanceOf(StoreLockedError);
          expect((failure as Error).message).toMatch(
            /in use by process \d+; give each process its own SIFT_DATA_DIR/,
          );
          // Another folder on the same database is fine: replicas share Postgres, not index files.
          const second = await startService(parseConfig(env(await tempDir("sift-lock-own-"))), silentLogger);
          await second.close();
        } finally {
          await first.close();
        }
        // Released on close: the next process takes the folder.
        const again = await startService(parseConfig(env(shared)), silentLogger);
        await again.close();
      } finally {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    },
  );
});

describe("a crash between deleting a collection in the store and dropping its files", () => {
  it(
    "leaves no folder behind after a restart, and nothing comes back under the same name",
    slow,
    async () => {
      const dataDir = await tempDir("sift-orphan-");
      const env = { ...baseEnv, SIFT_DATA_DIR: dataDir };
      let service = await startService(parseConfig(env), silentLogger);
      await call(`${service.url}/v1/collections/gone`, "PUT");
      expect(
        (await call(`${service.url}/v1/collections/gone/documents`, "POST", { documents: batch(20) })).status,
      ).toBe(200);
      const id = (await service.store.getCollection("default", "gone"))!.id;
      const folder = path.join(dataDir, "lexical", String(id));
      expect((await stat(folder)).isDirectory()).toBe(true);
      // The crash window: the store delete committed, the process died before `engine.drop`.
      await service.store.deleteCollection(id);
      await service.close();

      service = await startService(parseConfig(env), silentLogger);
      try {
        await expect(stat(folder)).rejects.toMatchObject({ code: "ENOENT" });
        expect((await call(`${service.url}/v1/collections/gone`, "PUT")).status).toBe(201);
        expect((await service.store.getCollection("default", "gone"))!.id).not.toBe(id);
        expect((await call(`${service.url}/v1/collections/gone`, "GET")).body.documents).toBe(0);
        const hits = await call(`${service.url}/v1/collections/gone/search`, "POST", {
          query: "uniq3x tides",
          mode: "bm25",
        });
        expect(hits.body.hits).toEqual([]);
      } finally {
        await service.close();
      }
    },
  );
});

describe("an ingest over HTTP killed with SIGKILL mid-batch", () => {
  it("loses nothing and duplicates nothing once the client sends the batch again", slow, async () => {
    const dataDir = await tempDir("sift-kill-");
    const documents = batch(1000);
    let service = await spawnService({ SIFT_DATA_DIR: dataDir });
    await call(`${service.url}/v1/collections/c`, "PUT");
    const inFlight = call(`${service.url}/v1/collections/c/documents`, "POST", { documents }).catch(
      (e: Error) => e,
    );
    // Kill it while the batch is being written (the request takes seconds at this size).
    await new Promise((resolve) => setTimeout(resolve, 700));
    await stopService(service, "SIGKILL");
    const outcome = await inFlight;
    expect(outcome instanceof Error || outcome.status === 200).toBe(true);

    service = await spawnService({ SIFT_DATA_DIR: dataDir });
    try {
      const retried = await call(`${service.url}/v1/collections/c/documents`, "POST", { documents });
      expect(retried.status).toBe(200);
      const { counts } = retried.body.job;
      expect(counts.created + counts.unchanged + counts.updated).toBe(1000);
      console.log(
        `sigkill: the in-flight batch was ${outcome instanceof Error ? "cut off" : "answered before the kill"}; the retry: ${JSON.stringify(counts)}`,
      );
      expect((await call(`${service.url}/v1/collections/c`, "GET")).body.documents).toBe(1000);
      await expectEachFound(service.url, "c", sample(1000, 40));
      const jobs = (await call(`${service.url}/v1/collections/c/jobs`, "GET")).body.jobs;
      // The killed job is not left "running".
      expect(jobs.every((j: { status: string }) => j.status !== "running")).toBe(true);
    } finally {
      await stopService(service);
    }
    const store = await openStore({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
    try {
      const collection = (await store.getCollection("default", "c"))!;
      expect(await store.countDocuments(collection.id)).toBe(1000);
      expect((await store.listExternalIds(collection.id)).length).toBe(
        new Set(await store.listExternalIds(collection.id)).size,
      );
    } finally {
      await store.close();
    }
  });
});

/** A free TCP port on the loopback address. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway Postgres cluster (initdb as the `postgres` user, since initdb refuses root). */
async function throwawayPostgres() {
  const bin = (await run("pg_config", ["--bindir"])).stdout.trim();
  const dir = await tempDir("sift-pg-");
  const { uid, gid } = await stat("/var/lib/postgresql").catch(() => ({ uid: 101, gid: 104 }));
  await chown(dir, uid, gid);
  const port = await freePort();
  const asPostgres = (tool: string, args: string[]) =>
    process.getuid?.() === 0
      ? run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args])
      : run(path.join(bin, tool), args);
  await asPostgres("initdb", ["-D", path.join(dir, "data"), "--auth=trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`;
  const ctl = (...args: string[]) =>
    asPostgres("pg_ctl", [
      "-D",
      path.join(dir, "data"),
      "-l",
      path.join(dir, "log"),
      "-o",
      options,
      "-w",
      ...args,
    ]);
  await ctl("start");
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl("restart", "-m", "fast"),
    stop: () => ctl("stop", "-m", "fast"),
  };
}

describe("a Postgres server restarted during ingestion", () => {
  it(
    "ends with every document stored once and searchable, as the client retries refused batches",
    slow,
    async () => {
      const server = await throwawayPostgres();
      const dataDir = await tempDir("sift-pg-data-");
      const service = await spawnService({
        SIFT_DATA_DIR: dataDir,
        DATABASE_URL: server.url,
        SIFT_INDEX_REFRESH_MS: "0",
      });
      const outcomes: number[] = [];
      try {
        await call(`${service.url}/v1/collections/c`, "PUT");
        let restart: Promise<unknown> | undefined;
        let last: unknown;
        for (let b = 0; b < 16; b++) {
          if (b === 5) restart = server.restart();
          // Retry until the batch is accepted (batches are idempotent: unchanged documents are skipped).
          for (let attempt = 0; ; attempt++) {
            const res = await call(`${service.url}/v1/collections/c/documents`, "POST", {
              documents: batch(50, b * 50),
            }).catch((error: unknown) => ({ status: 0, body: String(error) }));
            outcomes.push(res.status);
            last = res.body;
            if (res.status === 200) break;
            expect(
              attempt,
              `batch ${b}: statuses ${outcomes.join(",")}; last body ${JSON.stringify(last)}; service stderr:\n${service.stderr()}`,
            ).toBeLessThan(60);
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
        await restart;
        expect(outcomes.every((s) => s === 200 || s === 0 || s === 500 || s === 502 || s === 503)).toBe(true);
        expect((await call(`${service.url}/v1/collections/c`, "GET")).body.documents).toBe(800);
        await expectEachFound(service.url, "c", sample(800, 40));
        const db = postgres(server.url, { max: 1, onnotice: () => {} });
        try {
          const [row] =
            await db`select count(*)::int as n, count(distinct external_id)::int as ids from documents`;
          expect(row).toEqual({ n: 800, ids: 800 });
          const [chunks] =
            await db`select count(*)::int as n from chunks c left join documents d on d.id = c.document_id where d.id is null`;
          expect(chunks?.n).toBe(0);
        } finally {
          await db.end();
        }
        console.log(
          `postgres restart: ${outcomes.length} batch requests for 16 batches, statuses ${[...new Set(outcomes)].join(", ")}`,
        );
      } finally {
        await stopService(service);
        await server.stop();
      }
    },
  );
});
