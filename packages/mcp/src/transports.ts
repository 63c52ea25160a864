import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { SiftBackend } from "./backend";
import { createSiftMcpServer } from "./tools";

/**
 * Serves the Sift tools over stdio (newline-delimited JSON-RPC on `stdin`/`stdout`, default the process's):
 * what `pnpm sift mcp` runs. Nothing else may write to `stdout` while it runs; logs go to stderr.
 * Resolves once connected; `close()` ends the session.
 */
export async function runStdioServer(
  backend: SiftBackend,
  streams: { stdin?: Readable; stdout?: Writable } = {},
): Promise<{ close: () => Promise<void>; closed: Promise<void> }> {
  const server = createSiftMcpServer(backend);
  const transport = new StdioServerTransport(streams.stdin, streams.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  return { close: () => server.close(), closed };
}

/**
 * A fetch-style handler for MCP's streamable HTTP transport, stateless (no session ids: every POST carries
 * a whole exchange, so any replica can answer it: no `sessionIdGenerator`). Mount it at `/mcp`, e.g. in Hono:
 * `app.all("/mcp", (c) => handler(c.req.raw))`. Each request gets a fresh server over the same backend.
 * Authentication is the mounting app's business (the backend sees the caller's key or tenant).
 */
export function createMcpHttpHandler(backend: SiftBackend): (request: Request) => Promise<Response> {
  return async (request) => {
    const server = createSiftMcpServer(backend);
    const transport = new WebStandardStreamableHTTPServerTransport({});
    await server.connect(transport);
    return transport.handleRequest(request);
  };
}
