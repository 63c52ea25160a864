import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { LexicalIndexManager } from "@sift/lexical";
import { Searcher } from "@sift/retrieval";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { createApp } from "./app";

/** An app over a real in-memory PGlite store and a real BM25 index in a temp dir. */
export async function createTestApp(options: { maxBodyBytes?: number } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "sift-api-"));
  const store = await openStore({ driver: "pglite", dataDir: "memory://" });
  await store.migrate();
  const analyzer = createAnalyzer();
  const lexical = new LexicalIndexManager({ store, dataDir, analyzer });
  const searcher = new Searcher({ store, lexical: (id) => lexical.open(id), analyzer });
  const app = createApp({
    store,
    lexical,
    searcher,
    logger: silentLogger,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    indexRefreshMs: 0,
    indexesLoaded: () => true,
  });
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await app.request(url, init);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? undefined : JSON.parse(text),
    };
  };
  return {
    app,
    store,
    call,
    async close() {
      await lexical.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
