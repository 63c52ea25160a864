/**
 * Regression tests for the probes of issue 10 (an attacker's view of the service) and the limits that
 * answer them. Their timings are printed by `services/api/bench/probes.ts`; here only outcomes count.
 */

import { ConcurrencyGate } from "@sift/access";
import type { GenerateRequest, Generator, GeneratorEvent } from "@sift/answer";
import { type Embedder, type Logger, UpstreamError } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorBodySchema } from "./schemas";
import { createTestApp } from "./test-support";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** `n` `in` clauses of `values` numbers each (the 421 KB probe is 60 × ~1,000). */
const inClauses = (n: number, values: number) => ({
  and: Array.from({ length: n }, (_, i) => ({
    field: `f${i}`,
    in: Array.from({ length: values }, (_, j) => j * 7919),
  })),
});

const nested = (depth: number, leaf: unknown, key: string) => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { [key]: key === "and" ? [value] : value };
  return value;
};

function recordingLogger() {
  const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error(message, fields) {
      errors.push({ message, ...(fields === undefined ? {} : { fields }) });
    },
  };
  return { logger, errors };
}

describe("input limits (the issue's probes)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ maxBodyBytes: 16 * 1024 * 1024 });
    await t.call("PUT", "/v1/collections/big");
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `d${i}`,
      text: `chunk ${i} about prices and supply`,
      metadata: { f0: (i % 50) * 7919, desk: i % 2 === 0 ? "energy" : "macro" },
    }));
    expect((await t.call("POST", "/v1/collections/big/documents", { documents })).status).toBe(200);
  });
  afterAll(async () => t.close());

  it("refuses the 421 KB filter of 60 `in` clauses at the body limit (413), and by the value cap when it fits", async () => {
    const probe = { query: "prices", filter: inClauses(60, 1000) };
    expect(JSON.stringify(probe).length).toBeGreaterThan(400_000);
    const refused = await t.call("POST", "/v1/collections/big/search", probe);
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe("payload_too_large");
    // Small enough for the body limit, still over the 1,024-value cap: 400 naming the filter.
    const capped = await t.call("POST", "/v1/collections/big/search", {
      query: "prices",
      filter: inClauses(60, 20),
    });
    expect(capped.status).toBe(400);
    expect(capped.body.error.fields).toEqual([
      { path: "filter", message: expect.stringContaining("1024 values") },
    ]);
  });

  it("answers the largest filter the caps allow over 1,000 chunks", async () => {
    const filter = inClauses(1, 1000);
    const res = await t.call("POST", "/v1/collections/big/search", { query: "prices", k: 5, filter });
    expect(res.status).toBe(200);
    expect(res.body.hits).toHaveLength(5);
  });

  it("refuses the 8.9 MB valid and 2.9 MB invalid filters with a small 413, never a 15 MB error body", async () => {
    const valid = JSON.stringify({ query: "x", filter: inClauses(12_000, 100) });
    const invalid = JSON.stringify({
      query: "x",
      filter: { and: Array.from({ length: 100_000 }, () => ({ field: "f", bogus: [1, 2, 3] })) },
    });
    expect(valid.length).toBeGreaterThan(8_000_000);
    expect(invalid.length).toBeGreaterThan(2_500_000);
    for (const body of [valid, invalid]) {
      const res = await t.call("POST", "/v1/collections/big/search", body);
      expect(res.status).toBe(413);
      expect(res.text.length).toBeLessThan(1000);
    }
  });

  it("lists at most 20 field errors, even for a body with thousands", async () => {
    const documents = Array.from({ length: 500 }, () => ({ id: "", text: 1, unknown: true }));
    const res = await t.call("POST", "/v1/collections/big/documents", { documents });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveLength(20);
    expect(res.body.error.message).toMatch(/the first 20 of \d+ field errors/);
    expect(res.text.length).toBeLessThan(5000);
  });

  it("answers `and` nested 1,000 deep and metadata nested 2,000 deep with 400, not 500", async () => {
    const deepFilter = nested(1000, { field: "a", eq: 1 }, "and");
    const filter = await t.call("POST", "/v1/collections/big/search", { query: "x", filter: deepFilter });
    expect(filter.status).toBe(400);
    expect(filter.body.error.fields[0].message).toContain("at most 8 levels");
    const deepMetadata = nested(2000, 1, "x");
    const write = await t.call("POST", "/v1/collections/big/documents", {
      documents: [{ id: "deep", text: "t", metadata: { x: deepMetadata } }],
    });
    expect(write.status).toBe(400);
    expect(write.body.error.fields[0]).toEqual({
      path: `documents.0.metadata${".x".repeat(32)}`,
      message: "nested deeper than 32 levels",
    });
    // JSON nested 30,000 deep parses (V8's parser is iterative) and is refused by the depth check.
    const brackets = `{"query":"x","mode":${"[".repeat(30_000)}${"]".repeat(30_000)}}`;
    expect((await t.call("POST", "/v1/collections/big/search", brackets)).status).toBe(400);
    // A body nested 5,000 deep anywhere else is refused the same way.
    const settings = `{"settings":${'{"s":'.repeat(5000)}1${"}".repeat(5000)}}`;
    const anywhere = await t.call("PUT", "/v1/collections/deep", settings);
    expect(anywhere.status).toBe(400);
  });

  it("answers a lone surrogate in an id, a text, a metadata key or a query with 400 naming the field", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      [
        "POST",
        "/v1/collections/big/documents",
        { documents: [{ id: "bad\ud800", text: "t" }] },
        "documents.0.id",
      ],
      [
        "POST",
        "/v1/collections/big/documents",
        { documents: [{ id: "ok", text: "x\udfff" }] },
        "documents.0.text",
      ],
      [
        "POST",
        "/v1/collections/big/documents",
        { documents: [{ id: "ok", text: "t", metadata: { "k\ud83d": 1 } }] },
        "documents.0.metadata.k\ud83d",
      ],
      ["POST", "/v1/collections/big/search", { query: "prices \udc00" }, "query"],
    ];
    for (const [method, path, body, field] of cases) {
      // JSON.stringify escapes lone surrogates (\ud800), so the bytes on the wire are valid UTF-8.
      const res = await t.call(method, path, body);
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0]).toEqual({
        path: field,
        message: expect.stringContaining("lone surrogate"),
      });
    }
    const inPath = await t.call("GET", "/v1/collections/big/documents/%ED%A0%80");
    expect(inPath.status).not.toBe(500);
    expect(inPath.status).not.toBe(502);
  });

  it("keeps the small body limit for search and answer and the large one for document batches", async () => {
    const text = "word ".repeat(20_000); // 100 KB
    expect(
      (
        await t.call("POST", "/v1/collections/big/search", {
          query: text.slice(0, 4000),
          filter: { field: "n", eq: text },
        })
      ).status,
    ).toBe(413);
    expect(
      (
        await t.call("POST", "/v1/collections/big/answer", {
          question: "q",
          filter: { field: "n", eq: text },
        })
      ).status,
    ).toBe(413);
    const batch = await t.call("POST", "/v1/collections/big/documents", {
      documents: [{ id: "long", text }],
    });
    expect(batch.status).toBe(200);
  });
});

describe("errors never carry driver text or server paths", () => {
  it("answers 500 and 502 with a generic message and the request id, and logs the stack under that id", async () => {
    const { logger, errors } = recordingLogger();
    const t = await createTestApp({ logger });
    try {
      const store = t.store as unknown as Record<string, unknown>;
      store.listCollections = async () => {
        throw new Error("ENOENT: no such file or directory, open '/srv/sift/data/lexical/7/manifest.bm25'");
      };
      store.getCollection = async () => {
        throw new UpstreamError(
          'postgres: getCollection failed: relation "collections" does not exist',
          "postgres",
        );
      };
      const bug = await t.call("GET", "/v1/collections");
      expect(bug.status).toBe(500);
      const upstream = await t.call("GET", "/v1/collections/x");
      expect(upstream.status).toBe(502);
      for (const res of [bug, upstream]) {
        const body = errorBodySchema.parse(res.body);
        expect(res.text).not.toMatch(/\/srv|relation|postgres|ENOENT/);
        expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
        const logged = errors.find((e) => e.fields?.requestId === body.error.requestId);
        expect(logged?.fields?.error).toMatch(/(ENOENT|relation)[\s\S]*\n\s+at /);
      }
    } finally {
      await t.close();
    }
  });
});

/** A generator that writes until it is aborted (or its budget of `ms` runs out). */
function slowGenerator(ms: number): Generator {
  return {
    id: "test/slow",
    kind: "openai",
    async *generate(request: GenerateRequest): AsyncGenerator<GeneratorEvent> {
      const started = Date.now();
      while (!request.signal?.aborted && Date.now() - started < ms) {
        yield { type: "delta", text: "word " };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      yield {
        type: "done",
        finishReason: request.signal?.aborted ? "cancelled" : "stop",
        usage: { promptTokens: 1, completionTokens: 1 },
        timings: { firstTokenMs: 0, totalMs: Date.now() - started },
      };
    },
  };
}

/** An embedder whose query embedding never finishes before its signal aborts. */
function stuckEmbedder(): Embedder {
  const { embedder } = bagOfWordsEmbedder();
  return {
    profile: embedder.profile,
    embed: (options) =>
      options.kind === "passage"
        ? embedder.embed(options)
        : new Promise((_, reject) => {
            options.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true });
          }),
  };
}

describe("concurrency, quotas and deadlines", () => {
  it("runs one answer at a time with no queue: the second concurrent one gets 503 with Retry-After", async () => {
    const t = await createTestApp({
      answer: {
        generator: slowGenerator(1500),
        gate: new ConcurrencyGate({ concurrency: 1, queue: 0, retryAfterSeconds: 3 }),
      },
    });
    try {
      await t.call("PUT", "/v1/collections/c");
      await t.call("POST", "/v1/collections/c/documents", {
        documents: [{ id: "a", text: "The moon raises tides." }],
      });
      const first = t.call("POST", "/v1/collections/c/answer", { question: "what raises tides?" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await t.call("POST", "/v1/collections/c/answer", { question: "what raises tides?" });
      expect(second.status).toBe(503);
      expect(second.headers.get("retry-after")).toBe("3");
      expect(second.body.error.code).toBe("overloaded");
      expect((await first).status).toBe(200);
      // The slot is free again.
      expect((await t.call("POST", "/v1/collections/c/answer", { question: "tides?" })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("caps a tenant's collections with 403 quota_exceeded", async () => {
    const t = await createTestApp({ maxCollectionsPerTenant: 2 });
    try {
      expect((await t.call("PUT", "/v1/collections/a")).status).toBe(201);
      expect((await t.call("PUT", "/v1/collections/b")).status).toBe(201);
      const third = await t.call("PUT", "/v1/collections/c");
      expect(third.status).toBe(403);
      expect(third.body.error.code).toBe("quota_exceeded");
      expect((await t.call("PUT", "/v1/collections/a")).status).toBe(200);
      expect((await t.call("PUT", "/v1/collections/c", undefined, { "x-sift-tenant": "other" })).status).toBe(
        201,
      );
    } finally {
      await t.close();
    }
  });

  it("passes the request's deadline to the legs: a stuck dense leg is named in degraded, alone it is a 504", async () => {
    const t = await createTestApp({ embedder: stuckEmbedder(), requestTimeoutMs: 300 });
    try {
      await t.call("PUT", "/v1/collections/c");
      await t.call("POST", "/v1/collections/c/documents", { documents: [{ id: "a", text: "prices rose" }] });
      const hybrid = await t.call("POST", "/v1/collections/c/search", { query: "prices", mode: "hybrid" });
      expect(hybrid.status).toBe(200);
      expect(hybrid.body.degraded).toEqual(["dense"]);
      expect(hybrid.body.hits[0].documentId).toBe("a");
      const dense = await t.call("POST", "/v1/collections/c/search", { query: "prices", mode: "dense" });
      expect(dense.status).toBe(504);
      expect(dense.body.error.code).toBe("deadline_exceeded");
    } finally {
      await t.close();
    }
  });
});
