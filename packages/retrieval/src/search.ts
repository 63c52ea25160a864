import {
  DeadlineExceededError,
  type DocumentStore,
  type Embedder,
  type Filter,
  type LexicalIndex,
  type Metadata,
  UnavailableError,
  type VectorIndex,
} from "@sift/core";
import type { Analyzer } from "@sift/text";
import { defaultRrfK, type FusionMethod, fuse, type LegContribution } from "./fusion";
import { buildSnippet, type Snippet, snippetToHtml } from "./snippet";

export type SearchMode = "bm25" | "dense" | "hybrid";
export type Leg = "bm25" | "dense";

export interface FusionSettings {
  method: FusionMethod;
  rrfK: number;
  weights: { bm25: number; dense: number };
  /** Candidates each leg contributes to fusion (at least offset + k are always taken). */
  candidates: number;
}

/**
 * Defaults chosen to hold across domains rather than to peak on one dataset: RRF with k = 60 and equal
 * weights is the published, rank-only default (no score calibration needed), with 100 candidates a leg.
 */
export const defaultFusionSettings: FusionSettings = {
  method: "rrf",
  rrfK: defaultRrfK,
  weights: { bm25: 1, dense: 1 },
  candidates: 100,
};

export interface SearchRequest {
  collectionId: number;
  query: string;
  /** Hits to return (page size). */
  k: number;
  /** Hits to skip before the page (paging). */
  offset: number;
  filter?: Filter | undefined;
  mode: SearchMode;
  /** Overrides of the searcher's fusion settings for this request (hybrid only). */
  fusion?: FusionOverrides | undefined;
  signal?: AbortSignal | undefined;
}

/** Per-request fusion settings; absent or undefined fields keep the searcher's settings. */
export type FusionOverrides = { [K in keyof FusionSettings]?: FusionSettings[K] | undefined };

/** How one retrieval leg saw a hit. `normalized`/`contribution` are present when the hit was fused. */
export interface LegProvenance {
  /** 1-based rank within the leg. */
  rank: number;
  /** The leg's raw score: BM25 for `bm25`, cosine similarity for `dense`. */
  score: number;
  normalized?: number;
  contribution?: number;
}

export type ScoreKind = "bm25" | "cosine" | `fused:${FusionMethod}`;

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
  /**
   * `bm25`: raw BM25, comparable within one response; `cosine`: cosine similarity in [-1, 1], comparable
   * across queries of one model; `fused:<method>`: the fused score (see `legs` for its parts).
   */
  scoreKind: ScoreKind;
  legs: Partial<Record<Leg, LegProvenance>>;
  metadata: Metadata;
}

export interface SearchResponse {
  hits: SearchHit[];
  mode: SearchMode;
  k: number;
  offset: number;
  /** Fusion applied (hybrid only). */
  fusion?: FusionSettings;
  /** Legs that failed or timed out; the result is then of lower quality than usual. */
  degraded: Leg[];
  warnings: string[];
  timings: { totalMs: number; hydrateMs: number } & Partial<Record<`${Leg}Ms`, number>>;
}

export interface DenseRetrieval {
  embedder: Embedder;
  /** Returns the (loaded) vector index of a collection. */
  vectors: (collectionId: number) => Promise<VectorIndex>;
}

export interface SearcherOptions {
  store: DocumentStore;
  /** Returns the (loaded) lexical index of a collection. */
  lexical: (collectionId: number) => Promise<LexicalIndex>;
  analyzer: Analyzer;
  /** The dense leg; without it `dense` and `hybrid` requests are refused with UnavailableError. */
  dense?: DenseRetrieval | undefined;
  fusion?: FusionOverrides | undefined;
  /** A leg slower than this is abandoned and reported in `degraded` (hybrid). Default 5,000 ms. */
  legTimeoutMs?: number | undefined;
  snippetChars?: number | undefined;
}

/** Counters of legs that failed or timed out, for metrics. */
export interface SearcherMetrics {
  degraded: Record<Leg, number>;
}

interface LegOutcome {
  leg: Leg;
  hits: Array<{ chunkId: number; score: number }>;
  warnings: string[];
  ms: number;
}

/** Runs a search request against a collection's indexes and hydrates the hits from the store. */
export class Searcher {
  readonly metrics: SearcherMetrics = { degraded: { bm25: 0, dense: 0 } };
  private readonly fusion: FusionSettings;

  constructor(private readonly options: SearcherOptions) {
    const overrides = Object.entries(options.fusion ?? {}).filter(([, v]) => v !== undefined);
    this.fusion = { ...defaultFusionSettings, ...Object.fromEntries(overrides) };
  }

  get denseAvailable(): boolean {
    return this.options.dense !== undefined;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const overrides = Object.entries(request.fusion ?? {}).filter(([, v]) => v !== undefined);
    const fusion: FusionSettings = { ...this.fusion, ...Object.fromEntries(overrides) };
    const legs: Leg[] = request.mode === "hybrid" ? ["bm25", "dense"] : [request.mode];
    if (legs.includes("dense") && this.options.dense === undefined) {
      throw new UnavailableError("dense retrieval is not configured on this service (no embedding model)");
    }
    const depth = request.offset + request.k;
    const limit = request.mode === "hybrid" ? Math.max(depth, fusion.candidates) : depth;

    const settled = await Promise.allSettled(legs.map((leg) => this.runLeg(leg, request, limit)));
    const outcomes: LegOutcome[] = [];
    const degraded: Leg[] = [];
    const warnings: string[] = [];
    settled.forEach((result, i) => {
      const leg = legs[i]!;
      if (result.status === "fulfilled") {
        outcomes.push(result.value);
        warnings.push(...result.value.warnings);
      } else {
        degraded.push(leg);
        this.metrics.degraded[leg]++;
        warnings.push(`${leg} leg failed: ${(result.reason as Error)?.message ?? String(result.reason)}`);
      }
    });
    if (outcomes.length === 0) {
      const reason = settled.find((s) => s.status === "rejected") as PromiseRejectedResult;
      throw reason.reason;
    }

    type Ranked = { chunkId: number; score: number; legs: Partial<Record<Leg, LegProvenance>> };
    let ranked: Ranked[];
    let scoreKind: ScoreKind;
    if (request.mode === "hybrid") {
      const fused = fuse(
        outcomes.map((o) => ({ leg: o.leg, hits: o.hits })),
        { method: fusion.method, rrfK: fusion.rrfK, weights: fusion.weights },
      );
      ranked = fused.map((f) => ({
        chunkId: f.chunkId,
        score: f.score,
        legs: f.legs as Record<Leg, LegContribution>,
      }));
      scoreKind = `fused:${fusion.method}`;
    } else {
      const only = outcomes[0]!;
      ranked = only.hits.map((h, i) => ({
        chunkId: h.chunkId,
        score: h.score,
        legs: { [only.leg]: { rank: i + 1, score: h.score } },
      }));
      scoreKind = only.leg === "bm25" ? "bm25" : "cosine";
    }

    const afterLegs = performance.now();
    const page = ranked.slice(request.offset, request.offset + request.k);
    const hits = await this.hydrate(page, request.query, scoreKind, warnings);
    const finished = performance.now();
    const timings: SearchResponse["timings"] = {
      totalMs: round(finished - started),
      hydrateMs: round(finished - afterLegs),
    };
    for (const o of outcomes) timings[`${o.leg}Ms`] = round(o.ms);
    return {
      hits,
      mode: request.mode,
      k: request.k,
      offset: request.offset,
      ...(request.mode === "hybrid" ? { fusion } : {}),
      degraded,
      warnings,
      timings,
    };
  }

  private async runLeg(leg: Leg, request: SearchRequest, limit: number): Promise<LegOutcome> {
    const t0 = performance.now();
    const timeoutMs = this.options.legTimeoutMs ?? 5_000;
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener("abort", onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DeadlineExceededError(`${leg} leg exceeded ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const work = async () => {
        if (leg === "bm25") {
          const index = await this.options.lexical(request.collectionId);
          return index.search({
            query: request.query,
            limit,
            filter: request.filter,
            signal: controller.signal,
          });
        }
        const dense = this.options.dense!;
        const [{ embeddings }, index] = await Promise.all([
          dense.embedder.embed({ texts: [request.query], kind: "query", signal: controller.signal }),
          dense.vectors(request.collectionId),
        ]);
        return index.search({
          vector: embeddings[0]!,
          limit,
          filter: request.filter,
          signal: controller.signal,
        });
      };
      const result = await Promise.race([work(), timeout]);
      return { leg, hits: result.hits, warnings: result.warnings, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }

  private async hydrate(
    page: Array<{ chunkId: number; score: number; legs: Partial<Record<Leg, LegProvenance>> }>,
    query: string,
    scoreKind: ScoreKind,
    warnings: string[],
  ): Promise<SearchHit[]> {
    const chunks = new Map(
      (await this.options.store.getChunks(page.map((h) => h.chunkId))).map((c) => [c.id, c]),
    );
    const queryTerms = new Set(this.options.analyzer.analyze(query));
    const hits: SearchHit[] = [];
    for (const hit of page) {
      const chunk = chunks.get(hit.chunkId);
      if (chunk === undefined) {
        // Deleted between the index read and the hydration: drop it rather than return a ghost.
        warnings.push(`chunk ${hit.chunkId} disappeared during the search`);
        continue;
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
        scoreKind,
        legs: hit.legs,
        metadata: chunk.metadata,
      });
    }
    return hits;
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
