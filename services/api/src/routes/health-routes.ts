import type { AppDependencies } from "../context";
import type { RouteTable } from "../route-table";
import { healthSchema, readySchema } from "../schemas";

export function healthRoutes(routes: RouteTable, deps: AppDependencies): void {
  routes.define(
    {
      method: "get",
      path: "/healthz",
      operationId: "health",
      summary: "Liveness: 200 while the process is up",
      tag: "meta",
      role: "public",
      responses: { 200: { description: "up", schema: healthSchema } },
    },
    (c) => c.json({ status: "ok" as const }),
  );

  routes.define(
    {
      method: "get",
      path: "/readyz",
      operationId: "ready",
      summary: "Readiness: the store answers and every collection's indexes are loaded",
      tag: "meta",
      role: "public",
      responses: {
        200: { description: "ready", schema: readySchema },
        503: { description: "not ready; `checks` says what is not", schema: readySchema },
      },
    },
    async (c) => {
      const checks: Record<string, string> = {};
      try {
        await deps.store.ping();
        checks.store = "ok";
      } catch (error) {
        // The driver's message (host names, paths) goes to the log, not to whoever asks.
        deps.logger.warn("readiness: the store is unreachable", {
          requestId: c.get("requestId"),
          error: error instanceof Error ? error.message : String(error),
        });
        checks.store = "unreachable";
      }
      checks.indexes = deps.indexesLoaded() ? "ok" : "loading";
      if (deps.draining?.() === true) checks.process = "shutting-down";
      const ready = Object.values(checks).every((v) => v === "ok");
      return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
    },
  );
}
