import type { DocumentInput } from "@sift/core";
import type { SourceFormat } from "@sift/text";

/** How the ingestion job parses a document's text: the `@sift/text` parser formats. */
export type { SourceFormat };

/** How `readSource` interprets its path. `auto` detects it (see `detectSourceKind`). */
export type SourceKind = "files" | "jsonl" | "beir";
export type SourceFormatOption = "auto" | SourceKind;

/** A document read from a source, with the parser format its text is in. */
export type SourceDocument = DocumentInput & {
  format: SourceFormat;
  /**
   * Title used when neither the source nor the parser provides one (the file name for files). Not part
   * of the content hash: it is derived from `externalId`, which already identifies the document.
   */
  fallbackTitle?: string | undefined;
};

/**
 * One item of a source. A source never throws for one bad entry: a file or line it cannot use is
 * yielded as `skipped` with the reason, and the run goes on.
 */
export type SourceItem =
  | { kind: "document"; document: SourceDocument }
  | {
      kind: "skipped";
      /** Where the entry came from: a relative path, or `file.jsonl:LINE`. */
      source: string;
      reason: string;
      /**
       * The external id the entry would have had, when known (an unreadable file, a JSONL line with an
       * id but no text). A pruning run keeps the stored document of such an entry rather than delete it
       * over what may be a transient error.
       */
      externalId?: string | undefined;
    };

export interface ReadSourceOptions {
  format?: SourceFormatOption | undefined;
  signal?: AbortSignal | undefined;
  /** Files larger than this are skipped (files source only). Default 64 MiB. */
  maxFileBytes?: number | undefined;
}
