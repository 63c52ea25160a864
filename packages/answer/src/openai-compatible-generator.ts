import { DeadlineExceededError, UnavailableError, UpstreamError } from "@sift/core";
import { estimateTokens } from "@sift/text";
import { ClaimTextRenderer, type GeneratorOutput, structuredOutcome } from "./claims";
import {
  type FinishReason,
  type GenerateRequest,
  GenerationClock,
  type Generator,
  type GeneratorEvent,
  type GeneratorUsage,
} from "./generator";
import { parseServerSentEvents } from "./server-sent-events";

export interface OpenAICompatibleGeneratorOptions {
  /** Server root without `/v1`, e.g. `http://vllm:8000`; requests go to `{baseUrl}/v1/chat/completions`. */
  baseUrl: string;
  /** The `model` field of the request (the server's name for the model). */
  model: string;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
  fetch?: typeof globalThis.fetch;
  /** How long to wait for the response headers (queueing and prompt processing included); default 60,000 ms. */
  timeoutMs?: number;
  /** The longest silence allowed between two pieces of the stream once it started; default 30,000 ms. */
  idleTimeoutMs?: number;
  /**
   * `claims`: when the request carries `claims`, ask for JSON claims constrained by their schema (see
   * `structuredApi`) and stream them rendered as cited text. A server that refuses the schema (415, 501, or a
   * 400/422 naming the parameter) is asked again in free text, and this generator stays in free text from then on (with a warning in
   * each answer's `done`). Default `text`.
   */
  output?: GeneratorOutput;
  /**
   * How the schema is sent: `response_format` (default; OpenAI, vLLM, llama.cpp server, Ollama):
   * `{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`; `guided_json` (vLLM's
   * own extra parameter, for older vLLM versions): the schema itself.
   */
  structuredApi?: "response_format" | "guided_json";
}

/**
 * A server that does not take the structured-output parameter: 415 or 501, or a 400/422 whose message names
 * it (vLLM, llama.cpp server and OpenAI say `response_format`, `json_schema` or `guided_json`). Any other 400
 * (a prompt too long) is the request's own error and is thrown as such.
 */
function refusesStructuredOutput(status: number, body: unknown): boolean {
  if (status === 415 || status === 501) return true;
  if (status !== 400 && status !== 422) return false;
  const message = vendorError(body)?.message ?? (typeof body === "string" ? body : JSON.stringify(body));
  return /response_format|json_schema|guided_json|guided decoding|structured output|grammar/i.test(
    message ?? "",
  );
}

/** The generation server is overloaded, rate-limiting, failing (429, 5xx) or unreachable. Retryable. */
export class GeneratorUnavailableError extends UnavailableError {
  readonly upstream: string;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** What the server's `retry-after` header asked for, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { upstream: string; status?: number; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.upstream = options.upstream;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** `retry-after` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

interface VendorError {
  message: string;
  type?: string;
  code?: string | number;
}

/**
 * The vendor's error, from the shapes these servers send: OpenAI, vLLM, llama.cpp server and Ollama's
 * OpenAI layer `{"error": {"message", "type", "code"}}` (vLLM and llama.cpp put the HTTP status in `code`);
 * older vLLM `{"object": "error", "message", "type", "code"}`; TGI and Ollama's native API `{"error": "…"}`.
 */
export function vendorError(body: unknown): VendorError | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const pick = (source: Record<string, unknown>): VendorError | undefined => {
    if (typeof source.message !== "string") return undefined;
    const found: VendorError = { message: source.message };
    if (typeof source.type === "string") found.type = source.type;
    if (typeof source.code === "string" || typeof source.code === "number") found.code = source.code;
    return found;
  };
  if (typeof record.error === "string") {
    const found: VendorError = { message: record.error };
    if (typeof record.error_type === "string") found.type = record.error_type;
    return found;
  }
  if (typeof record.error === "object" && record.error !== null) {
    return pick(record.error as Record<string, unknown>);
  }
  if (record.object === "error") return pick(record);
  return undefined;
}

function describe(status: number | undefined, body: unknown, inStream = false): string {
  const vendor = vendorError(body);
  const head = inStream ? "generation server sent an error" : `generation server answered ${status}`;
  if (!vendor) {
    const raw = typeof body === "string" ? body : JSON.stringify(body);
    return `${head}: ${(raw ?? "").slice(0, 300)}`;
  }
  const labels = [vendor.type, vendor.code].filter((label) => label !== undefined && label !== status);
  return `${head}${labels.length > 0 ? ` (${labels.join(", ")})` : ""}: ${vendor.message}`;
}

/** 429 and 5xx are the server's trouble (retry later); other statuses are our request's. */
function errorFor(
  status: number,
  body: unknown,
  retryAfter: string | null,
  upstream: string,
): GeneratorUnavailableError | UpstreamError {
  const message = describe(status, body);
  if (status === 429 || status >= 500) {
    return new GeneratorUnavailableError(message, {
      upstream,
      status,
      retryAfterMs: parseRetryAfter(retryAfter),
      cause: body,
    });
  }
  return new UpstreamError(message, upstream, { cause: body, retryable: false });
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The chat-completions request body; `schema` adds the structured-output parameter. */
function requestBody(
  model: string,
  request: GenerateRequest,
  turn: { system: string; prompt: string },
  structured:
    | { schema: Readonly<Record<string, unknown>>; api: "response_format" | "guided_json" }
    | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: [
      { role: "system", content: turn.system },
      { role: "user", content: turn.prompt },
    ],
    max_tokens: request.maxTokens,
    temperature: request.temperature ?? 0,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (structured?.api === "guided_json") body.guided_json = structured.schema;
  else if (structured !== undefined) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "sift_answer_claims", schema: structured.schema, strict: true },
    };
  }
  return body;
}

/** The fields of a `chat.completion.chunk` that we read; everything else is ignored. */
interface Chunk {
  choices?: Array<{ delta?: { content?: unknown } | null; finish_reason?: unknown }> | null;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: unknown;
}

/** Where and how requests go; fixed for the generator's life. */
interface ChatEndpoint {
  fetch: typeof globalThis.fetch;
  url: string;
  upstream: string;
  headers: Record<string, string>;
  model: string;
  output: GeneratorOutput | undefined;
  structuredApi: "response_format" | "guided_json";
  timeoutMs: number;
  idleTimeoutMs: number;
}

/** What one generation has read so far. */
interface ChatTally {
  /** The raw text the model sent (JSON claims when structured). */
  output: string;
  finishReason?: FinishReason;
  /** The server's own count, when it sent one. */
  usage?: GeneratorUsage;
  /** `data: [DONE]` arrived. */
  finished: boolean;
}

/**
 * One request's abort controller, aborted by the caller's signal or by one timer that each phase re-arms
 * (the wait for headers, then the silence between stream pieces); remembers which timer fired.
 */
class RequestWatch {
  readonly controller = new AbortController();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut: string | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    this.#onAbort = () => this.controller.abort(signal?.reason);
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Aborts the request after `ms` unless re-armed or disarmed first; `what` says what the server did not do. */
  arm(ms: number, what: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = what;
      this.controller.abort();
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
  }

  /** A timeout as `DeadlineExceededError`; anything else as the server being unavailable. */
  failure(error: unknown, what: string, upstream: string): unknown {
    if (this.#timedOut !== undefined) {
      return new DeadlineExceededError(`generation server ${this.#timedOut}`, { cause: error });
    }
    return new GeneratorUnavailableError(`generation server ${what}`, { upstream, cause: error });
  }

  /** Stops the timer, lets go of the caller's signal and releases the connection (a no-op after a full stream). */
  close(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.controller.abort();
  }
}

type Posted = "cancelled" | { refused: string } | { stream: ReadableStream<Uint8Array> };

/** Posts one request; a non-OK answer is thrown, or returned when it refuses structured output. */
async function postChat(
  endpoint: ChatEndpoint,
  body: Record<string, unknown>,
  structured: boolean,
  request: GenerateRequest,
  watch: RequestWatch,
): Promise<Posted> {
  let response: Response;
  try {
    response = await endpoint.fetch(endpoint.url, {
      method: "POST",
      headers: endpoint.headers,
      body: JSON.stringify(body),
      signal: watch.controller.signal,
    });
  } catch (error) {
    if (request.signal?.aborted) return "cancelled";
    throw watch.failure(error, "unreachable", endpoint.upstream);
  }
  if (response.ok && response.body !== null) return { stream: response.body };
  let answer: unknown;
  try {
    answer = await readBody(response);
  } catch (error) {
    if (request.signal?.aborted) return "cancelled";
    throw watch.failure(error, `answered ${response.status} and then broke off`, endpoint.upstream);
  }
  if (structured && refusesStructuredOutput(response.status, answer)) {
    return { refused: describe(response.status, answer) };
  }
  throw errorFor(response.status, answer, response.headers.get("retry-after"), endpoint.upstream);
}

/**
 * Opens the stream: with the claims schema when asked for and not refused before, else in free text. A
 * refusal is remembered in `state` and the request asked again in free text, with a warning.
 */
async function openChat(
  endpoint: ChatEndpoint,
  state: { structuredRefused: boolean },
  request: GenerateRequest,
  watch: RequestWatch,
): Promise<"cancelled" | { stream: ReadableStream<Uint8Array>; structured: boolean; warnings: string[] }> {
  const warnings: string[] = [];
  let structured = endpoint.output === "claims" && !state.structuredRefused ? request.claims : undefined;
  let posted = await postChat(
    endpoint,
    requestBody(
      endpoint.model,
      request,
      structured ?? request,
      structured && { schema: structured.schema, api: endpoint.structuredApi },
    ),
    structured !== undefined,
    request,
    watch,
  );
  if (posted !== "cancelled" && "refused" in posted) {
    state.structuredRefused = true;
    structured = undefined;
    warnings.push(`the server refused structured output (${posted.refused}): answered in free text`);
    posted = await postChat(
      endpoint,
      requestBody(endpoint.model, request, request, undefined),
      false,
      request,
      watch,
    );
  }
  if (
    state.structuredRefused &&
    structured === undefined &&
    endpoint.output === "claims" &&
    warnings.length === 0
  ) {
    warnings.push("the server refused structured output earlier: answered in free text");
  }
  if (posted === "cancelled") return "cancelled";
  if ("refused" in posted) throw new UpstreamError(posted.refused, endpoint.upstream, { retryable: false });
  return { stream: posted.stream, structured: structured !== undefined, warnings };
}

/** One `data:` payload as a chunk; a malformed one, or one carrying an error, is thrown. */
function parseChunk(data: string, upstream: string): Chunk {
  let chunk: Chunk;
  try {
    chunk = JSON.parse(data) as Chunk;
  } catch (error) {
    throw new UpstreamError(`generation server sent a malformed chunk: ${data.slice(0, 200)}`, upstream, {
      cause: error,
    });
  }
  if (chunk.error !== undefined && chunk.error !== null) {
    const vendor = vendorError(chunk);
    const status = typeof vendor?.code === "number" ? vendor.code : undefined;
    if (status !== undefined && (status === 429 || status >= 500)) {
      throw new GeneratorUnavailableError(describe(status, chunk, true), { upstream, status, cause: chunk });
    }
    throw new UpstreamError(describe(status, chunk, true), upstream, { cause: chunk });
  }
  return chunk;
}

/**
 * Reads the stream into `tally` and yields its text as deltas (rendered from claims by `renderer` when
 * structured), until `data: [DONE]` or the stream's end; each piece re-arms the idle timer.
 */
async function* readChat(
  stream: ReadableStream<Uint8Array>,
  endpoint: ChatEndpoint,
  watch: RequestWatch,
  tally: ChatTally,
  renderer: ClaimTextRenderer | undefined,
  clock: GenerationClock,
): AsyncGenerator<GeneratorEvent, void, undefined> {
  const idle = `sent nothing for ${endpoint.idleTimeoutMs} ms`;
  const bytes = async function* () {
    watch.arm(endpoint.idleTimeoutMs, idle);
    for await (const chunk of stream) {
      watch.arm(endpoint.idleTimeoutMs, idle);
      yield chunk;
    }
  };
  for await (const event of parseServerSentEvents(bytes())) {
    if (event.data === "[DONE]") {
      tally.finished = true;
      return;
    }
    const chunk = parseChunk(event.data, endpoint.upstream);
    for (const choice of chunk.choices ?? []) {
      const content = choice.delta?.content;
      if (typeof content === "string" && content !== "") {
        tally.output += content;
        const text = renderer === undefined ? content : renderer.push(content);
        if (text !== "") {
          clock.token();
          yield { type: "delta", text };
        }
      }
      if (typeof choice.finish_reason === "string") {
        tally.finishReason = choice.finish_reason === "length" ? "length" : "stop";
      }
    }
    const reported = chunk.usage;
    if (
      reported &&
      typeof reported.prompt_tokens === "number" &&
      typeof reported.completion_tokens === "number"
    ) {
      tally.usage = { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens };
    }
  }
}

/** The `done` event: the server's usage when it sent one (never for a cancelled answer), else an estimate. */
function doneEvent(
  reason: FinishReason,
  request: GenerateRequest,
  tally: ChatTally,
  clock: GenerationClock,
): Extract<GeneratorEvent, { type: "done" }> {
  const estimated = (): GeneratorUsage => ({
    promptTokens: estimateTokens(request.system) + estimateTokens(request.prompt),
    completionTokens: estimateTokens(tally.output),
    estimated: true,
  });
  return {
    type: "done",
    finishReason: reason,
    usage: reason === "cancelled" ? estimated() : (tally.usage ?? estimated()),
    timings: clock.timings(),
  };
}

/**
 * A generator that streams from an OpenAI-compatible chat-completions endpoint: OpenAI and hosted APIs,
 * vLLM, TGI, llama.cpp server, Ollama. It asks for `stream: true` with `stream_options.include_usage`,
 * reads the SSE `data:` chunks (the first may carry only the role; usage arrives on a last chunk with empty
 * `choices`, or on the finishing chunk for llama.cpp server), and ends at `data: [DONE]`.
 *
 * Errors: a 429 or 5xx answer, an unreachable server, or a 429/5xx error inside the stream are a
 * `GeneratorUnavailableError` (retryable, with `retryAfterMs` from `retry-after`); other error answers are a
 * non-retryable `UpstreamError` with the vendor body as `cause`; no response headers within `timeoutMs`, or
 * a silent stream for `idleTimeoutMs`, is a `DeadlineExceededError`. There are no retries here: a caller
 * that wants them wraps the generator.
 */
export function createOpenAICompatibleGenerator(options: OpenAICompatibleGeneratorOptions): Generator {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/v1/chat/completions`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  const endpoint: ChatEndpoint = {
    fetch: options.fetch ?? globalThis.fetch,
    url,
    upstream: `chat completions ${url}`,
    headers,
    model: options.model,
    output: options.output,
    structuredApi: options.structuredApi ?? "response_format",
    timeoutMs: options.timeoutMs ?? 60_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
  };
  // Set once the server refuses structured output: later requests go straight to free text.
  const state = { structuredRefused: false };

  async function* generate(request: GenerateRequest): AsyncGenerator<GeneratorEvent, void, undefined> {
    const clock = new GenerationClock();
    const tally: ChatTally = { output: "", finished: false };
    if (request.signal?.aborted) {
      yield doneEvent("cancelled", request, tally, clock);
      return;
    }
    const watch = new RequestWatch(request.signal);
    try {
      watch.arm(endpoint.timeoutMs, `did not answer within ${endpoint.timeoutMs} ms`);
      const opened = await openChat(endpoint, state, request, watch);
      if (opened === "cancelled") {
        yield doneEvent("cancelled", request, tally, clock);
        return;
      }
      const renderer = opened.structured ? new ClaimTextRenderer() : undefined;
      try {
        yield* readChat(opened.stream, endpoint, watch, tally, renderer, clock);
      } catch (error) {
        if (request.signal?.aborted) {
          yield doneEvent("cancelled", request, tally, clock);
          return;
        }
        if (error instanceof UpstreamError || error instanceof UnavailableError) throw error;
        throw watch.failure(error, "broke off the stream", endpoint.upstream);
      }
      if (!tally.finished && tally.finishReason === undefined) {
        throw new GeneratorUnavailableError("generation server closed the stream before it finished", {
          upstream: endpoint.upstream,
        });
      }
      watch.disarm();
      const rest = renderer?.end() ?? "";
      if (rest !== "") {
        clock.token();
        yield { type: "delta", text: rest };
      }
      const outcome = structuredOutcome(renderer);
      const notes = [...opened.warnings, ...(outcome.warnings ?? [])];
      yield {
        ...doneEvent(tally.finishReason ?? "stop", request, tally, clock),
        output: outcome.output,
        ...(notes.length > 0 ? { warnings: notes } : {}),
      };
    } finally {
      watch.close();
    }
  }

  return {
    id: `openai:${options.model}@${url}`,
    kind: "openai",
    output: options.output ?? "text",
    generate,
  };
}
