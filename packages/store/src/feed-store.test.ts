import { randomBytes } from "node:crypto";
import type { SiftStore } from "@sift/core";
import { feedStoreContract } from "@sift/feed/contract";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord } from "./drizzle-feed-store";
import { feedStoreOf } from "./feed-store-of";
import { openStore } from "./open-store";

// The contract works in a fresh tenant per test, so one migrated database per driver serves all of it.
const opened: SiftStore[] = [];

async function migrated(open: () => Promise<SiftStore>): Promise<SiftStore> {
  const store = await open();
  await store.migrate();
  opened.push(store);
  return store;
}

let pglite: Promise<SiftStore> | undefined;
feedStoreContract("drizzle on pglite (memory://)", async () => {
  pglite ??= migrated(() => openStore({ driver: "pglite", dataDir: "memory://" }));
  return feedStoreOf(await pglite);
});

// CI guarantees a server: when it is unreachable these tests FAIL (in beforeAll), they never skip.
const adminUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://root@127.0.0.1:5432/postgres";
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const databases: string[] = [];

beforeAll(async () => {
  await admin`select 1`.catch((error: unknown) => {
    throw new Error(`Postgres at ${adminUrl} is required for these tests (set DATABASE_URL_ADMIN)`, {
      cause: error,
    });
  });
});

afterAll(async () => {
  for (const store of opened) await store.close();
  for (const name of databases) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

let server: Promise<SiftStore> | undefined;
feedStoreContract("drizzle on postgres", async () => {
  server ??= migrated(async () => {
    const name = `sift_feed_test_${randomBytes(6).toString("hex")}`;
    await admin.unsafe(`create database ${name}`);
    databases.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return openStore({ driver: "postgres", url: url.toString() });
  });
  return feedStoreOf(await server);
});

describe("feed records as JSONB", () => {
  it("round-trips typed arrays bit for bit and drops undefined fields", () => {
    const value = {
      vector: new Float32Array([0.1, -2.5, Number.MIN_VALUE, 3.4e38]),
      signature: new Uint32Array([0, 1, 0xffff_ffff]),
      nested: [{ v: new Float32Array([1]) }],
      gone: undefined,
      text: "x",
    };
    const back = decodeRecord<typeof value>(JSON.parse(JSON.stringify(encodeRecord(value))));
    expect(back.vector).toBeInstanceOf(Float32Array);
    expect(Array.from(back.vector)).toEqual(Array.from(value.vector));
    expect(Array.from(back.signature)).toEqual([0, 1, 0xffff_ffff]);
    expect(back.nested[0]!.v).toBeInstanceOf(Float32Array);
    expect("gone" in back).toBe(false);
  });

  it("refuses a store it did not open", () => {
    expect(() => feedStoreOf({} as SiftStore)).toThrow(/openStore/);
  });
});
