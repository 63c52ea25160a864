import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DocumentInput, Embedder } from "@sift/core";
import { percentile } from "../metrics";
import type { Progress } from "../progress";
import { type ServiceProcess, startServiceProcess, waitUntilReady } from "../service-process";
import { scaleFilters } from "./corpus";
import { type FreshnessFigures, measureBurst, measureTrickle } from "./freshness";
import { hashingManifest, startEmbeddingServer } from "./hashing-embedder";
import { type LatencyFigures, round, runClosedLoop } from "./load";
import { chunkKey, recallOf } from "./recall";

export interface ServiceSetup {
  /** The store and data directory the corpus was ingested into. */
  env: Record<string, string>;
  scratch: string;
  embedder: "hash" | "model";
}

export interface MeasureOptions {
  queries: readonly string[];
  recallQueries: readonly string[];
  /** Exact filtered top-10 chunk keys per filter, per recall query. */
  exact: Record<string, string[][]>;
  durationMs: number;
  trickle: readonly DocumentInput[];
  burst: readonly DocumentInput[];
  /** Documents per write request in the burst. */
  burstBatch: number;
  embedder: Embedder;
  progress: Progress;
}

const modes = ["bm25", "dense", "hybrid"] as const;
type Mode = (typeof modes)[number];

export interface Measurements {
  figures: {
    rssBytes: number;
    rssPeakBytes: number;
    firstStartSeconds: number;
    restartSeconds: number;
    restart: { stopSeconds: number; startToReadySeconds: number };
    freshnessMs: { p50: number; p99: number };
    freshness: FreshnessFigures;
    freshnessBurstMs: { p50: number; p99: number };
    freshnessBurst: FreshnessFigures;
    configs: Record<Mode, { concurrency1: LatencyFigures; concurrency16: LatencyFigures }>;
    filtered: Record<string, { p50: number; p99: number; recallAt10: number }>;
    queryEmbeddingMs: { p50: number; p99: number; where: string };
  };
}

/** Resident and peak resident memory of a process (Linux `/proc`), bytes. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

async function startReady(
  env: Record<string, string>,
): Promise<{ service: ServiceProcess; seconds: number }> {
  const started = performance.now();
  const service = await startServiceProcess(env);
  try {
    await waitUntilReady(service, 1_800_000);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { service, seconds: (performance.now() - started) / 1000 };
}

async function search(
  url: string,
  body: Record<string, unknown>,
): Promise<{ documentId: string; charStart: number }[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`search answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { hits: { documentId: string; charStart: number }[] }).hits;
}

/** Latency per mode at 1 and 16 clients; every query is sent once per mode first, unmeasured. */
async function measureConfigs(searchUrl: string, options: MeasureOptions) {
  const configs = {} as Measurements["figures"]["configs"];
  for (const mode of modes) {
    const bodies = options.queries.map((query) => JSON.stringify({ query, mode, k: 10 }));
    for (const query of options.queries) await search(searchUrl, { query, mode, k: 10 });
    const concurrency1 = await runClosedLoop({
      url: searchUrl,
      bodies,
      concurrency: 1,
      durationMs: options.durationMs,
    });
    const concurrency16 = await runClosedLoop({
      url: searchUrl,
      bodies,
      concurrency: 16,
      durationMs: options.durationMs,
    });
    configs[mode] = { concurrency1, concurrency16 };
    options.progress.note(
      `bench:scale: ${mode}: 1 client p50 ${concurrency1.p50} ms p99 ${concurrency1.p99} ms ${concurrency1.qps}/s; ` +
        `16 clients p50 ${concurrency16.p50} ms p99 ${concurrency16.p99} ms ${concurrency16.qps}/s`,
    );
  }
  return configs;
}

/** Dense searches under each filter, one client: latency, and recall@10 against the exact filtered top 10. */
async function measureFiltered(searchUrl: string, options: MeasureOptions) {
  const filtered: Measurements["figures"]["filtered"] = {};
  for (const [name, filter] of Object.entries(scaleFilters)) {
    const latencies: number[] = [];
    const recalls: number[] = [];
    for (const [q, query] of options.recallQueries.entries()) {
      const started = performance.now();
      const hits = await search(searchUrl, { query, mode: "dense", k: 10, filter });
      latencies.push(performance.now() - started);
      recalls.push(
        recallOf(
          hits.map((h) => chunkKey(h.documentId, h.charStart)),
          options.exact[name]![q]!,
        ),
      );
    }
    filtered[name] = {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      recallAt10: round(recalls.reduce((a, b) => a + b, 0) / recalls.length, 4),
    };
    options.progress.note(`bench:scale: filter ${name}: ${JSON.stringify(filtered[name])}`);
  }
  return filtered;
}

/** Query embedding alone, in this process with the same embedder: one query per call, like a search. */
async function measureQueryEmbedding(options: MeasureOptions) {
  const samples: number[] = [];
  for (const query of options.queries) {
    const started = performance.now();
    await options.embedder.embed({ texts: [query], kind: "query" });
    samples.push(performance.now() - started);
  }
  return {
    p50: round(percentile(samples, 50), 3),
    p99: round(percentile(samples, 99), 3),
    where:
      "the bench process, one query per call, no HTTP; searches above are measured with warm query vectors " +
      "(every query is sent once per mode before timing, and the service caches query vectors)",
  };
}

/** Starts the service on the ingested corpus and takes every measurement that needs it. */
export async function measureService(setup: ServiceSetup, options: MeasureOptions): Promise<Measurements> {
  const embeddingServer = setup.embedder === "hash" ? await startEmbeddingServer() : undefined;
  const manifest = path.join(setup.scratch, "manifest.json");
  await writeFile(manifest, hashingManifest());
  const env: Record<string, string> = {
    ...setup.env,
    PORT: "0",
    SIFT_SAMPLE_CORPUS: "0",
    SIFT_LOG_LEVEL: "warn",
    SIFT_RERANK_MODEL: "none",
    ...(embeddingServer === undefined
      ? {}
      : {
          SIFT_EMBEDDING_URL: embeddingServer.url,
          SIFT_MODEL_MANIFEST: manifest,
          SIFT_EMBEDDING_MODEL: "term-hashing-384",
        }),
  };
  let { service, seconds: firstStartSeconds } = await startReady(env);
  try {
    options.progress.note(`bench:scale: service ready in ${firstStartSeconds.toFixed(1)} s`);
    const searchUrl = `${service.url}/v1/collections/scale/search`;
    const configs = await measureConfigs(searchUrl, options);
    const filtered = await measureFiltered(searchUrl, options);
    const memory = await memoryOf(service.pid);
    const stopStarted = performance.now();
    await service.stop();
    const stopSeconds = (performance.now() - stopStarted) / 1000;
    const restarted = await startReady(env);
    service = restarted.service;
    options.progress.note(
      `bench:scale: restart: stop ${stopSeconds.toFixed(1)} s, start to ready ${restarted.seconds.toFixed(1)} s`,
    );
    const target = { collectionUrl: `${service.url}/v1/collections/scale` };
    const freshness = await measureTrickle(target, options.trickle, 250);
    options.progress.note(`bench:scale: freshness (single writes): ${JSON.stringify(freshness)}`);
    const freshnessBurst = await measureBurst(target, options.burst, {
      writers: 16,
      batchSize: options.burstBatch,
      markerOffset: options.trickle.length,
    });
    options.progress.note(`bench:scale: freshness (burst): ${JSON.stringify(freshnessBurst)}`);
    const after = await memoryOf(service.pid);
    return {
      figures: {
        rssBytes: memory.rss,
        rssPeakBytes: Math.max(memory.peak, after.peak),
        firstStartSeconds: round(firstStartSeconds),
        restartSeconds: round(stopSeconds + restarted.seconds),
        restart: { stopSeconds: round(stopSeconds), startToReadySeconds: round(restarted.seconds) },
        freshnessMs: { p50: freshness.p50, p99: freshness.p99 },
        freshness,
        freshnessBurstMs: { p50: freshnessBurst.p50, p99: freshnessBurst.p99 },
        freshnessBurst,
        configs,
        filtered,
        queryEmbeddingMs: await measureQueryEmbedding(options),
      },
    };
  } finally {
    await service.stop();
    await embeddingServer?.close();
  }
}
