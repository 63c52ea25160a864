import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { QdrantClient } from "@qdrant/js-client-rest";
import { type Filter, SiftError, UpstreamError } from "@sift/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toQdrantCondition, toQdrantFilter } from "./qdrant-filter";
import { createQdrantVectorIndex, type QdrantVectorIndex, sparseUpsertBody } from "./qdrant-vector-index";
import { describeVectorIndexContract } from "./vector-index-contract";

interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Reply = { status: number; body: unknown } | "hang-up";

/**
 * A local HTTP server standing in for Qdrant's REST API: it records every request and answers with the
 * response documents Qdrant documents (`{"result": ..., "status": "ok", "time": ...}`, errors as
 * `{"status": {"error": "..."}, "time": ...}`). The real QdrantClient talks to it over HTTP.
 */
class RecordingQdrant {
  readonly requests: RecordedRequest[] = [];
  #server: Server | undefined;
  #routes: Array<{ method: string; pattern: RegExp; reply: (request: RecordedRequest) => Reply }> = [];

  on(method: string, pattern: RegExp, reply: (request: RecordedRequest) => Reply): void {
    this.#routes.unshift({ method, pattern, reply });
  }

  reset(): void {
    this.requests.length = 0;
    this.#routes = [];
  }

  async start(): Promise<string> {
    this.#server = createServer((request, response) => void this.#handle(request, response));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? "/", "http://localhost");
    const text = Buffer.concat(chunks).toString("utf8");
    const recorded: RecordedRequest = {
      method: request.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text.length > 0 ? JSON.parse(text) : undefined,
    };
    this.requests.push(recorded);
    const route = this.#routes.find((r) => r.method === recorded.method && r.pattern.test(recorded.path));
    const reply: Reply = route?.reply(recorded) ?? {
      status: 404,
      body: { status: { error: `Not found: no route for ${recorded.method} ${recorded.path}` }, time: 0 },
    };
    if (reply === "hang-up") {
      request.socket.destroy();
      return;
    }
    response.writeHead(reply.status, { "content-type": "application/json" });
    response.end(JSON.stringify(reply.body));
  }
}

const ok = (result: unknown): Reply => ({ status: 200, body: { result, status: "ok", time: 0.001 } });
const failure = (status: number, error: string): Reply => ({
  status,
  body: { status: { error }, time: 0.0002 },
});
const completed = (operationId = 1) => ok({ operation_id: operationId, status: "completed" });

describe("Qdrant filter translation", () => {
  const cases: Array<[string, Filter, unknown]> = [
    ["eq keyword", { field: "lang", eq: "en" }, { key: "metadata.lang", match: { value: "en" } }],
    ["eq integer", { field: "year", eq: 2020 }, { key: "metadata.year", match: { value: 2020 } }],
    ["eq boolean", { field: "draft", eq: false }, { key: "metadata.draft", match: { value: false } }],
    ["eq float", { field: "score", eq: 0.5 }, { key: "metadata.score", range: { gte: 0.5, lte: 0.5 } }],
    ["eq null", { field: "owner", eq: null }, { is_null: { key: "metadata.owner" } }],
    ["in keywords", { field: "tag", in: ["a", "b"] }, { key: "metadata.tag", match: { any: ["a", "b"] } }],
    [
      "in integers",
      { field: "year", in: [2019, 2020] },
      { key: "metadata.year", match: { any: [2019, 2020] } },
    ],
    [
      "in mixed",
      { field: "v", in: ["a", 1.5, true] },
      {
        should: [
          { key: "metadata.v", match: { value: "a" } },
          { key: "metadata.v", range: { gte: 1.5, lte: 1.5 } },
          { key: "metadata.v", match: { value: true } },
        ],
      },
    ],
    [
      "numeric range",
      { field: "year", gte: 2019, lt: 2023 },
      { key: "metadata.year", range: { gte: 2019, lt: 2023 } },
    ],
    [
      "datetime range (normalised to RFC 3339 instants)",
      { field: "published", gt: "2024-01-01", lte: "2024-06-30T12:00:00+02:00" },
      {
        key: "metadata.published",
        range: { gt: "2024-01-01T00:00:00.000Z", lte: "2024-06-30T10:00:00.000Z" },
      },
    ],
    [
      "nested field",
      { field: "source.kind", eq: "pdf" },
      { key: "metadata.source.kind", match: { value: "pdf" } },
    ],
    [
      "and / or / not",
      {
        and: [
          {
            or: [
              { field: "a", eq: 1 },
              { field: "b", eq: 2 },
            ],
          },
          { not: { field: "c", eq: "x" } },
        ],
      },
      {
        must: [
          {
            should: [
              { key: "metadata.a", match: { value: 1 } },
              { key: "metadata.b", match: { value: 2 } },
            ],
          },
          { must_not: [{ key: "metadata.c", match: { value: "x" } }] },
        ],
      },
    ],
  ];
  for (const [label, filter, want] of cases) {
    it(label, () => expect(toQdrantCondition(filter)).toEqual(want));
  }

  it("always scopes by tenant and collection", () => {
    expect(toQdrantFilter({ tenant: "acme", collectionId: 7 }, undefined)).toEqual({
      must: [
        { key: "tenant", match: { value: "acme" } },
        { key: "collection_id", match: { value: 7 } },
      ],
    });
    expect(
      toQdrantFilter({ tenant: "acme", collectionId: 7 }, { field: "lang", eq: "en" }).must,
    ).toHaveLength(3);
  });
});

describe("QdrantVectorIndex request bodies and responses (local HTTP server)", () => {
  const server = new RecordingQdrant();
  let client: QdrantClient;
  let index: QdrantVectorIndex;
  const collection = "sift_chunks";
  const base = `/collections/${collection}`;

  beforeAll(async () => {
    const url = await server.start();
    client = new QdrantClient({ url, checkCompatibility: false, timeout: 2000 });
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.reset();
    index = createQdrantVectorIndex({
      client,
      collection,
      tenant: "acme",
      collectionId: 7,
      dimensions: 3,
      batchSize: 2,
    });
  });

  it("ensureCollection creates the collection and its payload indexes", async () => {
    server.on("GET", /\/exists$/, () => ok({ exists: false }));
    server.on("PUT", new RegExp(`^${base}$`), () => ok(true));
    server.on("PUT", /\/index$/, () => completed());
    await index.ensureCollection({
      sparse: true,
      filterFields: [
        { field: "lang", type: "keyword" },
        { field: "score", type: "float" },
        { field: "published", type: "datetime" },
      ],
    });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${base}/exists`,
      `PUT ${base}`,
      `PUT ${base}/index`,
      `PUT ${base}/index`,
      `PUT ${base}/index`,
      `PUT ${base}/index`,
      `PUT ${base}/index`,
    ]);
    expect(server.requests[1]!.body).toEqual({
      vectors: { size: 3, distance: "Cosine" },
      sparse_vectors: { bm25: { modifier: "idf" } },
    });
    expect(server.requests.slice(2).map((r) => r.body)).toEqual([
      { field_name: "tenant", field_schema: { type: "keyword", is_tenant: true } },
      { field_name: "collection_id", field_schema: "integer" },
      { field_name: "metadata.lang", field_schema: "keyword" },
      { field_name: "metadata.score", field_schema: "float" },
      { field_name: "metadata.published", field_schema: "datetime" },
    ]);
    expect(server.requests[2]!.query).toMatchObject({ wait: "true" });
  });

  it("ensureCollection on an existing collection checks its vector config", async () => {
    const info = (size: number) =>
      ok({
        status: "green",
        optimizer_status: "ok",
        segments_count: 1,
        config: {
          params: { vectors: { size, distance: "Cosine" }, shard_number: 1, replication_factor: 1 },
          hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
          optimizer_config: {},
          wal_config: {},
        },
        payload_schema: {},
      });
    server.on("GET", /\/exists$/, () => ok({ exists: true }));
    server.on("GET", new RegExp(`^${base}$`), () => info(3));
    server.on("PUT", /\/index$/, () => completed());
    await index.ensureCollection();
    expect(server.requests.some((r) => r.method === "PUT" && r.path === base)).toBe(false);
    server.on("GET", new RegExp(`^${base}$`), () => info(384));
    const error = await index.ensureCollection().catch((e: unknown) => e);
    expect(SiftError.is(error) && error.code).toBe("conflict");
    expect((error as Error).message).toContain("not 3-d Cosine");
  });

  it("upsert sends batches with wait=true, point id = chunk id, payload {tenant, collection_id, metadata}", async () => {
    server.on("PUT", /\/points$/, () => completed());
    await index.upsert([
      { chunkId: 1, vector: Float32Array.of(1, 0, 0), metadata: { lang: "en" } },
      { chunkId: 2, vector: Float32Array.of(0, 0.5, 0), metadata: {} },
      { chunkId: 2 ** 40, vector: Float32Array.of(0, 0, 1), metadata: { tags: ["a"] } },
    ]);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]).toMatchObject({
      method: "PUT",
      path: `${base}/points`,
      query: { wait: "true" },
    });
    expect(server.requests[0]!.body).toEqual({
      points: [
        { id: 1, vector: [1, 0, 0], payload: { tenant: "acme", collection_id: 7, metadata: { lang: "en" } } },
        { id: 2, vector: [0, 0.5, 0], payload: { tenant: "acme", collection_id: 7, metadata: {} } },
      ],
    });
    expect(server.requests[1]!.body).toEqual({
      points: [
        {
          id: 2 ** 40,
          vector: [0, 0, 1],
          payload: { tenant: "acme", collection_id: 7, metadata: { tags: ["a"] } },
        },
      ],
    });
  });

  it("upsert validates before sending anything", async () => {
    const error = await index
      .upsert([{ chunkId: 1, vector: Float32Array.of(1, 0), metadata: {} }])
      .catch((e: unknown) => e);
    expect(SiftError.is(error) && error.code).toBe("invalid_request");
    expect(server.requests).toHaveLength(0);
  });

  it("delete is scoped by tenant and collection", async () => {
    server.on("POST", /\/points\/delete$/, () => completed());
    await index.delete([5, 6, 5]);
    expect(server.requests[0]).toMatchObject({ path: `${base}/points/delete`, query: { wait: "true" } });
    expect(server.requests[0]!.body).toEqual({
      filter: {
        must: [
          { key: "tenant", match: { value: "acme" } },
          { key: "collection_id", match: { value: 7 } },
          { has_id: [5, 6] },
        ],
      },
    });
  });

  it("search sends a query without payload, with the scoped filter and params, and orders the answer", async () => {
    server.on("POST", /\/points\/query$/, () =>
      ok({
        points: [
          { id: 9, version: 3, score: 0.5 },
          { id: 4, version: 3, score: 0.75 },
          { id: 2, version: 1, score: 0.5 },
        ],
      }),
    );
    const { hits, warnings } = await index.search({
      vector: Float32Array.of(0.1, 0.2, 0.3),
      limit: 3,
      filter: { field: "lang", in: ["en", "de"] },
    });
    expect(hits).toEqual([
      { chunkId: 4, score: 0.75 },
      { chunkId: 2, score: 0.5 },
      { chunkId: 9, score: 0.5 },
    ]);
    expect(warnings).toEqual([]);
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(server.requests[0]!.path).toBe(`${base}/points/query`);
    expect(body).toMatchObject({
      limit: 3,
      with_payload: false,
      with_vector: false,
      params: { hnsw_ef: 128, exact: false },
      filter: {
        must: [
          { key: "tenant", match: { value: "acme" } },
          { key: "collection_id", match: { value: 7 } },
          { key: "metadata.lang", match: { any: ["en", "de"] } },
        ],
      },
    });
    for (const [i, v] of (body.query as number[]).entries()) expect(v).toBeCloseTo([0.1, 0.2, 0.3][i]!, 6);
  });

  it("count is exact and scoped", async () => {
    server.on("POST", /\/points\/count$/, () => ok({ count: 42 }));
    expect(await index.count()).toBe(42);
    expect(server.requests[0]!.body).toEqual({
      exact: true,
      filter: toQdrantFilter({ tenant: "acme", collectionId: 7 }, undefined),
    });
  });

  it("sparse upsert body and request", async () => {
    expect(sparseUpsertBody([{ chunkId: 3, sparse: { indices: [1, 9], values: [2, 1] } }])).toEqual({
      points: [{ id: 3, vector: { bm25: { indices: [1, 9], values: [2, 1] } } }],
    });
    server.on("PUT", /\/points\/vectors$/, () => completed());
    await index.upsertSparse([
      { chunkId: 3, sparse: { indices: [1], values: [1] } },
      { chunkId: 4, sparse: { indices: [2], values: [1] } },
      { chunkId: 5, sparse: { indices: [3], values: [1] } },
    ]);
    expect(server.requests.map((r) => [r.method, r.path, r.query.wait])).toEqual([
      ["PUT", `${base}/points/vectors`, "true"],
      ["PUT", `${base}/points/vectors`, "true"],
    ]);
  });

  describe("errors keep their kind and their cause", () => {
    for (const [status, retryable] of [
      [400, false],
      [404, false],
      [500, true],
    ] as const) {
      it(`${status} → UpstreamError (retryable: ${retryable}) with Qdrant's message`, async () => {
        const message =
          status === 404
            ? `Not found: Collection \`${collection}\` doesn't exist!`
            : `Wrong input: status ${status}`;
        server.on("POST", /\/points\/query$/, () => failure(status, message));
        const error = await index
          .search({ vector: Float32Array.of(1, 0, 0), limit: 1 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamError);
        const upstream = error as UpstreamError;
        expect(upstream.isRetryable).toBe(retryable);
        expect(upstream.upstream).toBe("qdrant");
        expect(upstream.message).toContain(message);
        expect(upstream.message).toContain(String(status));
        expect(upstream.cause).toMatchObject({ status });
      });
    }

    it("a connection failure is UnavailableError, not a missing collection", async () => {
      server.on("POST", /\/points\/count$/, () => "hang-up");
      const error = await index.count().catch((e: unknown) => e);
      expect(SiftError.is(error) && error.code).toBe("unavailable");
      expect((error as SiftError).isRetryable).toBe(true);
      expect((error as Error).cause).toBeDefined();
    });

    it("a closed index refuses calls without sending requests", async () => {
      await index.close();
      const error = await index.count().catch((e: unknown) => e);
      expect(SiftError.is(error) && error.code).toBe("unavailable");
      expect(server.requests).toHaveLength(0);
    });
  });
});

// The same contract suite as the embedded index, against a real Qdrant when one is configured.
const qdrantUrl = process.env.QDRANT_URL;
if (qdrantUrl === undefined || qdrantUrl === "") {
  const reason =
    "QDRANT_URL is not set (e.g. QDRANT_URL=http://localhost:6333 with `docker run -p 6333:6333 qdrant/qdrant`)";
  console.warn(`skipping "VectorIndex contract: qdrant": ${reason}`);
  describe.skip(`VectorIndex contract: qdrant [skipped: ${reason}]`, () => {
    it("runs against a real Qdrant", () => {});
  });
} else {
  const client = new QdrantClient({
    url: qdrantUrl,
    ...(process.env.QDRANT_API_KEY ? { apiKey: process.env.QDRANT_API_KEY } : {}),
  });
  describeVectorIndexContract(
    "qdrant",
    async ({ dimensions }) => {
      // A Qdrant collection per subject, so that every subject starts empty and can be dropped afterwards.
      const options = {
        client,
        collection: `sift_contract_${randomUUID().slice(0, 8)}`,
        tenant: "contract",
        collectionId: 1,
        dimensions,
        hnswEf: 256,
      };
      const index = createQdrantVectorIndex(options);
      await index.ensureCollection({ filterFields: [{ field: "lang", type: "keyword" }] });
      return {
        index,
        reopen: async () => createQdrantVectorIndex(options),
        dispose: async () => {
          await client.deleteCollection(options.collection).catch(() => {});
        },
      };
    },
    { minRecall: 0.9 },
  );
}
