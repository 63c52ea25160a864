/**
 * Prints how long writing 5,000 one-chunk documents in batches of 200 takes on each driver.
 *   pnpm --filter @sift/store bench:write [postgres-admin-url]
 * The Postgres run uses a throwaway database `sift_bench_<random>` (created and dropped through the
 * admin URL, default postgres://root@127.0.0.1:5432/postgres).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentStore } from "@sift/core";
import postgres from "postgres";
import { openStore } from "./open-store";
import { documentWrite } from "./sample-documents";

const documentCount = 5_000;
const batchSize = 200;

async function measure(label: string, store: DocumentStore): Promise<void> {
  try {
    await store.migrate();
    const { collection } = await store.ensureCollection({ tenant: "bench", name: "write" });
    const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(8);
    const started = performance.now();
    for (let offset = 0; offset < documentCount; offset += batchSize) {
      const writes = Array.from({ length: batchSize }, (_, i) =>
        documentWrite(`doc-${offset + i}`, `${offset + i} ${text}`, { chunkSize: 10_000, metadata: { i } }),
      );
      await store.writeDocuments(collection.id, writes);
    }
    const elapsed = performance.now() - started;
    const rate = Math.round(documentCount / (elapsed / 1000));
    console.log(`${label.padEnd(22)} ${(elapsed / 1000).toFixed(2)} s  (${rate} documents/s)`);
  } finally {
    await store.close();
  }
}

const adminUrl = process.argv[2] ?? "postgres://root@127.0.0.1:5432/postgres";
console.log(`${documentCount} documents × 1 chunk, batches of ${batchSize}, node ${process.version}`);
await measure("pglite memory://", await openStore({ driver: "pglite", dataDir: "memory://" }));
const directory = mkdtempSync(join(tmpdir(), "sift-bench-"));
try {
  await measure(
    "pglite directory",
    await openStore({ driver: "pglite", dataDir: join(directory, "pglite") }),
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const name = `sift_bench_${randomBytes(6).toString("hex")}`;
await admin.unsafe(`create database ${name}`);
try {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await measure("postgres server", await openStore({ driver: "postgres", url: url.toString() }));
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}
