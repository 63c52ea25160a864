import { ConflictError, NotFoundError, ValidationError } from "@sift/core";
import { recordAudit } from "../audit";
import { authOf } from "../auth";
import type { AppDependencies } from "../context";
import type { RouteTable } from "../route-table";
import {
  auditPageSchema,
  auditQuerySchema,
  createKeySchema,
  keyCreatedSchema,
  keyParams,
  keySchema,
  keysListSchema,
} from "../schemas";
import { auditDomain, auditView, keyView } from "../views";

/** Admin routes: the tenant's keys and its audit trail. Every one acts within the caller's tenant. */
export function keysRoutes(routes: RouteTable, deps: AppDependencies): void {
  routes.define(
    {
      method: "post",
      path: "/v1/keys",
      operationId: "createKey",
      summary: "Create an API key for the caller's tenant (the key is shown once)",
      description: "Only reader keys can carry a `filter` (a scope).",
      tag: "keys",
      role: "admin",
      body: { schema: createKeySchema, required: true, limit: "query", filterAt: "filter" },
      responses: { 201: { description: "the key, with its secret", schema: keyCreatedSchema } },
    },
    async (c, { body }) => {
      const auth = authOf(c);
      const { key, record } = await deps.access.keys.create({
        tenant: auth.tenant,
        role: body.role,
        createdBy: auth.actor,
        name: body.name,
        filter: body.filter,
        user: body.user,
        expiresAt: body.expiresAt === undefined ? undefined : new Date(body.expiresAt),
      });
      await recordAudit(c, deps, {
        action: "key.create",
        target: record.id,
        detail: { role: record.role, scoped: record.filter !== null, user: record.user },
      });
      return c.json({ ...keyView(record), key }, 201);
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/keys",
      operationId: "listKeys",
      summary: "The tenant's keys, newest first (without their secrets)",
      tag: "keys",
      role: "admin",
      responses: { 200: { description: "the keys", schema: keysListSchema } },
    },
    async (c) => c.json({ keys: (await deps.access.keys.list(authOf(c).tenant)).map(keyView) }),
  );

  routes.define(
    {
      method: "delete",
      path: "/v1/keys/{id}",
      operationId: "revokeKey",
      summary: "Revoke a key of the tenant (idempotent)",
      tag: "keys",
      role: "admin",
      params: keyParams,
      responses: { 200: { description: "the revoked key", schema: keySchema } },
      errors: [409],
    },
    async (c) => {
      const id = c.req.param("id")!;
      if (id === authOf(c).keyId) {
        // An admin locking itself out by mistake is worse than a second step.
        throw new ConflictError("a key cannot revoke itself: use another admin key, or 'sift keys revoke'");
      }
      const revoked = await deps.access.keys.revoke(id, authOf(c).tenant);
      if (revoked === undefined) throw new NotFoundError("key", id);
      await recordAudit(c, deps, { action: "key.revoke", target: id });
      return c.json(keyView(revoked));
    },
  );

  routes.define(
    {
      method: "get",
      path: "/v1/audit",
      operationId: "listAudit",
      summary: "The tenant's audit trail, newest first",
      description:
        "Writes, deletes, key changes and key use (`key.used`, about hourly per key with a count).",
      tag: "keys",
      role: "admin",
      query: auditQuerySchema,
      responses: { 200: { description: "one page", schema: auditPageSchema } },
    },
    async (c, { query }) => {
      const { tenant } = authOf(c);
      const domain = auditDomain(tenant);
      const beforeId =
        query.cursor === undefined ? undefined : deps.access.ids.decode(domain, Number(query.cursor));
      if (query.cursor !== undefined && beforeId === undefined) {
        throw new ValidationError("invalid cursor", [
          { path: "query.cursor", message: "not a cursor from nextCursor" },
        ]);
      }
      const events = await deps.store.listAudit(tenant, {
        limit: query.limit + 1,
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      const page = events.slice(0, query.limit);
      const last = page.at(-1);
      return c.json({
        events: page.map(auditView),
        nextCursor:
          events.length > query.limit && last !== undefined
            ? String(deps.access.ids.encode(domain, last.id))
            : null,
      });
    },
  );
}
