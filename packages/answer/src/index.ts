/**
 * @sift/answer: grounded answers with verifiable citations. See docs/answers.md for the design.
 *
 * - `answer(request)` streams `retrieval` → `delta`* → `citations` → `done` events (`collectAnswer` gathers
 *   them into one result); it judges the evidence, dedupes and packs passages, prompts with neutralised
 *   numbered sources, streams the generator's text and checks the citations.
 * - Generators (`Generator`): `createOpenAICompatibleGenerator` (vLLM, TGI, llama.cpp server, Ollama, hosted
 *   APIs), `createLlamaCppGenerator` (local GGUF on the CPU), `createExtractiveGenerator` (no model).
 * - `calibrateEvidenceThreshold` learns the evidence threshold from labelled scores.
 */
export * from "./answer";
export * from "./citations";
export * from "./claims";
export * from "./evidence";
export * from "./extractive-generator";
export * from "./generator";
export * from "./inferred-citations";
export {
  type JsonPath,
  type JsonStreamEvent,
  JsonStreamReader,
  JsonStreamSyntaxError,
} from "./json-stream-reader";
export * from "./llama-cpp-generator";
export * from "./openai-compatible-generator";
export * from "./passages";
export * from "./prompt";
export { type Span as SentenceSpan, splitSentences } from "./sentences";
export { parseServerSentEvents, type ServerSentEvent } from "./server-sent-events";
