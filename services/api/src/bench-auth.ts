/**
 * The cost of auth and limits on search latency: two real services in this process on the sample corpus
 * (embedded store, BM25 only, so the overhead is not hidden under a dense leg), one with `SIFT_AUTH=required`
 * and the rate limit on, one with `SIFT_AUTH=off` and no rate limit, queried alternately over HTTP so both
 * see the same machine load. Prints p50/p95 of each and their ratio. `pnpm --filter @sift/api bench:auth`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { parseConfig } from "./config";
import { startService } from "./service";

const rounds = Number(process.env.SIFT_BENCH_ROUNDS ?? 1000);
const queries = [
  "how does hybrid search combine bm25 and vectors",
  "reciprocal rank fusion",
  "postgres as the system of record",
  "hnsw graph recall",
  "citations that can be verified",
];

async function open(auth: "required" | "off") {
  const dataDir = await mkdtemp(path.join(tmpdir(), `sift-bench-${auth}-`));
  const service = await startService(
    parseConfig({
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_EMBEDDING_MODEL: "none",
      SIFT_AUTH: auth,
      SIFT_RATE_LIMIT_RPS: auth === "required" ? "100000" : "0",
      SIFT_LOG_LEVEL: "error",
    }),
    silentLogger,
  );
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (service.bootstrapKey !== undefined) headers.authorization = `Bearer ${service.bootstrapKey}`;
  return { service, dataDir, headers };
}

const on = await open("required");
const off = await open("off");
const times = { required: [] as number[], off: [] as number[] };
for (let i = 0; i < rounds; i++) {
  const body = JSON.stringify({ query: queries[i % queries.length], k: 10 });
  const pair: Array<["required" | "off", typeof on]> = [
    ["required", on],
    ["off", off],
  ];
  for (const [name, target] of i % 2 === 0 ? pair : pair.reverse()) {
    const started = performance.now();
    const res = await fetch(`${target.service.url}/v1/collections/sample/search`, {
      method: "POST",
      headers: target.headers,
      body,
    });
    await res.text();
    if (res.status !== 200) throw new Error(`${name}: status ${res.status}`);
    if (i >= 50) times[name].push(performance.now() - started); // the first 50 rounds warm up
  }
}
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!;
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}; ${rounds - 50} measured rounds each`,
);
for (const name of ["required", "off"] as const) {
  console.log(
    `auth ${name.padEnd(8)} p50 ${pct(times[name], 0.5).toFixed(3)} ms, p95 ${pct(times[name], 0.95).toFixed(3)} ms`,
  );
}
console.log(`p50 ratio (required / off): ${(pct(times.required, 0.5) / pct(times.off, 0.5)).toFixed(3)}`);
for (const target of [on, off]) {
  await target.service.close();
  await rm(target.dataDir, { recursive: true, force: true });
}
