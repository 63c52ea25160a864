import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { NotFoundError } from "@sift/core";
import type { Context } from "hono";
import { z } from "zod";
import type { AppDependencies } from "../context";
import type { PagesDependencies } from "../pages";
import type { RouteTable } from "../route-table";

const types: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

const html = { 200: { description: "an HTML page", text: "text/html" } };

export function pagesRoutes(routes: RouteTable, deps: AppDependencies & { pages: PagesDependencies }): void {
  const { pages } = deps;
  routes.define(
    {
      method: "get",
      path: "/",
      operationId: "playground",
      summary: "The playground (web page)",
      tag: "pages",
      role: "public",
      responses: html,
    },
    (c) => c.html(pages.playground?.index ?? notBuiltPage(pages.playgroundDir)),
  );
  routes.define(
    {
      method: "get",
      path: "/assets/{file}",
      operationId: "playgroundAsset",
      summary: "The playground's scripts and styles (content-hashed names)",
      tag: "pages",
      role: "public",
      params: { file: z.string().min(1).max(200) },
      responses: { 200: { description: "the file", text: ["text/javascript", "text/css"] } },
    },
    (c) => {
      const file = c.req.param("file") ?? "";
      const content = pages.playground?.assets.get(file);
      if (content === undefined) throw new NotFoundError("asset", file);
      return c.body(new Uint8Array(content), 200, {
        "content-type": types[path.extname(file)] ?? "application/octet-stream",
        "cache-control": "public, max-age=31536000, immutable",
      });
    },
  );
  routes.define(
    {
      method: "get",
      path: "/docs",
      operationId: "reference",
      summary: "The API reference (Redoc over /openapi.json)",
      tag: "pages",
      role: "public",
      responses: html,
    },
    (c) => c.html(referencePage, 200, { "content-security-policy": referencePolicy }),
  );
  routes.define(
    {
      method: "get",
      path: "/docs/redoc.standalone.js",
      operationId: "referenceScript",
      summary: "Redoc's bundle, served locally",
      tag: "pages",
      role: "public",
      responses: { 200: { description: "JavaScript", text: "text/javascript" } },
    },
    (c) =>
      c.body(new Uint8Array(pages.redoc), 200, {
        "content-type": types[".js"]!,
        "cache-control": "public, max-age=3600",
      }),
  );
  routes.define(
    {
      method: "get",
      path: "/eval/report.html",
      operationId: "evalReport",
      summary: "The last `pnpm eval` run's HTML report (SIFT_EVAL_REPORT)",
      tag: "pages",
      role: "public",
      responses: html,
      errors: [404],
    },
    (c) => evalReport(c, pages.evalReport),
  );
}

async function evalReport(c: Context, file: string): Promise<Response> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new NotFoundError("report", "eval", "no evaluation report: run pnpm eval (docs/eval.md)");
  }
  return c.html(text);
}

const referenceInit = `Redoc.init("./openapi.json", { expandResponses: "200,201" }, document.getElementById("reference"));`;

/** The reference page: Redoc rendering this service's own document. */
const referencePage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Sift API reference</title>
    <style>body { margin: 0; }</style>
  </head>
  <body>
    <div id="reference"></div>
    <script src="./docs/redoc.standalone.js"></script>
    <script>${referenceInit}</script>
  </body>
</html>
`;

/**
 * Only this origin: Redoc's footer logo from its CDN is blocked (the image then hides itself), so the page
 * makes no request elsewhere. Styles are inline (styled-components); the one inline script is pinned by hash.
 */
const referencePolicy = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${createHash("sha256").update(referenceInit).digest("base64")}'`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
].join("; ");

function notBuiltPage(dir: string): string {
  const escaped = dir.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>Sift</title></head>
<body>
  <h1>Sift</h1>
  <p>The playground is not built (no <code>${escaped}/index.html</code>). Build it with
  <code>pnpm --filter @sift/playground build</code> and restart the service (<code>npm start</code> does both).</p>
  <p>The API reference is at <a href="./docs">/docs</a>, the OpenAPI document at <a href="./openapi.json">/openapi.json</a>.</p>
</body></html>
`;
}
