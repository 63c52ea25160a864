import type { DocumentStore, Embedder, Filter } from "@sift/core";
import { compileFilter } from "@sift/core";
import { passageText } from "@sift/dense";

/** A chunk as both sides can name it: the document's external id and the chunk's start offset. */
export const chunkKey = (documentId: string, charStart: number): string => `${documentId}@${charStart}`;

interface TopK {
  keys: string[];
  scores: number[];
}

function offer(top: TopK, k: number, key: string, score: number): void {
  if (top.scores.length === k && score <= top.scores[k - 1]!) return;
  let at = top.scores.length;
  while (at > 0 && top.scores[at - 1]! < score) at--;
  top.scores.splice(at, 0, score);
  top.keys.splice(at, 0, key);
  if (top.scores.length > k) {
    top.scores.pop();
    top.keys.pop();
  }
}

/**
 * The exact top-`k` chunks by cosine for each query under each filter: a brute-force pass over every chunk of
 * the collection in the store, embedded with the same embedder as the index (passage side). Returns, per
 * filter name, one list of chunk keys per query (best first), and how many chunks each filter allowed.
 */
export async function exactFilteredTopK(options: {
  store: DocumentStore;
  collectionId: number;
  embedder: Embedder;
  queries: readonly string[];
  filters: Record<string, Filter>;
  k: number;
}): Promise<{ topK: Record<string, string[][]>; allowed: Record<string, number>; chunks: number }> {
  const { embedder, k } = options;
  const queryVectors = (await embedder.embed({ texts: options.queries, kind: "query" })).embeddings;
  const names = Object.keys(options.filters);
  const predicates = names.map((name) => compileFilter(options.filters[name]!));
  const tops = names.map(() => queryVectors.map((): TopK => ({ keys: [], scores: [] })));
  const allowed = names.map(() => 0);
  let chunks = 0;
  let afterId = 0;
  for (;;) {
    const page = await options.store.scanChunks(options.collectionId, { afterId, limit: 2000 });
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
    const { embeddings } = await embedder.embed({ texts: page.map(passageText), kind: "passage" });
    for (const [i, chunk] of page.entries()) {
      chunks++;
      const vector = embeddings[i]!;
      const key = chunkKey(chunk.externalId, chunk.charStart);
      for (const [f, predicate] of predicates.entries()) {
        if (!predicate(chunk.metadata)) continue;
        allowed[f]!++;
        for (const [q, query] of queryVectors.entries()) offer(tops[f]![q]!, k, key, dot(query, vector));
      }
    }
  }
  return {
    topK: Object.fromEntries(names.map((name, f) => [name, tops[f]!.map((top) => top.keys)])),
    allowed: Object.fromEntries(names.map((name, f) => [name, allowed[f]!])),
    chunks,
  };
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** |found ∩ exact| / |exact| (1 when the exact list is empty). */
export function recallOf(found: readonly string[], exact: readonly string[]): number {
  if (exact.length === 0) return 1;
  const wanted = new Set(exact);
  return found.filter((key) => wanted.has(key)).length / exact.length;
}
