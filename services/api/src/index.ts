export { createApp } from "./app";
export { parseConfig, type ServiceConfig } from "./config";
export type { AppDependencies } from "./context";
export { type RunningService, startService } from "./service";
