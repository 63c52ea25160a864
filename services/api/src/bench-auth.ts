/**
 * The cost of auth and limits on search latency: two real services in this process on the sample corpus
 * (embedded store, BM25 only, so the overhead is not hidden under a dense leg), one with `SIFT_AUTH=required`
 * and the rate limit on, one with `SIFT_AUTH=off` and no rate limit, queried alternately over HTTP so both
 * see the same machine load. Prints p50/p95 of each and their ratio. `pnpm --filter @sift/api bench:auth`.
 */
import { alternateSearches, printComparison, startBenchService } from "./bench-support";

const rounds = Number(process.env.SIFT_BENCH_ROUNDS ?? 1000);

async function open(auth: "required" | "off") {
  const { service, stop } = await startBenchService(`sift-bench-${auth}-`, {
    SIFT_AUTH: auth,
    SIFT_RATE_LIMIT_RPS: auth === "required" ? "100000" : "0",
  });
  const headers: Record<string, string> = {};
  if (service.bootstrapKey !== undefined) headers.authorization = `Bearer ${service.bootstrapKey}`;
  return { stop, target: { name: `auth ${auth}`, url: service.url, headers } };
}

const on = await open("required");
const off = await open("off");
printComparison(await alternateSearches([on.target, off.target], rounds), rounds);
await on.stop();
await off.stop();
