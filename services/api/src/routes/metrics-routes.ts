import { timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "@sift/core";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppDependencies, AppEnv, MetricsDependencies } from "../context";
import type { RouteTable } from "../route-table";

/**
 * `/metrics`: the exposition text. It spans every tenant (collection names, traffic), so it is not an API
 * key's to read: with `SIFT_METRICS_TOKEN` it asks for that bearer token; without one it is open only when
 * auth is off (docs/security.md).
 */
export function metricsRoutes(routes: RouteTable, deps: AppDependencies & { metrics: MetricsDependencies }) {
  routes.define(
    {
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      summary: "Prometheus metrics (text format 0.0.4)",
      description:
        "Not an API key's: send `Authorization: Bearer $SIFT_METRICS_TOKEN`. Without SIFT_METRICS_TOKEN the " +
        "route is open when SIFT_AUTH=off and refused (401) otherwise.",
      tag: "meta",
      role: "public",
      responses: { 200: { description: "the metrics", text: "text/plain" } },
      errors: [401],
    },
    async (c) => {
      checkMetricsToken(c, deps);
      return c.body(await deps.metrics.registry.exposition(), 200, {
        "content-type": deps.metrics.registry.contentType,
      });
    },
  );
}

function checkMetricsToken(c: Context, deps: AppDependencies & { metrics: MetricsDependencies }): void {
  const token = deps.metrics.token;
  if (token === undefined) {
    if (deps.access.mode === "off") return;
    throw new UnauthorizedError(
      "metrics are refused: set SIFT_METRICS_TOKEN on the service and send it as 'Authorization: Bearer <token>'",
    );
  }
  const sent = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const a = Buffer.from(sent ?? "");
  const b = Buffer.from(token);
  if (sent === undefined || a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new UnauthorizedError("metrics need 'Authorization: Bearer <SIFT_METRICS_TOKEN>'");
  }
}

/**
 * Counts and times every request by its route pattern in the OpenAPI document's form
 * (`/v1/collections/{collection}/search`, never the raw URL, so the label set stays bounded); a request no
 * route matched is `unmatched`.
 */
export function requestMetrics(metrics: MetricsDependencies): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    metrics.registry.observeRequest(
      routeOf(c),
      c.req.method,
      c.res.status,
      (performance.now() - started) / 1000,
    );
  };
}

function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i]!.method !== "ALL") return routes[i]!.path.replace(/:(\w+)/g, "{$1}");
  }
  return "unmatched";
}
