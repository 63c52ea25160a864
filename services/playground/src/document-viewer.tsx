import type { SiftDocument } from "@sift/client";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { SiftClient } from "./api";

/** A document to show, optionally with a span of its text (a citation or a hit) highlighted. */
export interface DocumentTarget {
  collection: string;
  documentId: string;
  charStart?: number;
  charEnd?: number;
  /** What the span is, e.g. "citation [2]". */
  label?: string;
}

/** The document's whole text with the target span in a `<mark>`, scrolled into view once loaded. */
export function DocumentViewer(props: {
  client: SiftClient;
  target: DocumentTarget;
  onClose: () => void;
  fail: (error: unknown) => string;
}) {
  const { client, target } = props;
  const [document, setDocument] = useState<SiftDocument | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const mark = useRef<HTMLElement>(null);

  useEffect(() => {
    setDocument(null);
    setProblem(null);
    client
      .getDocument(target.collection, target.documentId)
      .then(setDocument, (e) => setProblem(props.fail(e)));
  }, [client, target]);
  useLayoutEffect(() => {
    mark.current?.scrollIntoView({ block: "center" });
  }, [document]);

  const { charStart, charEnd } = target;
  const hasSpan = charStart !== undefined && charEnd !== undefined;
  return (
    <aside class="viewer" aria-label="document">
      <div class="viewer-head">
        <div>
          <strong>{document?.title ?? target.documentId}</strong>
          <div class="hint">
            {target.collection} / {target.documentId}
            {hasSpan && ` · ${target.label ?? "span"} chars ${charStart}–${charEnd}`}
          </div>
        </div>
        <button type="button" onClick={props.onClose} aria-label="close">
          ×
        </button>
      </div>
      {problem && <p class="error">{problem}</p>}
      {document && (
        <pre class="document-text">
          {hasSpan ? (
            <>
              {document.text.slice(0, charStart)}
              <mark class="cited" ref={mark} data-char-start={charStart} data-char-end={charEnd}>
                {document.text.slice(charStart, charEnd)}
              </mark>
              {document.text.slice(charEnd)}
            </>
          ) : (
            document.text
          )}
        </pre>
      )}
    </aside>
  );
}
