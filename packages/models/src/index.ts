export {
  type CachedEmbedder,
  type EmbeddingCacheStats,
  type EmbeddingCacheStore,
  type EmbeddingCostEstimate,
  embedderCacheKey,
  embeddingTextHash,
  estimateEmbeddingCost,
  withEmbeddingCache,
} from "./embedding-cache";
export {
  type EmbeddingModelEntry,
  loadModelProfiles,
  type ModelProfiles,
  type OnnxDtype,
} from "./model-profiles";
export {
  createOpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedderOptions,
} from "./openai-compatible-embedder";
export {
  assembleCommand,
  createTransformersEmbedder,
  ModelNotFoundError,
  onnxCacheKey,
  type TransformersEmbedder,
  type TransformersEmbedderOptions,
} from "./transformers-embedder";
