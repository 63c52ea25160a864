export { CatalogFeed, type CatalogFeedOptions, type CatchUp } from "./catalog-feed";
export { type DenseSide, documentChanges, type SnapshotChange } from "./collection-refresher";
export {
  type DeviceRequest,
  deviceEnvSchema,
  llamaGpuFor,
  logPlacement,
  type ModelStage,
  onnxDeviceFor,
  placementMessage,
  type StagePlacement,
} from "./device";
export { type DenseStatus, Engine, type EngineIngestOptions, type EngineOptions } from "./engine";
export {
  createGenerator,
  type GeneratorOutputMode,
  type GeneratorSettings,
  generatorEnvSchema,
  generatorSettingsFromEnv,
} from "./generation";
export {
  createEmbedder,
  createRerankStage,
  defaultManifestPath,
  defaultModelStore,
  type EmbeddingSettings,
  embeddingEnvSchema,
  embeddingSettingsFromEnv,
  type RerankSettings,
  rerankEnvSchema,
  rerankSettingsFromEnv,
} from "./models";
export {
  type OpenSiftOptions,
  openSift,
  type Sift,
  type SiftAnswerOptions,
  type SiftDocument,
  type SiftDocumentInput,
  type SiftSearchOptions,
} from "./open-sift";
