// Shared by the HTTP adapters (embeddings, rerank): retry timing and reading vendor error bodies.

/** How long to wait before retrying; honours `retry-after` (seconds or an HTTP date), capped at 60 s. */
export function retryDelay(attempt: number, baseMs: number, retryAfter: string | null): number {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), 60_000);
  }
  return baseMs * 2 ** attempt * (0.5 + Math.random() / 2);
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The vendor's message: OpenAI `{error: {message}}`, TEI `{error: "…"}`, else the raw body. */
export function vendorMessage(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 500);
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : JSON.stringify(body).slice(0, 500);
}

export async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
