import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import type { DocumentStore, Logger } from "@sift/core";
import { readSource, runIngestion } from "@sift/ingest";
import { LexicalIndexManager } from "@sift/lexical";
import { Searcher } from "@sift/retrieval";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { createApp } from "./app";
import type { ServiceConfig } from "./config";

export const sampleCorpusDir = fileURLToPath(new URL("../../../infra/sample-corpus", import.meta.url));
export const sampleCollection = "sample";

export interface RunningService {
  url: string;
  store: DocumentStore;
  /** Set when this start ingested the sample corpus into an empty store. */
  sampleIngested: boolean;
  close(): Promise<void>;
}

/**
 * Opens the store (migrating it), loads every collection's indexes, seeds the sample corpus into an empty
 * store when configured, and starts listening. Close it to release the store (and the embedded lock).
 */
export async function startService(config: ServiceConfig, logger: Logger): Promise<RunningService> {
  const store = await openStore(config.store);
  try {
    await store.migrate();
    // The embedded store has one process at a time, so any job still "running" is a leftover. On a shared
    // server another process may be ingesting: only jobs silent for 10 minutes are declared interrupted.
    const interrupted = await store.markStaleJobsInterrupted(config.store.driver === "pglite" ? 0 : 600_000);
    if (interrupted > 0)
      logger.warn("marked jobs left running by a stopped process as interrupted", { interrupted });
    const analyzer = createAnalyzer();
    const lexical = new LexicalIndexManager({ store, dataDir: config.dataDir, analyzer, logger });
    const searcher = new Searcher({ store, lexical: (id) => lexical.open(id), analyzer });

    let sampleIngested = false;
    const collections = await store.listCollections();
    if (collections.length === 0 && config.sampleCorpus) {
      const { collection } = await store.ensureCollection({ tenant: "default", name: sampleCollection });
      const job = await runIngestion({
        store,
        lexical,
        collectionId: collection.id,
        source: readSource(sampleCorpusDir, { format: "files" }),
        sourceLabel: sampleCorpusDir,
        logger,
      });
      logger.info("ingested the sample corpus into an empty store", {
        collection: sampleCollection,
        counts: job.counts,
      });
      sampleIngested = true;
    }

    let loaded = false;
    const app = createApp({
      store,
      lexical,
      searcher,
      logger,
      maxBodyBytes: config.maxBodyBytes,
      indexRefreshMs: config.indexRefreshMs,
      indexesLoaded: () => loaded,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
      s.once("error", reject);
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;

    for (const collection of await store.listCollections()) {
      await lexical.open(collection.id);
    }
    loaded = true;

    return {
      url,
      store,
      sampleIngested,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await lexical.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
