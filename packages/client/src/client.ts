import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";
import type {
  AnswerRequest,
  AnswerResponse,
  AnswerStreamEvent,
  ApiErrorBody,
  ApiKey,
  AuditEvent,
  Collection,
  CollectionDetails,
  CreateKeyRequest,
  DocumentInput,
  DocumentSummary,
  FeedEventInput,
  FeedEventsAccepted,
  FeedItemExplanation,
  FeedPage,
  FeedStreamEvent,
  IngestionJob,
  Profile,
  ProfileRequest,
  SearchRequest,
  SearchResponse,
  SiftDocument,
} from "./types";

export interface SiftClientOptions {
  /** The service's origin, e.g. `http://127.0.0.1:8080`; `""` (the default) means the page's own origin. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set (keys look like `sift_…`). */
  apiKey?: string | undefined;
  /** Sent as `x-sift-tenant` when set; a key's own tenant applies when auth is on. */
  tenant?: string | undefined;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/**
 * A non-2xx answer from the service. `code` is the API's error code (`invalid_request`, `not_found`,
 * `unauthorized`, `forbidden`, `rate_limited`, …) or `http_<status>` when the body was not the API's error
 * shape (a proxy's page, for instance).
 */
export class SiftApiError extends Error {
  override readonly name = "SiftApiError";
  readonly code: string;
  /** The service's own message (`message` adds the method, path and status). */
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly fields: Array<{ path: string; message: string }>;

  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    body: Partial<ApiErrorBody> | undefined,
  ) {
    super(`${method} ${path} answered ${status}: ${body?.message ?? "no error body"}`);
    this.code = body?.code ?? `http_${status}`;
    this.detail = body?.message ?? "no error body";
    this.requestId = body?.requestId;
    this.fields = body?.fields ?? [];
  }
}

const segment = (value: string) => encodeURIComponent(value);
const userPath = (user: string) => `/v1/users/${segment(user)}`;
const sse = "text/event-stream";

/**
 * The Sift HTTP API as typed calls, for browsers and Node 20+: one method per route, bodies and answers as
 * the README documents them. Every call sends the key and tenant given at construction and throws
 * {@link SiftApiError} on a non-2xx status.
 */
export class SiftClient {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(options: SiftClientOptions = {}) {
    this.#baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.#headers = {};
    if (options.apiKey) this.#headers.authorization = `Bearer ${options.apiKey}`;
    if (options.tenant) this.#headers["x-sift-tenant"] = options.tenant;
    // Bound so that a browser's `fetch` is not called with the client as `this`.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  health(options?: CallOptions): Promise<{ status: string }> {
    return this.#json("GET", "/healthz", undefined, options);
  }

  ready(options?: CallOptions): Promise<{ status: string; checks: Record<string, string> }> {
    return this.#json("GET", "/readyz", undefined, options);
  }

  async listCollections(options?: CallOptions): Promise<Collection[]> {
    const body = await this.#json<{ collections: Collection[] }>(
      "GET",
      "/v1/collections",
      undefined,
      options,
    );
    return body.collections;
  }

  getCollection(collection: string, options?: CallOptions): Promise<CollectionDetails> {
    return this.#json("GET", `/v1/collections/${segment(collection)}`, undefined, options);
  }

  /** Creates the collection when missing (`created: true`), else returns it unchanged. */
  ensureCollection(
    collection: string,
    options?: CallOptions,
  ): Promise<{ collection: Collection; created: boolean }> {
    return this.#json("PUT", `/v1/collections/${segment(collection)}`, undefined, options);
  }

  /** Deletes the collection with its documents and indexes. */
  async deleteCollection(collection: string, options?: CallOptions): Promise<void> {
    await this.#send("DELETE", `/v1/collections/${segment(collection)}`, undefined, options);
  }

  /** Makes a key (admin keys; within the caller's tenant). `key` is in this answer only. */
  createKey(request: CreateKeyRequest, options?: CallOptions): Promise<ApiKey & { key: string }> {
    return this.#json("POST", "/v1/keys", request, options);
  }

  /** The tenant's keys, newest first, without secrets. */
  async listKeys(options?: CallOptions): Promise<ApiKey[]> {
    return (await this.#json<{ keys: ApiKey[] }>("GET", "/v1/keys", undefined, options)).keys;
  }

  async revokeKey(id: string, options?: CallOptions): Promise<void> {
    await this.#send("DELETE", `/v1/keys/${segment(id)}`, undefined, options);
  }

  /** The tenant's audit trail, newest first; pass `nextCursor` back as `cursor`. */
  listAudit(
    page: { limit?: number; cursor?: string } = {},
    options?: CallOptions,
  ): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    return this.#json("GET", `/v1/audit${pageQuery(page)}`, undefined, options);
  }

  /** The service's OpenAPI 3.1 document. */
  openApiDocument(
    options?: CallOptions,
  ): Promise<{ openapi: string; paths: Record<string, Record<string, unknown>> }> {
    return this.#json("GET", "/openapi.json", undefined, options);
  }

  /**
   * The Prometheus exposition text. `/metrics` takes the service's SIFT_METRICS_TOKEN, not an API key: pass
   * it as `token` (a service with auth off needs none).
   */
  async metrics(token?: string, options?: CallOptions): Promise<string> {
    const headers: Record<string, string> = { accept: "text/plain" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { headers };
    if (options?.signal !== undefined) init.signal = options.signal;
    const response = await this.#fetch(`${this.#baseUrl}/metrics`, init);
    if (!response.ok) throw await apiError(response, "GET", "/metrics");
    return response.text();
  }

  search(collection: string, request: SearchRequest, options?: CallOptions): Promise<SearchResponse> {
    return this.#json("POST", `/v1/collections/${segment(collection)}/search`, request, options);
  }

  /** The whole answer as one JSON body. */
  answer(collection: string, request: AnswerRequest, options?: CallOptions): Promise<AnswerResponse> {
    return this.#json(
      "POST",
      `/v1/collections/${segment(collection)}/answer`,
      { ...request, stream: false },
      options,
    );
  }

  /**
   * The answer as it is written: `retrieval`, then `delta`s, then `citations` and `done`, or `error` when it
   * fails mid-stream (as the service sends them). Aborting `signal` (or breaking out of the loop) closes the
   * connection, which cancels generation on the service.
   */
  async *streamAnswer(
    collection: string,
    request: AnswerRequest,
    options?: CallOptions,
  ): AsyncGenerator<AnswerStreamEvent, void, undefined> {
    const path = `/v1/collections/${segment(collection)}/answer`;
    const response = await this.#send("POST", path, { ...request, stream: true }, options, sse);
    for await (const message of serverSentEvents(response)) {
      const data = JSON.parse(message.data) as Record<string, unknown>;
      yield { ...data, type: message.event ?? "message" } as AnswerStreamEvent;
    }
  }

  getDocument(collection: string, id: string, options?: CallOptions): Promise<SiftDocument> {
    return this.#json<{ document: SiftDocument }>(
      "GET",
      `/v1/collections/${segment(collection)}/documents/${segment(id)}`,
      undefined,
      options,
    ).then((body) => body.document);
  }

  listDocuments(
    collection: string,
    page: { limit?: number; cursor?: string } = {},
    options?: CallOptions,
  ): Promise<{ documents: DocumentSummary[]; nextCursor: string | null }> {
    return this.#json(
      "GET",
      `/v1/collections/${segment(collection)}/documents${pageQuery(page)}`,
      undefined,
      options,
    );
  }

  /** Creates or replaces 1–1000 documents; answers with the ingestion job that did it. */
  async ingestDocuments(
    collection: string,
    documents: DocumentInput[],
    options?: CallOptions,
  ): Promise<IngestionJob> {
    const path = `/v1/collections/${segment(collection)}/documents`;
    const body = await this.#json<{ job: IngestionJob }>("POST", path, { documents }, options);
    return body.job;
  }

  async deleteDocument(collection: string, id: string, options?: CallOptions): Promise<void> {
    await this.#send(
      "DELETE",
      `/v1/collections/${segment(collection)}/documents/${segment(id)}`,
      undefined,
      options,
    );
  }

  async getJob(collection: string, jobId: number | string, options?: CallOptions): Promise<IngestionJob> {
    const path = `/v1/collections/${segment(collection)}/jobs/${segment(String(jobId))}`;
    return (await this.#json<{ job: IngestionJob }>("GET", path, undefined, options)).job;
  }

  async listJobs(collection: string, limit = 50, options?: CallOptions): Promise<IngestionJob[]> {
    const path = `/v1/collections/${segment(collection)}/jobs?limit=${limit}`;
    return (await this.#json<{ jobs: IngestionJob[] }>("GET", path, undefined, options)).jobs;
  }

  /**
   * Creates or replaces an analyst's stated profile (a new one is backfilled from the followed collections);
   * what feedback taught it is kept. Needs a writer key or a key bound to `user`.
   */
  async putUser(user: string, profile: ProfileRequest, options?: CallOptions): Promise<Profile> {
    return (await this.#json<{ profile: Profile }>("PUT", userPath(user), profile, options)).profile;
  }

  /** The analyst's profile with its learned state; an unknown user is a 404 `SiftApiError`. */
  async getUser(user: string, options?: CallOptions): Promise<Profile> {
    return (await this.#json<{ profile: Profile }>("GET", userPath(user), undefined, options)).profile;
  }

  /** Deletes the analyst's profile with their feed, events and logged reads. */
  async deleteUser(user: string, options?: CallOptions): Promise<void> {
    await this.#send("DELETE", userPath(user), undefined, options);
  }

  /** One page of the analyst's ranked feed (limit 1–200, default 20); pass `nextCursor` back as `cursor`. */
  feed(
    user: string,
    page: { limit?: number; cursor?: string } = {},
    options?: CallOptions,
  ): Promise<FeedPage> {
    return this.#json("GET", `${userPath(user)}/feed${pageQuery(page)}`, undefined, options);
  }

  /**
   * New feed items as they are ranked: a `ready` event once the service is listening, then an `item` event
   * per document matched for `user` while connected. The service ends the stream after 5 minutes (the loop
   * then ends); reconnecting is the caller's business (read the feed for what was missed). Aborting
   * `signal` or breaking out of the loop closes the connection.
   */
  async *feedStream(user: string, options?: CallOptions): AsyncGenerator<FeedStreamEvent, void, undefined> {
    const response = await this.#send("GET", `${userPath(user)}/feed/stream`, undefined, options, sse);
    for await (const message of serverSentEvents(response)) {
      const data = JSON.parse(message.data) as Record<string, unknown>;
      if (message.event === "ready") yield { ...data, type: "ready" } as FeedStreamEvent;
      else if (message.event === "item") yield { type: "item", id: message.id, item: data as never };
    }
  }

  /**
   * Logs a batch of 1–1000 feedback events; the whole batch is refused (400 naming `events.N.field`) when
   * one is invalid or names an item not in this analyst's feed.
   */
  sendFeedEvents(user: string, events: FeedEventInput[], options?: CallOptions): Promise<FeedEventsAccepted> {
    return this.#json("POST", `${userPath(user)}/events`, { events }, options);
  }

  /** Why an item is in the feed; `itemId` is `collection/documentId`, its `/` sent as `%2F`. */
  async feedWhy(user: string, itemId: string, options?: CallOptions): Promise<FeedItemExplanation> {
    const path = `${userPath(user)}/feed/${segment(itemId)}/why`;
    return (await this.#json<{ why: FeedItemExplanation }>("GET", path, undefined, options)).why;
  }

  async #json<T>(method: string, path: string, body: unknown, options: CallOptions | undefined): Promise<T> {
    const response = await this.#send(method, path, body, options, "application/json");
    return (await response.json()) as T;
  }

  /** Sends one request; a non-2xx answer becomes a {@link SiftApiError} (its body read and parsed). */
  async #send(
    method: string,
    path: string,
    body: unknown,
    options: CallOptions | undefined,
    accept = "application/json",
  ): Promise<Response> {
    const headers: Record<string, string> = { ...this.#headers, accept };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (options?.signal !== undefined) init.signal = options.signal;
    const response = await this.#fetch(`${this.#baseUrl}${path}`, init);
    if (response.ok) return response;
    throw await apiError(response, method, path.split("?")[0] ?? path);
  }
}

/** A non-2xx response as a {@link SiftApiError} (its body read and parsed when it is the API's). */
async function apiError(response: Response, method: string, path: string): Promise<SiftApiError> {
  const text = await response.text();
  let parsed: { error?: Partial<ApiErrorBody> } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  return new SiftApiError(response.status, method, path, parsed?.error);
}

/**
 * The Server-Sent Events of a response body as they arrive (comments, such as keep-alives, skipped); the
 * connection is closed when the consumer stops early.
 */
async function* serverSentEvents(response: Response): AsyncGenerator<EventSourceMessage, void, undefined> {
  if (response.body === null) return;
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function pageQuery(page: { limit?: number; cursor?: string }): string {
  const query = new URLSearchParams();
  if (page.limit !== undefined) query.set("limit", String(page.limit));
  if (page.cursor !== undefined) query.set("cursor", page.cursor);
  return query.size === 0 ? "" : `?${query}`;
}
