import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type DocumentStore, type Embedder, type Logger, SiftError } from "@sift/core";
import { passageText } from "@sift/dense";
import { createEmbedder, type EmbeddingSettings } from "@sift/engine";
import { withEmbeddingCache } from "@sift/models";
import { openStore } from "@sift/store";
import { chunkDocument, parseDocument } from "@sift/text";
import type { Progress } from "../progress";

/** A document's chunks as the ingest pipeline cuts them (BEIR documents are `text` format). */
export interface SimChunks {
  chunks: Array<{ text: string; headingPath: string[] }>;
  /** What the embedder is given per chunk (`passageText`: title and heading path, then the text). */
  passages: string[];
}

export function chunksOf(title: string, text: string): SimChunks {
  const parsed = parseDocument(text, "text");
  const chunks = chunkDocument(parsed).map((c) => ({ text: c.text, headingPath: c.headingPath }));
  const effectiveTitle = title.trim() === "" ? null : title;
  return {
    chunks,
    passages: chunks.map((c) =>
      passageText({ title: effectiveTitle, headingPath: c.headingPath, text: c.text }),
    ),
  };
}

/**
 * The simulator's embeddings: the real model from the offline store, behind the store's embedding cache of
 * the eval data dir (`<cache dir>/<dataset>-<corpus hash>`, the one `pnpm eval` ingests into). The passages
 * are cut and formatted exactly as the ingest pipeline does, so after a `pnpm eval` run every chunk is a
 * cache hit, and the simulator's own misses (near-duplicate copies, queries) are cached for the next run.
 * The data dir is locked while open; another process holding it is waited for up to `lockWaitSeconds`.
 */
export class SimEmbeddings {
  private constructor(
    private readonly store: DocumentStore,
    readonly embedder: Embedder,
  ) {}

  static async open(options: {
    dataDir: string;
    settings: EmbeddingSettings;
    lockWaitSeconds: number;
    logger: Logger;
    progress: Progress;
  }): Promise<SimEmbeddings> {
    await mkdir(options.dataDir, { recursive: true });
    const pglite = path.join(options.dataDir, "pglite");
    const started = performance.now();
    let store: DocumentStore | undefined;
    while (store === undefined) {
      try {
        store = await openStore({ driver: "pglite", dataDir: pglite });
      } catch (error) {
        const locked = SiftError.is(error) && error.code === "store_locked";
        if (!locked || (performance.now() - started) / 1000 > options.lockWaitSeconds) throw error;
        options.progress.note(`eval:feed: ${pglite} is in use by another process; waiting`);
        await new Promise((resolve) => setTimeout(resolve, 10_000));
      }
    }
    await store.migrate();
    const model = await createEmbedder(options.settings, options.logger);
    if (model === undefined) {
      await store.close();
      throw new Error("eval:feed needs an embedding model (python3 infra/models/assemble.py)");
    }
    return new SimEmbeddings(store, withEmbeddingCache(model, store));
  }

  /** Embeds texts in batches of 32 with progress; vectors in input order. */
  async embed(texts: readonly string[], kind: "query" | "passage", progress: Progress, label: string) {
    const step = progress.step(label, texts.length);
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += 32) {
      const { embeddings } = await this.embedder.embed({ texts: texts.slice(start, start + 32), kind });
      vectors.push(...embeddings);
      step.update(vectors.length);
    }
    step.done(`${texts.length} ${kind} vectors`);
    return vectors;
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
