import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { listenWithLimits, type RunningServer } from "./server";

const app = new Hono().get("/", (c) => c.text("ok"));

/** Opens a connection that sends the start of a request and then nothing (a slowloris client). */
function slowClient(port: number): Promise<{ socket: Socket; closed: Promise<"closed-by-server"> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      socket.resume(); // read what the server sends (its 408), so its close reaches us
      resolve({
        socket,
        closed: new Promise((done) => socket.once("close", () => done("closed-by-server"))),
      });
    });
    socket.on("error", () => {}); // a reset by the server is the point
    socket.once("error", reject);
  });
}

describe("connection limits of the listening server", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  });

  it("cuts 220 slow connections at the header timeout while serving a normal request", async () => {
    server = await listenWithLimits(app.fetch, {
      host: "127.0.0.1",
      port: 0,
      maxConnections: 1000,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 1000,
    });
    const { port } = server.address() as AddressInfo;
    const clients = await Promise.all(Array.from({ length: 220 }, () => slowClient(port)));
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    // Every slow client is closed by the server (the test never closes them itself).
    const outcomes = await Promise.all(clients.map((c) => c.closed));
    expect(outcomes.every((o) => o === "closed-by-server")).toBe(true);
  });

  it("refuses connections past maxConnections", async () => {
    server = await listenWithLimits(app.fetch, {
      host: "127.0.0.1",
      port: 0,
      maxConnections: 20,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
    });
    const { port } = server.address() as AddressInfo;
    const held = await Promise.all(Array.from({ length: 20 }, () => slowClient(port)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the server accept them all
    const extra = await slowClient(port);
    expect(await extra.closed).toBe("closed-by-server");
    for (const c of held) c.socket.destroy();
  });
});
