import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type EmbeddingModelProfile, UpstreamError } from "@sift/core";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import {
  createOpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedderOptions,
} from "./openai-compatible-embedder";
import { defaultEmbeddingEntry, describeWithModels, modelStore } from "./test-support";
import { createTransformersEmbedder, type TransformersEmbedder } from "./transformers-embedder";

/** What the server does with the next request; when the script is empty it answers normally. */
type Step =
  | { error: number; body: unknown; headers?: Record<string, string> }
  | { destroy: true }
  | { delayMs: number }
  | { transform: (vectors: number[][]) => unknown };

interface Received {
  authorization: string | undefined;
  body: { model: string; input: string[]; encoding_format: string };
}

/**
 * An embeddings server speaking the OpenAI wire format (as TEI and vLLM do), computing vectors with the real
 * in-process model: responses list `data` in reverse order and carry the extra fields OpenAI sends.
 */
function startServer(model: TransformersEmbedder) {
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
    if (request.method !== "POST" || request.url !== "/v1/embeddings") {
      return send(response, 404, {
        error: { message: "not found", type: "invalid_request_error", code: null },
      });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Received["body"];
    received.push({ authorization: request.headers.authorization, body });
    const step = script.shift();
    if (step && "destroy" in step) return request.socket.destroy();
    if (step && "error" in step) return send(response, step.error, step.body, step.headers);
    if (step && "delayMs" in step) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    const { embeddings } = await model.embed({ texts: body.input, kind: "passage" });
    const vectors = embeddings.map((vector) => [...vector]);
    const data =
      step && "transform" in step
        ? step.transform(vectors)
        : vectors.map((embedding, index) => ({ object: "embedding", index, embedding })).reverse();
    send(response, 200, {
      object: "list",
      data,
      model: body.model,
      usage: { prompt_tokens: body.input.length * 4, total_tokens: body.input.length * 4 },
    });
  });
  return { server, script, received };
}

describeWithModels("OpenAICompatibleEmbedder against a local OpenAI-protocol server", () => {
  let model: TransformersEmbedder;
  let profile: EmbeddingModelProfile;
  let served: ReturnType<typeof startServer>;
  let baseUrl: string;

  beforeAll(async () => {
    profile = (await defaultEmbeddingEntry()).profile;
    model = createTransformersEmbedder({ profile, modelStore });
    served = startServer(model);
    await new Promise<void>((resolve) => served.server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => served.server.close(resolve)));
  beforeEach(() => {
    served.script.length = 0;
    served.received.length = 0;
  });

  const client = (options: Partial<OpenAICompatibleEmbedderOptions> = {}) =>
    createOpenAICompatibleEmbedder({ profile, baseUrl, model: "all-minilm", retryDelayMs: 10, ...options });

  it("sends the documented request, batches, applies prefixes and restores order by index", async () => {
    const e5 = { ...profile, queryPrefix: "query: ", passagePrefix: "passage: " };
    const texts = ["first text", "second", "a third, longer text", "four", "five"];
    const result = await client({ profile: e5, apiKey: "sk-test", batchSize: 2 }).embed({
      texts,
      kind: "query",
    });
    expect(served.received.map((each) => each.body.input)).toEqual([
      ["query: first text", "query: second"],
      ["query: a third, longer text", "query: four"],
      ["query: five"],
    ]);
    expect(served.received[0]).toEqual({
      authorization: "Bearer sk-test",
      body: { model: "all-minilm", input: ["query: first text", "query: second"], encoding_format: "float" },
    });
    const local = await model.embed({ texts: texts.map((text) => `query: ${text}`), kind: "passage" });
    expect(result).toEqual({ embeddings: local.embeddings, warnings: [] });
  });

  it("makes no request for no input", async () => {
    expect(await client().embed({ texts: [], kind: "passage" })).toEqual({ embeddings: [], warnings: [] });
    expect(served.received).toHaveLength(0);
  });

  it("waits as long as a 429's retry-after says, then succeeds", async () => {
    served.script.push({
      error: 429,
      headers: { "retry-after": "1" },
      body: {
        error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
      },
    });
    const started = performance.now();
    const result = await client().embed({ texts: ["x"], kind: "passage" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.embeddings).toHaveLength(1);
    expect(served.received).toHaveLength(2);
  });

  it("retries 5xx responses and dropped connections with backoff", async () => {
    served.script.push(
      { error: 500, body: { error: { message: "internal", type: "server_error", code: null } } },
      { destroy: true },
      { error: 503, body: { error: "Model is overloaded", error_type: "overloaded" } },
    );
    expect((await client().embed({ texts: ["x"], kind: "passage" })).embeddings).toHaveLength(1);
    expect(served.received).toHaveLength(4);
  });

  it("gives up after maxRetries with a retryable UpstreamError holding the vendor body", async () => {
    const body = { error: "Model is overloaded", error_type: "overloaded" };
    served.script.push({ error: 503, body }, { error: 503, body }, { error: 503, body });
    const failure = await client({ maxRetries: 2 })
      .embed({ texts: ["x"], kind: "passage" })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure).toMatchObject({
      isRetryable: true,
      message: "embedding server answered 503: Model is overloaded",
    });
    expect((failure as Error).cause).toEqual(body);
    expect(served.received).toHaveLength(3);
  });

  it("does not retry a client error and keeps the OpenAI error body as cause", async () => {
    const body = {
      error: {
        message: "This model's maximum context length is 8192 tokens",
        type: "invalid_request_error",
        param: null,
        code: "context_length_exceeded",
      },
    };
    served.script.push({ error: 400, body });
    const failure = await client()
      .embed({ texts: ["x"], kind: "passage" })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ isRetryable: false, upstream: `embeddings ${baseUrl}v1/embeddings` });
    expect((failure as Error).message).toContain("400: This model's maximum context length is 8192 tokens");
    expect((failure as Error).cause).toEqual(body);
    expect(served.received).toHaveLength(1);
  });

  it("times out each attempt", async () => {
    served.script.push({ delayMs: 400 });
    const failure = await client({ timeoutMs: 100, maxRetries: 0 })
      .embed({ texts: ["x"], kind: "passage" })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({
      isRetryable: true,
      message: "embedding server did not answer within 100 ms",
    });
  });

  it("reports an unreachable server as a retryable UpstreamError with the socket error as cause", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const failure = await client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 })
      .embed({ texts: ["x"], kind: "passage" })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure).toMatchObject({ isRetryable: true, message: "embedding server unreachable" });
    expect((failure as Error).cause).toMatchObject({ cause: { code: "ECONNREFUSED" } });
  });

  it("rejects vectors whose dimensions differ from the profile, and malformed responses", async () => {
    await expect(
      client({ profile: { ...profile, dimensions: 768 } }).embed({ texts: ["x"], kind: "passage" }),
    ).rejects.toThrow("embedding server returned 384 dims, profile Xenova/all-MiniLM-L6-v2 says 768");
    served.script.push({ transform: (vectors) => vectors });
    await expect(client().embed({ texts: ["x"], kind: "passage" })).rejects.toThrow(
      "embedding server sent a malformed response",
    );
    served.script.push({ transform: (vectors) => [{ index: 0, embedding: vectors[0] }] });
    await expect(client().embed({ texts: ["x", "y"], kind: "passage" })).rejects.toThrow(
      "returned 1 of 2 vectors",
    );
  });

  it("normalises vectors the server left unnormalised when the profile asks for unit vectors", async () => {
    served.script.push({
      transform: (vectors) =>
        vectors.map((vector, index) => ({ index, embedding: vector.map((value) => value * 3) })),
    });
    const result = await client().embed({ texts: ["x", "y"], kind: "passage" });
    expect(result.warnings).toEqual(["2 of 2 vectors came back unnormalised; normalised here"]);
    const local = await model.embed({ texts: ["x", "y"], kind: "passage" });
    for (const i of [0, 1]) {
      for (const [d, value] of result.embeddings[i]!.entries())
        expect(value).toBeCloseTo(local.embeddings[i]![d]!, 6);
    }
  });

  it("stops waiting for a retry when aborted", async () => {
    served.script.push({
      error: 429,
      headers: { "retry-after": "30" },
      body: { error: { message: "slow down" } },
    });
    const controller = new AbortController();
    const pending = client().embed({ texts: ["x"], kind: "passage", signal: controller.signal });
    setTimeout(() => controller.abort(new Error("cancelled")), 100);
    await expect(pending).rejects.toThrow("cancelled");
  });
});
