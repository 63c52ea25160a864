/**
 * Scores (query, passage) pairs for relevance: a cross-encoder in-process, or a rerank server over HTTP.
 *
 * Contract:
 * - `score(query, passages)` resolves to exactly one finite number per passage, in the order of `passages`.
 * - Higher is more relevant. Scores are comparable within one call; across calls only for the same `id`
 *   (the same model and scoring). They are raw model outputs (logits for a cross-encoder), not
 *   probabilities, unless the adapter says otherwise.
 * - An empty `passages` resolves to `[]` without touching the model.
 * - An aborted `signal` rejects with the signal's reason (work already on the CPU may finish first).
 */
export interface Reranker {
  /** Identity of the scores, e.g. `onnx:Xenova/ms-marco-MiniLM-L-6-v2:fp32:512`; caches key on it. */
  readonly id: string;
  score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]>;
  /** Releases the model or connection; a later `score` may load it again. */
  close?(): Promise<void>;
}

/** How a cross-encoder reranker is used: from its model profile (configuration), never hard-coded. */
export interface RerankerModelProfile {
  /** Model id as resolved against the model store, e.g. `Xenova/ms-marco-MiniLM-L-6-v2`. */
  id: string;
  /** Query and passage together are truncated (passage first) to this many tokens. */
  maxTokens: number;
}
