import { z } from "zod";

/** One configuration's search request body, minus the query (see the README's search reference). */
export interface SearchSettings {
  mode: "bm25" | "dense" | "hybrid";
  fusion?: {
    method?: "rrf" | "minmax" | "zscore" | "dbsf";
    rrfK?: number;
    weights?: { bm25?: number; dense?: number };
    candidates?: number;
  };
  rerank?: boolean;
}

// Tolerant: only the fields the harness reads are checked; extra fields pass through.
const searchResponseSchema = z.object({
  hits: z.array(z.object({ documentId: z.string(), chunkId: z.union([z.number(), z.string()]) })),
  degraded: z.array(z.string()).default([]),
  warnings: z.array(z.string()).default([]),
});

/** A non-2xx answer from the service. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 2000)}`);
  }
}

export interface SearchOutcome {
  documentIds: string[];
  degraded: string[];
  warnings: string[];
  /** Milliseconds from sending the request to the parsed body, on this client. */
  latencyMs: number;
}

export class SiftHttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly collection: string,
  ) {}

  private url(suffix: string): string {
    return `${this.baseUrl}/v1/collections/${encodeURIComponent(this.collection)}${suffix}`;
  }

  async search(query: string, k: number, settings: SearchSettings): Promise<SearchOutcome> {
    const started = performance.now();
    const response = await fetch(this.url("/search"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, k, offset: 0, ...settings }),
    });
    const text = await response.text();
    const latencyMs = performance.now() - started;
    if (!response.ok) throw new HttpStatusError(response.status, text, "POST /search");
    const body = searchResponseSchema.parse(JSON.parse(text));
    return {
      documentIds: body.hits.map((h) => h.documentId),
      degraded: body.degraded,
      warnings: body.warnings,
      latencyMs,
    };
  }

  /** The raw JSON of a non-streaming answer (see `answers.ts` for how it is read) and its latency. */
  async answer(question: string, k?: number): Promise<{ body: unknown; latencyMs: number }> {
    const started = performance.now();
    const response = await fetch(this.url("/answer"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ question, stream: false, ...(k === undefined ? {} : { k }) }),
    });
    const text = await response.text();
    const latencyMs = performance.now() - started;
    if (!response.ok) throw new HttpStatusError(response.status, text, "POST /answer");
    return { body: JSON.parse(text) as unknown, latencyMs };
  }

  /** A document's full text (for citation span checks); undefined when it does not exist. */
  async documentText(documentId: string): Promise<string | undefined> {
    const response = await fetch(this.url(`/documents/${encodeURIComponent(documentId)}`));
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET document ${documentId} answered ${response.status}`);
    const body = z
      .object({ document: z.object({ text: z.string() }).passthrough() })
      .passthrough()
      .parse(await response.json());
    return body.document.text;
  }
}

/** Collection-level calls that are not bound to one collection. */
export async function listCollections(baseUrl: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/v1/collections`);
  if (!response.ok) throw new Error(`GET /v1/collections answered ${response.status}`);
  const body = (await response.json()) as unknown;
  const parsed = z
    .union([
      z.object({ collections: z.array(z.object({ name: z.string() }).passthrough()) }).passthrough(),
      z.array(z.object({ name: z.string() }).passthrough()),
    ])
    .parse(body);
  return (Array.isArray(parsed) ? parsed : parsed.collections).map((c) => c.name);
}

export async function deleteCollection(baseUrl: string, name: string): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/collections/${encodeURIComponent(name)}`, {
    method: "DELETE",
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`DELETE collection ${name} answered ${response.status}: ${await response.text()}`);
  }
}
