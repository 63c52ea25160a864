export { toQdrantCondition, toQdrantFilter } from "./qdrant-filter";
export {
  bm25SparseConfig,
  createQdrantVectorIndex,
  QDRANT_BM25_VECTOR,
  type QdrantCollectionSetup,
  type QdrantFilterField,
  type QdrantVectorIndex,
  type QdrantVectorIndexOptions,
  type SparseVector,
  sparseUpsertBody,
} from "./qdrant-vector-index";
export {
  openUsearchIndex,
  PAYLOAD_FILE,
  USEARCH_INDEX_FILE,
  type UsearchIndexOptions,
  type UsearchSearchStats,
  UsearchVectorIndex,
} from "./usearch-vector-index";
export { InvalidVectorIndexError } from "./vector-file";
export { dot, type VectorMetric } from "./vector-math";
