export { type DenseStatus, Engine, type EngineIngestOptions, type EngineOptions } from "./engine";
export {
  createGenerator,
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
