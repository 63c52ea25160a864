import { getConnInfo } from "@hono/node-server/conninfo";
import { ForbiddenError, type Role, roleAllows, UnauthorizedError, ValidationError } from "@sift/core";
import type { Context, MiddlewareHandler } from "hono";
import type { AppDependencies, AppEnv } from "./context";
import type { RequestAuth } from "./request-auth";
import { nameMessage, namePattern } from "./schemas";

export const tenantHeader = "x-sift-tenant";

/** The caller of a `/v1` request (set by `authenticate`). */
export function authOf(c: Context<AppEnv>): RequestAuth {
  return c.get("auth");
}

/** Throws `ForbiddenError` unless the caller's role includes `needed`. */
export function requireRole(c: Context<AppEnv>, needed: Role): void {
  const auth = authOf(c);
  if (!roleAllows(auth.role, needed)) {
    throw new ForbiddenError(`this needs a ${needed} key; yours is a ${auth.role} key`);
  }
}

/**
 * The `/v1` middleware: establishes `auth` (from the bearer key, or from the tenant header when auth is
 * off), records the key's use (batched), then spends one token of the caller's rate limit (unless
 * `rateLimit: false`, for `/mcp`, whose tool calls spend it on the `/v1` routes they call).
 */
export function authenticate(
  deps: AppDependencies,
  options: { rateLimit?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = deps.access.mode === "off" ? anonymous(c) : await fromKey(c, deps);
    c.set("auth", auth);
    if (auth.keyId !== undefined) deps.access.usage?.record({ id: auth.keyId, tenant: auth.tenant });
    if (options.rateLimit !== false) deps.access.rateLimit?.take(auth.keyId ?? `address:${clientAddress(c)}`);
    await next();
  };
}

async function fromKey(c: Context<AppEnv>, deps: AppDependencies): Promise<RequestAuth> {
  const header = c.req.header("authorization");
  if (header === undefined) {
    throw new UnauthorizedError("an API key is required: send 'Authorization: Bearer sift_…'");
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) throw new UnauthorizedError("the Authorization header must be 'Bearer <API key>'");
  const key = await deps.access.keys.verify(match[1]!);
  return {
    via: "key",
    keyId: key.id,
    tenant: key.tenant,
    role: key.role,
    filter: key.filter ?? undefined,
    user: key.user ?? undefined,
    actor: `key:${key.id}`,
  };
}

function anonymous(c: Context<AppEnv>): RequestAuth {
  const tenant = c.req.header(tenantHeader) ?? "default";
  if (!namePattern.test(tenant)) {
    throw new ValidationError("invalid tenant header", [
      { path: `header.${tenantHeader}`, message: nameMessage },
    ]);
  }
  return {
    via: "off",
    keyId: undefined,
    tenant,
    role: "admin",
    filter: undefined,
    user: undefined,
    actor: "anonymous",
  };
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "local"; // app.request() in tests has no socket
  }
}
