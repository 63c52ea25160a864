/**
 * Minimal types for wink-bm25-text-search 3.1.2 (the package ships none), covering only what this package
 * uses. Read against `node_modules/wink-bm25-text-search/src/wink-bm25-text-search.js`.
 */
declare module "wink-bm25-text-search" {
  export interface WinkBm25Config {
    /** Field name → weight (> 0). Fields without a weight are ignored. */
    fldWeights: Record<string, number>;
    /** Defaults: k1 1.2, b 0.75, k 1 (k is the IDF smoothing: idf = ln((N - n + 0.5) / (n + 0.5) + k)). */
    bm25Params?: { k1?: number; b?: number; k?: number };
    /** Fields whose original value is kept and handed to the search filter. */
    ovFldNames?: string[];
  }

  /** `[documentId, score]`; ids come back as strings (they are object keys inside wink). */
  export type WinkSearchResult = [string, number];

  export interface WinkBm25Engine {
    defineConfig(config: WinkBm25Config): true;
    /** Without `field`, the tasks apply to every field and to search text. Needs `defineConfig` first. */
    /** Each task gets the field value handed to `addDoc` (or the search text) and returns the terms. */
    definePrepTasks(tasks: Array<(input: unknown) => readonly string[]>, field?: string): number;
    /** Throws after `consolidate()` and on a duplicate id. Every weighted field must be present. */
    addDoc(doc: Record<string, unknown>, id: string | number): number;
    /** Throws when fewer than 3 documents were added, or when called twice. `fp`: stored precision, 4–9. */
    consolidate(fp?: number): true;
    /**
     * Best first, at most `max(limit || 10, 1)` results. `filter` receives the document's retained
     * (`ovFldNames`) values and `params`, once per (query term, posting).
     */
    search<P = unknown>(
      text: string,
      limit?: number,
      filter?: (fieldValues: Record<string, unknown>, params: P) => boolean,
      params?: P,
    ): WinkSearchResult[];
    exportJSON(): string;
    importJSON(json: string): true;
    getTotalDocs(): number;
    reset(): true;
  }

  export default function bm25(): WinkBm25Engine;
}
