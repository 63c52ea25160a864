/**
 * The cost of metrics on search latency: two real services in this process on the sample corpus (embedded
 * store, BM25 only, auth off, so nothing hides the overhead), one with `SIFT_METRICS=true` (request
 * counter and histogram, stage histograms, process metrics) and one with `SIFT_METRICS=false`, queried
 * alternately over HTTP so both see the same machine load; the metered one is scraped once a second, as
 * Prometheus would. Prints p50/p95 of each and their ratio. `pnpm --filter @sift/api bench:metrics`.
 */
import { alternateSearches, printComparison, startBenchService } from "./bench-support";

const rounds = Number(process.env.SIFT_BENCH_ROUNDS ?? 1000);

async function open(metrics: boolean) {
  const { service, stop } = await startBenchService(`sift-bench-metrics-${metrics}-`, {
    SIFT_AUTH: "off",
    SIFT_METRICS: String(metrics),
  });
  return {
    service,
    stop,
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
await on.stop();
await off.stop();
