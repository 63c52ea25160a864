/**
 * The cost of auth and limits on search latency: two real services in this process on the sample corpus
 * (embedded store, BM25 only, so the overhead is not hidden under a dense leg), one with `SIFT_AUTH=required`
 * and the rate limit on, one with `SIFT_AUTH=off` and no rate limit, queried alternately over HTTP so both
 * see the same machine load. Prints p50/p95 of each and their ratio. `pnpm --filter @sift/api bench:auth`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { alternateSearches, printComparison } from "./bench-support";
import { parseConfig } from "./config";
import { startService } from "./service";

const rounds = Number(process.env.SIFT_BENCH_ROUNDS ?? 1000);

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
  const headers: Record<string, string> = {};
  if (service.bootstrapKey !== undefined) headers.authorization = `Bearer ${service.bootstrapKey}`;
  return { service, dataDir, target: { name: `auth ${auth}`, url: service.url, headers } };
}

const on = await open("required");
const off = await open("off");
printComparison(await alternateSearches([on.target, off.target], rounds), rounds);
for (const opened of [on, off]) {
  await opened.service.close();
  await rm(opened.dataDir, { recursive: true, force: true });
}
