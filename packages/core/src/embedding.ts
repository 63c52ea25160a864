/**
 * How a sentence-embedding model is used: taken from its model profile (configuration), never hard-coded.
 * `queryPrefix`/`passagePrefix` are prepended before tokenisation (bge: a query instruction; e5:
 * "query: " / "passage: ").
 */
export interface EmbeddingModelProfile {
  /** Model id as resolved against the model store, e.g. `Xenova/bge-small-en-v1.5`. */
  id: string;
  dimensions: number;
  pooling: "cls" | "mean";
  /** L2-normalise the output (then dot product equals cosine similarity). */
  normalize: boolean;
  queryPrefix: string;
  passagePrefix: string;
  /** Longer inputs are truncated by the tokenizer. */
  maxTokens: number;
}

export type EmbeddingKind = "query" | "passage";

export interface EmbedOptions {
  texts: readonly string[];
  /** Selects the profile's prefix. */
  kind: EmbeddingKind;
  signal?: AbortSignal | undefined;
}

export interface EmbedResult {
  /** One vector per input text, in input order, each of `dimensions` floats. */
  embeddings: Float32Array[];
  warnings: string[];
}

/** Turns texts into vectors. Adapters: in-process ONNX, OpenAI-compatible HTTP. */
export interface Embedder {
  readonly profile: EmbeddingModelProfile;
  embed(options: EmbedOptions): Promise<EmbedResult>;
}
