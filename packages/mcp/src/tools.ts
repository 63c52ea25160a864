import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { AnswerRequest, Filter, SearchRequest } from "@sift/client";
import { z } from "zod";
import type { SiftBackend } from "./backend";

const collection = z
  .string()
  .min(1)
  .max(128)
  .describe("Collection name (list_collections shows them), e.g. 'sample'");
const mode = z
  .enum(["bm25", "dense", "hybrid"])
  .optional()
  .describe("Retrieval legs; default hybrid when the service has an embedding model, else bm25");
const filter = z
  .record(z.string(), z.unknown())
  .optional()
  .describe(
    'Metadata filter: {"field":"lang","eq":"en"}, {"field":"tags","in":["a"]}, {"field":"year","gte":2019}, ' +
      'combined with {"and":[...]}, {"or":[...]}, {"not":{...}}',
  );

const offsets = {
  documentId: z.string(),
  chunkId: z.number(),
  title: z.string().nullable(),
  charStart: z.number().describe("Start of the span in the document's text (UTF-16 offset)"),
  charEnd: z.number().describe("End (exclusive) of the span in the document's text"),
};
const citation = z.looseObject({ source: z.number(), ...offsets });
const hit = z.looseObject({
  ...offsets,
  score: z.number(),
  scoreKind: z.string(),
  legs: z.record(z.string(), z.looseObject({ rank: z.number(), score: z.number() })),
  snippet: z.looseObject({ text: z.string(), charStart: z.number(), charEnd: z.number() }),
});

const searchInput = {
  collection,
  query: z.string().min(1).max(4096).describe("Free-text query"),
  k: z.number().int().min(1).max(200).optional().describe("Hits to return (default 10)"),
  offset: z.number().int().min(0).max(10_000).optional(),
  mode,
  fusion: z
    .enum(["rrf", "minmax", "zscore", "dbsf"])
    .optional()
    .describe("Hybrid fusion method (default zscore)"),
  filter,
};
const searchOutput = z.looseObject({
  collection: z.string(),
  mode: z.string(),
  degraded: z.array(z.string()).describe("Legs that failed or timed out; then the hits are of lower quality"),
  warnings: z.array(z.string()),
  hits: z.array(hit),
});

const answerInput = {
  collection,
  question: z.string().min(1).max(4096),
  mode,
  filter,
  candidates: z.number().int().min(1).max(100).optional().describe("Passages retrieved before packing"),
  maxTokens: z.number().int().min(1).max(4096).optional(),
};
const answerOutput = z.looseObject({
  outcome: z.enum(["answered", "no-evidence"]),
  text: z.string().describe("The answer; [n] marks cite the citation with source n"),
  citations: z.array(citation),
  inferredCitations: z.array(citation),
  evidence: z.looseObject({ sufficient: z.boolean() }),
  degraded: z.array(z.string()),
  warnings: z.array(z.string()),
});

const documentInput = {
  collection,
  id: z.string().min(1).max(512).describe("The document id (documentId of a hit or citation)"),
  charStart: z.number().int().min(0).optional().describe("With charEnd: also return exactly this span"),
  charEnd: z.number().int().min(0).optional(),
  maxChars: z
    .number()
    .int()
    .min(1)
    .max(200_000)
    .optional()
    .describe("Longest text returned (default 20000); the window starts a little before charStart"),
};
const documentOutput = {
  id: z.string(),
  title: z.string().nullable(),
  sourceUri: z.string().nullable(),
  length: z.number().describe("Length of the whole text"),
  textStart: z.number().describe("Offset of `text` in the whole text"),
  text: z.string(),
  truncated: z.boolean(),
  span: z.object({ charStart: z.number(), charEnd: z.number(), text: z.string() }).optional(),
};

const collectionsOutput = {
  collections: z.array(
    z.object({ name: z.string(), tenant: z.string(), createdAt: z.string(), documents: z.number() }),
  ),
};

/** Characters of context kept before a requested span when the text is cut to `maxChars`. */
const spanContextChars = 500;
const defaultMaxChars = 20_000;

/**
 * An MCP server whose tools call `backend`: `search`, `answer`, `get_document`, `list_collections`. Each
 * tool returns the backend's answer as `structuredContent` (the API's own fields: hits and citations with
 * `documentId`, `chunkId`, `charStart`, `charEnd`) and the same JSON as text; a failure is a tool error
 * (`isError`) naming the API's error code and the offending fields.
 */
export function createSiftMcpServer(backend: SiftBackend, info = { name: "sift", version: "0.1.0" }) {
  const server = new McpServer(info);

  server.registerTool(
    "search",
    {
      title: "Search a Sift collection",
      description:
        "Hybrid (BM25 + dense) search over one collection. Returns chunks best first with per-leg ranks and " +
        "scores, a highlighted snippet and the chunk's character span in its document (get_document reads it).",
      inputSchema: searchInput,
      outputSchema: searchOutput,
      annotations: { readOnlyHint: true },
    },
    (input, extra) =>
      run(async () => {
        const request: SearchRequest = { query: input.query };
        if (input.k !== undefined) request.k = input.k;
        if (input.offset !== undefined) request.offset = input.offset;
        if (input.mode !== undefined) request.mode = input.mode;
        if (input.fusion !== undefined) request.fusion = { method: input.fusion };
        if (input.filter !== undefined) request.filter = input.filter as Filter;
        return await backend.search(input.collection, request, { signal: extra.signal });
      }),
  );

  server.registerTool(
    "answer",
    {
      title: "Answer a question from a Sift collection, with citations",
      description:
        "Retrieves passages and writes a grounded answer whose [n] marks cite them. Each citation gives the " +
        "document and the character span it rests on. outcome 'no-evidence' means the collection holds too " +
        "little support; 'degraded' names stages that failed.",
      inputSchema: answerInput,
      outputSchema: answerOutput,
      annotations: { readOnlyHint: true },
    },
    (input, extra) =>
      run(async () => {
        const request: AnswerRequest = { question: input.question };
        if (input.mode !== undefined) request.mode = input.mode;
        if (input.filter !== undefined) request.filter = input.filter as Filter;
        if (input.candidates !== undefined) request.candidates = input.candidates;
        if (input.maxTokens !== undefined) request.maxTokens = input.maxTokens;
        return await backend.answer(input.collection, request, { signal: extra.signal });
      }),
  );

  server.registerTool(
    "get_document",
    {
      title: "Read a document",
      description:
        "A document's text (cut to maxChars), and with charStart/charEnd the exact span a hit or citation " +
        "points at.",
      inputSchema: documentInput,
      outputSchema: documentOutput,
      annotations: { readOnlyHint: true },
    },
    (input, extra) =>
      run(async () => {
        if (
          (input.charStart === undefined) !== (input.charEnd === undefined) ||
          (input.charEnd ?? 0) < (input.charStart ?? 0)
        ) {
          throw new Error("give charStart and charEnd together, with charStart <= charEnd");
        }
        const document = await backend.getDocument(input.collection, input.id, { signal: extra.signal });
        return documentView(document, input);
      }),
  );

  server.registerTool(
    "list_collections",
    {
      title: "List collections",
      description: "The collections this key can search, with their document counts.",
      inputSchema: {},
      outputSchema: collectionsOutput,
      annotations: { readOnlyHint: true },
    },
    (_input, extra) =>
      run(async () => ({ collections: await backend.listCollections({ signal: extra.signal }) })),
  );

  return server;
}

function documentView(
  document: { id: string; title: string | null; sourceUri: string | null; text: string },
  request: { charStart?: number | undefined; charEnd?: number | undefined; maxChars?: number | undefined },
) {
  const { charStart, charEnd } = request;
  const maxChars = request.maxChars ?? defaultMaxChars;
  const textStart =
    charStart === undefined ? 0 : Math.max(0, Math.min(charStart, document.text.length) - spanContextChars);
  const text = document.text.slice(textStart, textStart + maxChars);
  const view = {
    id: document.id,
    title: document.title,
    sourceUri: document.sourceUri,
    length: document.text.length,
    textStart,
    text,
    truncated: textStart > 0 || textStart + text.length < document.text.length,
  };
  if (charStart === undefined || charEnd === undefined) return view;
  return { ...view, span: { charStart, charEnd, text: document.text.slice(charStart, charEnd) } };
}

/** Runs a tool body: its result as structured content and JSON text, or its failure as a tool error. */
async function run(body: () => Promise<object>): Promise<CallToolResult> {
  try {
    const result = await body();
    return {
      content: [{ type: "text", text: JSON.stringify(result) }],
      structuredContent: result as Record<string, unknown>,
    };
  } catch (error) {
    return { isError: true, content: [{ type: "text", text: describeError(error) }] };
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, fields } = error as { code?: unknown; fields?: unknown };
  const prefix = typeof code === "string" ? `${code}: ` : "";
  const list = Array.isArray(fields)
    ? (fields as Array<{ path: string; message: string }>).map((f) => `\n- ${f.path}: ${f.message}`).join("")
    : "";
  return `${prefix}${error.message}${list}`;
}
