import { NotFoundError } from "@sift/core";
import { Hono } from "hono";
import { z } from "zod";
import { type AppDependencies, type AppEnv, parseQuery, resolveCollection } from "../context";
import { jobView } from "../views";

export function jobsRoutes(deps: AppDependencies) {
  const app = new Hono<AppEnv>();

  app.get("/:collection/jobs", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const { limit } = parseQuery(
      c,
      z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
    );
    const jobs = await deps.store.listJobs(collection.id, { limit });
    return c.json({ jobs: jobs.map(jobView) });
  });

  app.get("/:collection/jobs/:jobId", async (c) => {
    const collection = await resolveCollection(c, deps.store);
    const raw = c.req.param("jobId");
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    const job = id === undefined ? undefined : await deps.store.getJob(id);
    if (job === undefined || job.collectionId !== collection.id) throw new NotFoundError("job", raw);
    return c.json({ job: jobView(job) });
  });

  return app;
}
