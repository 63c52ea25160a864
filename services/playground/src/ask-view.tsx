import type { AnswerPassage, AnswerStreamEvent, Citation, EvidenceDecision, SearchMode } from "@sift/client";
import { useRef, useState } from "preact/hooks";
import type { ViewProps } from "./app";
import { Degraded, Segments } from "./parts";
import { citationSegments } from "./text-segments";

type Phase = "idle" | "retrieving" | "writing" | "done" | "failed";

interface AnswerState {
  phase: Phase;
  passages: AnswerPassage[];
  evidence: EvidenceDecision | null;
  text: string;
  /** Set once the `citations` event came: the checked text replaces the streamed one. */
  citations: Citation[] | null;
  inferred: Citation[];
  deltas: number;
  done: Extract<AnswerStreamEvent, { type: "done" }> | null;
  problem: string | null;
}

const initial: AnswerState = {
  phase: "idle",
  passages: [],
  evidence: null,
  text: "",
  citations: null,
  inferred: [],
  deltas: 0,
  done: null,
  problem: null,
};

/** Folds one streamed event into the answer shown. */
function reduce(state: AnswerState, event: AnswerStreamEvent): AnswerState {
  switch (event.type) {
    case "retrieval":
      return { ...state, phase: "writing", passages: event.passages, evidence: event.evidence };
    case "delta":
      return { ...state, text: state.text + event.text, deltas: state.deltas + 1 };
    case "citations":
      return { ...state, text: event.text, citations: event.citations, inferred: event.inferredCitations };
    case "done":
      return { ...state, phase: "done", done: event };
    case "error":
      return { ...state, phase: "failed", problem: `${event.error.code}: ${event.error.message}` };
  }
}

export function AskView({ client, collection, open, fail }: ViewProps) {
  const [question, setQuestion] = useState("");
  const [mode, setMode] = useState<SearchMode | "">("");
  const [state, setState] = useState<AnswerState>(initial);
  const controller = useRef<AbortController | null>(null);

  const ask = async () => {
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    let current: AnswerState = { ...initial, phase: "retrieving" };
    setState(current);
    try {
      const request = mode === "" ? { question } : { question, mode };
      for await (const event of client.streamAnswer(collection, request, { signal: abort.signal })) {
        current = reduce(current, event);
        setState(current);
      }
    } catch (error) {
      if (!abort.signal.aborted) setState({ ...current, phase: "failed", problem: fail(error) });
    }
  };
  const citeLink = (citation: Citation | undefined, text: string) =>
    citation === undefined ? (
      text
    ) : (
      <button
        type="button"
        class="cite"
        data-source={citation.source}
        data-document-id={citation.documentId}
        data-char-start={citation.charStart}
        data-char-end={citation.charEnd}
        title={`${citation.title ?? citation.documentId}, chars ${citation.charStart}–${citation.charEnd}`}
        onClick={() =>
          open({
            collection,
            documentId: citation.documentId,
            charStart: citation.charStart,
            charEnd: citation.charEnd,
            label: `citation [${citation.source}]`,
          })
        }
      >
        {text}
      </button>
    );
  const bySource = new Map((state.citations ?? []).map((c) => [c.source, c]));
  const busy = state.phase === "retrieving" || state.phase === "writing";

  return (
    <section>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <input
          name="question"
          class="wide"
          placeholder="Ask a question…"
          value={question}
          onInput={(e) => setQuestion(e.currentTarget.value)}
        />
        <label>
          mode
          <select
            name="mode"
            value={mode}
            onChange={(e) => setMode(e.currentTarget.value as SearchMode | "")}
          >
            <option value="">service default</option>
            <option value="hybrid">hybrid</option>
            <option value="bm25">bm25</option>
            <option value="dense">dense</option>
          </select>
        </label>
        <button type="submit" disabled={busy || question.trim() === "" || collection === ""}>
          Ask
        </button>
        {busy && (
          <button type="button" onClick={() => controller.current?.abort()}>
            Stop
          </button>
        )}
      </form>
      {state.phase !== "idle" && (
        <div class="answer" data-phase={state.phase} data-deltas={state.deltas}>
          <p class="hint">
            {state.phase === "retrieving" && "retrieving…"}
            {state.phase !== "retrieving" &&
              `${state.passages.length} passages · streamed in ${state.deltas} ${state.deltas === 1 ? "part" : "parts"}${
                state.done
                  ? ` · ${state.done.generator ? `${state.done.generator.kind} generator` : "no generator ran"} · first text after ${fmt(state.done.timings.firstTokenMs)} ms`
                  : ""
              }`}
          </p>
          {state.done?.outcome === "no-evidence" && <NoEvidence evidence={state.done.evidence} />}
          {state.done && <Degraded degraded={state.done.degraded} warnings={state.done.warnings} />}
          <p class="answer-text">
            {state.citations === null ? (
              state.text
            ) : (
              <Segments
                segments={citationSegments(state.text)}
                cite={(segment) => (
                  <>
                    [
                    {segment.sources.map((n, i) => (
                      <span key={n}>
                        {i > 0 && ", "}
                        {citeLink(bySource.get(n), String(n))}
                      </span>
                    ))}
                    ]
                  </>
                )}
              />
            )}
            {state.phase === "writing" && <span class="cursor">▍</span>}
          </p>
          {state.problem && <p class="error">{state.problem}</p>}
          {state.citations && state.citations.length > 0 && (
            <ol class="citations">
              {state.citations.map((c) => (
                <li key={c.source} value={c.source}>
                  {citeLink(c, c.title ?? c.documentId)}{" "}
                  <span class="hint">
                    {c.documentId} · chars {c.charStart}–{c.charEnd}
                  </span>
                </li>
              ))}
            </ol>
          )}
          {state.inferred.length > 0 && (
            <p class="hint">
              Also matching (inferred, not written by the generator):{" "}
              {state.inferred.map((c) => (
                <span key={c.source}>{citeLink(c, `[${c.source}] ${c.title ?? c.documentId}`)} </span>
              ))}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

const fmt = (ms: number | null | undefined) => (ms === null || ms === undefined ? "–" : ms.toFixed(0));

function NoEvidence({ evidence }: { evidence: EvidenceDecision }) {
  const kind = evidence.scoreKind ? ` (${evidence.scoreKind})` : "";
  return (
    <div class="no-evidence" role="status">
      <strong>Not enough evidence; no answer was generated.</strong>{" "}
      {evidence.topScore === null
        ? "No passage of the collection matched the question."
        : `The best passage scored ${evidence.topScore.toPrecision(3)}${kind}, below the calibrated threshold ${
            evidence.threshold?.toPrecision(3) ?? ""
          }.`}
    </div>
  );
}
