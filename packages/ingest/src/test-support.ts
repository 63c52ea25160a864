import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DocumentStore } from "@sift/core";
import { LexicalIndexManager } from "@sift/lexical";
import { openStore } from "@sift/store";
import type { SourceDocument, SourceItem } from "./sources/types";

/** A real in-memory PGlite store and a real lexical index manager over a temp folder, for tests. */
export interface TestBed {
  store: DocumentStore;
  lexical: LexicalIndexManager;
  dataDir: string;
  /** A fresh collection, so tests sharing the store do not see each other's documents. */
  collection(name?: string): Promise<number>;
  /** External ids of the documents whose chunks a BM25 search for `query` finds, best first, deduplicated. */
  searchIds(collectionId: number, query: string, limit?: number): Promise<string[]>;
  close(): Promise<void>;
}

let collections = 0;

export async function createTestBed(): Promise<TestBed> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "sift-indexer-"));
  const store = await openStore({ driver: "pglite", dataDir: "memory://" });
  await store.migrate();
  const lexical = new LexicalIndexManager({ store, dataDir });
  return {
    store,
    lexical,
    dataDir,
    async collection(name) {
      collections += 1;
      const { collection } = await store.ensureCollection({
        tenant: "test",
        name: name ?? `c${collections}`,
      });
      return collection.id;
    },
    async searchIds(collectionId, query, limit = 10) {
      const index = await lexical.open(collectionId);
      const { hits } = await index.search({ query, limit });
      const chunks = new Map((await store.getChunks(hits.map((h) => h.chunkId))).map((c) => [c.id, c]));
      const ids: string[] = [];
      for (const hit of hits) {
        const externalId = chunks.get(hit.chunkId)?.externalId;
        if (externalId !== undefined && !ids.includes(externalId)) ids.push(externalId);
      }
      return ids;
    },
    async close() {
      await lexical.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An in-memory source of documents (format `text` unless given). */
export async function* documentsOf(
  documents: (Partial<SourceDocument> & { externalId: string; text: string })[],
): AsyncGenerator<SourceItem> {
  for (const document of documents) yield { kind: "document", document: { format: "text", ...document } };
}
