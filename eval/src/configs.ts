import type { SearchSettings } from "./http-client";

/** A Sift configuration the harness measures: a name and the search request settings it stands for. */
export interface EvalConfig {
  name: string;
  description: string;
  settings: SearchSettings;
  /** Needs a cross-encoder reranker on the service. */
  rerank: boolean;
}

/** The four configurations every report carries (the names, exactly). */
export const requiredConfigNames = ["bm25", "dense", "hybrid", "hybrid+rerank"] as const;

/**
 * Every configuration the harness knows. `hybrid` sends no fusion settings, so it measures the service's
 * default fusion (z-score, weights 1/1, 100 candidates a leg); the variants change one thing each
 * (`hybrid:rrf` is RRF k 60, the default before ADR 0016, kept as the reference point).
 */
export const configCatalog: readonly EvalConfig[] = [
  { name: "bm25", description: "BM25 leg only", settings: { mode: "bm25" }, rerank: false },
  { name: "dense", description: "dense leg only (HNSW)", settings: { mode: "dense" }, rerank: false },
  {
    name: "hybrid",
    description: "both legs, the service's default fusion",
    settings: { mode: "hybrid" },
    rerank: false,
  },
  {
    name: "hybrid+rerank",
    description: "default hybrid, then the cross-encoder reranker",
    settings: { mode: "hybrid", rerank: true },
    rerank: true,
  },
  {
    name: "hybrid:rrf",
    description: "RRF with k 60 (the published default)",
    settings: { mode: "hybrid", fusion: { method: "rrf" } },
    rerank: false,
  },
  {
    name: "hybrid:rrf-k10",
    description: "RRF with k 10",
    settings: { mode: "hybrid", fusion: { method: "rrf", rrfK: 10 } },
    rerank: false,
  },
  {
    name: "hybrid:rrf-k100",
    description: "RRF with k 100",
    settings: { mode: "hybrid", fusion: { method: "rrf", rrfK: 100 } },
    rerank: false,
  },
  {
    name: "hybrid:rrf-bm25x2",
    description: "RRF, BM25 weighted 2, dense 1",
    settings: { mode: "hybrid", fusion: { method: "rrf", weights: { bm25: 2, dense: 1 } } },
    rerank: false,
  },
  {
    name: "hybrid:rrf-densex2",
    description: "RRF, BM25 weighted 1, dense 2",
    settings: { mode: "hybrid", fusion: { method: "rrf", weights: { bm25: 1, dense: 2 } } },
    rerank: false,
  },
  {
    name: "hybrid:minmax",
    description: "min-max normalised scores, summed",
    settings: { mode: "hybrid", fusion: { method: "minmax" } },
    rerank: false,
  },
  {
    name: "hybrid:zscore",
    description: "z-score normalised scores, summed",
    settings: { mode: "hybrid", fusion: { method: "zscore" } },
    rerank: false,
  },
  {
    name: "hybrid:dbsf",
    description: "distribution-based score fusion (mean ± 3σ)",
    settings: { mode: "hybrid", fusion: { method: "dbsf" } },
    rerank: false,
  },
];

/**
 * Resolves `--configs`: `all` (every configuration above), `required` (the four), or a comma-separated
 * list of names. Unknown names are an error that lists the known ones.
 */
export function selectConfigs(spec: string): EvalConfig[] {
  if (spec === "all") return [...configCatalog];
  const names =
    spec === "required"
      ? [...requiredConfigNames]
      : spec
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  const unknown = names.filter((n) => !configCatalog.some((c) => c.name === n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `unknown configuration(s) ${unknown.join(", ") || "(none given)"}; known: all, required, ${configCatalog.map((c) => c.name).join(", ")}`,
    );
  }
  return configCatalog.filter((c) => names.includes(c.name));
}
