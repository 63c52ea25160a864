import type { DocumentInput } from "@sift/client";

/** A file as the page reads it: its name and its text. */
export interface SourceFile {
  name: string;
  text: string;
}

export interface ParsedSources {
  documents: DocumentInput[];
  /** What could not be read, e.g. `corpus.jsonl line 3: not JSON`; the rest is still ingested. */
  problems: string[];
}

const textExtensions = /\.(md|markdown|txt)$/i;
const htmlExtensions = /\.html?$/i;
const jsonlExtensions = /\.(jsonl|ndjson)$/i;
const encoder = new TextEncoder();

/**
 * Reads JSONL (one `{"id", "title"?, "text", "metadata"?, "sourceUri"?}` per line, as the CLI takes it):
 * blank lines are skipped; a line that is not JSON, or lacks a string `id` or `text`, is a problem.
 */
export function parseJsonl(text: string, label: string): ParsedSources {
  const documents: DocumentInput[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${label} line ${index + 1}: not JSON`);
      return;
    }
    const record = value as Partial<DocumentInput> | null;
    const id = typeof record?.id === "number" ? String(record.id) : record?.id;
    if (typeof id !== "string" || typeof record?.text !== "string") {
      problems.push(`${label} line ${index + 1}: needs a string "id" and "text"`);
      return;
    }
    const document: DocumentInput = { id, text: record.text };
    if (typeof record.title === "string") document.title = record.title;
    if (typeof record.sourceUri === "string") document.sourceUri = record.sourceUri;
    if (record.metadata !== undefined && typeof record.metadata === "object")
      document.metadata = record.metadata;
    documents.push(document);
  });
  return { documents, problems };
}

/** The first Markdown heading (`# Title`) of a text, as its title. */
function markdownTitle(text: string): string | undefined {
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
}

/**
 * Turns dropped files into documents: JSONL files line by line, Markdown and plain text as they are (the
 * file name is the id, the first heading the title), HTML through `htmlToText`; other files are problems.
 */
export function documentsFromFiles(
  files: SourceFile[],
  htmlToText: (html: string) => { title: string | undefined; text: string },
): ParsedSources {
  const documents: DocumentInput[] = [];
  const problems: string[] = [];
  for (const file of files) {
    if (jsonlExtensions.test(file.name)) {
      const parsed = parseJsonl(file.text, file.name);
      documents.push(...parsed.documents);
      problems.push(...parsed.problems);
    } else if (textExtensions.test(file.name)) {
      const title = markdownTitle(file.text);
      documents.push({ id: file.name, text: file.text, ...(title === undefined ? {} : { title }) });
    } else if (htmlExtensions.test(file.name)) {
      const { title, text } = htmlToText(file.text);
      documents.push({ id: file.name, text, ...(title === undefined ? {} : { title }) });
    } else {
      problems.push(`${file.name}: not a .md, .txt, .html or .jsonl file`);
    }
  }
  return { documents, problems };
}

/**
 * Splits documents into request batches of at most `maxDocuments` (the API takes 1–1000) and about
 * `maxBytes` of JSON (the service refuses bodies over its limit, 10 MiB by default); a document larger
 * than `maxBytes` goes alone.
 */
export function batches(
  documents: DocumentInput[],
  maxDocuments = 200,
  maxBytes = 2_000_000,
): DocumentInput[][] {
  const result: DocumentInput[][] = [];
  let current: DocumentInput[] = [];
  let bytes = 0;
  for (const document of documents) {
    const size = encoder.encode(JSON.stringify(document)).length;
    if (current.length > 0 && (current.length >= maxDocuments || bytes + size > maxBytes)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(document);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}
