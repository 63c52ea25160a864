import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { authenticate } from "./auth";
import type { AppDependencies, AppEnv } from "./context";
import { HeldCollections } from "./held-collections";
import { errorResponse } from "./http-errors";
import { openApiDocument } from "./openapi";
import { RouteTable } from "./route-table";
import { answerRoute } from "./routes/answer-route";
import { collectionsRoutes } from "./routes/collections-routes";
import { documentsRoutes } from "./routes/documents-routes";
import { feedRoutes } from "./routes/feed-routes";
import { healthRoutes } from "./routes/health-routes";
import { jobsRoutes } from "./routes/jobs-routes";
import { keysRoutes } from "./routes/keys-routes";
import { mcpRoutes } from "./routes/mcp-routes";
import { metricsRoutes, requestMetrics } from "./routes/metrics-routes";
import { pagesRoutes } from "./routes/pages-routes";
import { searchRoute } from "./routes/search-route";

export const apiVersion = "0.1.0";

/**
 * Builds the HTTP application. Listening is the entrypoint's business, so tests can use `app.request()`.
 * `routes.specs` lists every route served; `/openapi.json` is built from it.
 */
export function createApp(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  if (deps.metrics !== undefined) app.use(requestMetrics(deps.metrics));
  app.use(requestId({ headerName: "x-request-id" }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.logger.info("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
  });
  app.use("/v1/*", authenticate(deps));

  const routes = new RouteTable(app, deps);
  healthRoutes(routes, deps);
  collectionsRoutes(routes, deps);
  documentsRoutes(routes, deps);
  jobsRoutes(routes, deps);
  // Searches and answers resolve their collection from memory, not the store (HeldCollections).
  const held = new HeldCollections(deps.store, deps.engine);
  searchRoute(routes, deps, held);
  if (deps.answer !== undefined) answerRoute(routes, { ...deps, answer: deps.answer }, held);
  keysRoutes(routes, deps);
  mcpRoutes(app, routes, deps);
  if (deps.metrics !== undefined) metricsRoutes(routes, { ...deps, metrics: deps.metrics });
  if (deps.pages !== undefined) pagesRoutes(routes, { ...deps, pages: deps.pages });
  if (deps.feed !== undefined) feedRoutes(routes, { ...deps, feed: deps.feed });

  let document: ReturnType<typeof openApiDocument> | undefined;
  routes.define(
    {
      method: "get",
      path: "/openapi.json",
      operationId: "openapi",
      summary: "This document",
      tag: "meta",
      role: "public",
      responses: { 200: { description: "the OpenAPI 3.1 document" } },
    },
    (c) => {
      document ??= openApiDocument(routes.specs, { version: apiVersion });
      return c.json(document);
    },
  );

  app.notFound((c) =>
    c.json(
      {
        error: {
          code: "not_found",
          message: `no route for ${c.req.method} ${c.req.path}`,
          requestId: c.get("requestId") ?? "unknown",
        },
      },
      404,
    ),
  );
  app.onError((error, c) =>
    errorResponse(error, c, (e) =>
      deps.logger.error("request failed", {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
        ...(e instanceof Error && e.cause !== undefined
          ? { cause: String((e.cause as Error)?.stack ?? e.cause) }
          : {}),
      }),
    ),
  );
  return Object.assign(app, { specs: routes.specs });
}
