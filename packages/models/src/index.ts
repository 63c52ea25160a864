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
  createHttpReranker,
  type HttpRerankerOptions,
  type RerankApi,
} from "./http-reranker";
export {
  type EmbeddingModelEntry,
  loadModelProfiles,
  type ModelProfiles,
  type OnnxDtype,
  type RerankerModelEntry,
} from "./model-profiles";
export { type OnnxCudaSupport, type OnnxDevice, probeOnnxCuda } from "./onnx-device";
export {
  createOpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedderOptions,
} from "./openai-compatible-embedder";
export {
  defaultQueryCacheCapacity,
  type QueryCachedEmbedder,
  type QueryEmbeddingCacheStats,
  withQueryEmbeddingCache,
} from "./query-embedding-cache";
export { type CachedReranker, type RerankCacheStats, withRerankCache } from "./rerank-cache";
export {
  assembleCommand,
  createTransformersEmbedder,
  ModelNotFoundError,
  onnxCacheKey,
  type TransformersEmbedder,
  type TransformersEmbedderOptions,
} from "./transformers-embedder";
export {
  createTransformersReranker,
  encodePairs,
  logitsToScores,
  type TransformersReranker,
  type TransformersRerankerOptions,
} from "./transformers-reranker";
