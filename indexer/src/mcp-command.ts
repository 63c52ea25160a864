import { parseArgs } from "node:util";
import { SiftClient } from "@sift/client";
import { httpBackend, runStdioServer } from "@sift/mcp";

export const mcpHelp = `Usage: sift mcp [--url URL] [--tenant T]

Serves Sift's MCP tools (search, answer, get_document, list_collections) over stdio for an agent, against
a running Sift service. Each tool call is one API call with the key in SIFT_API_KEY (never on the command
line), so the key's tenant, role and scope apply. Nothing but MCP messages is written to stdout; run it as
'pnpm --silent sift mcp' so pnpm adds nothing either.

Options:
  --url URL                  the service (default: SIFT_URL, else http://127.0.0.1:8080)
  --tenant T                 tenant header, for a service with SIFT_AUTH=off (default: default)
  -h, --help                 show this help

Environment:
  SIFT_API_KEY               the API key tool calls send (needed when the service requires keys)
  SIFT_URL                   the service, when --url is not given`;

/**
 * `sift mcp`: checks that the service answers, then serves MCP on the process's stdin/stdout until the
 * agent closes it. Returns the exit code.
 */
export async function runMcp(
  argv: string[],
  io: {
    write: (text: string) => void;
    fail: (text: string) => void;
    env: Record<string, string | undefined>;
  },
): Promise<number> {
  let values: { url?: string | undefined; tenant?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: "string" }, tenant: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    io.fail(`sift mcp: ${(error as Error).message}\nRun 'sift mcp --help' for usage.`);
    return 2;
  }
  if (values.help === true) {
    io.write(mcpHelp);
    return 0;
  }
  const url = values.url ?? io.env.SIFT_URL ?? "http://127.0.0.1:8080";
  const client = new SiftClient({ baseUrl: url, apiKey: io.env.SIFT_API_KEY, tenant: values.tenant });
  try {
    await client.health();
  } catch (error) {
    io.fail(
      `sift mcp: no Sift service answers at ${url} (${(error as Error).message}); start it with 'npm start'`,
    );
    return 1;
  }
  const session = await runStdioServer(httpBackend(client));
  await session.closed;
  return 0;
}
