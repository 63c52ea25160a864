// Every HTTP call the playground makes goes through this module: the Sift client (built from the session's
// key and tenant) and the evaluation report's address. Switching to a generated client changes this file.
import { SiftApiError, SiftClient } from "@sift/client";

export type { SiftClient };
export { SiftApiError };

/** What the user entered once: kept in sessionStorage, so it lasts as long as the tab. */
export interface Session {
  apiKey: string;
  tenant: string;
}

const storageKey = "sift.playground.session";

export function loadSession(storage: Storage = sessionStorage): Session {
  try {
    const saved = JSON.parse(storage.getItem(storageKey) ?? "{}") as Partial<Session>;
    return { apiKey: saved.apiKey ?? "", tenant: saved.tenant ?? "" };
  } catch {
    return { apiKey: "", tenant: "" };
  }
}

export function saveSession(session: Session, storage: Storage = sessionStorage): void {
  storage.setItem(storageKey, JSON.stringify(session));
}

/** The client for a session, against the page's own origin (the service serves the page). */
export function clientFor(session: Session): SiftClient {
  return new SiftClient({
    baseUrl: "",
    apiKey: session.apiKey || undefined,
    tenant: session.tenant || undefined,
  });
}

/** Where the service serves the last `pnpm eval` run's self-contained HTML report. */
export const evalReportUrl = "eval/report.html";

/** True when the service serves an evaluation report (a 404 means none was run or none is served). */
export async function evalReportAvailable(): Promise<boolean> {
  const response = await fetch(evalReportUrl, { method: "HEAD" }).catch(() => undefined);
  return response?.ok === true;
}

/** True for the errors that need the user to enter (another) API key. */
export function needsKey(error: unknown): boolean {
  return error instanceof SiftApiError && (error.status === 401 || error.status === 403);
}

/** One line for the user: the API's code and message, and the offending fields. */
export function describeError(error: unknown): string {
  if (!(error instanceof SiftApiError)) return error instanceof Error ? error.message : String(error);
  const fields = error.fields.map((f) => `${f.path}: ${f.message}`).join("; ");
  return `${error.code} (${error.status}): ${error.detail}${fields ? ` — ${fields}` : ""}`;
}
