import { ForbiddenError, NotFoundError } from "@sift/core";
import type { Context } from "hono";
import { authOf } from "../auth";
import { type AppDependencies, type AppEnv, resolveCollection } from "../context";
import type { RouteTable } from "../route-table";
import { collectionParams, jobBodySchema, jobParams, jobsListSchema, jobsQuerySchema } from "../schemas";
import { jobView } from "../views";

/** Jobs count every document of the collection: a scoped key must not see them. */
function refuseScoped(c: Context<AppEnv>): void {
  if (authOf(c).filter !== undefined) {
    throw new ForbiddenError("a scoped key cannot read ingestion jobs: they describe the whole collection");
  }
}

export function jobsRoutes(routes: RouteTable, deps: AppDependencies): void {
  routes.define(
    {
      method: "get",
      path: "/v1/collections/{collection}/jobs",
      operationId: "listJobs",
      summary: "Recent ingestion jobs, most recent first",
      description: "Job ids are numbers within the collection (1, 2, 3 …). Not for scoped keys.",
      tag: "jobs",
      role: "reader",
      params: collectionParams,
      query: jobsQuerySchema,
      responses: { 200: { description: "the jobs", schema: jobsListSchema } },
    },
    async (c, { query }) => {
      refuseScoped(c);
      const collection = await resolveCollection(c, deps.store);
      const jobs = await deps.store.listJobs(collection.id, { limit: query.limit });
      return c.json({ jobs: jobs.map(jobView) });
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/collections/{collection}/jobs/{jobId}",
      operationId: "getJob",
      summary: "One ingestion job by its number in the collection",
      tag: "jobs",
      role: "reader",
      params: jobParams,
      responses: { 200: { description: "the job", schema: jobBodySchema } },
    },
    async (c) => {
      refuseScoped(c);
      const collection = await resolveCollection(c, deps.store);
      const raw = c.req.param("jobId")!;
      const job = await deps.store.getJobByNumber(collection.id, Number(raw));
      if (job === undefined) throw new NotFoundError("job", raw);
      return c.json({ job: jobView(job) });
    },
  );
}
