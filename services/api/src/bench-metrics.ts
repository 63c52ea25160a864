/**
 * The cost of metrics on search latency: two real services in this process on the sample corpus (embedded
 * store, BM25 only, auth off, so nothing hides the overhead), one with `SIFT_METRICS=true` (request
 * counter and histogram, stage histograms, process metrics) and one with `SIFT_METRICS=false`, queried
 * alternately over HTTP so both see the same machine load; the metered one is scraped once a second, as
 * Prometheus would. Prints p50/p95 of each and their ratio. `pnpm --filter @sift/api bench:metrics`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { alternateSearches, printComparison } from "./bench-support";
import { parseConfig } from "./config";
import { startService } from "./service";

const rounds = Number(process.env.SIFT_BENCH_ROUNDS ?? 1000);

async function open(metrics: boolean) {
  const dataDir = await mkdtemp(path.join(tmpdir(), `sift-bench-metrics-${metrics}-`));
  const service = await startService(
    parseConfig({
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_EMBEDDING_MODEL: "none",
      SIFT_AUTH: "off",
      SIFT_RATE_LIMIT_RPS: "0",
      SIFT_METRICS: String(metrics),
      SIFT_LOG_LEVEL: "error",
    }),
    silentLogger,
  );
  return {
    service,
    dataDir,
    target: { name: `metrics ${metrics ? "on" : "off"}`, url: service.url, headers: {} },
  };
}

const on = await open(true);
const off = await open(false);
let scrapes = 0;
const scraper = setInterval(() => {
  void fetch(`${on.service.url}/metrics`).then(async (r) => {
    await r.text();
    if (r.status === 200) scrapes++;
  });
}, 1000);
printComparison(await alternateSearches([on.target, off.target], rounds), rounds);
clearInterval(scraper);
const exposition = await (await fetch(`${on.service.url}/metrics`)).text();
const searches =
  /sift_http_requests_total\{route="\/v1\/collections\/\{collection\}\/search",method="POST",status="200"\} (\d+)/.exec(
    exposition,
  )?.[1];
console.log(
  `metered service: ${searches} searches counted, ${scrapes} scrapes during the run (one a second)`,
);
for (const opened of [on, off]) {
  await opened.service.close();
  await rm(opened.dataDir, { recursive: true, force: true });
}
