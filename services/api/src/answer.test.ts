import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { GenerateRequest, Generator, GeneratorEvent } from "@sift/answer";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

const documents = [
  {
    id: "tides",
    title: "Tides",
    text: "The moon's gravity pulls the oceans toward it. This pull raises the tides twice a day. Spring tides happen at new and full moon.",
  },
  {
    id: "bees",
    title: "Bees",
    text: "Honey bees dance to tell the hive where flowers grow. The waggle dance encodes direction and distance.",
  },
];

/** A generator double that cites source 1, or streams slowly until aborted (recording the abort). */
function scriptedGenerator(script: { slow?: boolean; aborted?: { value: boolean } } = {}): Generator {
  return {
    id: "test/scripted",
    kind: "openai",
    async *generate(request: GenerateRequest): AsyncGenerator<GeneratorEvent> {
      const started = performance.now();
      if (script.slow) {
        let tokens = 0;
        while (!request.signal?.aborted) {
          yield { type: "delta", text: "word " };
          tokens++;
          await new Promise((r) => setTimeout(r, 20));
        }
        if (script.aborted) script.aborted.value = true;
        yield {
          type: "done",
          finishReason: "cancelled",
          usage: { promptTokens: 10, completionTokens: tokens },
          timings: { firstTokenMs: 0, totalMs: performance.now() - started },
        };
        return;
      }
      yield { type: "delta", text: "The moon's gravity raises the tides [1]. " };
      yield { type: "delta", text: "Bees are unrelated [7]." };
      yield {
        type: "done",
        finishReason: "stop",
        usage: { promptTokens: 50, completionTokens: 12 },
        timings: { firstTokenMs: 1, totalMs: performance.now() - started },
      };
    },
  };
}

/** Parses a Server-Sent Events body into (event, data) pairs. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk the JSON payloads freely
function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event =
        lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim() ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}

describe("POST /v1/collections/{collection}/answer", () => {
  let t: Awaited<ReturnType<typeof createTestApp>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const setup = async (answer: Parameters<typeof createTestApp>[0] extends infer O ? O : never = {}) => {
    t = await createTestApp(answer);
    await t.call("PUT", "/v1/collections/notes");
    await t.call("POST", "/v1/collections/notes/documents", { documents });
    return t;
  };

  it("answers as JSON with checked citations mapped to chunks and document offsets", async () => {
    const app = await setup({ answer: { generator: scriptedGenerator() } });
    const res = await app.call("POST", "/v1/collections/notes/answer", {
      question: "what raises the tides?",
    });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("answered");
    expect(res.body.text).toContain("raises the tides [1]");
    expect(res.body.text).not.toContain("[7]");
    expect(res.body.removedCitations).toEqual([expect.objectContaining({ source: 7 })]);
    const [citation] = res.body.citations;
    expect(citation).toMatchObject({ source: 1, documentId: "tides" });
    const doc = documents[0]!.text;
    const cited = doc.slice(citation.charStart, citation.charEnd);
    expect(cited).toContain("moon's gravity");
    expect(res.body.uncitedSentences).toBe(1);
    expect(res.body.timings.retrievalMs).toBeGreaterThanOrEqual(0);
    expect(res.body.usage).toEqual({ promptTokens: 50, completionTokens: 12 });
  });

  it("falls back to the extractive answer when the generator fails, and says degraded", async () => {
    const failing: Generator = {
      id: "test/down",
      kind: "openai",
      // biome-ignore lint/correctness/useYield: it fails before producing anything
      async *generate() {
        throw new Error("connection refused");
      },
    };
    const app = await setup({ answer: { generator: failing } });
    const res = await app.call("POST", "/v1/collections/notes/answer", { question: "how do bees dance?" });
    expect(res.status).toBe(200);
    expect(res.body.degraded).toContain("generator");
    expect(res.body.generator.kind).toBe("extractive");
    expect(res.body.citations[0].documentId).toBe("bees");
  });

  it("says there is not enough evidence instead of guessing, without calling the generator", async () => {
    let called = false;
    const spy: Generator = {
      id: "test/spy",
      kind: "openai",
      // biome-ignore lint/correctness/useYield: must never run
      async *generate() {
        called = true;
        throw new Error("should not be called");
      },
    };
    const app = await setup({ answer: { generator: spy, evidence: { threshold: 1e9, scoreKind: "bm25" } } });
    const res = await app.call("POST", "/v1/collections/notes/answer", {
      question: "what raises the tides?",
      mode: "bm25",
    });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("no-evidence");
    expect(res.body.evidence).toMatchObject({ sufficient: false, reason: "below-threshold" });
    expect(res.body.citations).toEqual([]);
    expect(called).toBe(false);
  });

  it("streams retrieval, deltas, citations and done as Server-Sent Events", async () => {
    const app = await setup({ answer: { generator: scriptedGenerator() } });
    const response = await app.app.request("/v1/collections/notes/answer", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ question: "what raises the tides?" }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await response.text());
    expect(events.map((e) => e.event)).toEqual(["retrieval", "delta", "delta", "citations", "done"]);
    expect(events[0]!.data.passages[0]).toMatchObject({ n: 1, documentId: "tides" });
    expect(events[0]!.data.collection).toBe("notes");
    expect(
      events
        .filter((e) => e.event === "delta")
        .map((e) => e.data.text)
        .join(""),
    ).not.toContain("[7]");
    expect(events[3]!.data.citations[0]).toMatchObject({ source: 1, documentId: "tides" });
    expect(events[4]!.data).toMatchObject({ outcome: "answered", finishReason: "stop", degraded: [] });
  });

  it("rejects bad input with the fields named", async () => {
    const app = await setup();
    const res = await app.call("POST", "/v1/collections/notes/answer", { question: "", maxTokens: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      "maxTokens",
      "question",
    ]);
    const missing = await app.call("POST", "/v1/collections/nope/answer", { question: "x" });
    expect(missing.status).toBe(404);
    const rerank = await app.call("POST", "/v1/collections/notes/answer", { question: "x", rerank: true });
    expect(rerank.status).toBe(400);
    expect(rerank.body.error.fields[0].path).toBe("rerank");
  });

  it("over a real socket: streams as it generates, and a client that disconnects cancels generation", async () => {
    const aborted = { value: false };
    const app = await setup({ answer: { generator: scriptedGenerator({ slow: true, aborted }) } });
    const server = serve({ fetch: app.app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      const client = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/v1/collections/notes/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ question: "what raises the tides?", stream: true }),
        signal: client.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      let received = "";
      const decoder = new TextDecoder();
      while ((received.match(/event: delta/g) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
      expect(received).toContain("event: retrieval");
      expect((received.match(/event: delta/g) ?? []).length).toBeGreaterThanOrEqual(3);
      client.abort();
      const deadline = Date.now() + 5000;
      while (!aborted.value && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(aborted.value).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
