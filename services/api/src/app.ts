import { PayloadTooLargeError } from "@sift/core";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { AppDependencies, AppEnv } from "./context";
import { errorResponse } from "./http-errors";
import { answerRoute } from "./routes/answer-route";
import { collectionsRoutes } from "./routes/collections-routes";
import { documentsRoutes } from "./routes/documents-routes";
import { jobsRoutes } from "./routes/jobs-routes";
import { searchRoute } from "./routes/search-route";

/** Builds the HTTP application. Listening is the entrypoint's business, so tests can use `app.request()`. */
export function createApp(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

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
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError(deps.maxBodyBytes);
      },
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const checks: Record<string, string> = {};
    try {
      await deps.store.ping();
      checks.store = "ok";
    } catch (error) {
      checks.store = `unreachable: ${(error as Error).message}`;
    }
    checks.indexes = deps.indexesLoaded() ? "ok" : "loading";
    const ready = Object.values(checks).every((v) => v === "ok");
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });

  app.route("/v1/collections", collectionsRoutes(deps));
  app.route("/v1/collections", documentsRoutes(deps));
  app.route("/v1/collections", jobsRoutes(deps));
  app.route("/v1/collections", searchRoute(deps));
  if (deps.answer !== undefined) app.route("/v1/collections", answerRoute({ ...deps, answer: deps.answer }));

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
      deps.logger.error("unhandled error", {
        requestId: c.get("requestId"),
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      }),
    ),
  );
  return app;
}
