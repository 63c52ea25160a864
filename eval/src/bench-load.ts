/**
 * `pnpm bench:load [--connections 64] [--duration 60] [--dataset DIR] [--cache-dir DIR | --source-data-dir DIR]`
 *
 * A load test of hybrid search over HTTP: copies the eval data dir (its store holds the embedding cache, so
 * nothing is embedded again), ingests the dataset into a fresh collection of the copy with the real CLI,
 * starts the real service on it, sends every judged query once (warm-up, unmeasured), then holds
 * `--connections` keep-alive connections for `--duration` seconds with autocannon, each request the next
 * judged query in turn (`mode: "hybrid"`, the default fusion, `k` 10). Prints latency p50/p99, throughput
 * and the errors (non-2xx responses, connection errors and timeouts) and degraded responses, with the
 * machine's load average; `--out FILE` also writes them as JSON. docs/benchmarks.md has the figures.
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, homedir, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { acquireDataDirLock, lockFileName } from "@sift/store";
import autocannon from "autocannon";
import { loadBeirQueries } from "./beir";
import { corpusFingerprint } from "./dataset";
import { runSiftCli } from "./indexer-process";
import { startServiceProcess, waitUntilReady } from "./service-process";

const { values } = parseArgs({
  options: {
    dataset: { type: "string", default: "../shared/datasets/scifact" },
    split: { type: "string", default: "test" },
    connections: { type: "string", default: "64" },
    duration: { type: "string", default: "60" },
    k: { type: "string", default: "10" },
    "cache-dir": { type: "string", default: path.join(homedir(), ".cache", "sift", "eval") },
    "source-data-dir": { type: "string" },
    out: { type: "string" },
  },
});
const positive = (flag: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench:load: --${flag} must be an integer ≥ 1, got ${text}`);
    process.exit(2);
  }
  return n;
};
const connections = positive("connections", values.connections);
const duration = positive("duration", values.duration);
const k = positive("k", values.k);

const datasetDir = path.resolve(values.dataset);
const dataset = path.basename(datasetDir);
const { queries } = await loadBeirQueries(datasetDir, values.split);
const source =
  values["source-data-dir"] ??
  path.join(values["cache-dir"], `${dataset}-${await corpusFingerprint(datasetDir)}`);
const scratch = await mkdtemp(path.join(tmpdir(), "sift-load-"));
try {
  const dataDir = await copyDataDir(source, path.join(scratch, "data"));
  await ingest(dataDir);
  const service = await startServiceProcess({
    PORT: "0",
    SIFT_DATA_DIR: dataDir,
    SIFT_SAMPLE_CORPUS: "0",
    SIFT_LOG_LEVEL: "warn",
  });
  try {
    await waitUntilReady(service);
    const url = `${service.url}/v1/collections/load/search`;
    await warmUp(url);
    const figures = await load(url);
    console.log(formatFigures(figures));
    if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await service.stop();
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

/** Copies the eval data dir while holding its lock, so no eval run writes to it meanwhile. */
async function copyDataDir(from: string, to: string): Promise<string> {
  const lock = acquireDataDirLock(from, "wait for the eval run to finish, or pass --source-data-dir");
  try {
    await cp(from, to, { recursive: true, filter: (file) => path.basename(file) !== lockFileName });
  } finally {
    lock.release();
  }
  console.error(`bench:load: copied ${from} to ${to}`);
  return to;
}

async function ingest(dataDir: string): Promise<void> {
  const started = performance.now();
  const result = await runSiftCli(["ingest", datasetDir, "--collection", "load", "--format", "beir"], {
    SIFT_DATA_DIR: dataDir,
    SIFT_LOG_LEVEL: "warn",
  });
  if (result.code !== 0)
    throw new Error(`sift ingest exited with ${result.code}:\n${result.log.slice(-20).join("\n")}`);
  console.error(`bench:load: ingested ${dataset} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function body(i: number): string {
  return JSON.stringify({ query: queries[i % queries.length]!.text, k, mode: "hybrid" });
}

/** Every judged query once, sequentially: query vectors and the indexes are warm before the load. */
async function warmUp(url: string): Promise<void> {
  for (let i = 0; i < queries.length; i++) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(i),
    });
    if (!response.ok) throw new Error(`warm-up search answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
}

interface LoadFigures {
  connections: number;
  durationSeconds: number;
  requests: number;
  throughputPerSecond: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
  errors: { total: number; non2xx: number; connectionErrors: number; timeouts: number };
  statusCodes: Record<string, number>;
  degradedResponses: number;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  k: number;
  queries: number;
}

async function load(url: string): Promise<LoadFigures> {
  let next = 0;
  let degraded = 0;
  const loadAverageBefore = loadavg();
  const result = await autocannon({
    url,
    connections,
    duration,
    // Past the service's own request timeout (10 s), so a slow search shows as its 504, not a client timeout.
    timeout: 30,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: body(next++) }),
        onResponse: (status, responseBody) => {
          if (status === 200 && !responseBody.includes('"degraded":[]')) degraded++;
        },
      },
    ],
  });
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
  );
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    connections,
    durationSeconds: result.duration,
    requests,
    throughputPerSecond: requests / result.duration,
    latency_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: {
      total: result.non2xx + result.errors,
      non2xx: result.non2xx,
      connectionErrors: result.errors - result.timeouts,
      timeouts: result.timeouts,
    },
    statusCodes,
    degradedResponses: degraded,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadAverageBefore,
      loadAverageAfter: loadavg(),
    },
    k,
    queries: queries.length,
  };
}

function formatFigures(f: LoadFigures): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  return [
    `hybrid search, ${dataset} (${f.queries} judged queries in turn, k ${f.k}), ${f.connections} connections for ${f.durationSeconds.toFixed(1)} s`,
    `latency      p50 ${f.latency_ms.p50} ms, p90 ${f.latency_ms.p90} ms, p99 ${f.latency_ms.p99} ms, max ${f.latency_ms.max} ms`,
    `throughput   ${f.throughputPerSecond.toFixed(1)} requests/s (${f.requests} responses)`,
    `errors       ${f.errors.total} (non-2xx ${f.errors.non2xx}, connection errors ${f.errors.connectionErrors}, timeouts ${f.errors.timeouts}); status codes ${JSON.stringify(f.statusCodes)}`,
    `degraded     ${f.degradedResponses} responses named a degraded leg`,
    `target       0 errors over the run: ${f.errors.total === 0 ? "met" : "NOT met"}`,
    `machine      ${f.machine.cpus} × ${f.machine.cpuModel}, Node ${f.machine.node}, load average before ${load(f.machine.loadAverageBefore)}, after ${load(f.machine.loadAverageAfter)} (the client shares the machine)`,
  ].join("\n");
}
