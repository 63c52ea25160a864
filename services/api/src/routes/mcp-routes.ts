import { SiftClient } from "@sift/client";
import { createMcpHttpHandler, httpBackend } from "@sift/mcp";
import type { Hono } from "hono";
import { z } from "zod";
import { authenticate, tenantHeader } from "../auth";
import type { AppDependencies, AppEnv } from "../context";
import type { RouteTable } from "../route-table";

/**
 * MCP over streamable HTTP at `/mcp` (stateless: every POST is a whole exchange). The caller is
 * authenticated as on `/v1` (a 401 before any MCP message is read); the tools then call this same app's
 * `/v1` routes in-process with the caller's own key (or tenant header with auth off), so an agent gets
 * exactly what the HTTP API gives that key: role, scope, tenant, rate limit, the same hits and offsets.
 */
export function mcpRoutes(app: Hono<AppEnv>, routes: RouteTable, deps: AppDependencies): void {
  // The tool calls spend the caller's rate limit; the MCP envelope itself does not.
  app.use("/mcp", authenticate(deps, { rateLimit: false }));
  const inProcess: typeof fetch = (input, init) => Promise.resolve(app.fetch(new Request(input, init)));
  const handle = (request: Request): Promise<Response> => {
    const authorization = request.headers.get("authorization");
    const client = new SiftClient({
      baseUrl: "http://sift.in-process",
      apiKey: /^Bearer[ \t]+(\S+)/i.exec(authorization ?? "")?.[1],
      tenant: deps.access.mode === "off" ? (request.headers.get(tenantHeader) ?? undefined) : undefined,
      fetch: inProcess,
    });
    return createMcpHttpHandler(httpBackend(client))(request);
  };
  const common = {
    path: "/mcp",
    tag: "mcp",
    role: "reader" as const,
    description:
      "Model Context Protocol over streamable HTTP (stateless), tools search, answer, get_document and " +
      "list_collections; send `Accept: application/json, text/event-stream`. The key's tenant, role and " +
      "scope apply to every tool call.",
  };
  const refused = (description: string) => ({ description, schema: jsonRpcError });
  routes.define(
    {
      ...common,
      method: "post",
      operationId: "mcp",
      summary: "MCP: a JSON-RPC message or batch",
      responses: {
        200: {
          description: "the JSON-RPC response: JSON, or Server-Sent Events",
          schema: z.union([jsonRpcMessage, z.array(jsonRpcMessage)]),
          text: "text/event-stream",
        },
        202: { description: "a notification or response was accepted" },
        400: refused("not a JSON-RPC message (a JSON-RPC error)"),
        406: refused("Accept lacks application/json and text/event-stream"),
        415: refused("Content-Type is not application/json"),
      },
    },
    (c) => handle(c.req.raw),
  );
  // A stateless server offers no standalone stream (GET) and no session to end (DELETE): the SDK would
  // hold a GET stream open forever, so these are answered here.
  for (const method of ["get", "delete"] as const) {
    routes.define(
      {
        ...common,
        method,
        operationId: `mcp${method === "get" ? "Stream" : "EndSession"}`,
        summary: `MCP ${method.toUpperCase()}: not offered by a stateless server`,
        responses: { 405: refused("Method Not Allowed: only POST (stateless, no stream, no session)") },
      },
      (c) =>
        c.json(
          { jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: use POST" }, id: null },
          405,
          { allow: "POST" },
        ),
    );
  }
}

const jsonRpcMessage = z.looseObject({ jsonrpc: z.literal("2.0") });
const jsonRpcError = z.object({
  jsonrpc: z.literal("2.0"),
  error: z.looseObject({ code: z.number().int(), message: z.string() }),
  id: z.union([z.string(), z.number(), z.null()]),
});
