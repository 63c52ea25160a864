import type { Filter } from "./filter";

export interface LexicalHit {
  chunkId: number;
  /** Raw BM25 score; higher is better; comparable only within one query. */
  score: number;
}

export interface LexicalSearchOptions {
  query: string;
  /** Number of hits to return, best first. */
  limit: number;
  filter?: Filter | undefined;
  signal?: AbortSignal | undefined;
}

/** A BM25 index over one collection's chunks. */
export interface LexicalIndex {
  search(options: LexicalSearchOptions): Promise<{ hits: LexicalHit[]; warnings: string[] }>;
}
