// Serves the MCP tools over stdio against a running Sift service: until `pnpm sift mcp` wires it into the
// CLI, `node --import tsx packages/mcp/src/mcp-stdio-script.ts --url http://127.0.0.1:8080 [--tenant T]`.
// The API key, when auth is on, comes from SIFT_API_KEY (never on the command line).
import { parseArgs } from "node:util";
import { SiftClient } from "@sift/client";
import { httpBackend } from "./http-backend";
import { runStdioServer } from "./transports";

const { values } = parseArgs({
  options: { url: { type: "string", default: "http://127.0.0.1:8080" }, tenant: { type: "string" } },
});
const client = new SiftClient({
  baseUrl: values.url,
  apiKey: process.env.SIFT_API_KEY,
  tenant: values.tenant,
});
const session = await runStdioServer(httpBackend(client));
await session.closed;
