import type { AnswerTimings } from "@sift/answer";
import type { Embedder, SiftStore } from "@sift/core";
import type { Engine } from "@sift/engine";
import type { SearchResponse } from "@sift/retrieval";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every metric the service exports on `/metrics` besides the process defaults (`process_*`, `nodejs_*`).
 * The Grafana dashboard's test (infra/tests/deployment.test.ts) imports this list, so the dashboard and
 * the code cannot drift apart.
 */
export const metricNames = {
  counters: [
    "sift_http_requests_total",
    "sift_degraded_legs_total",
    "sift_rate_limited_total",
    "sift_ingest_documents_total",
    "sift_ingest_chunks_total",
    "sift_embedding_cache_hits_total",
    "sift_embedding_cache_misses_total",
  ],
  histograms: [
    "sift_http_request_duration_seconds",
    "sift_search_stage_duration_seconds",
    "sift_generation_time_to_first_token_seconds",
    "sift_generation_output_token_seconds",
  ],
  gauges: ["sift_index_chunks"],
} as const;

/** The `stage` label values of `sift_search_stage_duration_seconds`. */
export const searchStages = [
  "bm25",
  "dense",
  "query_embedding",
  "fusion",
  "rerank",
  "hydrate",
  "total",
] as const;
export type SearchStage = (typeof searchStages)[number];

const httpBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const stageBuckets = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const firstTokenBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const perTokenBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** What the pull-based metrics read at scrape time: index sizes, the embedding cache, degraded legs. */
export interface MetricSources {
  engine: Engine;
  store: SiftStore;
}

/**
 * The service's Prometheus metrics in a registry of its own (two services in one process, as in tests
 * and benches, do not share counters). Routes push observations; index sizes, cache totals and the
 * searcher's degraded-leg counts are read at scrape time, so the search path does no extra work for them.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;
  private readonly requests = new Counter({
    name: "sift_http_requests_total",
    help: "HTTP requests answered, by route pattern, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [this.registry],
  });
  private readonly requestDuration = new Histogram({
    name: "sift_http_request_duration_seconds",
    help: "Time from a request's arrival to its response's headers (streams: to the first byte), seconds",
    labelNames: ["route", "method", "status"] as const,
    buckets: httpBuckets,
    registers: [this.registry],
  });
  private readonly stages = new Histogram({
    name: "sift_search_stage_duration_seconds",
    help: "Search stages (searches and answer retrievals), seconds; query_embedding only when the query missed the embedding cache",
    labelNames: ["stage"] as const,
    buckets: stageBuckets,
    registers: [this.registry],
  });
  private readonly firstToken = new Histogram({
    name: "sift_generation_time_to_first_token_seconds",
    help: "Answer generation: from the generator's start to its first token, seconds",
    buckets: firstTokenBuckets,
    registers: [this.registry],
  });
  private readonly perToken = new Histogram({
    name: "sift_generation_output_token_seconds",
    help: "Answer generation: time per output token after the first, seconds",
    buckets: perTokenBuckets,
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: "sift_rate_limited_total",
    help: "Requests refused with 429 because the caller's rate limit was spent",
    registers: [this.registry],
  });
  private readonly ingestDocuments = new Counter({
    name: "sift_ingest_documents_total",
    help: "Documents seen by ingestion jobs over HTTP (created, updated, unchanged and failed alike)",
    registers: [this.registry],
  });
  private readonly ingestChunks = new Counter({
    name: "sift_ingest_chunks_total",
    help: "Chunks written by ingestion jobs over HTTP",
    registers: [this.registry],
  });
  /** The generator's fallbacks (the searcher counts its own legs and stages). */
  private generatorDegraded = 0;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.pullMetrics();
  }

  /** Where the scrape-time metrics come from; set once the engine exists. */
  bind(sources: MetricSources): this {
    this.sources = sources;
    return this;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const labels = { route, method, status: String(status) };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, seconds);
    if (status === 429) this.rateLimited.inc();
  }

  /**
   * The searcher's own timings of one search. `fusion` is derived: from the slowest leg's end to the
   * fused list (hybrid only), i.e. the time before hydration not spent in a leg.
   */
  observeSearch(timings: SearchResponse["timings"], mode: SearchResponse["mode"]): void {
    const { totalMs, hydrateMs, bm25Ms, denseMs, rerankMs } = timings;
    this.stages.observe({ stage: "total" }, totalMs / 1000);
    this.stages.observe({ stage: "hydrate" }, hydrateMs / 1000);
    if (bm25Ms !== undefined) this.stages.observe({ stage: "bm25" }, bm25Ms / 1000);
    if (denseMs !== undefined) this.stages.observe({ stage: "dense" }, denseMs / 1000);
    if (rerankMs !== undefined) this.stages.observe({ stage: "rerank" }, rerankMs / 1000);
    if (mode === "hybrid") {
      const beforeHydration = totalMs - hydrateMs - (rerankMs ?? 0);
      const slowestLeg = Math.max(bm25Ms ?? 0, denseMs ?? 0);
      this.stages.observe({ stage: "fusion" }, Math.max(0, beforeHydration - slowestLeg) / 1000);
    }
  }

  observeQueryEmbedding(seconds: number): void {
    this.stages.observe({ stage: "query_embedding" }, seconds);
  }

  /** An answer's generation timings; `degraded` with `generator` counts one generator fallback. */
  observeGeneration(timings: AnswerTimings, degraded: readonly string[]): void {
    if (timings.firstTokenMs !== null) this.firstToken.observe(timings.firstTokenMs / 1000);
    if (timings.msPerOutputToken !== null) this.perToken.observe(timings.msPerOutputToken / 1000);
    if (degraded.includes("generator")) this.generatorDegraded++;
  }

  observeIngest(counts: { documentsSeen: number; chunks: number }): void {
    this.ingestDocuments.inc(counts.documentsSeen);
    this.ingestChunks.inc(counts.chunks);
  }

  /** Metrics read at scrape time from the engine and the store. */
  private pullMetrics(): void {
    const self = this;
    const seen = { degraded: new Map<string, number>(), hits: 0, misses: 0 };
    /** Raises a counter to a running total kept elsewhere (counters only go up). */
    const catchUp = (
      counter: Counter<string>,
      total: number,
      last: number,
      labels?: Record<string, string>,
    ) => {
      if (total > last) labels === undefined ? counter.inc(total - last) : counter.inc(labels, total - last);
      return Math.max(total, last);
    };
    new Counter({
      name: "sift_degraded_legs_total",
      help: "Searches (and answers) that lost a leg or a stage to a failure or a timeout, by leg",
      labelNames: ["leg"] as const,
      registers: [this.registry],
      collect() {
        const degraded: Record<string, number> = {
          ...(self.sources?.engine.searcher.metrics.degraded ?? {}),
          generator: self.generatorDegraded,
        };
        for (const [leg, total] of Object.entries(degraded)) {
          seen.degraded.set(leg, catchUp(this, total, seen.degraded.get(leg) ?? 0, { leg }));
        }
      },
    });
    // Passages hit the persistent cache, queries the in-memory LRU in front of the model: both count.
    const cacheStats = () => {
      const passages = cacheStatsOf(self.sources?.engine.embedder);
      const queries = cacheStatsOf(self.sources?.engine.queryEmbedder);
      return { hits: passages.hits + queries.hits, misses: passages.misses + queries.misses };
    };
    new Counter({
      name: "sift_embedding_cache_hits_total",
      help: "Texts (queries and passages) whose vector came from the embedding cache",
      registers: [this.registry],
      collect() {
        seen.hits = catchUp(this, cacheStats().hits, seen.hits);
      },
    });
    new Counter({
      name: "sift_embedding_cache_misses_total",
      help: "Texts sent to the embedding model",
      registers: [this.registry],
      collect() {
        seen.misses = catchUp(this, cacheStats().misses, seen.misses);
      },
    });
    new Gauge({
      name: "sift_index_chunks",
      help: "Live chunks in each collection's index (bm25) and vectors (dense), by tenant/collection",
      labelNames: ["collection", "index"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        if (self.sources === undefined) return;
        const { engine, store } = self.sources;
        for (const collection of await store.listCollections()) {
          const stats = await engine.stats(collection.id);
          const name = `${collection.tenant}/${collection.name}`;
          if (stats.bm25 !== null) this.set({ collection: name, index: "bm25" }, stats.bm25.liveChunks);
          const vectors = (stats.dense as { vectors?: number }).vectors;
          if (vectors !== undefined) this.set({ collection: name, index: "dense" }, vectors);
        }
      },
    });
  }
}

function cacheStatsOf(embedder: Embedder | undefined): { hits: number; misses: number } {
  const stats = (embedder as { stats?: { hits: number; misses: number } } | undefined)?.stats;
  return stats ?? { hits: 0, misses: 0 };
}

/**
 * Times the model's query embeddings (passages are not search-path work). Wraps the model itself, under
 * the engine's embedding cache, so a cached query costs nothing here and records nothing.
 */
export function timedEmbedder(embedder: Embedder, metrics: ServiceMetrics): Embedder {
  return {
    profile: embedder.profile,
    async embed(options) {
      if (options.kind !== "query") return embedder.embed(options);
      const started = performance.now();
      const result = await embedder.embed(options);
      metrics.observeQueryEmbedding((performance.now() - started) / 1000);
      return result;
    },
  };
}
