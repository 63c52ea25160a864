import {
  DeadlineExceededError,
  type Embedder,
  type Filter,
  type Metadata,
  type Reranker,
  UnavailableError,
} from "@sift/core";
import type { Analyzer } from "@sift/text";
import type { CatalogChunk } from "./chunk-catalog";
import type { CollectionSnapshot, CollectionSnapshots } from "./collection-snapshot";
import { defaultFusionMethod, defaultRrfK, type FusionMethod, fuse, type LegContribution } from "./fusion";
import { type Snippet, SnippetBuilder, snippetToHtml } from "./snippet";

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

export interface SearcherOptions {
  /** The collections' current snapshots: the only thing a search reads (no store, no revision check). */
  snapshots: CollectionSnapshots;
  analyzer: Analyzer;
  /**
   * Embeds queries for the dense leg (wrap it with a bounded in-memory cache: a query must not cost a store
   * write); without it `dense` and `hybrid` requests are refused with UnavailableError.
   */
  embedder?: Embedder | undefined;
  fusion?: FusionOverrides | undefined;
  /** A leg slower than this is abandoned and reported in `degraded` (hybrid). Default 5,000 ms. */
  legTimeoutMs?: number | undefined;
  snippetChars?: number | undefined;
  /** Memory for analysed chunk texts that snippets are built from (see `SnippetBuilder`). Default 64 MiB. */
  snippetCacheBytes?: number | undefined;
  /** The rerank stage; without it requests with `rerank: true` are refused with UnavailableError. */
  rerank?: RerankOptions | undefined;
}

/** A response with the snapshot it was read from (its catalog holds every hit's text, for `/answer`). */
export interface Retrieval {
  response: SearchResponse;
  snapshot: CollectionSnapshot;
}

/** Counters for metrics: legs and stages that failed or timed out, and rerank calls made. */
export interface SearcherMetrics {
  degraded: Record<Stage, number>;
  reranked: number;
}

/** The text a reranker sees for a chunk: document title and headings for context, then the chunk text. */
export function rerankPassageText(chunk: {
  title: string | null;
  headingPath: readonly string[];
  text: string;
}): string {
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

/** What a request resolves to before any leg runs. */
interface SearchPlan {
  fusion: FusionSettings;
  legs: Leg[];
  rerank: RerankOptions | undefined;
  rerankCandidates: number;
  /** Hits each leg returns. */
  limit: number;
}

/** Which chunks a leg may return: all of the catalog's, or those a compiled filter allowed. */
type Allowed = ReadonlySet<number> | undefined;

/**
 * Runs a search request against a collection's current snapshot: both legs over the snapshot's indexes,
 * the filter compiled once into the set of allowed chunks they share, hits hydrated from its catalog. No
 * store call, no revision check, no write: a search never waits for a refresh.
 */
export class Searcher {
  readonly metrics: SearcherMetrics = { degraded: { bm25: 0, dense: 0, rerank: 0 }, reranked: 0 };
  private readonly fusion: FusionSettings;
  private readonly snippets: SnippetBuilder;

  constructor(private readonly options: SearcherOptions) {
    this.snippets = new SnippetBuilder(options.analyzer, {
      maxChars: options.snippetChars,
      cacheBytes: options.snippetCacheBytes,
    });
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
    return this.options.embedder !== undefined;
  }

  get rerankAvailable(): boolean {
    return this.options.rerank !== undefined;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    return (await this.retrieve(request)).response;
  }

  /** `search`, and the snapshot it read (whose catalog holds the hits' text). */
  async retrieve(request: SearchRequest): Promise<Retrieval> {
    const started = performance.now();
    const plan = this.plan(request);
    const snapshot =
      this.options.snapshots.current(request.collectionId) ??
      (await this.options.snapshots.open(request.collectionId));
    const allowed = request.filter === undefined ? undefined : snapshot.catalog.allowedChunks(request.filter);
    const { outcomes, degraded, warnings } = await this.runLegs(plan, request, snapshot, allowed);
    let ranked = this.rankFirstStage(plan, request, outcomes);

    const afterLegs = performance.now();
    let rerankMs: number | undefined;
    let applied: SearchResponse["rerank"];
    if (plan.rerank !== undefined) {
      const t0 = performance.now();
      const outcome = await this.rerankStage(plan, request, ranked, snapshot);
      rerankMs = performance.now() - t0;
      ranked = outcome.ranked;
      applied = outcome.applied;
      if (outcome.warning !== undefined) {
        degraded.push("rerank");
        warnings.push(outcome.warning);
      }
    }

    const page = ranked.slice(request.offset, request.offset + request.k);
    const hits = this.hydrate(page, snapshot, request.query);
    const finished = performance.now();
    const timings: SearchResponse["timings"] = {
      totalMs: round(finished - started),
      hydrateMs: round(finished - afterLegs - (rerankMs ?? 0)),
    };
    for (const o of outcomes) timings[`${o.leg}Ms`] = round(o.ms);
    if (rerankMs !== undefined) timings.rerankMs = round(rerankMs);
    const response: SearchResponse = {
      hits,
      mode: request.mode,
      k: request.k,
      offset: request.offset,
      ...(request.mode === "hybrid" ? { fusion: plan.fusion } : {}),
      ...(applied === undefined ? {} : { rerank: applied }),
      degraded,
      warnings,
      timings,
    };
    return { response, snapshot };
  }

  /** Settings, legs and depth of the request; refuses what this searcher cannot serve. */
  private plan(request: SearchRequest): SearchPlan {
    const overrides = Object.entries(request.fusion ?? {}).filter(([, v]) => v !== undefined);
    const fusion: FusionSettings = { ...this.fusion, ...Object.fromEntries(overrides) };
    const legs: Leg[] = request.mode === "hybrid" ? ["bm25", "dense"] : [request.mode];
    if (legs.includes("dense") && this.options.embedder === undefined) {
      throw new UnavailableError("dense retrieval is not configured on this service (no embedding model)");
    }
    const rerank = request.rerank === true ? this.options.rerank : undefined;
    if (request.rerank === true && rerank === undefined) {
      throw new UnavailableError("reranking is not configured on this service (no reranker)");
    }
    const rerankCandidates = rerank === undefined ? 0 : (rerank.candidates ?? defaultRerankCandidates);
    const depth = request.offset + request.k;
    const limit = Math.max(depth, request.mode === "hybrid" ? fusion.candidates : 0, rerankCandidates);
    return { fusion, legs, rerank, rerankCandidates, limit };
  }

  /** Runs the legs side by side; a failed leg is reported, and only all legs failing fails the search. */
  private async runLegs(
    plan: SearchPlan,
    request: SearchRequest,
    snapshot: CollectionSnapshot,
    allowed: Allowed,
  ): Promise<{ outcomes: LegOutcome[]; degraded: Stage[]; warnings: string[] }> {
    const settled = await Promise.allSettled(
      plan.legs.map((leg) => this.runLeg(leg, request, plan.limit, snapshot, allowed)),
    );
    const outcomes: LegOutcome[] = [];
    const degraded: Stage[] = [];
    const warnings: string[] = [];
    settled.forEach((result, i) => {
      const leg = plan.legs[i]!;
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
    return { outcomes, degraded, warnings };
  }

  /** The first-stage order: fused for hybrid, the one leg's order otherwise. */
  private rankFirstStage(plan: SearchPlan, request: SearchRequest, outcomes: LegOutcome[]): Ranked[] {
    if (request.mode === "hybrid") {
      const { method, rrfK, weights } = plan.fusion;
      const fused = fuse(
        outcomes.map((o) => ({ leg: o.leg, hits: o.hits })),
        { method, rrfK, weights },
      );
      const scoreKind: ScoreKind = `fused:${method}`;
      return fused.map((f) => ({
        chunkId: f.chunkId,
        score: f.score,
        scoreKind,
        legs: f.legs as Record<Leg, LegContribution>,
      }));
    }
    const only = outcomes[0]!;
    const scoreKind: ScoreKind = only.leg === "bm25" ? "bm25" : "cosine";
    return only.hits.map((h, i) => ({
      chunkId: h.chunkId,
      score: h.score,
      scoreKind,
      legs: { [only.leg]: { rank: i + 1, score: h.score } },
    }));
  }

  /**
   * Reranks the first stage's top `candidates` (always that window, whatever the page: every page is a
   * slice of one order, so paging neither skips nor repeats hits). On failure the first-stage order stands.
   */
  private async rerankStage(
    plan: SearchPlan,
    request: SearchRequest,
    ranked: Ranked[],
    snapshot: CollectionSnapshot,
  ): Promise<{ ranked: Ranked[]; applied: SearchResponse["rerank"]; warning?: string }> {
    const rerank = plan.rerank!;
    const window = ranked.slice(0, plan.rerankCandidates);
    const outcome = await this.rerank(rerank, request, window, snapshot);
    const rest = ranked.slice(plan.rerankCandidates);
    const applied = {
      reranker: rerank.reranker.id,
      candidates: plan.rerankCandidates,
      reranked: outcome.ok ? outcome.ranked.length : 0,
      blend: rerank.blend ?? "none",
    };
    if (outcome.ok) {
      this.metrics.reranked++;
      return { ranked: [...outcome.ranked, ...rest], applied };
    }
    this.metrics.degraded.rerank++;
    return { ranked: [...window, ...rest], applied, warning: outcome.warning };
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
    snapshot: CollectionSnapshot,
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
      const texts = window.map((hit) => rerankPassageText(passageOf(snapshot.catalog.get(hit.chunkId)!)));
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

  private async runLeg(
    leg: Leg,
    request: SearchRequest,
    limit: number,
    snapshot: CollectionSnapshot,
    allowed: Allowed,
  ): Promise<LegOutcome> {
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
      const work = async () =>
        leg === "bm25"
          ? snapshot.lexical.search({
              query: request.query,
              limit,
              ...(allowed === undefined ? {} : { accept: (chunkId: number) => allowed.has(chunkId) }),
              deadline: t0 + timeoutMs,
              signal: controller.signal,
            })
          : this.denseLeg(request, limit, snapshot, allowed, controller.signal);
      const result = await Promise.race([work(), timeout]);
      return { leg, hits: result.hits, warnings: result.warnings, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The dense leg: the query's vector, then the snapshot's vector index restricted to the allowed chunks, or
   * (unfiltered) to the catalog's: the index may briefly hold chunks this snapshot does not, so it is asked
   * for more until `limit` catalog chunks come back or it has no more.
   */
  private async denseLeg(
    request: SearchRequest,
    limit: number,
    snapshot: CollectionSnapshot,
    allowed: Allowed,
    signal: AbortSignal,
  ): Promise<{ hits: Array<{ chunkId: number; score: number }>; warnings: string[] }> {
    const { dense, catalog } = snapshot;
    if ("unavailable" in dense) throw new UnavailableError(dense.unavailable);
    const { embeddings } = await this.options.embedder!.embed({
      texts: [request.query],
      kind: "query",
      signal,
    });
    const vector = embeddings[0]!;
    if (allowed !== undefined) {
      return dense.index.search({ vector, limit, filter: request.filter, allowed, signal });
    }
    for (let fetch = limit; ; fetch *= 2) {
      const result = await dense.index.search({ vector, limit: fetch, signal });
      const hits = result.hits.filter((hit) => catalog.has(hit.chunkId));
      if (hits.length >= limit || result.hits.length < fetch) {
        return { hits: hits.slice(0, limit), warnings: result.warnings };
      }
    }
  }

  private hydrate(page: Ranked[], snapshot: CollectionSnapshot, query: string): SearchHit[] {
    const snippetQuery = this.snippets.prepare(query);
    return page.map((hit) => {
      // The legs only return chunks of this snapshot's catalog.
      const chunk = snapshot.catalog.get(hit.chunkId)!;
      const { document } = chunk;
      const snippet = this.snippets.build(snippetQuery, chunk.text, chunk.charStart);
      const hydrated: SearchHit = {
        documentId: document.externalId,
        chunkId: chunk.id,
        title: document.title,
        headingPath: chunk.headingPath.slice(),
        charStart: chunk.charStart,
        charEnd: chunk.charEnd,
        snippet: {
          text: snippet.text,
          highlights: snippet.highlights,
          charStart: snippet.charStart,
          charEnd: snippet.charEnd,
          html: snippetToHtml(snippet),
        },
        score: hit.score,
        scoreKind: hit.scoreKind,
        legs: hit.legs,
        metadata: document.metadata,
      };
      // Key order as before (`rerank` between `legs` and `metadata`) for byte-identical JSON.
      return hit.rerank === undefined ? hydrated : withRerank(hydrated, hit.rerank);
    });
  }
}

function withRerank(hit: SearchHit, rerank: RerankProvenance): SearchHit {
  const { metadata, ...rest } = hit;
  return { ...rest, rerank, metadata };
}

/** A catalog chunk as the passage-text helpers take it. */
function passageOf(chunk: CatalogChunk): {
  title: string | null;
  headingPath: readonly string[];
  text: string;
} {
  return { title: chunk.document.title, headingPath: chunk.headingPath, text: chunk.text };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
