export { type DenseStatus, Engine, type EngineIngestOptions, type EngineOptions } from "./engine";
export {
  createEmbedder,
  defaultManifestPath,
  defaultModelStore,
  type EmbeddingSettings,
  embeddingEnvSchema,
  embeddingSettingsFromEnv,
} from "./models";
