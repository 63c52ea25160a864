import type { Server as HttpServer } from "node:http";
import type { Server } from "node:net";
import { serve } from "@hono/node-server";

export interface ServerLimits {
  host: string;
  port: number;
  /** Connections open at once; past it, new connections are closed at once. */
  maxConnections: number;
  /** All request headers must arrive within this (ms) of the request's start. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (ms). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
}

export type RunningServer = ReturnType<typeof serve>;

/**
 * Listens with the connection limits of Node's HTTP server, checked every second (Node's default is every
 * 30 s, which would let slow clients hold connections for that long), and resolves once listening.
 */
export async function listenWithLimits(
  fetch: Parameters<typeof serve>[0]["fetch"],
  limits: ServerLimits,
): Promise<RunningServer> {
  const server = await new Promise<RunningServer>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        hostname: limits.host,
        port: limits.port,
        serverOptions: {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          connectionsCheckingInterval: 1_000,
        },
      },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  (server as Server).maxConnections = limits.maxConnections;
  return server;
}

/**
 * Stops accepting connections and waits for the requests in flight to finish, closing each keep-alive
 * connection as soon as it is idle; after `timeoutMs` the connections still open are cut. Resolves when the
 * server has closed, with how many connections had to be cut.
 */
export async function drain(server: RunningServer, timeoutMs: number): Promise<{ cut: number }> {
  const http = server as unknown as HttpServer;
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  http.closeIdleConnections();
  const idle = setInterval(() => http.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  try {
    if ((await Promise.race([closed, expired])) !== "expired") return { cut: 0 };
    const cut = await new Promise<number>((resolve) => http.getConnections((_e, n) => resolve(n ?? 0)));
    http.closeAllConnections();
    await closed;
    return { cut };
  } finally {
    clearInterval(idle);
    clearTimeout(timer);
  }
}
