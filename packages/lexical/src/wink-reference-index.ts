import type { LexicalHit } from "@sift/core";
import type { Analyzer } from "@sift/text";
import createWinkEngine, { type WinkBm25Engine } from "wink-bm25-text-search";
import { type AnalyzedBm25Document, analyzeBm25Document, type Bm25Document } from "./analyzed-document";
import type { Bm25Config } from "./config";
import { SCORE_PRECISION } from "./wink-formula";

/**
 * wink refuses to `consolidate()` fewer than this many documents (checked in its source, 3.1.2).
 * Smaller indexes are padded with empty documents, see {@link WinkBm25Index.build}.
 */
export const WINK_MIN_DOCUMENTS = 3;

/** The retained wink field that carries the chunk id into the search filter. */
const ID_FIELD = "id";

function newEngine(config: Bm25Config, analyzer: Analyzer): WinkBm25Engine {
  const engine = createWinkEngine();
  engine.defineConfig({
    fldWeights: { title: config.fieldWeights.title, body: config.fieldWeights.body },
    bm25Params: { k1: config.k1, b: config.b, k: 1 },
    ovFldNames: [ID_FIELD],
  });
  // No field argument: one task for every field and for the query text. Fields arrive already analysed
  // (see `analyzeBm25Document`) and pass through; query text is analysed here.
  engine.definePrepTasks([
    (input) => (typeof input === "string" ? analyzer.analyze(input) : (input as readonly string[])),
  ]);
  return engine;
}

/**
 * The reference scorer: an immutable, consolidated BM25F index (one wink engine) over a fixed set of chunks.
 * Not used in production any more (the segment engine is); tests and benches hold the engine to it, score
 * for score.
 *
 * Scores are raw BM25F sums over query terms (a repeated query term counts again), higher is better, and
 * comparable only between hits of the same index and query: IDF and average length are this index's own.
 */
/** Lets the builder construct an index while the constructor stays private. */
let wrapEngine: (engine: WinkBm25Engine, size: number) => WinkBm25Index;

export class WinkBm25Index {
  static {
    wrapEngine = (engine, size) => new WinkBm25Index(engine, size);
  }

  private constructor(
    private readonly engine: WinkBm25Engine,
    /** Number of real (non-padding) documents. */
    readonly size: number,
  ) {}

  /**
   * Builds and consolidates an index. Document ids must be unique positive integers.
   *
   * Fewer than {@link WINK_MIN_DOCUMENTS} documents are padded with empty documents under negative ids. An
   * empty document adds no term and no posting, so it can never be a hit; it only counts in N and in the
   * average length, which shifts the scores of such tiny indexes (not their usefulness) a little.
   */
  static build(documents: Iterable<Bm25Document>, config: Bm25Config, analyzer: Analyzer): WinkBm25Index {
    const builder = new WinkBm25IndexBuilder(config, analyzer);
    for (const document of documents) builder.add(document);
    return builder.finish();
  }

  /** As {@link build}, from documents already run through `analyzer` (which still analyses queries). */
  static buildAnalyzed(
    documents: Iterable<AnalyzedBm25Document>,
    config: Bm25Config,
    analyzer: Analyzer,
  ): WinkBm25Index {
    const builder = new WinkBm25IndexBuilder(config, analyzer);
    for (const document of documents) builder.addAnalyzed(document);
    return builder.finish();
  }

  /** Restores an index from {@link toJSON}'s output; `config` and `analyzer` must be those it was built with. */
  static fromJSON(json: string, size: number, config: Bm25Config, analyzer: Analyzer): WinkBm25Index {
    const engine = newEngine(config, analyzer);
    engine.importJSON(json);
    return new WinkBm25Index(engine, size);
  }

  /** wink's own export (term statistics, postings, retained ids). */
  toJSON(): string {
    return this.engine.exportJSON();
  }

  /**
   * The best `limit` chunks for `query`, best first (ties: ascending chunk id). `accept` runs before the
   * top-k cut, so a filtered request still gets `limit` hits when that many accepted chunks match.
   */
  search(query: string, limit: number, accept?: (chunkId: number) => boolean): LexicalHit[] {
    if (!(limit >= 1)) return [];
    // Padding documents have no terms, so they never reach the filter; without `accept` wink needs none.
    const filter =
      accept === undefined
        ? undefined
        : (fields: Record<string, unknown>) => accept(fields[ID_FIELD] as number);
    const results = this.engine.search(query, Math.floor(limit), filter);
    return results.map(([id, score]) => ({ chunkId: Number(id), score }));
  }
}

/**
 * Adds documents one at a time (so a caller can stream them from the store without holding their text), then
 * consolidates once. See {@link WinkBm25Index.build} for padding of tiny indexes.
 */
export class WinkBm25IndexBuilder {
  readonly #engine: WinkBm25Engine;
  readonly #analyzer: Analyzer;
  #size = 0;
  #finished = false;

  constructor(config: Bm25Config, analyzer: Analyzer) {
    this.#engine = newEngine(config, analyzer);
    this.#analyzer = analyzer;
  }

  get size(): number {
    return this.#size;
  }

  add(document: Bm25Document): void {
    this.addAnalyzed(analyzeBm25Document(document, this.#analyzer));
  }

  addAnalyzed(document: AnalyzedBm25Document): void {
    if (this.#finished) throw new Error("WinkBm25IndexBuilder: add after finish");
    if (!(Number.isSafeInteger(document.id) && document.id > 0)) {
      throw new Error(`WinkBm25IndexBuilder: document id must be a positive integer, got ${document.id}`);
    }
    this.#engine.addDoc({ title: document.title, body: document.body, [ID_FIELD]: document.id }, document.id);
    this.#size += 1;
  }

  /** Pads, consolidates and returns the index; the builder cannot be used afterwards. */
  finish(): WinkBm25Index {
    if (this.#finished) throw new Error("WinkBm25IndexBuilder: finish called twice");
    this.#finished = true;
    for (let pad = 1; this.#size + pad - 1 < WINK_MIN_DOCUMENTS; pad += 1) {
      this.#engine.addDoc({ title: "", body: "", [ID_FIELD]: -pad }, -pad);
    }
    this.#engine.consolidate(SCORE_PRECISION);
    return wrapEngine(this.#engine, this.#size);
  }
}
