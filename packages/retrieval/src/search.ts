import type { DocumentStore, Filter, LexicalIndex, Metadata } from "@sift/core";
import type { Analyzer } from "@sift/text";
import { buildSnippet, type Snippet, snippetToHtml } from "./snippet";

export type SearchMode = "bm25";

export interface SearchRequest {
  collectionId: number;
  query: string;
  /** Hits to return (page size). */
  k: number;
  /** Hits to skip before the page (paging). */
  offset: number;
  filter?: Filter | undefined;
  mode: SearchMode;
  signal?: AbortSignal | undefined;
}

/** How one retrieval leg saw a hit: 1-based rank within the leg and the leg's raw score. */
export interface LegProvenance {
  rank: number;
  score: number;
}

export interface SearchHit {
  /** The caller's document id (external id). */
  documentId: string;
  chunkId: number;
  title: string | null;
  headingPath: string[];
  /** Offsets of the whole chunk in the document text, [charStart, charEnd). */
  charStart: number;
  charEnd: number;
  snippet: Snippet & { html: string };
  /** Higher is better. Its meaning is given by `scoreKind`. */
  score: number;
  /** `bm25`: a raw BM25 score, comparable within one response only. */
  scoreKind: "bm25";
  legs: { bm25?: LegProvenance };
  metadata: Metadata;
}

export interface SearchResponse {
  hits: SearchHit[];
  mode: SearchMode;
  k: number;
  offset: number;
  /** Legs that failed or timed out; the result is then of lower quality than usual. */
  degraded: string[];
  warnings: string[];
  timings: { totalMs: number; bm25Ms: number; hydrateMs: number };
}

export interface SearcherOptions {
  store: DocumentStore;
  /** Returns the (loaded) lexical index of a collection. */
  lexical: (collectionId: number) => Promise<LexicalIndex>;
  analyzer: Analyzer;
  snippetChars?: number;
}

/** Runs a search request against a collection's indexes and hydrates the hits from the store. */
export class Searcher {
  constructor(private readonly options: SearcherOptions) {}

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const index = await this.options.lexical(request.collectionId);
    const lexical = await index.search({
      query: request.query,
      limit: request.offset + request.k,
      filter: request.filter,
      signal: request.signal,
    });
    const afterLexical = performance.now();
    const page = lexical.hits.slice(request.offset, request.offset + request.k);
    const chunks = new Map(
      (await this.options.store.getChunks(page.map((h) => h.chunkId))).map((c) => [c.id, c]),
    );
    const queryTerms = new Set(this.options.analyzer.analyze(request.query));
    const hits: SearchHit[] = [];
    const warnings = [...lexical.warnings];
    page.forEach((hit, i) => {
      const chunk = chunks.get(hit.chunkId);
      if (chunk === undefined) {
        // Deleted between the index read and the hydration: drop it rather than return a ghost.
        warnings.push(`chunk ${hit.chunkId} disappeared during the search`);
        return;
      }
      const snippet = buildSnippet({
        text: chunk.text,
        documentOffset: chunk.charStart,
        queryTerms,
        analyzer: this.options.analyzer,
        ...(this.options.snippetChars === undefined ? {} : { maxChars: this.options.snippetChars }),
      });
      hits.push({
        documentId: chunk.externalId,
        chunkId: chunk.id,
        title: chunk.title,
        headingPath: chunk.headingPath,
        charStart: chunk.charStart,
        charEnd: chunk.charEnd,
        snippet: { ...snippet, html: snippetToHtml(snippet) },
        score: hit.score,
        scoreKind: "bm25",
        legs: { bm25: { rank: request.offset + i + 1, score: hit.score } },
        metadata: chunk.metadata,
      });
    });
    const finished = performance.now();
    return {
      hits,
      mode: request.mode,
      k: request.k,
      offset: request.offset,
      degraded: [],
      warnings,
      timings: {
        totalMs: round(finished - started),
        bm25Ms: round(afterLexical - started),
        hydrateMs: round(finished - afterLexical),
      },
    };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
