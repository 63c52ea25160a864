export type { CollectionSummary, SiftBackend } from "./backend";
export { httpBackend } from "./http-backend";
export { createSiftMcpServer } from "./tools";
export { createMcpHttpHandler, runStdioServer } from "./transports";
