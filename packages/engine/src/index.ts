export { type DenseStatus, Engine, type EngineIngestOptions, type EngineOptions } from "./engine";
export { createEmbedder, type EmbeddingSettings } from "./models";
