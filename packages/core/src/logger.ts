import type { Logger } from "@sift/core";

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger writing one JSON object per line: `{ts, level, msg, ...fields}` (the API's format, so the
 * two can be read by the same tools). Fields named `ts`, `level` or `msg` cannot override the envelope.
 */
export function createJsonLogger(level: LogLevel, write: (line: string) => void): Logger {
  const emit = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (rank[at] < rank[level]) return;
    write(`${JSON.stringify({ ...fields, ts: new Date().toISOString(), level: at, msg: message })}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
