import { readdir, readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { build } from "vite";

export const playgroundRoot = fileURLToPath(new URL("..", import.meta.url));

export interface BuiltSize {
  files: Array<{ file: string; bytes: number; gzipBytes: number }>;
  bytes: number;
  gzipBytes: number;
}

/** Builds the page with the package's Vite config into `outDir` and measures what a browser downloads. */
export async function buildPlayground(outDir: string): Promise<BuiltSize> {
  await build({
    configFile: path.join(playgroundRoot, "vite.config.ts"),
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
  const files: BuiltSize["files"] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      if ((await stat(full)).isDirectory()) await walk(full);
      else {
        const content = await readFile(full);
        files.push({
          file: path.relative(outDir, full),
          bytes: content.length,
          gzipBytes: gzipSync(content).length,
        });
      }
    }
  };
  await walk(outDir);
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
  };
}

const hopHeaders = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

/**
 * Until the service serves the page itself: a local server with the built page at `/`, the API (`/v1/*`,
 * health) forwarded to `serviceUrl` (streams included), and `reportHtml` at `/eval/report.html`. With
 * `apiKey`, API calls without `Authorization: Bearer <apiKey>` get the API's 401 (`unauthorized`), as the
 * service answers once auth is on.
 */
export async function serveFront(options: {
  pageDir: string;
  serviceUrl: string;
  reportHtml: string;
  apiKey?: string;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Hono();
  const forward = async (request: Request) => {
    const incoming = new URL(request.url);
    const headers = new Headers([...request.headers].filter(([name]) => !hopHeaders.has(name)));
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers,
      signal: request.signal,
    };
    if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.arrayBuffer();
    const response = await fetch(`${options.serviceUrl}${incoming.pathname}${incoming.search}`, init);
    const out = new Headers([...response.headers].filter(([name]) => !hopHeaders.has(name)));
    return new Response(response.body, { status: response.status, headers: out });
  };
  app.use("/v1/*", async (c, next) => {
    if (options.apiKey === undefined || c.req.header("authorization") === `Bearer ${options.apiKey}`) {
      return next();
    }
    return c.json(
      { error: { code: "unauthorized", message: "an API key is required", requestId: "front" } },
      401,
    );
  });
  app.all("/v1/*", (c) => forward(c.req.raw));
  app.get("/healthz", (c) => forward(c.req.raw));
  app.get("/readyz", (c) => forward(c.req.raw));
  app.get("/eval/report.html", (c) => c.html(options.reportHtml));
  app.use("/*", serveStatic({ root: path.relative(process.cwd(), options.pageDir) }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
