import type { JsonValue } from "@sift/core";
import type { Context } from "hono";
import { authOf } from "./auth";
import type { AppDependencies, AppEnv } from "./context";

/**
 * Appends one event to the tenant's audit trail, naming the caller and the request. Written after the
 * change it describes has committed; when the store cannot take it, the failure is logged at error level
 * with the event (the change itself stands and the response goes out).
 */
export async function recordAudit(
  c: Context<AppEnv>,
  deps: AppDependencies,
  event: { action: string; collection?: string; target?: string; detail?: Record<string, JsonValue> },
): Promise<void> {
  const auth = authOf(c);
  const entry = { tenant: auth.tenant, actor: auth.actor, requestId: c.get("requestId"), ...event };
  try {
    await deps.store.appendAudit([entry]);
  } catch (error) {
    deps.logger.error("could not write an audit event", {
      requestId: c.get("requestId"),
      event: entry,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}
