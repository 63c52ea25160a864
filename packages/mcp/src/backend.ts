import type {
  AnswerRequest,
  AnswerResponse,
  CallOptions,
  SearchRequest,
  SearchResponse,
  SiftDocument,
} from "@sift/client";

/** A collection as the `list_collections` tool reports it. */
export interface CollectionSummary {
  name: string;
  tenant: string;
  createdAt: string;
  /** Documents in the collection. */
  documents: number;
}

/**
 * What the MCP tools call: the Sift API's operations, answered exactly as the HTTP API answers them (same
 * hits, citations, character offsets, `degraded` and `warnings`), so every transport and every backend
 * gives an agent the same results.
 *
 * - `search`: the search route's response for `request` (hits best first, higher scores better).
 * - `answer`: the non-streaming answer route's response (citations checked, `outcome` `no-evidence` when
 *   the evidence was too weak).
 * - `getDocument`: the document with its full `text`; every `charStart/charEnd` above indexes into it.
 * - `listCollections`: the tenant's collections with their document counts, by name.
 * - Errors are thrown (a `SiftApiError` for the HTTP backend); the tools report them to the agent.
 * - `options.signal` aborts the call.
 */
export interface SiftBackend {
  search(collection: string, request: SearchRequest, options?: CallOptions): Promise<SearchResponse>;
  answer(collection: string, request: AnswerRequest, options?: CallOptions): Promise<AnswerResponse>;
  getDocument(collection: string, id: string, options?: CallOptions): Promise<SiftDocument>;
  listCollections(options?: CallOptions): Promise<CollectionSummary[]>;
}
