import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "@sift/core";
import { parseConfig } from "./config";
import { type RunningService, startService } from "./service";

export const benchQueries = [
  "how does hybrid search combine bm25 and vectors",
  "reciprocal rank fusion",
  "postgres as the system of record",
  "hnsw graph recall",
  "citations that can be verified",
];

export interface BenchService {
  service: RunningService;
  /** Closes the service and removes its scratch folder. */
  stop(): Promise<void>;
}

/**
 * A real listening service for a benchmark, in this process: a fresh scratch folder (named `prefix…`) as
 * its data folder, an ephemeral port, no embedding model (BM25 only), no rate limit and errors-only logs;
 * `settings` (environment-style, as `parseConfig` reads them) add to these or override them.
 */
export async function startBenchService(
  prefix: string,
  settings: Record<string, string>,
): Promise<BenchService> {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const service = await startService(
    parseConfig({
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_EMBEDDING_MODEL: "none",
      SIFT_RATE_LIMIT_RPS: "0",
      SIFT_LOG_LEVEL: "error",
      ...settings,
    }),
    silentLogger,
  );
  return {
    service,
    stop: async () => {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BenchTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
}

/**
 * Sends one search of the sample corpus to each target per round, alternating their order, so every
 * target sees the same machine load; the first 50 rounds warm up. Returns each target's latencies (ms).
 */
export async function alternateSearches(
  targets: BenchTarget[],
  rounds: number,
): Promise<Map<string, number[]>> {
  const times = new Map(targets.map((t) => [t.name, [] as number[]]));
  for (let i = 0; i < rounds; i++) {
    const body = JSON.stringify({ query: benchQueries[i % benchQueries.length], k: 10 });
    for (const target of i % 2 === 0 ? targets : [...targets].reverse()) {
      const started = performance.now();
      const res = await fetch(`${target.url}/v1/collections/sample/search`, {
        method: "POST",
        headers: { "content-type": "application/json", ...target.headers },
        body,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`${target.name}: status ${res.status}`);
      if (i >= 50) times.get(target.name)!.push(performance.now() - started);
    }
  }
  return times;
}

export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!;

/** Prints the load, each target's p50/p95 and the p50 ratio of the first target to the second. */
export function printComparison(times: Map<string, number[]>, rounds: number): void {
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}; ${rounds - 50} measured rounds each`,
  );
  for (const [name, values] of times) {
    console.log(
      `${name.padEnd(16)} p50 ${percentile(values, 0.5).toFixed(3)} ms, p95 ${percentile(values, 0.95).toFixed(3)} ms`,
    );
  }
  const [[a, first], [b, second]] = [...times] as [[string, number[]], [string, number[]]];
  console.log(`p50 ratio (${a} / ${b}): ${(percentile(first, 0.5) / percentile(second, 0.5)).toFixed(3)}`);
}
