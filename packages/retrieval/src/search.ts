import {
  type ChunkRecord,
  DeadlineExceededError,
  type DocumentStore,
  type Embedder,
  type Filter,
  type LexicalIndex,
  type Metadata,
  type Reranker,
  UnavailableError,
  type VectorIndex,
} from "@sift/core";
import type { Analyzer } from "@sift/text";
import { defaultFusionMethod, defaultRrfK, type FusionMethod, fuse, type LegContribution } from "./fusion";
import { buildSnippet, type Snippet, snippetToHtml } from "./snippet";

export type SearchMode = "bm25" | "dense" | "hybrid";
export type Leg = "bm25" | "dense";
/** A part of the search that can fail or time out without failing the request: a leg, or the rerank stage. */
export type Stage = Leg | "rerank";

/**
 * How reranked candidates are ordered:
 * - `none`: by the reranker's score alone (scoreKind `rerank`, score = the raw reranker score).
 * - `rrf`: reciprocal rank fusion of the rerank rank and the first-stage (fused) rank,
 *   1/(k + rerank rank) + 1/(k + fused rank) (scoreKind `rerank:rrf`). Rank-only, so it needs no score
 *   calibration, and a reranker that is weak on a domain cannot bury what both legs agreed on.
 * - `minmax`: weight × minmax(rerank score) + (1 − weight) × minmax(fused score) over the candidates
 *   (scoreKind `rerank:minmax`).
 */
export type RerankBlend = "none" | "rrf" | "minmax";

export interface RerankOptions {
  reranker: Reranker;
  /** The top this-many hits of the first stage are reranked (a cap on reranker work). Default 30. */
  candidates?: number | undefined;
  /** Budget for the reranker call; past it the first-stage order stands and `rerank` is degraded. Default 2,000 ms. */
  timeoutMs?: number | undefined;
  /**
   * Default `none`: hit scores stay the reranker's raw, thresholdable scores (the answer stage calibrates
   * its evidence threshold on them). With a reranker weaker than hybrid retrieval on a domain, `rrf` is the
   * robust choice (rank-only, no calibration); `packages/models/bench/rerank-scifact.ts` measures all three.
   */
  blend?: RerankBlend | undefined;
  /** k of the `rrf` blend. Default 60. */
  rrfK?: number | undefined;
  /** The reranker's share in the `minmax` blend, in [0, 1]. Default 0.5. */
  weight?: number | undefined;
}

export const defaultRerankCandidates = 30;
export const defaultRerankTimeoutMs = 2_000;

export interface FusionSettings {
  method: FusionMethod;
  rrfK: number;
  weights: { bm25: number; dense: number };
  /** Candidates each leg contributes to fusion (at least offset + k are always taken). */
  candidates: number;
}

/**
 * Defaults chosen to hold across domains rather than to peak on one dataset: z-score fusion (it beat RRF
 * k = 60 on three judged sets, ADR 0016) with equal weights and 100 candidates a leg; `rrfK` applies when
 * a request asks for `rrf`.
 */
export const defaultFusionSettings: FusionSettings = {
  method: defaultFusionMethod,
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
  /**
   * Rerank the top candidates of the first stage (any mode) with the searcher's reranker. Default false.
   * Throws UnavailableError when the searcher has no reranker.
   */
  rerank?: boolean | undefined;
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

/** How the rerank stage saw a hit (present on reranked hits only). */
export interface RerankProvenance {
  /** 1-based rank by the reranker's score among the reranked candidates. */
  rank: number;
  /** The reranker's raw score (higher is more relevant; comparable within one response). */
  score: number;
  /** 1-based rank of the hit in the first stage (fused or single-leg), before reranking. */
  firstStageRank: number;
}

export type ScoreKind =
  | "bm25"
  | "cosine"
  | `fused:${FusionMethod}`
  | "rerank"
  | `rerank:${Exclude<RerankBlend, "none">}`;

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
   * across queries of one model; `fused:<method>`: the fused score (see `legs` for its parts); `rerank`:
   * the reranker's raw score; `rerank:<blend>`: the blend of rerank and first-stage order (see `rerank`).
   * In a reranked response the reranked hits come first; hits past the candidate cap keep their
   * first-stage score and kind.
   */
  scoreKind: ScoreKind;
  legs: Partial<Record<Leg, LegProvenance>>;
  rerank?: RerankProvenance;
  metadata: Metadata;
}

export interface SearchResponse {
  hits: SearchHit[];
  mode: SearchMode;
  k: number;
  offset: number;
  /** Fusion applied (hybrid only). */
  fusion?: FusionSettings;
  /** Reranking applied (when requested): which reranker, over how many candidates, how blended. */
  rerank?: { reranker: string; candidates: number; reranked: number; blend: RerankBlend };
  /** Legs or stages that failed or timed out; the result is then of lower quality than usual. */
  degraded: Stage[];
  warnings: string[];
  timings: { totalMs: number; hydrateMs: number } & Partial<Record<`${Stage}Ms`, number>>;
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
  /** The rerank stage; without it requests with `rerank: true` are refused with UnavailableError. */
  rerank?: RerankOptions | undefined;
}

/** Counters for metrics: legs and stages that failed or timed out, and rerank calls made. */
export interface SearcherMetrics {
  degraded: Record<Stage, number>;
  reranked: number;
}

/** The text a reranker sees for a chunk: document title and headings for context, then the chunk text. */
export function rerankPassageText(chunk: Pick<ChunkRecord, "title" | "headingPath" | "text">): string {
  const context = [chunk.title ?? "", ...chunk.headingPath.filter((h) => h !== chunk.title)].filter(
    (s) => s !== "",
  );
  return context.length === 0 ? chunk.text : `${context.join("\n")}\n${chunk.text}`;
}

type Ranked = {
  chunkId: number;
  score: number;
  scoreKind: ScoreKind;
  legs: Partial<Record<Leg, LegProvenance>>;
  rerank?: RerankProvenance;
};

interface LegOutcome {
  leg: Leg;
  hits: Array<{ chunkId: number; score: number }>;
  warnings: string[];
  ms: number;
}

/** Runs a search request against a collection's indexes and hydrates the hits from the store. */
export class Searcher {
  readonly metrics: SearcherMetrics = { degraded: { bm25: 0, dense: 0, rerank: 0 }, reranked: 0 };
  private readonly fusion: FusionSettings;

  constructor(private readonly options: SearcherOptions) {
    const overrides = Object.entries(options.fusion ?? {}).filter(([, v]) => v !== undefined);
    this.fusion = { ...defaultFusionSettings, ...Object.fromEntries(overrides) };
    const rerank = options.rerank;
    if (rerank !== undefined) {
      const candidates = rerank.candidates ?? defaultRerankCandidates;
      if (!Number.isSafeInteger(candidates) || candidates < 1)
        throw new RangeError(`rerank candidates must be an integer >= 1, got ${candidates}`);
      const weight = rerank.weight ?? 0.5;
      if (!(weight >= 0 && weight <= 1))
        throw new RangeError(`rerank weight must be in [0, 1], got ${weight}`);
      const k = rerank.rrfK ?? defaultRrfK;
      if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`rerank rrfK must be >= 0, got ${k}`);
    }
  }

  get denseAvailable(): boolean {
    return this.options.dense !== undefined;
  }

  get rerankAvailable(): boolean {
    return this.options.rerank !== undefined;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const overrides = Object.entries(request.fusion ?? {}).filter(([, v]) => v !== undefined);
    const fusion: FusionSettings = { ...this.fusion, ...Object.fromEntries(overrides) };
    const legs: Leg[] = request.mode === "hybrid" ? ["bm25", "dense"] : [request.mode];
    if (legs.includes("dense") && this.options.dense === undefined) {
      throw new UnavailableError("dense retrieval is not configured on this service (no embedding model)");
    }
    const rerank = request.rerank === true ? this.options.rerank : undefined;
    if (request.rerank === true && rerank === undefined) {
      throw new UnavailableError("reranking is not configured on this service (no reranker)");
    }
    const rerankCandidates = rerank === undefined ? 0 : (rerank.candidates ?? defaultRerankCandidates);
    const depth = request.offset + request.k;
    const limit = Math.max(depth, request.mode === "hybrid" ? fusion.candidates : 0, rerankCandidates);

    const settled = await Promise.allSettled(legs.map((leg) => this.runLeg(leg, request, limit)));
    const outcomes: LegOutcome[] = [];
    const degraded: Stage[] = [];
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

    let ranked: Ranked[];
    if (request.mode === "hybrid") {
      const fused = fuse(
        outcomes.map((o) => ({ leg: o.leg, hits: o.hits })),
        { method: fusion.method, rrfK: fusion.rrfK, weights: fusion.weights },
      );
      const scoreKind: ScoreKind = `fused:${fusion.method}`;
      ranked = fused.map((f) => ({
        chunkId: f.chunkId,
        score: f.score,
        scoreKind,
        legs: f.legs as Record<Leg, LegContribution>,
      }));
    } else {
      const only = outcomes[0]!;
      const scoreKind: ScoreKind = only.leg === "bm25" ? "bm25" : "cosine";
      ranked = only.hits.map((h, i) => ({
        chunkId: h.chunkId,
        score: h.score,
        scoreKind,
        legs: { [only.leg]: { rank: i + 1, score: h.score } },
      }));
    }

    const afterLegs = performance.now();
    // The reranked window is always the first stage's top `candidates`, whatever the page: every page is a
    // slice of one order, so paging neither skips nor repeats hits.
    const prefetched =
      rerank === undefined
        ? ranked.slice(request.offset, depth)
        : ranked.slice(0, Math.max(depth, rerankCandidates));
    const chunks = new Map(
      (await this.options.store.getChunks(prefetched.map((h) => h.chunkId))).map((c) => [c.id, c]),
    );
    let rerankMs: number | undefined;
    let applied: SearchResponse["rerank"];
    if (rerank !== undefined) {
      const t0 = performance.now();
      const window = ranked.slice(0, rerankCandidates).filter((hit) => {
        if (chunks.has(hit.chunkId)) return true;
        warnings.push(`chunk ${hit.chunkId} disappeared during the search`);
        return false;
      });
      const outcome = await this.rerank(rerank, request, window, chunks);
      rerankMs = performance.now() - t0;
      if (outcome.ok) {
        ranked = [...outcome.ranked, ...ranked.slice(rerankCandidates)];
        this.metrics.reranked++;
      } else {
        ranked = [...window, ...ranked.slice(rerankCandidates)];
        degraded.push("rerank");
        this.metrics.degraded.rerank++;
        warnings.push(outcome.warning);
      }
      applied = {
        reranker: rerank.reranker.id,
        candidates: rerankCandidates,
        reranked: outcome.ok ? outcome.ranked.length : 0,
        blend: rerank.blend ?? "none",
      };
    }

    const page = ranked.slice(request.offset, request.offset + request.k);
    const hits = this.hydrate(page, chunks, request.query, warnings);
    const finished = performance.now();
    const timings: SearchResponse["timings"] = {
      totalMs: round(finished - started),
      hydrateMs: round(finished - afterLegs - (rerankMs ?? 0)),
    };
    for (const o of outcomes) timings[`${o.leg}Ms`] = round(o.ms);
    if (rerankMs !== undefined) timings.rerankMs = round(rerankMs);
    return {
      hits,
      mode: request.mode,
      k: request.k,
      offset: request.offset,
      ...(request.mode === "hybrid" ? { fusion } : {}),
      ...(applied === undefined ? {} : { rerank: applied }),
      degraded,
      warnings,
      timings,
    };
  }

  /**
   * Scores the window with the reranker within its budget and orders it by the blend. A timeout, an error
   * or an unusable answer leaves the first-stage order (the caller reports `rerank` as degraded); a request
   * the caller aborted rejects.
   */
  private async rerank(
    options: RerankOptions,
    request: SearchRequest,
    window: Ranked[],
    chunks: Map<number, ChunkRecord>,
  ): Promise<{ ok: true; ranked: Ranked[] } | { ok: false; warning: string }> {
    if (window.length === 0) return { ok: true, ranked: [] };
    const timeoutMs = options.timeoutMs ?? defaultRerankTimeoutMs;
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal?.reason);
    request.signal?.throwIfAborted();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    // Rejects when the budget runs out or the caller aborts, whether or not the reranker heeds its signal.
    const stopped = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    const timer = setTimeout(
      () => controller.abort(new DeadlineExceededError(`rerank exceeded its budget of ${timeoutMs} ms`)),
      timeoutMs,
    );
    let scores: number[];
    try {
      const texts = window.map((hit) => rerankPassageText(chunks.get(hit.chunkId)!));
      scores = await Promise.race([options.reranker.score(request.query, texts, controller.signal), stopped]);
      if (scores.length !== window.length || !scores.every(Number.isFinite)) {
        throw new Error(
          `the reranker returned ${scores.length} scores for ${window.length} passages, or a non-finite one`,
        );
      }
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      const message = (error as Error)?.message ?? String(error);
      return { ok: false, warning: `rerank failed, first-stage order kept: ${message}` };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }

    const blend = options.blend ?? "none";
    // Rank by the reranker's own score (ties: first-stage order) for provenance and the rrf blend.
    const byRerank = window.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
    const rerankRank = new Array<number>(window.length);
    byRerank.forEach((index, position) => {
      rerankRank[index] = position + 1;
    });
    const k = options.rrfK ?? defaultRrfK;
    const weight = options.weight ?? 0.5;
    const normalise = (values: number[]) => {
      const min = Math.min(...values);
      const max = Math.max(...values);
      return values.map((v) => (max === min ? 1 : (v - min) / (max - min)));
    };
    const rerankNorm = blend === "minmax" ? normalise(scores) : [];
    const firstNorm = blend === "minmax" ? normalise(window.map((hit) => hit.score)) : [];
    const blended = window.map((_, i) =>
      blend === "none"
        ? scores[i]!
        : blend === "rrf"
          ? 1 / (k + rerankRank[i]!) + 1 / (k + i + 1)
          : weight * rerankNorm[i]! + (1 - weight) * firstNorm[i]!,
    );
    const scoreKind: ScoreKind = blend === "none" ? "rerank" : `rerank:${blend}`;
    const order = window
      .map((_, i) => i)
      .sort((a, b) => blended[b]! - blended[a]! || rerankRank[a]! - rerankRank[b]! || a - b);
    return {
      ok: true,
      ranked: order.map((i) => ({
        ...window[i]!,
        score: blended[i]!,
        scoreKind,
        rerank: { rank: rerankRank[i]!, score: scores[i]!, firstStageRank: i + 1 },
      })),
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

  private hydrate(
    page: Ranked[],
    chunks: Map<number, ChunkRecord>,
    query: string,
    warnings: string[],
  ): SearchHit[] {
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
        scoreKind: hit.scoreKind,
        legs: hit.legs,
        ...(hit.rerank === undefined ? {} : { rerank: hit.rerank }),
        metadata: chunk.metadata,
      });
    }
    return hits;
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
