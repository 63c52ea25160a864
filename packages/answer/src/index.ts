export * from "./generator";
export * from "./openai-compatible-generator";
export { parseServerSentEvents, type ServerSentEvent } from "./server-sent-events";
export * from "./llama-cpp-generator";
