import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UpstreamError } from "@sift/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHttpReranker, type HttpRerankerOptions } from "./http-reranker";
import { rerankerContract } from "./test-support";

/** Deterministic relevance for the test servers: how many query words the passage contains. */
const overlap = (query: string, passage: string) => {
  const words = new Set(passage.toLowerCase().match(/[a-z]+/g) ?? []);
  return (query.toLowerCase().match(/[a-z]+/g) ?? []).filter((word) => words.has(word)).length;
};

/** What the server does with the next request; when the script is empty it answers normally. */
type Step =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { destroy: true }
  | { delayMs: number }
  | { raw: unknown };

interface Received {
  url: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/**
 * A rerank server speaking one wire protocol exactly as the real ones do: TEI answers `POST /rerank` with a
 * bare array sorted by score (best first); vLLM answers `POST /v1/rerank` with `{id, model, usage, results}`,
 * results sorted by relevance and echoing each document. Error bodies follow each server's shape.
 */
function startServer(api: "tei" | "vllm") {
  const script: Step[] = [];
  const received: Received[] = [];
  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = api === "tei" ? "/rerank" : "/v1/rerank";
    if (request.method !== "POST" || request.url !== path) {
      return api === "tei"
        ? send(response, 404, { error: "not found", error_type: "Validation" })
        : send(response, 404, {
            object: "error",
            message: "Not Found",
            type: "NotFoundError",
            param: null,
            code: 404,
          });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    received.push({ url: request.url, authorization: request.headers.authorization, body });
    const step = script.shift();
    if (step && "destroy" in step) return request.socket.destroy();
    if (step && "status" in step) return send(response, step.status, step.body, step.headers);
    if (step && "raw" in step) return send(response, 200, step.raw);
    if (step && "delayMs" in step) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    if (api === "tei") {
      const texts = body.texts as string[];
      const scored = texts.map((text, index) => ({
        index,
        score: overlap(body.query as string, text) - 0.5,
      }));
      return send(
        response,
        200,
        scored.sort((a, b) => b.score - a.score),
      );
    }
    const documents = body.documents as string[];
    const results = documents
      .map((text, index) => ({
        index,
        document: { text },
        relevance_score: overlap(body.query as string, text) / 10,
      }))
      .sort((a, b) => b.relevance_score - a.relevance_score);
    send(response, 200, {
      id: "rerank-0123",
      model: body.model,
      usage: { total_tokens: documents.length * 12 },
      results,
    });
  });
  return { server, script, received };
}

const passages = [
  "the stock market fell on friday",
  "vaccines train the immune system against infection",
  "immune cells remember a pathogen after vaccination",
  "soil bacteria fix nitrogen",
  "the immune system and vaccines: how vaccines work",
];
const query = "how do vaccines train the immune system";
const expected = passages.map((p) => overlap(query, p));

for (const api of ["tei", "vllm"] as const) {
  describe(`HttpReranker against a local ${api} server`, () => {
    const served = startServer(api);
    let url: string;
    const reranker = (extra: Partial<HttpRerankerOptions> = {}) =>
      createHttpReranker({ url, api, model: "cross-encoder/test", retryDelayMs: 1, ...extra });

    beforeAll(async () => {
      await new Promise<void>((resolve) => served.server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => served.server.close(() => resolve())));
    beforeEach(() => {
      served.script.length = 0;
      served.received.length = 0;
    });

    rerankerContract(() => reranker({ batchSize: 2 }));

    it("returns one score per passage in input order although the server sorts by score", async () => {
      const scores = await reranker({ apiKey: "secret" }).score(query, passages);
      expect(scores).toEqual(api === "tei" ? expected.map((e) => e - 0.5) : expected.map((e) => e / 10));
      expect(served.received).toHaveLength(1);
      const [sent] = served.received;
      expect(sent!.authorization).toBe("Bearer secret");
      if (api === "tei") {
        expect(sent!.body).toEqual({
          query,
          texts: passages,
          raw_scores: true,
          truncate: true,
          return_text: false,
        });
      } else {
        expect(sent!.body).toEqual({ model: "cross-encoder/test", query, documents: passages });
      }
    });

    it("splits large inputs into batches and keeps the order across them", async () => {
      const scores = await reranker({ batchSize: 2 }).score(query, passages);
      expect(served.received.map((r) => ((r.body.texts ?? r.body.documents) as string[]).length)).toEqual([
        2, 2, 1,
      ]);
      expect(scores.map((s) => (api === "tei" ? s + 0.5 : Math.round(s * 10)))).toEqual(expected);
    });

    it("accepts a URL that already names the endpoint, and says nothing for no passages", async () => {
      const path = api === "tei" ? "/rerank" : "/v1/rerank";
      expect(await reranker({ url: `${url}${path}/` }).score(query, passages.slice(0, 1))).toHaveLength(1);
      expect(served.received[0]!.url).toBe(path);
      expect(await reranker().score(query, [])).toEqual([]);
      expect(served.received).toHaveLength(1);
    });

    it("retries a 429 after the server's retry-after, and a 503, then succeeds", async () => {
      served.script.push(
        api === "tei"
          ? {
              status: 429,
              body: { error: "Model is overloaded", error_type: "Overloaded" },
              headers: { "retry-after": "0" },
            }
          : {
              status: 429,
              body: { error: { message: "rate limited", type: "RateLimitError", code: 429 } },
              headers: { "retry-after": "0" },
            },
        {
          status: 503,
          body: api === "tei" ? { error: "unhealthy", error_type: "Unhealthy" } : "Service Unavailable",
        },
      );
      expect(await reranker().score(query, passages)).toHaveLength(passages.length);
      expect(served.received).toHaveLength(3);
    });

    it("gives up after maxRetries with a retryable UpstreamError carrying the vendor message", async () => {
      const body =
        api === "tei"
          ? { error: "Backend error: out of memory", error_type: "Backend" }
          : {
              object: "error",
              message: "CUDA out of memory",
              type: "InternalServerError",
              param: null,
              code: 500,
            };
      served.script.push({ status: 500, body }, { status: 500, body }, { status: 500, body });
      const failure = await reranker({ maxRetries: 2 })
        .score(query, passages)
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UpstreamError);
      expect((failure as UpstreamError).isRetryable).toBe(true);
      expect((failure as Error).message).toBe(
        `rerank server answered 500: ${api === "tei" ? "Backend error: out of memory" : "CUDA out of memory"}`,
      );
      expect(served.received).toHaveLength(3);
    });

    it("does not retry a client error, and names it", async () => {
      served.script.push(
        api === "tei"
          ? {
              status: 422,
              body: { error: "batch size 40 > maximum allowed batch size 32", error_type: "Validation" },
            }
          : {
              status: 400,
              body: {
                error: {
                  message: "documents must not be empty",
                  type: "BadRequestError",
                  param: null,
                  code: 400,
                },
              },
            },
      );
      const failure = await reranker()
        .score(query, passages)
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UpstreamError);
      expect((failure as UpstreamError).isRetryable).toBe(false);
      expect((failure as Error).message).toMatch(
        api === "tei" ? /422: batch size 40 > maximum/ : /400: documents must not be empty/,
      );
      expect(served.received).toHaveLength(1);
    });

    it("rejects malformed, incomplete and stray-index responses", async () => {
      const good = api === "tei" ? [{ index: 0, score: 1 }] : { results: [{ index: 0, relevance_score: 1 }] };
      served.script.push({ raw: { unexpected: true } });
      await expect(reranker().score(query, ["a"])).rejects.toThrow(/malformed/);
      served.script.push({ raw: good });
      await expect(reranker().score(query, ["a", "b"])).rejects.toThrow(/scored 1 of 2/);
      served.script.push({
        raw: api === "tei" ? [{ index: 3, score: 1 }] : { results: [{ index: 3, relevance_score: 1 }] },
      });
      await expect(reranker().score(query, ["a"])).rejects.toThrow(/stray or repeated index 3/);
    });

    it("times out per attempt and retries a dropped connection", async () => {
      served.script.push({ delayMs: 300 });
      const failure = await reranker({ timeoutMs: 50, maxRetries: 0 })
        .score(query, passages)
        .catch((e: unknown) => e);
      expect((failure as Error).message).toBe("rerank server did not answer within 50 ms");
      served.script.length = 0;
      served.script.push({ destroy: true });
      expect(await reranker().score(query, passages)).toHaveLength(passages.length);
    });

    it("stops at once when the caller aborts", async () => {
      served.script.push({ delayMs: 300 });
      const controller = new AbortController();
      const pending = reranker().score(query, passages, controller.signal);
      setTimeout(() => controller.abort(new Error("caller gave up")), 20);
      await expect(pending).rejects.toThrow("caller gave up");
    });
  });
}

describe("HttpReranker identity", () => {
  it("names protocol, model and endpoint in its id", () => {
    expect(createHttpReranker({ url: "http://tei:8080/", api: "tei" }).id).toBe(
      "http:tei:-@http://tei:8080/rerank",
    );
    expect(
      createHttpReranker({ url: "http://vllm:8000", api: "vllm", model: "BAAI/bge-reranker-v2-m3" }).id,
    ).toBe("http:vllm:BAAI/bge-reranker-v2-m3@http://vllm:8000/v1/rerank");
    expect(createHttpReranker({ url: "http://tei:8080", api: "tei", rawScores: false }).id).toMatch(
      /:sigmoid$/,
    );
  });
});
