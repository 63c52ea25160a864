/**
 * The generator contract: a prompt in, a stream of text deltas out, then exactly one `done` event.
 *
 * Adapters: an OpenAI-compatible chat-completions client (vLLM, TGI, llama.cpp server, Ollama, hosted
 * APIs), a local GGUF model through node-llama-cpp, and an extractive fallback that needs no model.
 */

import type { ClaimsJsonSchema, GeneratorOutput } from "./claims";
import type { PromptStyle } from "./prompt";

export type GeneratorKind = "openai" | "local" | "extractive";

/**
 * What suits this generator's model, read by `answer` when the request does not say: small local models
 * need a compact prompt with few, short sources; large served models take the full prompt.
 */
export interface GeneratorPromptHints {
  /** Default: `compact` for `kind: "local"`, `full` otherwise. */
  style?: PromptStyle;
  /** At most this many sources (the request's `maxPassages` wins when given). */
  maxPassages?: number;
  /** Upper bound on the source tokens: `answer` uses the smaller of this and the request's `contextTokens`. */
  contextTokens?: number;
  /** Sampling temperature when the request gives none. */
  temperature?: number;
}

/**
 * Why generation ended: `stop` (the model finished or hit a stop sequence), `length` (`maxTokens` reached)
 * or `cancelled` (the request's signal was aborted; the text so far was still delivered).
 */
export type FinishReason = "stop" | "length" | "cancelled";

/** One numbered source, in the form the extractive generator reads it (model generators ignore it). */
export interface GroundingSource {
  /** The number the prompt gives the source, 1-based; citations name it as `[n]`. */
  n: number;
  text: string;
}

export interface GenerateRequest {
  system: string;
  /** The user turn (for a model without a chat template: appended to `system` as plain text). */
  prompt: string;
  /** Upper bound on generated tokens; the generator stops with `finishReason: "length"` there. */
  maxTokens: number;
  /** Sampling temperature; adapters default to 0 (greedy) for grounded answers. */
  temperature?: number;
  /** Generation stops before any of these strings; they are not part of the output. */
  stop?: string[];
  /** Aborting it stops generation: the stream ends with `done` and `finishReason: "cancelled"`. */
  signal?: AbortSignal;
  /**
   * The question and sources behind `prompt`, in structured form. Generators that read text (every model)
   * ignore it; the extractive generator needs it and refuses a request without it.
   */
  grounding?: { question: string; sources: GroundingSource[] };
  /**
   * The same request for structured output (see `claimsJsonSchema`): the prompt that asks for JSON claims and
   * the schema that constrains them. A generator whose `output` is `claims` generates from it and streams the
   * claims rendered as text with `[n]` citations (`ClaimTextRenderer`); others ignore it, as does a claims
   * generator that must fall back to free text (it then generates from `system` and `prompt`).
   */
  claims?: { system: string; prompt: string; schema: ClaimsJsonSchema };
}

export interface GeneratorUsage {
  promptTokens: number;
  completionTokens: number;
  /** Present (true) when the counts are estimates because the backend reported none. */
  estimated?: true;
}

export interface GeneratorTimings {
  /** From the call to `generate` to the first non-empty delta; null when no text was produced. */
  firstTokenMs: number | null;
  /** From the call to `generate` to the `done` event. */
  totalMs: number;
}

export type GeneratorEvent =
  | { type: "delta"; text: string }
  | {
      type: "done";
      finishReason: FinishReason;
      usage: GeneratorUsage;
      timings: GeneratorTimings;
      /** What the model was made to write: `claims` when it generated from `request.claims`; default `text`. */
      output?: GeneratorOutput;
      /** Why structured output fell back to text, and similar notes for the answer's `warnings`. */
      warnings?: string[];
    };

/**
 * Generates text. `generate` returns a fresh stream per call; iterating it starts the work. Deltas are
 * non-empty and concatenate to the whole output. Failures (unreachable server, error body, timeout) are
 * thrown from the iterator as `SiftError`s; cancellation is not a failure. Breaking out of the iteration
 * early releases the backend's work (the HTTP request is aborted, local decoding stops).
 */
export interface Generator {
  /** Stable identifier of the backend and model, e.g. `openai:qwen2.5-7b@http://vllm:8000`. */
  readonly id: string;
  readonly kind: GeneratorKind;
  /** Prompt and packing defaults for this model (see `GeneratorPromptHints`). */
  readonly promptHints?: GeneratorPromptHints;
  /** `claims`: generates from `request.claims` when given (structured, cited by construction); default `text`. */
  readonly output?: GeneratorOutput;
  generate(request: GenerateRequest): AsyncIterable<GeneratorEvent>;
}

/** Measures the timings every adapter reports. */
export class GenerationClock {
  private readonly started = performance.now();
  private first: number | null = null;

  /** Call for every non-empty delta. */
  token(): void {
    if (this.first === null) this.first = performance.now() - this.started;
  }

  timings(): GeneratorTimings {
    return { firstTokenMs: this.first, totalMs: performance.now() - this.started };
  }
}

/**
 * A push-to-pull bridge: callbacks push values, one consumer pulls them with `for await`. `close` ends
 * the iteration once everything pushed has been taken; `fail` makes the next pull throw.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private waitingReject: ((error: unknown) => void) | null = null;
  private closed = false;
  private error: { value: unknown } | null = null;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingReject = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  close(): void {
    this.closed = true;
    if (this.waiting && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingReject = null;
      resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.error = { value: error };
    this.closed = true;
    if (this.waitingReject) {
      const reject = this.waitingReject;
      this.waiting = null;
      this.waitingReject = null;
      reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.error) return Promise.reject(this.error.value);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.waitingReject = reject;
        });
      },
    };
  }
}
