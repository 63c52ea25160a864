import { randomBytes } from "node:crypto";
import { UpstreamError } from "@sift/core";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAccessStoreContract } from "./access-contract";
import { openStore } from "./open-store";
import { documentWrite } from "./sample-documents";
import { describeDocumentStoreContract } from "./store-contract";

// CI guarantees a server: when it is unreachable these tests FAIL (in beforeAll), they never skip.
const adminUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://root@127.0.0.1:5432/postgres";
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const created: string[] = [];

/** Creates an empty database `sift_test_<random>` and returns its URL; dropped in afterAll. */
async function createTestDatabase(): Promise<string> {
  const name = `sift_test_${randomBytes(6).toString("hex")}`;
  await admin.unsafe(`create database ${name}`);
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

beforeAll(async () => {
  await admin`select 1`.catch((error: unknown) => {
    throw new Error(`Postgres at ${adminUrl} is required for these tests (set DATABASE_URL_ADMIN)`, {
      cause: error,
    });
  });
});

afterAll(async () => {
  for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describeDocumentStoreContract("postgres", async () =>
  openStore({ driver: "postgres", url: await createTestDatabase() }),
);

describeAccessStoreContract("postgres", async () =>
  openStore({ driver: "postgres", url: await createTestDatabase() }),
);

describe("Postgres specifics", () => {
  it("stores metadata as JSONB objects, not JSON strings", async () => {
    const url = await createTestDatabase();
    const store = await openStore({ driver: "postgres", url });
    const raw = postgres(url, { max: 1 });
    try {
      await store.migrate();
      const { collection } = await store.ensureCollection({ tenant: "t", name: "c", settings: { a: 1 } });
      await store.writeDocuments(collection.id, [
        documentWrite("d", "text", { metadata: { lang: "en", n: [1] } }),
      ]);
      const [row] = await raw`
        select jsonb_typeof(d.metadata) as metadata, d.metadata->>'lang' as lang,
               jsonb_typeof(c.heading_path) as heading_path, jsonb_typeof(k.settings) as settings
        from documents d join chunks c on c.document_id = d.id join collections k on k.id = d.collection_id`;
      expect(row).toEqual({ metadata: "object", lang: "en", heading_path: "array", settings: "object" });
    } finally {
      await raw.end();
      await store.close();
    }
  });

  it("stores cached vectors as float32 little-endian bytea", async () => {
    const url = await createTestDatabase();
    const store = await openStore({ driver: "postgres", url });
    const raw = postgres(url, { max: 1 });
    try {
      await store.migrate();
      await store.putCachedEmbeddings("m", [{ textHash: "h", vector: Float32Array.from([1, -2]) }]);
      const [row] = await raw`select dimensions, encode(vector, 'hex') as hex from embedding_cache`;
      expect(row).toEqual({ dimensions: 2, hex: "0000803f000000c0" });
    } finally {
      await raw.end();
      await store.close();
    }
  });

  it("lets replicas that start together migrate concurrently", async () => {
    const url = await createTestDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openStore({ driver: "postgres", url })));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const { collection } = await stores[0]!.ensureCollection({ tenant: "t", name: "c" });
      expect((await stores[2]!.getCollectionById(collection.id))?.name).toBe("c");
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("maps an unreachable server to a retryable UpstreamError that keeps the driver error", async () => {
    const store = await openStore({ driver: "postgres", url: "postgres://root@127.0.0.1:1/none" });
    try {
      const failure = await store.ping().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UpstreamError);
      expect(failure).toMatchObject({ upstream: "postgres", isRetryable: true, code: "upstream_error" });
      expect((failure as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await store.close();
    }
  });
});
