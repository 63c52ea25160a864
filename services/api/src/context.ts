import type { ApiKeys, ConcurrencyGate, IdCodec, KeyUsage, TokenBuckets } from "@sift/access";
import type { EvidencePolicy, Generator } from "@sift/answer";
import type { Collection, Logger, SiftStore } from "@sift/core";
import { DeadlineExceededError, NotFoundError, ValidationError } from "@sift/core";
import type { CatalogFeed, Engine } from "@sift/engine";
import type { Context } from "hono";
import type { ServiceMetrics } from "./metrics";
import type { PagesDependencies } from "./pages";
import type { RequestAuth } from "./request-auth";
import { nameMessage, namePattern } from "./schemas";

/** What the answer route needs beyond the search dependencies (built by the entrypoint). */
export interface AnswerDependencies {
  generator: Generator;
  /** Answers when `generator` fails before writing anything (extractive: no model needed). */
  fallback: Generator;
  evidence: EvidencePolicy;
  /** Passages retrieved (and reranked) before packing. */
  candidates: number;
  contextTokens: number;
  maxTokens: number;
  /** The whole answer (queue, retrieval, last token); past it generation is cancelled and the answer ends. */
  timeoutMs: number;
  /** Answers running at once, and how many may wait (503 with Retry-After beyond). */
  gate: ConcurrencyGate;
}

/** Keys, tenancy and per-caller limits. */
export interface AccessDependencies {
  /** `required`: every `/v1` request needs a key. `off`: the tenant comes from `x-sift-tenant`. */
  mode: "required" | "off";
  keys: ApiKeys;
  /** Records key use in batches (last-used time, `key.used` audit events). */
  usage?: KeyUsage | undefined;
  /** Turns internal chunk ids into per-collection public ones (and audit ids into cursors). */
  ids: IdCodec;
  /** Per key (or per client address when auth is off); none: unlimited. */
  rateLimit?: TokenBuckets | undefined;
}

export interface LimitDependencies {
  /** Document batches. */
  maxBodyBytes: number;
  /** Every other body: search, answer, collections, keys. */
  maxQueryBodyBytes: number;
  /** Deadline of a search (and of the retrieval of a non-answer request), ms. */
  requestTimeoutMs: number;
  maxCollectionsPerTenant: number;
  /** How long one feed stream stays open before the server ends it (clients reconnect). Default 300,000. */
  feedStreamMs?: number | undefined;
}

/** Everything the routes need, constructed by the entrypoint (or a test) and passed in explicitly. */
export interface AppDependencies {
  store: SiftStore;
  /** Indexes (BM25, vectors) and the searcher over them. */
  engine: Engine;
  /** The answer route's generator and settings; without them `…/answer` is not served. */
  answer?: AnswerDependencies | undefined;
  /** The personalised feed over the catalog; without it `/v1/users/…` is not served. */
  feed?: CatalogFeed | undefined;
  access: AccessDependencies;
  limits: LimitDependencies;
  logger: Logger;
  /** False until the entrypoint has loaded every collection's indexes. */
  indexesLoaded: () => boolean;
  /** True once a graceful shutdown began (readiness then fails, so load balancers stop sending). */
  draining?: (() => boolean) | undefined;
  /** Prometheus metrics, served at `/metrics`; none: not collected, not served. */
  metrics?: MetricsDependencies | undefined;
  /** The playground at `/`, the reference page at `/docs`, the eval report; none: API only. */
  pages?: PagesDependencies | undefined;
}

export interface MetricsDependencies {
  registry: ServiceMetrics;
  /**
   * `SIFT_METRICS_TOKEN`: the bearer token `/metrics` asks for. Unset: `/metrics` is open only when auth is
   * off (docs/security.md).
   */
  token?: string | undefined;
}

export type AppEnv = { Variables: { requestId: string; auth: RequestAuth } };

export function collectionNameOf(c: Context): string {
  const name = c.req.param("collection") ?? "";
  if (!namePattern.test(name)) {
    throw new ValidationError("invalid collection name", [{ path: "path.collection", message: nameMessage }]);
  }
  return name;
}

/**
 * The caller's collection named in the path, from the store (writes) or from the collections held in
 * memory (searches and answers: `HeldCollections`). Another tenant's collection of that name is simply not
 * found (404, never 403), so its existence does not leak.
 */
export async function resolveCollection(
  c: Context<AppEnv>,
  from: Pick<SiftStore, "getCollection">,
): Promise<Collection> {
  const { tenant } = c.get("auth");
  const name = collectionNameOf(c);
  const collection = await from.getCollection(tenant, name);
  if (collection === undefined) {
    throw new NotFoundError(
      "collection",
      name,
      `collection '${name}' does not exist; create it with PUT /v1/collections/${name}`,
    );
  }
  return collection;
}

/**
 * The retrieval mode and rerank flag of a request, checked against what the service can do: `mode`
 * defaults to `hybrid` with an embedding model (else `bm25`), `rerank` to `rerankDefault`; asking for a
 * leg or a stage the service lacks is a 400 naming the field.
 */
export function retrievalOf(
  searcher: Engine["searcher"],
  request: { mode?: "bm25" | "dense" | "hybrid" | undefined; rerank?: boolean | undefined },
  rerankDefault: boolean,
): { mode: "bm25" | "dense" | "hybrid"; rerank: boolean } {
  const mode = request.mode ?? (searcher.denseAvailable ? "hybrid" : "bm25");
  if (mode !== "bm25" && !searcher.denseAvailable) {
    throw new ValidationError("dense retrieval is not configured on this service", [
      { path: "mode", message: `'${mode}' needs an embedding model; this service has none (use 'bm25')` },
    ]);
  }
  if (request.rerank === true && !searcher.rerankAvailable) {
    throw new ValidationError("reranking is not configured on this service", [
      { path: "rerank", message: "this service has no reranker (see SIFT_RERANK_MODEL)" },
    ]);
  }
  return { mode, rerank: request.rerank ?? rerankDefault };
}

/**
 * The request's deadline: aborts when the client goes away or after `ms` (reason: a `TimeoutError`).
 * Pass it on as `signal`; `underDeadline` turns a failure caused by the time running out into a 504.
 */
export function requestDeadline(c: Context, ms: number): AbortSignal {
  return AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(ms)]);
}

/** Runs `work`; when it fails because `signal` timed out, throws `DeadlineExceededError` instead. */
export async function underDeadline<T>(
  signal: AbortSignal,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError") {
      throw new DeadlineExceededError(`${what} ran past the request's deadline`);
    }
    throw error;
  }
}
