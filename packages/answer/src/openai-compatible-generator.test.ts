import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DeadlineExceededError, SiftError, UpstreamError } from "@sift/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { claimsJsonSchema } from "./claims";
import type { GeneratorEvent } from "./generator";
import {
  createOpenAICompatibleGenerator,
  GeneratorUnavailableError,
  type OpenAICompatibleGeneratorOptions,
  parseRetryAfter,
} from "./openai-compatible-generator";

/**
 * How the test server answers the next request. Each dialect writes chunks the way its server does (shapes
 * taken from the servers' documentation and captured streams):
 * - vllm: a role-only first delta with `"content": ""`, content deltas, a finishing chunk with an empty
 *   delta, then (include_usage) a usage chunk with `"choices": []`; `"usage": null` on the other chunks.
 * - llamacpp: a first delta `{"role": "assistant", "content": null}`, content deltas, and usage plus
 *   `timings` on the finishing chunk itself.
 * - ollama: the role repeated on every delta, `system_fingerprint: "fp_ollama"`, a finishing chunk with
 *   `"content": ""`, then a usage chunk with empty choices.
 */
type Step =
  | {
      kind: "stream";
      dialect: "vllm" | "llamacpp" | "ollama";
      pieces: string[];
      finishReason?: "stop" | "length";
      /** Write each SSE line in two TCP writes, with CRLF line ends and a keep-alive comment. */
      fragmented?: boolean;
      /** Pause after this many pieces, for `pauseMs` (or forever). */
      pauseAfter?: number;
      pauseMs?: number;
      /** Stop writing after the pieces: no finish, no [DONE]; end the response. */
      truncate?: boolean;
      /** After the pieces, send this object as an SSE data line, then [DONE]. */
      streamError?: unknown;
    }
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "hang" };

interface Received {
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
  /** Resolves when the client's socket closes (before or after the response ended). */
  closed: Promise<{ responseFinished: boolean }>;
}

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

function sseLines(step: Extract<Step, { kind: "stream" }>, model: string): unknown[] {
  const created = 1_764_000_000;
  const base = { id: "chatcmpl-7a1e", object: "chat.completion.chunk", created, model };
  const finish = step.finishReason ?? "stop";
  const n = step.pieces.length;
  if (step.dialect === "vllm") {
    return [
      {
        ...base,
        choices: [
          { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
        ],
        usage: null,
      },
      ...step.pieces.map((content) => ({
        ...base,
        choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
        usage: null,
      })),
      {
        ...base,
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish, stop_reason: null }],
        usage: null,
      },
      { ...base, choices: [], usage: usage(57, n) },
    ];
  }
  if (step.dialect === "llamacpp") {
    const { object: _object, ...rest } = base;
    return [
      {
        choices: [{ finish_reason: null, index: 0, delta: { role: "assistant", content: null } }],
        ...rest,
        system_fingerprint: "b6097-9515c613",
        object: "chat.completion.chunk",
      },
      ...step.pieces.map((content) => ({
        choices: [{ finish_reason: null, index: 0, delta: { content } }],
        ...rest,
        object: "chat.completion.chunk",
      })),
      {
        choices: [{ finish_reason: finish, index: 0, delta: {} }],
        ...rest,
        object: "chat.completion.chunk",
        usage: usage(61, n),
        timings: { prompt_n: 61, prompt_ms: 20.3, predicted_n: n, predicted_ms: 9.5 },
      },
    ];
  }
  const ollama = { ...base, system_fingerprint: "fp_ollama" };
  return [
    ...step.pieces.map((content) => ({
      ...ollama,
      choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }],
    })),
    {
      ...ollama,
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: finish }],
    },
    { ...ollama, choices: [], usage: usage(44, n) },
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startServer() {
  const script: Step[] = [];
  const received: Received[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    let responseFinished = false;
    response.on("finish", () => {
      responseFinished = true;
    });
    const closed = new Promise<{ responseFinished: boolean }>((resolve) =>
      request.socket.once("close", () => resolve({ responseFinished })),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    received.push({ headers: request.headers, body, closed });
    const step: Step = script.shift() ?? { kind: "stream", dialect: "vllm", pieces: ["Hello", "."] };
    if (step.kind === "hang") return;
    if (step.kind === "error") {
      response.writeHead(step.status, { "content-type": "application/json", ...step.headers });
      response.end(JSON.stringify(step.body));
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const write = async (payload: string) => {
      if (response.destroyed) return;
      if (!step.fragmented) {
        response.write(`data: ${payload}\n\n`);
        return;
      }
      const line = `: keep-alive\r\n\r\ndata: ${payload}\r\n\r\n`;
      const cut = Math.floor(line.length / 2);
      response.write(line.slice(0, cut));
      await sleep(2);
      response.write(line.slice(cut));
    };
    const lines = sseLines(step, String(body.model));
    const contentLines = step.dialect === "ollama" ? 0 : 1;
    for (const [index, line] of lines.entries()) {
      const piecesWritten = index - contentLines;
      if (step.pauseAfter !== undefined && piecesWritten === step.pauseAfter) {
        if (step.pauseMs === undefined) return;
        await sleep(step.pauseMs);
      }
      if (step.truncate && piecesWritten === step.pieces.length) {
        response.end();
        return;
      }
      if (step.streamError !== undefined && piecesWritten === step.pieces.length) {
        await write(JSON.stringify(step.streamError));
        await write("[DONE]");
        response.end();
        return;
      }
      await write(JSON.stringify(line));
      await sleep(1);
    }
    await write("[DONE]");
    response.end();
  });
  return { server, script, received };
}

async function collect(stream: AsyncIterable<GeneratorEvent>) {
  const events: GeneratorEvent[] = [];
  for await (const event of stream) events.push(event);
  const text = events.flatMap((event) => (event.type === "delta" ? [event.text] : [])).join("");
  const done = events.at(-1);
  if (done?.type !== "done") throw new Error("stream did not end with done");
  expect(events.filter((event) => event.type === "done")).toHaveLength(1);
  return { events, text, done };
}

const request = { system: "Answer from the sources.", prompt: "Question: hi?", maxTokens: 64 };

describe("OpenAICompatibleGenerator against a local chat-completions server", () => {
  let served: ReturnType<typeof startServer>;
  let baseUrl: string;
  beforeAll(async () => {
    served = startServer();
    await new Promise<void>((resolve) => served.server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    served.server.closeAllConnections();
    return new Promise((resolve) => served.server.close(resolve));
  });
  afterEach(() => {
    served.script.length = 0;
    served.received.length = 0;
  });
  const client = (options: Partial<OpenAICompatibleGeneratorOptions> = {}) =>
    createOpenAICompatibleGenerator({ baseUrl: `${baseUrl}/`, model: "qwen2.5-1.5b-instruct", ...options });

  it("sends the documented streaming request with the API key", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: ["Paris", " [1]."] });
    const generator = client({ apiKey: "sk-local" });
    expect(generator.kind).toBe("openai");
    expect(generator.id).toBe(`openai:qwen2.5-1.5b-instruct@${baseUrl}/v1/chat/completions`);
    await collect(generator.generate({ ...request, temperature: 0.2, stop: ["\nQuestion:"] }));
    expect(served.received).toHaveLength(1);
    const [first] = served.received;
    expect(first!.headers.authorization).toBe("Bearer sk-local");
    expect(first!.headers.accept).toBe("text/event-stream");
    expect(first!.body).toEqual({
      model: "qwen2.5-1.5b-instruct",
      messages: [
        { role: "system", content: "Answer from the sources." },
        { role: "user", content: "Question: hi?" },
      ],
      max_tokens: 64,
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
      stop: ["\nQuestion:"],
    });
  });

  for (const dialect of ["vllm", "llamacpp", "ollama"] as const) {
    it(`streams deltas, the finish reason and the reported usage (${dialect} chunks)`, async () => {
      const pieces = ["The capital", " of France", " is Paris", " [1]."];
      served.script.push({ kind: "stream", dialect, pieces });
      const { events, text, done } = await collect(client().generate(request));
      expect(events.filter((event) => event.type === "delta").map((event) => event.text)).toEqual(pieces);
      expect(text).toBe("The capital of France is Paris [1].");
      const reportedPrompt = { vllm: 57, llamacpp: 61, ollama: 44 }[dialect];
      expect(done).toMatchObject({
        finishReason: "stop",
        usage: { promptTokens: reportedPrompt, completionTokens: 4 },
      });
      expect(done.type === "done" && done.usage.estimated).toBeUndefined();
      if (done.type !== "done") return;
      expect(done.timings.firstTokenMs).toBeGreaterThan(0);
      expect(done.timings.totalMs).toBeGreaterThanOrEqual(done.timings.firstTokenMs!);
    });
  }

  it("reports length when the server stopped at max_tokens", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: ["a", "b"], finishReason: "length" });
    const { done } = await collect(client().generate(request));
    expect(done).toMatchObject({ finishReason: "length" });
  });

  it("reassembles SSE lines split across TCP writes, CRLF line ends, keep-alive comments and UTF-8", async () => {
    const pieces = ["Ça", " coûte", " 5 €", " — 😀", " [2]"];
    served.script.push({ kind: "stream", dialect: "ollama", pieces, fragmented: true });
    const { text } = await collect(client().generate(request));
    expect(text).toBe(pieces.join(""));
  });

  it("maps an OpenAI-style 400 to a non-retryable UpstreamError keeping the vendor body", async () => {
    const body = {
      error: {
        message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    };
    served.script.push({ kind: "error", status: 400, body });
    const failure = await collect(client().generate(request)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure).toMatchObject({
      isRetryable: false,
      message:
        "generation server answered 400 (invalid_request_error, context_length_exceeded): " +
        body.error.message,
    });
    expect((failure as Error).cause).toEqual(body);
  });

  it("maps a 429 with retry-after to a retryable GeneratorUnavailableError", async () => {
    const body = {
      error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
    };
    served.script.push({ kind: "error", status: 429, body, headers: { "retry-after": "7" } });
    const failure = await collect(client().generate(request)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GeneratorUnavailableError);
    expect(SiftError.is(failure)).toBe(true);
    expect(failure).toMatchObject({
      code: "unavailable",
      isRetryable: true,
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it("maps vLLM's and llama.cpp's 5xx bodies (numeric code) to GeneratorUnavailableError", async () => {
    served.script.push(
      {
        kind: "error",
        status: 503,
        body: { error: { message: "The engine is overloaded", type: "ServiceUnavailable", code: 503 } },
        headers: { "retry-after": new Date(Date.now() + 30_000).toUTCString() },
      },
      {
        kind: "error",
        status: 500,
        body: { error: { code: 500, message: "failed to decode the batch", type: "server_error" } },
      },
    );
    const first = await collect(client().generate(request)).catch((error: unknown) => error);
    expect(first).toMatchObject({
      status: 503,
      message: "generation server answered 503 (ServiceUnavailable): The engine is overloaded",
    });
    expect((first as GeneratorUnavailableError).retryAfterMs).toBeGreaterThan(25_000);
    const second = await collect(client().generate(request)).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(GeneratorUnavailableError);
    expect(second).toMatchObject({ status: 500, retryAfterMs: undefined });
    expect((second as Error).message).toBe(
      "generation server answered 500 (server_error): failed to decode the batch",
    );
  });

  it("reads Ollama's model-not-found body and TGI's string error", async () => {
    served.script.push(
      {
        kind: "error",
        status: 404,
        body: {
          error: {
            message: 'model "llama9" not found, try pulling it first',
            type: "api_error",
            param: null,
            code: null,
          },
        },
      },
      { kind: "error", status: 422, body: { error: "Input validation error", error_type: "validation" } },
    );
    const first = await collect(client().generate(request)).catch((error: unknown) => error);
    expect((first as Error).message).toBe(
      'generation server answered 404 (api_error): model "llama9" not found, try pulling it first',
    );
    const second = await collect(client().generate(request)).catch((error: unknown) => error);
    expect((second as Error).message).toBe(
      "generation server answered 422 (validation): Input validation error",
    );
  });

  it("throws an error sent inside the stream (vLLM's streaming error) after the deltas before it", async () => {
    const streamError = { error: { message: "TimeoutError", type: "GatewayTimeout", code: 504 } };
    served.script.push({ kind: "stream", dialect: "vllm", pieces: ["Part"], streamError });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const event of client().generate(request))
        if (event.type === "delta") deltas.push(event.text);
    })().catch((error: unknown) => error);
    expect(deltas).toEqual(["Part"]);
    expect(failure).toBeInstanceOf(GeneratorUnavailableError);
    expect(failure).toMatchObject({
      status: 504,
      message: "generation server sent an error (GatewayTimeout): TimeoutError",
    });
  });

  it("fails a stream that closes before finishing", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: ["a", "b"], truncate: true });
    const failure = await collect(client().generate(request)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GeneratorUnavailableError);
    expect((failure as Error).message).toBe("generation server closed the stream before it finished");
  });

  it("times out a server that never answers, and closes the connection", async () => {
    served.script.push({ kind: "hang" });
    const started = performance.now();
    const failure = await collect(client({ timeoutMs: 150 }).generate(request)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    expect((failure as Error).message).toBe("generation server did not answer within 150 ms");
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(served.received[0]!.closed).resolves.toEqual({ responseFinished: false });
  });

  it("times out a stream that goes silent", async () => {
    served.script.push({ kind: "stream", dialect: "llamacpp", pieces: ["a", "b", "c"], pauseAfter: 2 });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const event of client({ idleTimeoutMs: 150 }).generate(request)) {
        if (event.type === "delta") deltas.push(event.text);
      }
    })().catch((error: unknown) => error);
    expect(deltas).toEqual(["a", "b"]);
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    expect((failure as Error).message).toBe("generation server sent nothing for 150 ms");
    await expect(served.received[0]!.closed).resolves.toEqual({ responseFinished: false });
  });

  it("stops on abort mid-stream: done is cancelled, and the server sees the socket close", async () => {
    served.script.push({
      kind: "stream",
      dialect: "vllm",
      pieces: ["one", " two", " three", " four"],
      pauseAfter: 2,
      pauseMs: 5_000,
    });
    const controller = new AbortController();
    const events: GeneratorEvent[] = [];
    for await (const event of client().generate({ ...request, signal: controller.signal })) {
      events.push(event);
      if (event.type === "delta" && event.text === " two") controller.abort();
    }
    expect(events.map((event) => event.type)).toEqual(["delta", "delta", "done"]);
    expect(events.at(-1)).toMatchObject({
      finishReason: "cancelled",
      usage: { completionTokens: 2, estimated: true },
    });
    const closed = await Promise.race([served.received[0]!.closed, sleep(2000).then(() => "still open")]);
    expect(closed).toEqual({ responseFinished: false });
  });

  it("closes the connection when the consumer stops reading early", async () => {
    served.script.push({
      kind: "stream",
      dialect: "vllm",
      pieces: ["x", "y", "z"],
      pauseAfter: 1,
      pauseMs: 5_000,
    });
    for await (const event of client().generate(request)) {
      if (event.type === "delta") break;
    }
    const closed = await Promise.race([served.received[0]!.closed, sleep(2000).then(() => "still open")]);
    expect(closed).toEqual({ responseFinished: false });
  });

  it("ends at once, without a request, when the signal is already aborted", async () => {
    const { events } = await collect(client().generate({ ...request, signal: AbortSignal.abort() }));
    expect(events).toEqual([expect.objectContaining({ type: "done", finishReason: "cancelled" })]);
    expect(served.received).toHaveLength(0);
  });

  it("reports an unreachable server as GeneratorUnavailableError with the socket error as cause", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const failure = await collect(client({ baseUrl: `http://127.0.0.1:${port}` }).generate(request)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GeneratorUnavailableError);
    expect(failure).toMatchObject({ message: "generation server unreachable", status: undefined });
    expect((failure as Error).cause).toMatchObject({ cause: { code: "ECONNREFUSED" } });
  });

  const claimsRequest = {
    ...request,
    claims: { system: "Answer as JSON claims.", prompt: "Question: hi? (JSON)", schema: claimsJsonSchema(2) },
  };
  const claimsPieces = ['{"claims": [{"text": "Paris is', ' the capital.", "sources": [1', ", 2]}]}"];

  it("asks for JSON claims with response_format and streams them rendered as cited text", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: claimsPieces });
    const generator = client({ output: "claims" });
    expect(generator.output).toBe("claims");
    const { events, text, done } = await collect(generator.generate(claimsRequest));
    expect(text).toBe("Paris is the capital [1][2].");
    expect(events.filter((event) => event.type === "delta").map((event) => event.text)).toEqual([
      "Paris is",
      " the capital",
      " [1][2].",
    ]);
    expect(done).toMatchObject({ output: "claims" });
    expect(done.type === "done" && done.warnings).toBeUndefined();
    const body = served.received[0]!.body;
    expect(body.messages).toEqual([
      { role: "system", content: "Answer as JSON claims." },
      { role: "user", content: "Question: hi? (JSON)" },
    ]);
    expect(body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "sift_answer_claims", schema: claimsJsonSchema(2), strict: true },
    });
    expect(body.guided_json).toBeUndefined();
  });

  it("sends vLLM's guided_json instead when configured", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: claimsPieces });
    await collect(client({ output: "claims", structuredApi: "guided_json" }).generate(claimsRequest));
    const body = served.received[0]!.body;
    expect(body.guided_json).toEqual(claimsJsonSchema(2));
    expect(body.response_format).toBeUndefined();
  });

  it("falls back to free text when the server refuses the schema, and stays there", async () => {
    served.script.push(
      {
        kind: "error",
        status: 400,
        body: {
          error: { message: "response_format json_schema is not supported", type: "invalid_request_error" },
        },
      },
      { kind: "stream", dialect: "llamacpp", pieces: ["Paris [1]."] },
      { kind: "stream", dialect: "llamacpp", pieces: ["Lyon [2]."] },
    );
    const generator = client({ output: "claims" });
    const first = await collect(generator.generate(claimsRequest));
    expect(first.text).toBe("Paris [1].");
    expect(first.done).toMatchObject({ output: "text" });
    expect(first.done.type === "done" && first.done.warnings?.[0]).toMatch(
      /^the server refused structured output \(generation server answered 400 \(invalid_request_error\): response_format/,
    );
    expect(served.received.map((received) => received.body.response_format === undefined)).toEqual([
      false,
      true,
    ]);
    expect(served.received[1]!.body.messages).toEqual([
      { role: "system", content: request.system },
      { role: "user", content: request.prompt },
    ]);
    const second = await collect(generator.generate(claimsRequest));
    expect(second.text).toBe("Lyon [2].");
    expect(served.received).toHaveLength(3);
    expect(served.received[2]!.body.response_format).toBeUndefined();
    expect(second.done.type === "done" && second.done.warnings).toEqual([
      "the server refused structured output earlier: answered in free text",
    ]);
  });

  it("throws a 400 that is not about the schema, without falling back", async () => {
    served.script.push({
      kind: "error",
      status: 400,
      body: { error: { message: "maximum context length is 4096 tokens", type: "invalid_request_error" } },
    });
    const failure = await collect(client({ output: "claims" }).generate(claimsRequest)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(served.received).toHaveLength(1);
  });

  it("reads free text from a server that ignored the schema, and says so", async () => {
    served.script.push({ kind: "stream", dialect: "ollama", pieces: ["Paris", " [1]."] });
    const { text, done } = await collect(client({ output: "claims" }).generate(claimsRequest));
    expect(text).toBe("Paris [1].");
    expect(done).toMatchObject({
      output: "text",
      warnings: ["the model wrote free text instead of JSON claims: read as text"],
    });
  });

  it("ignores request.claims in text mode", async () => {
    served.script.push({ kind: "stream", dialect: "vllm", pieces: ["Paris [1]."] });
    const { done } = await collect(client().generate(claimsRequest));
    expect(served.received[0]!.body.response_format).toBeUndefined();
    expect(served.received[0]!.body.messages).toEqual([
      { role: "system", content: request.system },
      { role: "user", content: request.prompt },
    ]);
    expect(done).toMatchObject({ output: "text" });
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter("Thu, 26 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
