/**
 * The stand-in embedder of `pnpm bench:scale`: feature hashing of a text's terms into a 384-dimensional unit
 * vector (each term adds ±(1 + ln tf) to one coordinate, chosen and signed by its FNV-1a hash). Texts that
 * share terms get similar vectors, so the dense leg, its HNSW graph and filtered ANN search see a realistic
 * neighbourhood structure, at a cost of microseconds per text instead of the ~10 ms per chunk of MiniLM on
 * this CPU (600,000 chunks would take days). It is no semantic model: quality figures are not measured with it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Embedder, EmbeddingModelProfile } from "@sift/core";

export const hashingProfile: EmbeddingModelProfile = {
  id: "sift-bench/term-hashing-384",
  dimensions: 384,
  pooling: "mean",
  normalize: true,
  queryPrefix: "",
  passagePrefix: "",
  maxTokens: 512,
};

const stopWords = new Set(
  "the and for with that this from are was were has have had not but its their which these those than into also been can may our all any".split(
    " ",
  ),
);

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The unit vector of `text` (all zeros but one coordinate when it has no term). */
export function hashEmbed(text: string, dimensions = hashingProfile.dimensions): Float32Array {
  const counts = new Map<string, number>();
  for (const term of text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []) {
    if (!stopWords.has(term)) counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  const vector = new Float32Array(dimensions);
  for (const [term, tf] of counts) {
    const hash = fnv1a(term);
    vector[hash % dimensions]! += (hash & 0x80000000 ? -1 : 1) * (1 + Math.log(tf));
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) vector[i]! *= scale;
  return vector;
}

export function createHashingEmbedder(): Embedder {
  return {
    profile: hashingProfile,
    async embed({ texts }) {
      return { embeddings: texts.map((text) => hashEmbed(text)), warnings: [] };
    },
  };
}

/** A model manifest (see `infra/models/manifest.json`) naming only the stand-in, for the service's config. */
export function hashingManifest(): string {
  const p = hashingProfile;
  return JSON.stringify({
    schema: 1,
    defaults: { embedder: "term-hashing-384", reranker: null },
    models: {
      "term-hashing-384": {
        id: p.id,
        kind: "embedding",
        profile: {
          dimensions: p.dimensions,
          pooling: p.pooling,
          normalize: p.normalize,
          similarity: "cosine",
          query_prefix: p.queryPrefix,
          passage_prefix: p.passagePrefix,
          max_tokens: p.maxTokens,
        },
      },
    },
  });
}

export interface EmbeddingServer {
  /** Server root for `SIFT_EMBEDDING_URL`. */
  url: string;
  /** Milliseconds each request spent embedding (not counting HTTP), in arrival order. */
  computeMs: number[];
  close(): Promise<void>;
}

/** Serves the stand-in over the OpenAI embeddings API (`POST /v1/embeddings`), as the service's query embedder. */
export async function startEmbeddingServer(): Promise<EmbeddingServer> {
  const computeMs: number[] = [];
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== "/v1/embeddings") {
        response.writeHead(404).end();
        return;
      }
      const started = performance.now();
      const { input } = JSON.parse(Buffer.concat(parts).toString()) as { input: string | string[] };
      const texts = typeof input === "string" ? [input] : input;
      const data = texts.map((text, index) => ({ index, embedding: Array.from(hashEmbed(text)) }));
      computeMs.push(performance.now() - started);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ object: "list", data, model: hashingProfile.id }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    computeMs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
