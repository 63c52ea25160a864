import type { ChunkInput, DocumentWrite, Metadata } from "@sift/core";

// Sample writes for the contract suite and the write benchmark (no test-runner imports here).

/**
 * Splits `text` into chunks of about `size` UTF-16 code units (offsets exact, as the chunker guarantees),
 * never between the halves of a surrogate pair: a lone surrogate cannot be stored as UTF-8.
 */
export function chunkText(text: string, size = 10, headingPath: string[] = []): ChunkInput[] {
  const out: ChunkInput[] = [];
  for (let start = 0, end = 0, ordinal = 0; start < text.length; start = end, ordinal++) {
    end = Math.min(text.length, start + size);
    if (/[\uDC00-\uDFFF]/.test(text.charAt(end))) end++;
    out.push({
      ordinal,
      text: text.slice(start, end),
      charStart: start,
      charEnd: end,
      headingPath,
      tokenCount: 2,
    });
  }
  return out;
}

/** A write whose content hash is derived from everything stored (tests only need equal ⇔ same content). */
export function documentWrite(
  externalId: string,
  text: string,
  extra: { title?: string; sourceUri?: string; metadata?: Metadata; chunkSize?: number } = {},
): DocumentWrite {
  const { chunkSize, ...fields } = extra;
  return {
    document: { externalId, text, ...fields },
    contentHash: JSON.stringify([text, fields.title, fields.sourceUri, fields.metadata]),
    chunks: chunkText(text, chunkSize),
  };
}
