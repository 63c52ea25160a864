import { SiftError } from "@sift/core";
import {
  type Citation,
  type CitationCheck,
  CitationStreamFilter,
  type CitedSentence,
  checkCitations,
  type MalformedCitation,
  type RemovedCitation,
} from "./citations";
import { claimCharsFor, claimsJsonSchema, type GeneratorOutput } from "./claims";
import { decideEvidence, type EvidenceDecision, type EvidencePolicy } from "./evidence";
import type {
  FinishReason,
  GenerateRequest,
  Generator,
  GeneratorEvent,
  GeneratorKind,
  GeneratorUsage,
} from "./generator";
import {
  type InferCitationsOptions,
  type InferredSentenceCitation,
  inferCitations,
} from "./inferred-citations";
import {
  type DedupeOptions,
  type DroppedPassage,
  dedupePassages,
  type PackedPassage,
  type Passage,
  packPassages,
  rankPassages,
} from "./passages";
import { buildAnswerPrompt, type PromptStyle } from "./prompt";

/** The text of the answer when the evidence is too weak to answer. */
export const notEnoughEvidenceText =
  "There is not enough evidence in the indexed documents to answer this question.";

export interface AnswerRequest {
  question: string;
  /** Retrieved (and maybe reranked) passages, any order; higher `score` is better. */
  passages: readonly Passage[];
  generator: Generator;
  /**
   * Used when `generator` fails before producing any text (unreachable, overloaded, model missing): the
   * answer then comes from the fallback (typically the extractive generator) and `degraded` gains
   * "generator". Without it such a failure is thrown.
   */
  fallback?: Generator;
  /** Token budget for the sources in the prompt (estimated; see `packPassages`). */
  contextTokens: number;
  /** Most tokens the generator may produce. */
  maxTokens: number;
  evidence: EvidencePolicy;
  signal?: AbortSignal;
  temperature?: number;
  /** Times spent before the pipeline, reported back in `done` (ms). */
  timings?: { retrievalMs?: number; rerankMs?: number };
  /** Legs that were already degraded upstream (e.g. "rerank"), passed through to `done`. */
  degraded?: readonly string[];
  /**
   * At most this many sources in the prompt; default the generator's `promptHints.maxPassages`, else 8.
   * (`contextTokens` is likewise capped by `promptHints.contextTokens`, and `temperature` defaults to
   * `promptHints.temperature`.)
   */
  maxPassages?: number;
  /** Default the generator's `promptHints.style`, else `compact` for local generators and `full` otherwise. */
  promptStyle?: PromptStyle;
  /**
   * Post-hoc citations for sentences the model left uncited (`inferCitations`), reported apart as
   * `inferredCitations`; default on. `false` turns it off; an object tunes it.
   */
  inferCitations?: boolean | InferCitationsOptions;
  dedupe?: DedupeOptions;
  /** Fixes the prompt's tag nonce (tests). */
  nonce?: string;
}

/** A passage as the answer used it: numbered, possibly trimmed; offsets address the document text. */
export type UsedPassage = PackedPassage;

export interface AnswerTimings {
  retrievalMs: number | null;
  rerankMs: number | null;
  /** Dedupe, packing and prompt building. */
  packMs: number;
  /** From the start of `answer` to the first streamed text; null when there was none. */
  firstTokenMs: number | null;
  /** The generator's own time, from its call to its end; null when no generator ran. */
  generationMs: number | null;
  /** Decoding time per output token after the first ((total − first token) / (tokens − 1)); null below 2 tokens. */
  msPerOutputToken: number | null;
  /** The pipeline, start to end. */
  answerMs: number;
  /** retrievalMs + rerankMs + answerMs: the request end to end, as far as it was measured. */
  totalMs: number;
}

export type AnswerOutcome = "answered" | "no-evidence";

export type AnswerEvent =
  | {
      /** First: what the answer rests on. Empty `passages` on the no-evidence path. */
      type: "retrieval";
      passages: UsedPassage[];
      dropped: DroppedPassage[];
      evidence: EvidenceDecision;
    }
  | {
      /** The answer's text as it is written, already without citations to nothing. */
      type: "delta";
      text: string;
    }
  | ({
      /**
       * After the text: the checked answer (see `checkCitations`), plus citations inferred for uncited
       * sentences (see `inferCitations`; empty when off or on the no-evidence path).
       */
      type: "citations";
      inferredCitations: Citation[];
      inferredSentences: InferredSentenceCitation[];
    } & CitationCheck)
  | {
      type: "done";
      outcome: AnswerOutcome;
      /** The generator that wrote the text; null on the no-evidence path. */
      generator: { id: string; kind: GeneratorKind } | null;
      /** What the generator wrote: `claims` (structured JSON, rendered as cited text) or `text`. */
      output: GeneratorOutput;
      finishReason: FinishReason;
      usage: GeneratorUsage;
      timings: AnswerTimings;
      /** Upstream degradations plus "generator" when the fallback had to answer. */
      degraded: string[];
      evidence: EvidenceDecision;
      /** Human-readable notes: why the fallback ran, how many document lines were quoted, … */
      warnings: string[];
    };

/** The whole answer, collected from the events (for a JSON response). */
export interface AnswerResult {
  text: string;
  passages: UsedPassage[];
  dropped: DroppedPassage[];
  /** The citations the model wrote (checked). */
  citations: Citation[];
  /** Citations attached afterwards to uncited sentences by lexical overlap, each `inferred: true`. */
  inferredCitations: Citation[];
  inferredSentences: InferredSentenceCitation[];
  sentences: CitedSentence[];
  /** Sentences without a citation written by the model (inferred ones do not reduce it). */
  uncitedSentences: number;
  removedCitations: RemovedCitation[];
  malformedCitations: MalformedCitation[];
  outcome: AnswerOutcome;
  generator: { id: string; kind: GeneratorKind } | null;
  output: GeneratorOutput;
  finishReason: FinishReason;
  usage: GeneratorUsage;
  timings: AnswerTimings;
  degraded: string[];
  evidence: EvidenceDecision;
  warnings: string[];
}

/**
 * Answers a question from retrieved passages, as a stream of events: `retrieval`, then `delta`s, then
 * `citations`, then `done` (exactly one of each, except the deltas).
 *
 * Steps: judge the evidence by the best passage score (`evidence`); when it is too weak, or no passage is
 * given, or none fits the budget, the generator is not called and the answer is `notEnoughEvidenceText`
 * (outcome `no-evidence`). Otherwise: rank by score, drop duplicates and near-duplicates, pack the best into
 * `contextTokens` (trimming only at sentence ends), build the prompt with numbered, neutralised sources,
 * stream the generator's text (citations to sources that were not given are filtered out as it streams),
 * then check the citations and report them.
 *
 * Cancellation: aborting `signal` ends generation; the stream still closes with `citations` (of the partial
 * text) and `done` with `finishReason: "cancelled"`. Breaking out of the iteration stops the generator too.
 * Errors: a generator failure before any text goes to `fallback` when one is given; a failure after text was
 * streamed is thrown (the partial answer cannot be checked as a whole).
 */
export async function* answer(request: AnswerRequest): AsyncGenerator<AnswerEvent, void, undefined> {
  const started = performance.now();
  const degraded = [...(request.degraded ?? [])];
  const warnings: string[] = [];
  const settings = answerSettings(request);
  const { evidence, packed, dropped } = packEvidence(request, settings);
  const packMs = performance.now() - started;
  const timings = (firstTokenMs: number | null, generation: GeneratorEvent | undefined) =>
    answerTimings(request, started, packMs, firstTokenMs, generation);

  if (!evidence.sufficient) {
    const finalTimings = () => timings(performance.now() - started, undefined);
    yield* noEvidenceAnswer(evidence, dropped, finalTimings, { degraded, warnings });
    return;
  }

  const prompt = buildAnswerPrompt(request.question, packed, {
    style: settings.promptStyle,
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
  });
  warnings.push(...promptWarnings(evidence, prompt));
  yield { type: "retrieval", passages: packed, dropped, evidence };

  const state: GenerationState = {
    generator: request.generator,
    raw: "",
    firstTokenMs: null,
    finished: undefined,
  };
  const filter = new CitationStreamFilter(packed.length);
  yield* generateWithFallback(request, generateRequestFor(request, prompt, packed, settings), filter, state, {
    started,
    degraded,
    warnings,
  });
  const rest = filter.flush();
  if (rest !== "") {
    state.firstTokenMs ??= performance.now() - started;
    yield { type: "delta", text: rest };
  }
  yield citationsEvent(request, state.raw, packed);
  const done = state.finished?.type === "done" ? state.finished : undefined;
  yield {
    type: "done",
    outcome: "answered",
    generator: { id: state.generator.id, kind: state.generator.kind },
    output: done?.output ?? "text",
    finishReason: done?.finishReason ?? (request.signal?.aborted ? "cancelled" : "stop"),
    usage: done?.usage ?? { promptTokens: 0, completionTokens: 0, estimated: true },
    timings: timings(state.firstTokenMs, done),
    degraded,
    evidence,
    warnings,
  };
}

/** The request's settings with the generator's prompt hints filled in. */
interface AnswerSettings {
  promptStyle: PromptStyle;
  contextTokens: number;
  maxPassages: number;
  temperature: number | undefined;
}

function answerSettings(request: AnswerRequest): AnswerSettings {
  const hints = request.generator.promptHints ?? {};
  return {
    promptStyle:
      request.promptStyle ?? hints.style ?? (request.generator.kind === "local" ? "compact" : "full"),
    contextTokens: Math.min(request.contextTokens, hints.contextTokens ?? Number.POSITIVE_INFINITY),
    maxPassages: request.maxPassages ?? hints.maxPassages ?? 8,
    temperature: request.temperature ?? hints.temperature,
  };
}

/**
 * The evidence decision and, when it is sufficient, the passages packed into the budget (ranked, deduped)
 * and those dropped; nothing fitting the budget makes the evidence insufficient.
 */
function packEvidence(
  request: AnswerRequest,
  settings: AnswerSettings,
): { evidence: EvidenceDecision; packed: PackedPassage[]; dropped: DroppedPassage[] } {
  const evidence = decideEvidence(request.passages, request.evidence);
  if (!evidence.sufficient) return { evidence, packed: [], dropped: [] };
  const deduped = dedupePassages(rankPassages(request.passages), request.dedupe);
  const packing = packPassages(deduped.kept, {
    budgetTokens: settings.contextTokens,
    maxPassages: settings.maxPassages,
  });
  const dropped = [...deduped.dropped, ...packing.dropped];
  if (packing.packed.length === 0) {
    return {
      evidence: { ...evidence, sufficient: false, reason: "nothing-fits-budget" },
      packed: [],
      dropped,
    };
  }
  return { evidence, packed: packing.packed, dropped };
}

/** The answer's timings; `generation` is the generator's `done` event when it sent one. */
function answerTimings(
  request: AnswerRequest,
  started: number,
  packMs: number,
  firstTokenMs: number | null,
  generation: GeneratorEvent | undefined,
): AnswerTimings {
  const retrievalMs = request.timings?.retrievalMs ?? null;
  const rerankMs = request.timings?.rerankMs ?? null;
  const answerMs = performance.now() - started;
  let msPerOutputToken: number | null = null;
  if (
    generation?.type === "done" &&
    generation.timings.firstTokenMs !== null &&
    generation.usage.completionTokens > 1
  ) {
    msPerOutputToken =
      (generation.timings.totalMs - generation.timings.firstTokenMs) /
      (generation.usage.completionTokens - 1);
  }
  return {
    retrievalMs,
    rerankMs,
    packMs,
    firstTokenMs,
    generationMs: generation?.type === "done" ? generation.timings.totalMs : null,
    msPerOutputToken,
    answerMs,
    totalMs: (retrievalMs ?? 0) + (rerankMs ?? 0) + answerMs,
  };
}

/** The whole stream of an answer refused for lack of evidence: the fixed text, no citations, no generator. */
async function* noEvidenceAnswer(
  evidence: EvidenceDecision,
  dropped: DroppedPassage[],
  timings: () => AnswerTimings,
  notes: { degraded: string[]; warnings: string[] },
): AsyncGenerator<AnswerEvent, void, undefined> {
  yield { type: "retrieval", passages: [], dropped, evidence };
  yield { type: "delta", text: notEnoughEvidenceText };
  yield {
    type: "citations",
    ...checkCitations(notEnoughEvidenceText, []),
    inferredCitations: [],
    inferredSentences: [],
  };
  yield {
    type: "done",
    outcome: "no-evidence",
    generator: null,
    output: "text",
    finishReason: "stop",
    usage: { promptTokens: 0, completionTokens: 0 },
    timings: timings(),
    degraded: notes.degraded,
    evidence,
    warnings: notes.warnings,
  };
}

/** What the answer says about its own evidence check and about document text the prompt neutralised. */
function promptWarnings(
  evidence: EvidenceDecision,
  prompt: { quotedLines: number; defangedMarkers: number },
): string[] {
  const warnings: string[] = [];
  if (evidence.reason === "threshold-not-applicable") {
    warnings.push(
      `the evidence threshold is calibrated for ${evidence.thresholdScoreKind} scores but the passages are ` +
        `scored ${evidence.scoreKind}: answered without an evidence check`,
    );
  }
  if (prompt.quotedLines > 0 || prompt.defangedMarkers > 0) {
    warnings.push(
      `neutralised document text: ${prompt.quotedLines} instruction-like line(s) quoted, ` +
        `${prompt.defangedMarkers} tag or control-token spelling(s) defanged`,
    );
  }
  return warnings;
}

/** The generator's request: the prompt, the claims variant when the generator writes claims, the limits. */
function generateRequestFor(
  request: AnswerRequest,
  prompt: ReturnType<typeof buildAnswerPrompt>,
  packed: PackedPassage[],
  settings: AnswerSettings,
): GenerateRequest {
  const temperature = settings.temperature;
  return {
    system: prompt.system,
    prompt: prompt.prompt,
    ...(request.generator.output === "claims"
      ? { claims: claimsRequest(request, packed, prompt.nonce, settings.promptStyle) }
      : {}),
    maxTokens: request.maxTokens,
    stop: prompt.stop,
    grounding: { question: request.question, sources: packed.map(({ n, text }) => ({ n, text })) },
    ...(request.signal === undefined ? {} : { signal: request.signal }),
    ...(temperature === undefined ? {} : { temperature }),
  };
}

/** What the generation phase has produced: the generator that answered, its raw text, its `done` event. */
interface GenerationState {
  generator: Generator;
  raw: string;
  firstTokenMs: number | null;
  finished: GeneratorEvent | undefined;
}

/**
 * Streams the generator's text through the citation filter as deltas. A failure before any text, when a
 * fallback is given and the caller has not aborted, is retried once on the fallback (marked degraded, with
 * a warning); any other failure is thrown.
 */
async function* generateWithFallback(
  request: AnswerRequest,
  generateRequest: GenerateRequest,
  filter: CitationStreamFilter,
  state: GenerationState,
  notes: { started: number; degraded: string[]; warnings: string[] },
): AsyncGenerator<AnswerEvent, void, undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const event of state.generator.generate(generateRequest)) {
        if (event.type === "done") {
          state.finished = event;
          notes.warnings.push(...(event.warnings ?? []));
          break;
        }
        state.raw += event.text;
        const text = filter.push(event.text);
        if (text !== "") {
          state.firstTokenMs ??= performance.now() - notes.started;
          yield { type: "delta", text };
        }
      }
      return;
    } catch (error) {
      const fallback = request.fallback;
      if (state.raw !== "" || fallback === undefined || attempt > 0 || request.signal?.aborted) throw error;
      notes.degraded.push("generator");
      notes.warnings.push(
        `generator ${state.generator.id} failed before answering (${SiftError.is(error) ? error.code : "error"}: ` +
          `${(error as Error).message}); ${fallback.id} answered instead`,
      );
      state.generator = fallback;
    }
  }
}

/** The citations event: the markers checked against the packed passages, and citations inferred unless off. */
function citationsEvent(request: AnswerRequest, raw: string, packed: PackedPassage[]): AnswerEvent {
  const check = checkCitations(raw, packed);
  const inferOption = request.inferCitations ?? true;
  const inferred =
    inferOption === false
      ? { citations: [], sentences: [] }
      : inferCitations(check.sentences, packed, request.question, inferOption === true ? {} : inferOption);
  return {
    type: "citations",
    ...check,
    inferredCitations: inferred.citations,
    inferredSentences: inferred.sentences,
  };
}

/** The structured variant of the prompt: the same sources and nonce, JSON claims over them. */
function claimsRequest(
  request: AnswerRequest,
  packed: readonly PackedPassage[],
  nonce: string,
  style: PromptStyle,
) {
  const prompt = buildAnswerPrompt(request.question, packed, { style, nonce, format: "claims" });
  const schema = claimsJsonSchema(packed.length, { maxClaimChars: claimCharsFor(request.maxTokens) });
  return { system: prompt.system, prompt: prompt.prompt, schema };
}

/** Runs `answer` to the end and gathers its events into one result. */
export async function collectAnswer(events: AsyncIterable<AnswerEvent>): Promise<AnswerResult> {
  let text = "";
  let retrieval: Extract<AnswerEvent, { type: "retrieval" }> | undefined;
  let citations: Extract<AnswerEvent, { type: "citations" }> | undefined;
  let done: Extract<AnswerEvent, { type: "done" }> | undefined;
  for await (const event of events) {
    if (event.type === "delta") text += event.text;
    else if (event.type === "retrieval") retrieval = event;
    else if (event.type === "citations") citations = event;
    else done = event;
  }
  if (!retrieval || !citations || !done) throw new Error("the answer stream ended early");
  return {
    text,
    passages: retrieval.passages,
    dropped: retrieval.dropped,
    citations: citations.citations,
    inferredCitations: citations.inferredCitations,
    inferredSentences: citations.inferredSentences,
    sentences: citations.sentences,
    uncitedSentences: citations.uncitedSentences,
    removedCitations: citations.removed,
    malformedCitations: citations.malformed,
    outcome: done.outcome,
    generator: done.generator,
    output: done.output,
    finishReason: done.finishReason,
    usage: done.usage,
    timings: done.timings,
    degraded: done.degraded,
    evidence: done.evidence,
    warnings: done.warnings,
  };
}
