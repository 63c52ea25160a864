import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { SiftClient } from "@sift/client";
import { bootstrapKey, type SiftProcess, startSiftProcess } from "@sift/client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));

type Structured = Record<string, unknown>;
interface ToolHit {
  documentId: string;
  chunkId: number;
  charStart: number;
  charEnd: number;
  score: number;
  legs: Record<string, { rank: number; score: number }>;
}

let service: SiftProcess;
let api: SiftClient;
let key: string;

// The service with keys required: the tools act with the agent's key over both transports.
beforeAll(async () => {
  service = await startSiftProcess({ SIFT_AUTH: "required" });
  key = await bootstrapKey(service);
  api = new SiftClient({ baseUrl: service.url, apiKey: key });
}, 120_000);
afterAll(async () => {
  await service?.stop();
});

const transports: Array<[string, () => Transport]> = [
  [
    "stdio (`pnpm --silent sift mcp`, a spawned process)",
    () =>
      new StdioClientTransport({
        command: "pnpm",
        args: ["--silent", "sift", "mcp", "--url", service.url],
        cwd: repositoryRoot,
        env: { ...(process.env as Record<string, string>), SIFT_API_KEY: key },
        stderr: "inherit",
      }),
  ],
  [
    "streamable HTTP (the service's /mcp)",
    () =>
      new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
  ],
];

describe("/mcp on the service", () => {
  it("needs an API key before any MCP message is read", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "0" } },
    };
    const res = await fetch(`${service.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(initialize),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    const client = new Client({ name: "sift-test", version: "0.0.0" });
    await expect(
      client.connect(new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`))),
    ).rejects.toThrow();
  });

  it("applies a scoped key's filter to the tools: a document outside the scope is not found", async () => {
    const admin = new SiftClient({ baseUrl: service.url, apiKey: key });
    await admin.ensureCollection("desks");
    await admin.ingestDocuments("desks", [
      { id: "oil", text: "Crude oil prices rose on supply cuts.", metadata: { desk: "energy" } },
      { id: "rates", text: "Bond yields and oil futures moved together.", metadata: { desk: "rates" } },
    ]);
    const created = await fetch(`${service.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ role: "reader", filter: { field: "desk", eq: "energy" } }),
    });
    const { key: scoped } = (await created.json()) as { key: string };
    const client = new Client({ name: "sift-test", version: "0.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${scoped}` } },
      }),
    );
    try {
      const search = (await client.callTool({
        name: "search",
        arguments: { collection: "desks", query: "oil" },
      })) as unknown as {
        structuredContent: { hits: Array<{ documentId: string }> };
      };
      expect(search.structuredContent.hits.map((h) => h.documentId)).toEqual(["oil"]);
      const hidden = await client.callTool({
        name: "get_document",
        arguments: { collection: "desks", id: "rates" },
      });
      expect(hidden.isError).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe.each(transports)("the Sift MCP tools over %s, with the SDK's client", (_name, transport) => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: "sift-test", version: "0.0.0" });
    await client.connect(transport());
  }, 60_000);
  afterAll(async () => {
    await client?.close();
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    return result as { isError?: boolean; structuredContent?: Structured; content: Array<{ text?: string }> };
  };

  it("lists the four tools with input schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["answer", "get_document", "list_collections", "search"]);
    const search = tools.find((t) => t.name === "search")!;
    expect(search.inputSchema.required).toEqual(expect.arrayContaining(["collection", "query"]));
    expect(Object.keys(search.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["k", "mode", "fusion", "filter"]),
    );
  });

  it("list_collections names the sample collection with its document count", async () => {
    const result = await call("list_collections", {});
    expect(result.structuredContent?.collections).toContainEqual(
      expect.objectContaining({ name: "sample", documents: 8 }),
    );
  });

  it("search returns the API's hits: same chunks, offsets, scores and legs", async () => {
    const args = { collection: "sample", query: "reciprocal rank fusion", k: 5 };
    const result = await call("search", args);
    expect(result.isError).toBeFalsy();
    const direct = await api.search("sample", { query: args.query, k: args.k });
    const pick = (h: ToolHit) => ({
      documentId: h.documentId,
      chunkId: h.chunkId,
      charStart: h.charStart,
      charEnd: h.charEnd,
      score: h.score,
      legs: h.legs,
    });
    const hits = result.structuredContent?.hits as ToolHit[];
    expect(hits.length).toBe(5);
    expect(hits.map(pick)).toEqual(direct.hits.map(pick));
    // The text block carries the same JSON for clients that read text only.
    expect(JSON.parse(result.content[0]?.text ?? "null")).toEqual(result.structuredContent);
  });

  it("answer returns the API's citations, and get_document reads each cited span", async () => {
    const question = "How does reciprocal rank fusion combine rankings?";
    const result = await call("answer", { collection: "sample", question });
    const direct = await api.answer("sample", { question });
    const citations = result.structuredContent?.citations as Array<{
      documentId: string;
      charStart: number;
      charEnd: number;
    }>;
    expect(result.structuredContent?.outcome).toBe("answered");
    expect(citations.length).toBeGreaterThan(0);
    expect(citations).toEqual(direct.citations);
    for (const citation of citations) {
      const read = await call("get_document", {
        collection: "sample",
        id: citation.documentId,
        charStart: citation.charStart,
        charEnd: citation.charEnd,
      });
      const document = await api.getDocument("sample", citation.documentId);
      const span = read.structuredContent?.span as { text: string };
      expect(span.text).toBe(document.text.slice(citation.charStart, citation.charEnd));
      const { text, textStart } = read.structuredContent as { text: string; textStart: number };
      expect(document.text.slice(textStart, textStart + text.length)).toBe(text);
    }
  });

  it("reports API errors as tool errors with the code and the offending field", async () => {
    const missing = await call("search", { collection: "no-such-collection", query: "x" });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]?.text).toMatch(/^not_found: /);
    const bad = await call("search", {
      collection: "sample",
      query: "x",
      filter: { field: "year", gte: [] },
    });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]?.text).toContain("invalid_request");
    expect(bad.content[0]?.text).toContain("- filter");
  });

  it("rejects input that breaks the tool's schema before calling the service", async () => {
    const result = await call("search", { collection: "sample", query: "x", k: 0 });
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/k/);
  });
});
