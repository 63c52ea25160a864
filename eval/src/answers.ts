import { z } from "zod";
import type { BeirQuery } from "./beir";
import type { SiftHttpClient } from "./http-client";
import { mean, percentile, type Qrels } from "./metrics";

/** A citation as the harness reads it. */
export interface AnswerCitation {
  documentId: string;
  chunkId?: number | string | undefined;
  charStart?: number | undefined;
  charEnd?: number | undefined;
}

/** A passage the generator was given (when the response lists them). */
export interface AnswerPassage {
  documentId: string;
  chunkId?: number | string | undefined;
  charStart?: number | undefined;
  charEnd?: number | undefined;
}

/** What the harness needs from one `POST /answer` response. */
export interface AnswerOutcome {
  text: string;
  noEvidence: boolean;
  citations: AnswerCitation[];
  removedCitations: number;
  /** Undefined when the response does not say which passages the generator saw. */
  passages: AnswerPassage[] | undefined;
  degraded: string[];
}

const span = {
  documentId: z.coerce.string(),
  chunkId: z.union([z.number(), z.string()]).optional(),
  charStart: z.number().optional(),
  charEnd: z.number().optional(),
};
const citationSchema = z.object(span).passthrough();

/**
 * THE ADAPTER: reads a non-streaming answer response into `AnswerOutcome`. The answer route's exact shape
 * is owned by @sift/answer; this is the one place to adjust when it changes. Tolerant of a few spellings:
 * the text as `text` (@sift/answer's `AnswerResult`) or `answer` (string or `{text}`); the decision as
 * `outcome: "no-evidence"` or `evidence.sufficient: false` (AnswerResult), `noEvidence`, or
 * `decision: "no-evidence"`; the given passages as `passages` (AnswerResult), `evidence.passages` or `context`.
 */
export function adaptAnswerResponse(body: unknown): AnswerOutcome {
  const root = z.record(z.string(), z.unknown()).parse(body);
  const answerField = root.answer;
  const text =
    typeof answerField === "string"
      ? answerField
      : typeof (answerField as { text?: unknown } | undefined)?.text === "string"
        ? (answerField as { text: string }).text
        : typeof root.text === "string"
          ? root.text
          : "";
  const nested = (answerField !== null && typeof answerField === "object" ? answerField : {}) as Record<
    string,
    unknown
  >;
  const pick = (key: string) => root[key] ?? nested[key];
  const evidence = (pick("evidence") ?? {}) as Record<string, unknown>;
  const noEvidence =
    pick("noEvidence") === true ||
    evidence.noEvidence === true ||
    pick("decision") === "no-evidence" ||
    evidence.decision === "no-evidence" ||
    pick("status") === "no-evidence" ||
    pick("outcome") === "no-evidence" ||
    evidence.sufficient === false;
  const citations = z.array(citationSchema).default([]).parse(pick("citations"));
  const removed = pick("removedCitations");
  const passagesRaw = pick("passages") ?? evidence.passages ?? pick("context");
  const passages = Array.isArray(passagesRaw)
    ? z.array(z.object(span).passthrough()).parse(passagesRaw)
    : undefined;
  return {
    text,
    noEvidence,
    citations,
    removedCitations: Array.isArray(removed) ? removed.length : typeof removed === "number" ? removed : 0,
    passages,
    degraded: z.array(z.string()).default([]).parse(root.degraded),
  };
}

export interface AnswerMetrics {
  /** Questions asked (the first N judged queries of the split, in file order). */
  questions: number;
  /** Share of answers that declared no evidence. */
  noEvidenceRate: number;
  citations: number;
  /** Share of citations that point at a passage the generator was given and lie inside their document. */
  citationValidity: number;
  /** Share of citations whose document is judged relevant (grade > 0) for the question in the qrels. */
  citationSupport: number;
  /** Share of answers with evidence that carry at least one supported citation. */
  answersSupported: number;
  /** Share of answers with evidence that carry no citation at all. */
  uncitedAnswers: number;
  /** Citations the service itself removed during verification (summed). */
  removedCitations: number;
  degradedAnswers: number;
  latency_ms: { p50: number; p95: number; p99: number };
  /** Whether validity could check citations against the passages given (the response listed them). */
  passagesListed: boolean;
}

export interface AnswerRecord {
  queryId: string;
  noEvidence: boolean;
  citations: number;
  valid: number;
  supported: number;
  latencyMs: number;
}

/** Whether a citation points at a given passage (when listed) and at a real span of a real document. */
export function citationIsValid(
  citation: AnswerCitation,
  passages: AnswerPassage[] | undefined,
  documentText: string | undefined,
): boolean {
  if (documentText === undefined) return false;
  const { charStart, charEnd } = citation;
  if (charStart !== undefined || charEnd !== undefined) {
    if (charStart === undefined || charEnd === undefined) return false;
    if (!(charStart >= 0 && charEnd > charStart && charEnd <= documentText.length)) return false;
  }
  if (passages === undefined) return true;
  return passages.some(
    (p) =>
      p.documentId === citation.documentId &&
      (citation.chunkId === undefined ||
        p.chunkId === undefined ||
        String(p.chunkId) === String(citation.chunkId)) &&
      (p.charStart === undefined ||
        p.charEnd === undefined ||
        charStart === undefined ||
        charEnd === undefined ||
        (charStart >= p.charStart && charEnd <= p.charEnd)),
  );
}

/** Asks each question once over HTTP and scores the answers' citations against the qrels. */
export async function evaluateAnswers(
  client: SiftHttpClient,
  questions: readonly BeirQuery[],
  qrels: ReadonlyMap<string, Qrels>,
  onAnswer?: (done: number) => void,
): Promise<{ metrics: AnswerMetrics; records: AnswerRecord[] }> {
  const texts = new Map<string, string | undefined>();
  const records: AnswerRecord[] = [];
  let removedCitations = 0;
  let degradedAnswers = 0;
  let passagesListed = questions.length > 0;
  for (const [i, question] of questions.entries()) {
    const { body, latencyMs } = await client.answer(question.text);
    const outcome = adaptAnswerResponse(body);
    if (outcome.passages === undefined) passagesListed = false;
    removedCitations += outcome.removedCitations;
    if (outcome.degraded.length > 0) degradedAnswers++;
    const judged = qrels.get(question.id) ?? new Map<string, number>();
    let valid = 0;
    let supported = 0;
    for (const citation of outcome.citations) {
      if (!texts.has(citation.documentId)) {
        texts.set(citation.documentId, await client.documentText(citation.documentId));
      }
      if (citationIsValid(citation, outcome.passages, texts.get(citation.documentId))) valid++;
      if ((judged.get(citation.documentId) ?? 0) > 0) supported++;
    }
    records.push({
      queryId: question.id,
      noEvidence: outcome.noEvidence,
      citations: outcome.citations.length,
      valid,
      supported,
      latencyMs,
    });
    onAnswer?.(i + 1);
  }
  const citations = records.reduce((s, r) => s + r.citations, 0);
  const withEvidence = records.filter((r) => !r.noEvidence);
  const latencies = records.map((r) => r.latencyMs);
  return {
    records,
    metrics: {
      questions: records.length,
      noEvidenceRate: records.length === 0 ? 0 : records.filter((r) => r.noEvidence).length / records.length,
      citations,
      citationValidity: citations === 0 ? 0 : records.reduce((s, r) => s + r.valid, 0) / citations,
      citationSupport: citations === 0 ? 0 : records.reduce((s, r) => s + r.supported, 0) / citations,
      answersSupported: mean(withEvidence.map((r) => (r.supported > 0 ? 1 : 0))),
      uncitedAnswers: mean(withEvidence.map((r) => (r.citations === 0 ? 1 : 0))),
      removedCitations,
      degradedAnswers,
      latency_ms: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
      },
      passagesListed,
    },
  };
}
