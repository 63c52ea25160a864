import type { EmbeddingModelProfile } from "@sift/core";
import {
  type BackfillSearch,
  CollectionStatisticsCorpus,
  dot,
  type FeedDocument,
  prepareFeedDocument,
} from "@sift/feed";
import { fuse } from "@sift/retrieval";
import { type Analyzer, createAnalyzer } from "@sift/text";
import type { Progress } from "../progress";
import type { SimEmbeddings } from "./feed-embeddings";
import { chunksOf } from "./feed-embeddings";
import { type SimData, simCollection, simTenant } from "./feed-simulator";
import type { World } from "./feed-world";

/**
 * Everything the policies share, computed once: each stream document's chunks and vectors (the real
 * embedding model through the cache) made into the `FeedDocument` the catalog would hand over, and the
 * judged queries' vectors.
 */
export async function prepareSimData(
  world: World,
  embeddings: SimEmbeddings,
  progress: Progress,
): Promise<SimData> {
  const analyzer = createAnalyzer();
  const cut = world.documents.map((d) => ({ document: d, ...chunksOf(d.title, d.text) }));
  const passages = cut.flatMap((c) => c.passages);
  const vectors = await embeddings.embed(passages, "passage", progress, "embed passages");
  const documents = new Map<string, FeedDocument>();
  let offset = 0;
  for (const { document, chunks } of cut) {
    const chunkVectors = vectors.slice(offset, offset + chunks.length);
    offset += chunks.length;
    documents.set(
      document.id,
      prepareFeedDocument(
        {
          tenant: simTenant,
          collection: simCollection,
          documentId: document.id,
          title: document.title.trim() === "" ? null : document.title,
          text: document.text,
          chunks,
          chunkVectors,
          metadata: { source: document.source, published: document.arrivedAt },
          arrivedAt: document.arrivedAt,
        },
        analyzer,
      ),
    );
  }
  const queries = [...world.queries.values()];
  const queryVectors = await embeddings.embed(
    queries.map((q) => q.text),
    "query",
    progress,
    "embed queries",
  );
  const byText = new Map(queries.map((q, i) => [q.text, queryVectors[i]!]));
  return {
    world,
    documents,
    queryVectors: new Map(queries.map((q, i) => [q.id, queryVectors[i]!])),
    profile: embeddings.embedder.profile as EmbeddingModelProfile,
    analyzer,
    backfill: (backlog) => hybridBackfill(backlog, analyzer, (text) => byText.get(text)),
  };
}

/**
 * Ordinary hybrid search over the backlog for backfilling new profiles, as the service searches: BM25
 * (wink, the lexical reference) and dense (exact cosine to the document embedding), fused by RRF (k = 60),
 * 100 candidates a leg. The dense leg uses the vector of the saved query being backfilled.
 */
export function hybridBackfill(
  backlog: readonly FeedDocument[],
  analyzer: Analyzer,
  queryVector: (text: string) => Float32Array | undefined,
): BackfillSearch {
  const ids = new Map(backlog.map((d, i) => [i + 1, d]));
  // The BM25 leg scores every backlog chunk with the backlog's statistics (exhaustive, as wink does).
  const index = new CollectionStatisticsCorpus(analyzer);
  for (const d of backlog) for (const chunk of d.chunks) index.add(chunk);
  const bm25 = (query: string) =>
    [...ids]
      .map(([id, d]) => ({
        chunkId: id,
        score: Math.max(0, ...d.chunks.map((c) => index.scoreQuery(query, c).score)),
      }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId)
      .slice(0, 100);
  return {
    async search({ query, limit }) {
      const lexical = bm25(query);
      const vector = queryVector(query);
      const dense =
        vector === undefined
          ? []
          : [...ids]
              .flatMap(([id, d]) =>
                d.embedding === null ? [] : [{ chunkId: id, score: dot(vector, d.embedding) }],
              )
              .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId)
              .slice(0, 100);
      const fused = fuse(
        [
          { leg: "bm25", hits: lexical },
          { leg: "dense", hits: dense },
        ],
        { method: "rrf" },
      );
      return fused.slice(0, limit).map((hit) => ids.get(hit.chunkId)!);
    },
  };
}
