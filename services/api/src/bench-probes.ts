/**
 * Reruns the probes of issue 10 against a real listening service (embedded store, BM25 only, auth on,
 * 1,000 chunks) and prints each outcome: status, time, body size, and how long `/healthz` took while the
 * probe ran (the event loop held or not). `pnpm --filter @sift/api bench:probes`.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { startBenchService } from "./bench-support";

const { service, stop } = await startBenchService("sift-probes-", {
  SIFT_SAMPLE_CORPUS: "0",
  SIFT_HEADERS_TIMEOUT_MS: process.env.SIFT_HEADERS_TIMEOUT_MS ?? "10000",
  SIFT_MAX_QUERY_BODY_BYTES: process.env.SIFT_MAX_QUERY_BODY_BYTES ?? "65536",
});
const auth = { authorization: `Bearer ${service.bootstrapKey}`, "content-type": "application/json" };
const url = service.url;

/** One request on its own connection (a refused body may leave a kept-alive connection unusable). */
function send(method: string, route: string, body?: string) {
  const started = performance.now();
  return new Promise<{ status: number; ms: number; bytes: number; text: string }>((resolve, reject) => {
    const req = request(`${url}${route}`, { method, headers: auth, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes: text.length, text }),
      );
    });
    // The server may answer (413) and close before it has read the whole body.
    req.on("error", (error) => reject(error));
    req.end(body);
  });
}

/** Runs the probe and, 50 ms into it, times a `/healthz` request. */
async function probe(name: string, method: string, route: string, body?: string) {
  const running = send(method, route, body);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const health = performance.now();
  await fetch(`${url}/healthz`);
  const healthMs = performance.now() - health;
  const result = await running;
  const code = result.text.startsWith("{") ? (JSON.parse(result.text).error?.code ?? "") : "";
  console.log(
    `| ${name} | ${(body?.length ?? 0).toLocaleString("en")} B | ${result.status} ${code} | ${result.ms.toFixed(0)} ms | ${result.bytes.toLocaleString("en")} B | ${healthMs.toFixed(0)} ms |`,
  );
}

const inClauses = (n: number, values: number) =>
  JSON.stringify({
    query: "prices supply",
    filter: {
      and: Array.from({ length: n }, (_, i) => ({
        field: `f${i}`,
        in: Array.from({ length: values }, (_, j) => j * 7919),
      })),
    },
  });
const nest = (depth: number, open: string, leaf: string, close: string) =>
  `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

await send("PUT", "/v1/collections/big");
const documents = Array.from({ length: 1000 }, (_, i) => ({
  id: `d${i}`,
  text: `chunk ${i} about prices and supply`,
  metadata: Object.fromEntries(Array.from({ length: 60 }, (_, f) => [`f${f}`, ((i + f) % 50) * 7919])),
}));
await send("POST", "/v1/collections/big/documents", JSON.stringify({ documents }));

console.log(`limits: SIFT_MAX_QUERY_BODY_BYTES=${process.env.SIFT_MAX_QUERY_BODY_BYTES ?? "65536"}`);
console.log("| probe | body | status | time | response | /healthz meanwhile |");
console.log("|---|---|---|---|---|---|");
await probe(
  "60 `in` clauses of 1,000 values (421 KB)",
  "POST",
  "/v1/collections/big/search",
  inClauses(60, 1000),
);
await probe(
  "60 `in` clauses of 17 values (the most the caps allow)",
  "POST",
  "/v1/collections/big/search",
  inClauses(60, 17),
);
await probe("1 `in` clause of 1,000 values", "POST", "/v1/collections/big/search", inClauses(1, 1000));
await probe("valid filter, 8.9 MB", "POST", "/v1/collections/big/search", inClauses(12_500, 100));
await probe(
  "invalid filter, 2.9 MB",
  "POST",
  "/v1/collections/big/search",
  JSON.stringify({
    query: "x",
    filter: { and: Array.from({ length: 110_000 }, () => ({ field: "f", bogus: [1, 2, 3] })) },
  }),
);
await probe(
  "`and` nested 1,000 deep",
  "POST",
  "/v1/collections/big/search",
  `{"query":"x","filter":${nest(1000, '{"and":[', '{"field":"a","eq":1}', "]}")}}`,
);
await probe(
  "metadata nested 2,000 deep",
  "POST",
  "/v1/collections/big/documents",
  `{"documents":[{"id":"deep","text":"t","metadata":${nest(2000, '{"x":', "1", "}")}}]}`,
);
await probe(
  "lone surrogate in a document id",
  "POST",
  "/v1/collections/big/documents",
  '{"documents":[{"id":"a\\ud800","text":"t"}]}',
);

// 220 slow connections: each sends part of its headers and waits.
const started = performance.now();
const closedAt = await Promise.all(
  Array.from(
    { length: 220 },
    () =>
      new Promise<number>((resolve) => {
        const socket = connect(Number(new URL(url).port), "127.0.0.1", () =>
          socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "),
        );
        socket.resume();
        socket.on("error", () => {});
        socket.once("close", () => resolve(performance.now() - started));
      }),
  ),
);
closedAt.sort((a, b) => a - b);
console.log(
  `220 slow connections: all closed by the server; first after ${(closedAt[0]! / 1000).toFixed(1)} s, last after ${(closedAt.at(-1)! / 1000).toFixed(1)} s`,
);

await stop();
