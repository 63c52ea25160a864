import { existsSync } from "node:fs";
import { SiftError, UnavailableError, UpstreamError } from "@sift/core";
import {
  type GbnfJsonSchema,
  getLlama,
  type Llama,
  LlamaChatSession,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
} from "node-llama-cpp";
import { type ClaimsJsonSchema, ClaimTextRenderer, type GeneratorOutput, structuredOutcome } from "./claims";
import {
  AsyncQueue,
  type FinishReason,
  type GenerateRequest,
  GenerationClock,
  type Generator,
  type GeneratorEvent,
  type GeneratorPromptHints,
} from "./generator";

export interface LlamaCppGeneratorOptions {
  /** Path of the GGUF file (see infra/models: the model store holds it). */
  modelPath: string;
  /**
   * CPU threads for decoding; default 2. Set it: node-llama-cpp's own default oversubscribes small shared
   * machines, where generation then runs about a hundred times slower.
   */
  threads?: number;
  /** Context window in tokens (prompt plus output); default 4096, capped by the model's training size. */
  contextSize?: number;
  /**
   * `chat`: render system and prompt through the model's chat template (LlamaChatSession). `completion`:
   * plain text `system + "\n\n" + prompt`, continued by the model (for base models). `auto` (default):
   * `chat` when the GGUF carries `tokenizer.chat_template`, else `completion`.
   */
  mode?: "auto" | "chat" | "completion";
  /**
   * Default false: CPU only. `cuda` or `auto`: node-llama-cpp's prebuilt CUDA build
   * (`@node-llama-cpp/linux-x64-cuda`) with all layers that fit offloaded; when it does not load (no driver,
   * no GPU, the package absent) the CPU build is used and `LocalModelInfo.gpuFallback` says why. Never builds
   * llama.cpp from source.
   */
  gpu?: false | "auto" | "cuda";
  /**
   * `claims`: when the request carries `claims` (the answer pipeline adds it), decode JSON claims under a
   * grammar that node-llama-cpp builds from their schema, so every claim cites a given source by construction;
   * the claims stream rendered as cited text. Default `text`: free text.
   */
  output?: GeneratorOutput;
  /**
   * Prompt and packing defaults `answer` applies to this generator; default `localPromptHints` (compact
   * prompt, 3 sources, 640 source tokens, temperature 0), sized for ≈ 100M–1B-parameter models. Pass `{}` or
   * `{ style: "full" }` for a larger local model.
   */
  promptHints?: GeneratorPromptHints;
}

/** The prompt defaults of a local generator: what a 135M–270M model still follows (docs/answers.md). */
export const localPromptHints: Readonly<GeneratorPromptHints> = Object.freeze({
  style: "compact",
  maxPassages: 3,
  contextTokens: 640,
  temperature: 0,
});

/** What `load` found out about the model. */
export interface LocalModelInfo {
  mode: "chat" | "completion";
  architecture: string | undefined;
  hasChatTemplate: boolean;
  contextSize: number;
  threads: number;
  loadMs: number;
  /** Where the model runs: `cuda`, or false for the CPU. */
  gpu: "cuda" | false;
  /** The GPU names llama.cpp sees (empty on the CPU). */
  gpuDevices: string[];
  /** Set when a GPU was asked for and the CPU is used instead: why. */
  gpuFallback?: string;
}

/** The llama.cpp runtime for a `gpu` option: the CUDA build when asked for and loadable, else the CPU one. */
async function loadLlamaRuntime(
  gpu: false | "auto" | "cuda",
): Promise<{ llama: Llama; gpuDevices: string[]; gpuFallback?: string }> {
  if (gpu === false) return { llama: await getLlama({ gpu: false }), gpuDevices: [] };
  let reason: string;
  try {
    const llama = await getLlama({ gpu: "cuda", build: "never" });
    const gpuDevices = await llama.getGpuDeviceNames();
    if (gpuDevices.length > 0) return { llama, gpuDevices };
    await llama.dispose();
    reason = "the CUDA build loaded but sees no GPU";
  } catch (error) {
    reason = `node-llama-cpp's CUDA build did not load (${(error as Error).message})`;
  }
  return { llama: await getLlama({ gpu: false }), gpuDevices: [], gpuFallback: reason };
}

export interface LlamaCppGenerator extends Generator {
  /** Loads the model and creates the context (the first `generate` does it too); idempotent. */
  load(): Promise<LocalModelInfo>;
  /** Frees the context and the model; a later `generate` loads them again. */
  dispose(): Promise<void>;
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  info: LocalModelInfo;
}

/** One request at a time: the context has one sequence. Waiting can be cancelled. */
class Turns {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function, or with undefined when `signal` aborted while waiting. */
  async acquire(signal: AbortSignal | undefined): Promise<(() => void) | undefined> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => mine);
    if (signal === undefined) {
      await previous;
      return release;
    }
    const aborted = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    if ((await Promise.race([previous.then(() => "turn" as const), aborted])) === "aborted") {
      // Keep the chain intact: our turn passes straight on when it comes.
      previous.then(release);
      return undefined;
    }
    return release;
  }
}

interface DecodeOptions {
  maxTokens: number;
  temperature: number;
  signal: AbortSignal;
  stopOnAbortSignal: true;
  onTextChunk: (text: string) => void;
  onToken: (tokens: readonly unknown[]) => void;
  customStopTriggers?: string[];
  grammar?: LlamaGrammar;
}

/** One decoding run on `sequence`, through the chat template or as plain completion; returns the stop reason. */
async function decode(
  mode: "chat" | "completion",
  sequence: LlamaContextSequence,
  turn: { system: string; prompt: string },
  options: DecodeOptions,
): Promise<string | undefined> {
  if (mode === "chat") {
    const session = new LlamaChatSession({
      contextSequence: sequence,
      systemPrompt: turn.system,
      autoDisposeSequence: false,
    });
    try {
      return (await session.promptWithMeta(turn.prompt, options)).stopReason;
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  try {
    const text = `${turn.system}\n\n${turn.prompt}`;
    return (await completion.generateCompletionWithMeta(text, options)).metadata.stopReason;
  } finally {
    completion.dispose({ disposeSequence: false });
  }
}

function asGenerationError(error: unknown, modelPath: string): unknown {
  if (SiftError.is(error)) return error;
  return new UpstreamError(`local generation failed: ${(error as Error).message}`, `local:${modelPath}`, {
    cause: error,
  });
}

/** Grammars built from claims schemas, one per schema (they differ only by the number of sources). */
class GrammarCache {
  private readonly built = new Map<string, Promise<LlamaGrammar>>();

  get(llama: Llama, schema: ClaimsJsonSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.built.get(key);
    if (grammar === undefined) {
      grammar = llama.createGrammarForJsonSchema<GbnfJsonSchema>(schema as GbnfJsonSchema);
      this.built.set(key, grammar);
      grammar.catch(() => this.built.delete(key));
    }
    return grammar;
  }
}

/** Loads the GGUF file and creates its context; a missing file or a failed load is an `UnavailableError`. */
async function loadLlamaModel(options: LlamaCppGeneratorOptions, threads: number): Promise<Loaded> {
  const started = performance.now();
  if (!existsSync(options.modelPath)) {
    throw new UnavailableError(`local generation model not found at ${options.modelPath}`);
  }
  try {
    const runtime = await loadLlamaRuntime(options.gpu ?? false);
    const llama = runtime.llama;
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const hasChatTemplate = typeof model.fileInfo.metadata.tokenizer?.chat_template === "string";
    const requested = options.mode ?? "auto";
    const mode = requested === "auto" ? (hasChatTemplate ? "chat" : "completion") : requested;
    const contextSize = Math.min(options.contextSize ?? 4096, model.trainContextSize);
    const context = await model.createContext({ contextSize, threads, sequences: 1 });
    return {
      llama,
      model,
      context,
      info: {
        mode,
        architecture: model.fileInfo.metadata.general?.architecture,
        hasChatTemplate,
        contextSize: context.contextSize,
        threads,
        loadMs: performance.now() - started,
        gpu: llama.gpu === "cuda" ? "cuda" : false,
        gpuDevices: runtime.gpuDevices,
        ...(runtime.gpuFallback === undefined ? {} : { gpuFallback: runtime.gpuFallback }),
      },
    };
  } catch (error) {
    throw new UnavailableError(`local generation model ${options.modelPath} failed to load`, {
      cause: error,
    });
  }
}

/**
 * The refusal of a prompt whose tokens plus `maxTokens` exceed the context, or undefined when it fits:
 * node-llama-cpp would silently drop the start of a prompt that does not fit (the sources!).
 */
function oversizedPrompt(
  loaded: Loaded,
  turn: { system: string; prompt: string },
  maxTokens: number,
  modelPath: string,
): UpstreamError | undefined {
  const promptLength = loaded.model.tokenize(`${turn.system}\n\n${turn.prompt}`).length;
  if (promptLength + maxTokens <= loaded.info.contextSize) return undefined;
  return new UpstreamError(
    `prompt of ${promptLength} tokens plus maxTokens ${maxTokens} exceeds the local model's ` +
      `context of ${loaded.info.contextSize} tokens`,
    `local:${modelPath}`,
  );
}

/** What one decoding run has counted; `stopReason` is node-llama-cpp's, set when it ends. */
interface DecodeTally {
  promptTokens: number;
  completionTokens: number;
  stopReason?: string | undefined;
}

/**
 * Starts decoding `turn` on `sequence`: text pieces (rendered from claims by `renderer` when structured) go
 * to `queue`, which is closed at the end or failed with the generation error. Resolves when decoding ends.
 */
function startDecoding(
  loaded: Loaded,
  sequence: LlamaContextSequence,
  turn: { system: string; prompt: string },
  run: {
    request: GenerateRequest;
    signal: AbortSignal;
    grammar: LlamaGrammar | undefined;
    renderer: ClaimTextRenderer | undefined;
    queue: AsyncQueue<string>;
    tally: DecodeTally;
    modelPath: string;
  },
): Promise<void> {
  const { request, renderer, queue, tally } = run;
  const decodeOptions: DecodeOptions = {
    maxTokens: request.maxTokens,
    temperature: request.temperature ?? 0,
    signal: run.signal,
    stopOnAbortSignal: true,
    onTextChunk: (text: string) => queue.push(renderer === undefined ? text : renderer.push(text)),
    onToken: (tokens: readonly unknown[]) => {
      tally.completionTokens += tokens.length;
    },
    ...(request.stop !== undefined && request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
    ...(run.grammar === undefined ? {} : { grammar: run.grammar }),
  };
  const before = sequence.tokenMeter.getState();
  return decode(loaded.info.mode, sequence, turn, decodeOptions).then(
    (reason) => {
      tally.stopReason = reason;
      tally.promptTokens = sequence.tokenMeter.diff(before).usedInputTokens;
      if (renderer !== undefined) queue.push(renderer.end());
      queue.close();
    },
    (error: unknown) => queue.fail(asGenerationError(error, run.modelPath)),
  );
}

/** Cancelled when decoding stopped on the abort signal (or the caller aborted), length at `maxTokens`, else stop. */
function finishReasonOf(stopReason: string | undefined, signal: AbortSignal | undefined): FinishReason {
  if (stopReason === "abort" || signal?.aborted) return "cancelled";
  return stopReason === "maxTokens" ? "length" : "stop";
}

/** What a generation needs of its generator: the options, the model (loaded once), the turn queue, the grammars. */
interface LocalGeneration {
  options: LlamaCppGeneratorOptions;
  load: () => Promise<Loaded>;
  turns: Turns;
  grammars: GrammarCache;
}

/** One answer: waits for its turn, refuses a prompt that does not fit, decodes and streams the text. */
async function* generateLocally(
  { options, load, turns, grammars }: LocalGeneration,
  request: GenerateRequest,
): AsyncGenerator<GeneratorEvent, void, undefined> {
  const clock = new GenerationClock();
  const tally: DecodeTally = { promptTokens: 0, completionTokens: 0 };
  const done = (finishReason: FinishReason): Extract<GeneratorEvent, { type: "done" }> => ({
    type: "done",
    finishReason,
    usage: { promptTokens: tally.promptTokens, completionTokens: tally.completionTokens },
    timings: clock.timings(),
  });
  if (request.signal?.aborted) {
    yield done("cancelled");
    return;
  }
  const loaded = await load();
  const release = await turns.acquire(request.signal);
  if (release === undefined) {
    yield done("cancelled");
    return;
  }

  const structured = options.output === "claims" ? request.claims : undefined;
  const turn = structured ?? request;
  const refusal = oversizedPrompt(loaded, turn, request.maxTokens, options.modelPath);
  if (refusal !== undefined) {
    release();
    throw refusal;
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal?.reason);
  request.signal?.addEventListener("abort", onAbort, { once: true });
  const queue = new AsyncQueue<string>();
  const renderer = structured === undefined ? undefined : new ClaimTextRenderer();
  let running: Promise<void> = Promise.resolve();
  const sequence = loaded.context.getSequence();
  try {
    const grammar =
      structured === undefined ? undefined : await grammars.get(loaded.llama, structured.schema);
    running = startDecoding(loaded, sequence, turn, {
      request,
      signal: controller.signal,
      grammar,
      renderer,
      queue,
      tally,
      modelPath: options.modelPath,
    });
    for await (const text of queue) {
      if (text === "") continue;
      clock.token();
      yield { type: "delta", text };
    }
    yield { ...done(finishReasonOf(tally.stopReason, request.signal)), ...structuredOutcome(renderer) };
  } finally {
    request.signal?.removeEventListener("abort", onAbort);
    controller.abort();
    await running;
    await sequence.dispose();
    release();
  }
}

/**
 * Generates with a GGUF model in process through node-llama-cpp, on the CPU by default. The model is
 * loaded on first use (or by `load()`); requests run one at a time, each on a fresh context sequence, so
 * no state leaks between answers. Temperature 0 (the default) decodes greedily.
 *
 * Cancellation stops decoding at the next token (the stream ends `cancelled`); breaking out of the
 * iteration does the same. A missing model file or a failed load is an `UnavailableError`. A prompt whose
 * tokens plus `maxTokens` exceed the context is refused with an `UpstreamError` before decoding (left to
 * itself node-llama-cpp would drop the start of the prompt); a failure while decoding is an `UpstreamError`
 * with node-llama-cpp's error as `cause`. Size `contextSize` for the prompt plus `maxTokens`.
 */
export function createLlamaCppGenerator(options: LlamaCppGeneratorOptions): LlamaCppGenerator {
  const threads = options.threads ?? 2;
  const turns = new Turns();
  const grammars = new GrammarCache();
  let loading: Promise<Loaded> | undefined;

  function load(): Promise<Loaded> {
    if (loading === undefined) {
      loading = loadLlamaModel(options, threads);
      loading.catch(() => {
        loading = undefined;
      });
    }
    return loading;
  }

  return {
    id: `local:${options.modelPath}`,
    kind: "local",
    output: options.output ?? "text",
    promptHints: options.promptHints ?? localPromptHints,
    generate: (request) => generateLocally({ options, load, turns, grammars }, request),
    async load() {
      return (await load()).info;
    },
    async dispose() {
      const current = loading;
      loading = undefined;
      if (current === undefined) return;
      const loaded = await current.catch(() => undefined);
      if (loaded === undefined) return;
      await loaded.context.dispose();
      await loaded.model.dispose();
    },
  };
}
