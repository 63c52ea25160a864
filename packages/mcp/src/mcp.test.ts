import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { SiftClient } from "@sift/client";
import { type SiftProcess, startSiftProcess } from "@sift/client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpBackend } from "./http-backend";
import { createMcpHttpHandler } from "./transports";

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
let httpServer: ReturnType<typeof serve>;
let mcpUrl: URL;

beforeAll(async () => {
  service = await startSiftProcess();
  api = new SiftClient({ baseUrl: service.url });
  const handler = createMcpHttpHandler(httpBackend(api));
  httpServer = await new Promise((resolve) => {
    const server = serve({ fetch: handler, hostname: "127.0.0.1", port: 0 }, () => resolve(server));
  });
  mcpUrl = new URL(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`);
}, 120_000);
afterAll(async () => {
  await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
  await service?.stop();
});

const transports: Array<[string, () => Transport]> = [
  [
    "stdio (a spawned server process)",
    () =>
      new StdioClientTransport({
        command: process.execPath,
        args: ["--import", "tsx", "packages/mcp/src/mcp-stdio-script.ts", "--url", service.url],
        cwd: repositoryRoot,
        stderr: "inherit",
      }),
  ],
  ["streamable HTTP (a local node server)", () => new StreamableHTTPClientTransport(mcpUrl)],
];

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
