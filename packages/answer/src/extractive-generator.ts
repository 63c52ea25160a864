import { ValidationError } from "@sift/core";
import { type Analyzer, createAnalyzer, estimateTokens } from "@sift/text";
import {
  type FinishReason,
  type GenerateRequest,
  GenerationClock,
  type Generator,
  type GeneratorEvent,
} from "./generator";
import { splitSentences } from "./sentences";

export interface ExtractiveGeneratorOptions {
  /** The analyzer that matches question terms to sentence terms; default @sift/text's English analyzer. */
  analyzer?: Analyzer;
  /** Sentences in the answer; default 3. */
  maxSentences?: number;
  /** Sentences taken from any one source; default 2. */
  maxPerSource?: number;
  /** Sentences shorter than this many words are skipped (headings, fragments); default 4. */
  minWords?: number;
}

/** The first line of every extractive answer: it says no model wrote it. */
export const extractiveLabel =
  "Extractive answer (sentences quoted from the sources; no language model was used):";

export interface ScoredSentence {
  source: number;
  text: string;
  /** Share of the question's term weight (IDF over the candidate sentences) that the sentence contains, 0..1. */
  score: number;
}

/**
 * Ranks the sentences of the sources by support for the question: the sum of the IDF weights (over all
 * candidate sentences) of the distinct question terms a sentence contains, divided by the total weight of
 * the question's terms. Ties keep source order, then sentence order. Sentences without a shared term are
 * left out.
 */
export function rankSupportingSentences(
  question: string,
  sources: ReadonlyArray<{ n: number; text: string }>,
  analyzer: Analyzer,
  minWords = 4,
): ScoredSentence[] {
  const questionTerms = new Set(analyzer.analyze(question));
  const candidates = sources.flatMap((source) =>
    splitSentences(source.text)
      .map(({ start, end }) => source.text.slice(start, end))
      .filter((text) => (text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0) >= minWords)
      .map((text) => ({ source: source.n, text, terms: new Set(analyzer.analyze(text)) })),
  );
  const documentFrequency = new Map<string, number>();
  for (const candidate of candidates) {
    for (const term of candidate.terms) {
      if (questionTerms.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
  }
  const weight = (term: string) =>
    Math.log(1 + (candidates.length + 1) / ((documentFrequency.get(term) ?? 0) + 0.5));
  const total = [...questionTerms].reduce((sum, term) => sum + weight(term), 0);
  if (total === 0) return [];
  return candidates
    .map((candidate, order) => {
      let matched = 0;
      for (const term of questionTerms) if (candidate.terms.has(term)) matched += weight(term);
      return { source: candidate.source, text: candidate.text, score: matched / total, order };
    })
    .filter((candidate) => candidate.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ source, text, score }) => ({ source, text, score }));
}

/** Quoted text keeps its own bracketed reference numbers from reading as our citations: `[12]` → `(12)`. */
const ownReference = /\[(\s*\d+(?:\s*[-–,;]\s*\d+)*\s*)\]/g;

/**
 * A generator without a model: it answers with the sentences of the sources that best support the
 * question (see `rankSupportingSentences`), each quoted and followed by its source's citation `[n]`, under
 * a first line that says the answer is extractive. It needs `request.grounding` (the answer pipeline sets
 * it) and ignores `prompt`. `maxTokens` is honoured in estimated tokens, whole lines at a time.
 */
export function createExtractiveGenerator(options: ExtractiveGeneratorOptions = {}): Generator {
  const analyzer = options.analyzer ?? createAnalyzer();
  const maxSentences = options.maxSentences ?? 3;
  const maxPerSource = options.maxPerSource ?? 2;
  const minWords = options.minWords ?? 4;

  async function* generate(request: GenerateRequest): AsyncGenerator<GeneratorEvent, void, undefined> {
    const clock = new GenerationClock();
    if (request.grounding === undefined) {
      throw new ValidationError(
        "the extractive generator needs the request's grounding (question and sources)",
      );
    }
    const { question, sources } = request.grounding;
    const chosen: ScoredSentence[] = [];
    const perSource = new Map<number, number>();
    for (const sentence of rankSupportingSentences(question, sources, analyzer, minWords)) {
      if (chosen.length >= maxSentences) break;
      const taken = perSource.get(sentence.source) ?? 0;
      if (taken >= maxPerSource) continue;
      perSource.set(sentence.source, taken + 1);
      chosen.push(sentence);
    }
    const quote = (text: string, source: number) => `\n- "${text}" [${source}]`;
    const lines: Array<{ text: string; quoted?: { text: string; source: number } }> =
      chosen.length === 0
        ? [
            { text: extractiveLabel },
            { text: "\nNone of the sources' sentences shares a term with the question." },
          ]
        : [
            { text: extractiveLabel },
            ...chosen.map((sentence) => {
              const text = sentence.text.replace(ownReference, "($1)");
              return { text: quote(text, sentence.source), quoted: { text, source: sentence.source } };
            }),
          ];
    let output = "";
    let tokens = 0;
    let finishReason: FinishReason = "stop";
    for (const line of lines) {
      if (request.signal?.aborted) {
        finishReason = "cancelled";
        break;
      }
      let text = line.text;
      let cost = estimateTokens(text);
      if (tokens + cost > request.maxTokens && line.quoted !== undefined) {
        // A sentence longer than what is left of the budget is quoted up to a word boundary, with an
        // ellipsis, and keeps its citation (a cut quote still says where it comes from).
        const words = line.quoted.text.split(/\s+/);
        while (words.length > 3 && tokens + cost > request.maxTokens) {
          words.splice(Math.max(3, Math.floor(words.length * 0.8)));
          text = quote(`${words.join(" ")} …`, line.quoted.source);
          cost = estimateTokens(text);
        }
      }
      if (tokens + cost > request.maxTokens) {
        finishReason = "length";
        break;
      }
      tokens += cost;
      output += text;
      clock.token();
      yield { type: "delta", text };
    }
    yield {
      type: "done",
      finishReason,
      usage: { promptTokens: 0, completionTokens: estimateTokens(output), estimated: true },
      timings: clock.timings(),
    };
  }

  return { id: "extractive:term-overlap-v1", kind: "extractive", generate };
}
