import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreLockedError } from "@sift/core";
import { afterAll, describe, expect, it } from "vitest";
import { describeAccessStoreContract } from "./access-contract";
import { lockFileName } from "./data-dir-lock";
import { openStore } from "./open-store";
import { documentWrite } from "./sample-documents";
import { describeDocumentStoreContract } from "./store-contract";

describeDocumentStoreContract("pglite (memory://)", () =>
  openStore({ driver: "pglite", dataDir: "memory://" }),
);

describeAccessStoreContract("pglite (memory://)", () =>
  openStore({ driver: "pglite", dataDir: "memory://" }),
);

describe("PGlite in a data directory", () => {
  const root = mkdtempSync(join(tmpdir(), "sift-store-"));
  const dataDir = join(root, "pglite");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A process that is alive until killed (and writes nothing). */
  function spawnIdleProcess(): ChildProcess {
    return spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  }

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    return child.pid!;
  }

  it("persists across close and reopen, holding the lock only while open", async () => {
    const store = await openStore({ driver: "pglite", dataDir });
    await store.migrate();
    const { collection } = await store.ensureCollection({ tenant: "t", name: "persisted" });
    await store.writeDocuments(collection.id, [documentWrite("a", "kept on disk", { metadata: { n: 1 } })]);
    expect(readFileSync(join(dataDir, lockFileName), "utf8")).toBe(String(process.pid));
    await expect(openStore({ driver: "pglite", dataDir })).rejects.toMatchObject({
      constructor: StoreLockedError,
      pid: process.pid,
    });
    await store.close();
    expect(() => readFileSync(join(dataDir, lockFileName))).toThrow(/ENOENT/);

    const reopened = await openStore({ driver: "pglite", dataDir });
    try {
      await reopened.migrate();
      const again = await reopened.getCollection("t", "persisted");
      expect(again?.id).toBe(collection.id);
      expect(await reopened.getDocument(collection.id, "a")).toMatchObject({
        content: "kept on disk",
        metadata: { n: 1 },
      });
      expect(await reopened.getRevision(collection.id)).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it("refuses a directory locked by another live process", async () => {
    const holder = spawnIdleProcess();
    try {
      writeFileSync(join(dataDir, lockFileName), String(holder.pid));
      const failure = await openStore({ driver: "pglite", dataDir }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreLockedError);
      expect(failure).toMatchObject({ dataDir, pid: holder.pid, code: "store_locked" });
      // The live holder's lock is left untouched.
      expect(readFileSync(join(dataDir, lockFileName), "utf8")).toBe(String(holder.pid));
    } finally {
      holder.kill();
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    // Once the holder is gone its lock is stale and is taken over.
    const store = await openStore({ driver: "pglite", dataDir });
    expect(readFileSync(join(dataDir, lockFileName), "utf8")).toBe(String(process.pid));
    await store.close();
  });

  it("takes over a stale lock left by a dead process", async () => {
    writeFileSync(join(dataDir, lockFileName), String(await deadPid()));
    const store = await openStore({ driver: "pglite", dataDir });
    try {
      expect(readFileSync(join(dataDir, lockFileName), "utf8")).toBe(String(process.pid));
      await store.ping();
    } finally {
      await store.close();
    }
  });
});
