import { mkdir } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { type AnswerMetrics, evaluateAnswers } from "./answers";
import { type BeirQuery, loadBeirQueries } from "./beir";
import type { EvalConfig } from "./configs";
import { type BeirDocument, corpusFingerprint, readBeirCorpus } from "./dataset";
import { deleteCollection, HttpStatusError, listCollections, SiftHttpClient } from "./http-client";
import { type InProcessRun, inProcessResult, measureInProcess } from "./in-process";
import { runSiftCli } from "./indexer-process";
import {
  evaluateQuery,
  meanMetrics,
  metricNames,
  percentile,
  type Qrels,
  type QueryMetrics,
} from "./metrics";
import { runBm25sPeer } from "./peers/bm25s-peer";
import { runLanceDbPeers, type VectorCorpus } from "./peers/lancedb-peer";
import { type PeerRun, runMiniSearchPeer } from "./peers/minisearch-peer";
import type { Progress } from "./progress";
import type { ConfigResult, EvalReport, LatencySummary, PeerResult } from "./report";
import { type ServiceProcess, startServiceProcess, waitUntilReady } from "./service-process";
import { compareWithPytrecEval, rankedToScored, type ScoredRun } from "./trec-check";

export const peerNames = ["bm25s", "minisearch", "lancedb"] as const;
export type PeerName = (typeof peerNames)[number];

export interface HarnessOptions {
  datasetDir: string;
  split: string;
  configs: EvalConfig[];
  /** Evaluate only the first N judged queries of the split (file order). */
  queryLimit?: number | undefined;
  /** Configurations that rerank run on the first N of the evaluated queries only. */
  rerankQueryLimit?: number | undefined;
  /** Questions for the answer metrics (the first N evaluated queries); 0 skips them. */
  answers: number;
  peers: PeerName[];
  /** The eval data dir (persistent, so the store's embedding cache survives between runs). */
  dataDir?: string | undefined;
  /** Parent of the default data dir `<cacheDir>/<dataset>-<corpus hash>`. */
  cacheDir: string;
  k: number;
  warmup: number;
  baseline: string;
  /** Passed to the CLI and the service: SIFT_MODEL_STORE, SIFT_EMBEDDING_MODEL, SIFT_RERANK_MODEL, SIFT_GENERATOR. */
  serviceEnv: Record<string, string>;
  /** Names for the report (what the environment above resolves to). */
  modelNames: { embedding: string; rerank: string; generator: string };
  keepCollection: boolean;
  /** Also measure every configuration in process (the Engine on the same data dir) after the service stops. */
  inProcess?: boolean | undefined;
  /** How long to wait for a data dir held by another process before failing (seconds; default 0). */
  lockWaitSeconds?: number | undefined;
  /** The eval venv's python (pytrec_eval cross-check, bm25s peer); undefined skips both. */
  python?: string | undefined;
}

export interface HarnessResult {
  report: EvalReport;
  /** Steps that failed (configuration, peer or answers name → message); the report leaves them out. */
  failures: Record<string, string>;
}

interface RunOutcome {
  ranked: Map<string, string[]>;
  latenciesMs: number[];
  seconds: number;
  degraded: number;
}

export async function runEvaluation(options: HarnessOptions, progress: Progress): Promise<HarnessResult> {
  const started = performance.now();
  const datasetDir = path.resolve(options.datasetDir);
  const dataset = path.basename(datasetDir);
  const failures: Record<string, string> = {};
  const loaded = await loadBeirQueries(datasetDir, options.split);
  const queries =
    options.queryLimit === undefined ? loaded.queries : loaded.queries.slice(0, options.queryLimit);
  const qrels = loaded.qrels;
  if (queries.length === 0) throw new Error(`no judged queries in ${datasetDir} (split ${options.split})`);
  const dataDir =
    options.dataDir ?? path.join(options.cacheDir, `${dataset}-${await corpusFingerprint(datasetDir)}`);
  await mkdir(dataDir, { recursive: true });
  const collection = `eval-${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}-${process.pid}`;
  const ingestOnce = () =>
    runSiftCli(
      ["ingest", datasetDir, "--collection", collection, "--format", "beir"],
      { ...options.serviceEnv, SIFT_DATA_DIR: dataDir, SIFT_LOG_LEVEL: "info" },
      (line) => progress.note(`  sift: ${line}`),
    );
  progress.note(
    `eval: ${dataset} (${options.split}), ${queries.length} queries, ${options.configs.length} configurations; ` +
      `data dir ${dataDir}, collection ${collection}`,
  );

  // 1. Ingest through the real CLI into a fresh collection (the embedding cache makes a warm run fast).
  // Another process holding the data dir (another eval run: CI and a developer, or two checkouts) makes
  // the CLI exit with 3; wait for it, up to `lockWaitSeconds`.
  const waitStarted = performance.now();
  let ingestStarted = performance.now();
  let ingest = await ingestOnce();
  while (ingest.code === 3 && (performance.now() - waitStarted) / 1000 < (options.lockWaitSeconds ?? 0)) {
    progress.note(
      `eval: the data dir ${dataDir} is in use by another process; waiting (up to ${options.lockWaitSeconds} s)`,
    );
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    ingestStarted = performance.now();
    ingest = await ingestOnce();
  }
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  if (ingest.code !== 0) {
    const hint =
      ingest.code === 3
        ? ` (the data dir ${dataDir} is held by another process: another eval run, or a service on it)`
        : "";
    throw new Error(`sift ingest exited with ${ingest.code}${hint}:\n${ingest.log.slice(-20).join("\n")}`);
  }
  progress.note(`eval: ingested in ${ingestSeconds.toFixed(1)} s`);

  // 2. The real service on the same data dir, every configuration over HTTP.
  const runs = new Map<string, RunOutcome>();
  const queriesFor = (config: EvalConfig) =>
    config.rerank && options.rerankQueryLimit !== undefined
      ? queries.slice(0, options.rerankQueryLimit)
      : queries;
  const unavailable: Record<string, string> = {};
  let answers: (AnswerMetrics & { subset: string; generator: string }) | undefined;
  const startService = () =>
    startServiceProcess({
      ...options.serviceEnv,
      PORT: "0",
      SIFT_DATA_DIR: dataDir,
      SIFT_SAMPLE_CORPUS: "0",
      SIFT_LOG_LEVEL: "warn",
    });
  let service: ServiceProcess | undefined;
  const serviceWaitStarted = performance.now();
  while (service === undefined) {
    try {
      service = await startService();
    } catch (error) {
      // Another eval run may have taken the data dir between our CLI's exit and the service's start.
      if (
        !/in use by/.test(message(error)) ||
        (performance.now() - serviceWaitStarted) / 1000 >= (options.lockWaitSeconds ?? 0)
      ) {
        throw error;
      }
      progress.note(
        `eval: the data dir ${dataDir} is in use by another process; waiting to start the service`,
      );
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
  try {
    await waitUntilReady(service);
    for (const stale of (await listCollections(service.url)).filter(
      (name) => name.startsWith("eval-") && name !== collection,
    )) {
      progress.note(`eval: deleting ${stale}, left by an earlier run`);
      await deleteCollection(service.url, stale);
    }
    const client = new SiftHttpClient(service.url, collection);
    for (const config of options.configs) {
      const subset = queriesFor(config);
      try {
        runs.set(config.name, await runConfig(client, config, subset, options, qrels, progress));
      } catch (error) {
        if (error instanceof ConfigUnavailable) {
          unavailable[config.name] = error.message;
          progress.note(`eval: ${config.name} UNAVAILABLE on this service: ${error.message}`);
          continue;
        }
        failures[config.name] = `${message(error)}\n${service.stderrTail().slice(-2000)}`;
        progress.note(`eval: ${config.name} FAILED: ${message(error)}`);
      }
    }
    if (options.answers > 0) {
      const questions = queries.slice(0, options.answers);
      const step = progress.step("answers", questions.length);
      try {
        const result = await evaluateAnswers(client, questions, qrels, (done) => step.update(done));
        answers = {
          ...result.metrics,
          subset: `the first ${questions.length} judged queries of ${options.split} (file order)`,
          generator: options.modelNames.generator,
        };
        step.done(
          `validity ${(100 * answers.citationValidity).toFixed(1)} %, support ${(100 * answers.citationSupport).toFixed(1)} %, no-evidence ${(100 * answers.noEvidenceRate).toFixed(1)} %`,
        );
      } catch (error) {
        step.done("failed");
        failures.answers = `${message(error)}\n${service.stderrTail().slice(-2000)}`;
      }
    }
    // With the in-process step the collection is deleted there, after it has been searched.
    if (!options.keepCollection && options.inProcess !== true)
      await deleteCollection(service.url, collection);
  } finally {
    await service.stop();
  }

  // 3. The same configurations in process: the Engine on the same data dir, nothing else running.
  let inProcessRuns = new Map<string, InProcessRun>();
  let vectorCorpus: VectorCorpus | undefined;
  if (options.inProcess === true) {
    try {
      ({ runs: inProcessRuns, corpus: vectorCorpus } = await measureInProcess(
        {
          dataDir,
          collection,
          env: options.serviceEnv,
          k: options.k,
          warmup: options.warmup,
          deleteCollection: !options.keepCollection,
          exportVectors: options.peers.includes("lancedb") ? queries : undefined,
        },
        options.configs
          .filter((config) => runs.has(config.name))
          .map((config) => ({ config, queries: queriesFor(config) })),
        progress,
      ));
    } catch (error) {
      failures["in process"] = message(error);
      progress.note(`eval: the in-process step FAILED: ${message(error)}`);
    }
  }

  // 4. Peers, after the service has stopped, so nothing else competes for the cores.
  const peerRuns: PeerRun[] = [];
  if (options.peers.length > 0) {
    const documents: BeirDocument[] = [];
    for await (const document of readBeirCorpus(datasetDir)) documents.push(document);
    for (const peer of options.peers) {
      const step = progress.step(`peer ${peer}`, queries.length);
      try {
        if (peer === "lancedb") {
          if (vectorCorpus === undefined)
            throw new Error("needs the in-process step and an embedding model (Sift's vectors)");
          const lance = await runLanceDbPeers(vectorCorpus, queries, options.k, (mode, done) =>
            step.update(done, mode),
          );
          peerRuns.push(...lance);
          step.done(
            lance
              .map((r) => `${r.name} nDCG@10 ${meanFor(r.ranked, queries, qrels)["ndcg@10"].toFixed(4)}`)
              .join(", "),
          );
          continue;
        }
        if (peer === "minisearch") {
          peerRuns.push(runMiniSearchPeer(documents, queries, options.k, (done) => step.update(done)));
        } else {
          if (options.python === undefined) throw new Error("no Python venv (eval/scripts/python-env.sh)");
          peerRuns.push(await runBm25sPeer(options.python, datasetDir, queries, options.k));
        }
        const run = peerRuns.at(-1)!;
        step.done(`nDCG@10 ${meanFor(run.ranked, queries, qrels)["ndcg@10"].toFixed(4)}`);
      } catch (error) {
        step.done("failed");
        failures[`peer ${peer}`] = message(error);
      }
    }
  }

  // 5. Metrics, the pytrec_eval cross-check and the report.
  const perQueryRuns: Record<string, Record<string, number[]>> = {};
  const configs: Record<string, ConfigResult> = {};
  for (const config of options.configs) {
    const run = runs.get(config.name);
    if (run === undefined) continue;
    const evaluated = queries.filter((q) => run.ranked.has(q.id));
    const inProcess = inProcessRuns.get(config.name);
    configs[config.name] = {
      ...meanFor(run.ranked, evaluated, qrels),
      latency_ms: latencySummary(run.latenciesMs),
      qps: run.latenciesMs.length / run.seconds,
      queries: evaluated.length,
      description: config.description,
      request: config.settings,
      degradedQueries: run.degraded,
      ...(evaluated.length < queries.length
        ? { subset: `the first ${evaluated.length} of the ${queries.length} queries (file order)` }
        : {}),
      ...(inProcess === undefined
        ? {}
        : { inProcess: inProcessResult(inProcess, run.ranked, latencySummary) }),
    };
    perQueryRuns[config.name] = perQuery(run.ranked, evaluated, qrels);
  }
  const peers: Record<string, PeerResult> = {};
  for (const run of peerRuns) {
    peers[run.name] = {
      ...meanFor(run.ranked, queries, qrels),
      latency_ms: latencySummary(run.latenciesMs),
      qps: run.latenciesMs.length / run.querySeconds,
      queries: queries.length,
      description: run.description,
      indexSeconds: run.indexSeconds,
      measuredIn: "in process, one query at a time",
    };
    perQueryRuns[run.name] = perQuery(run.ranked, queries, qrels);
  }
  let crossCheck: EvalReport["crossCheck"];
  if (options.python === undefined) {
    crossCheck = { skipped: "no Python venv (run eval/scripts/python-env.sh)" };
  } else {
    const scored = new Map<string, ScoredRun>();
    for (const [name, run] of [...runs, ...peerRuns.map((p) => [p.name, p] as const)]) {
      scored.set(name, new Map([...run.ranked].map(([q, ranked]) => [q, rankedToScored(ranked)])));
    }
    crossCheck = await compareWithPytrecEval(options.python, qrels, scored);
  }
  const baseline =
    options.baseline in perQueryRuns ? options.baseline : (Object.keys(perQueryRuns)[0] ?? options.baseline);
  const report: EvalReport = {
    schema: 1,
    dataset,
    split: options.split,
    queries: queries.length,
    configs,
    peers,
    ...(answers === undefined ? {} : { answers }),
    ...(Object.keys(unavailable).length === 0 ? {} : { unavailable }),
    baseline,
    perQuery: {
      metrics: [...metricNames],
      queries: queries.map((q) => ({ id: q.id, text: q.text })),
      runs: perQueryRuns,
    },
    crossCheck,
    settings: {
      k: options.k,
      collection,
      dataDir,
      embeddingModel: options.modelNames.embedding,
      rerankModel: options.modelNames.rerank,
      generator: options.modelNames.generator,
      warmupQueries: options.warmup,
    },
    ingest: { seconds: ingestSeconds, log: ingest.log.slice(-20) },
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadAverage: loadavg(),
    },
    createdAt: new Date().toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
  };
  return { report, failures };
}

async function runConfig(
  client: SiftHttpClient,
  config: EvalConfig,
  queries: readonly BeirQuery[],
  options: HarnessOptions,
  qrels: ReadonlyMap<string, Qrels>,
  progress: Progress,
): Promise<RunOutcome> {
  // The service refuses a configuration it cannot run (no reranker, no embedding model) on the first
  // request, with 503 (unavailable) or 400 naming the field: that is "unavailable", not a failure.
  try {
    await client.search(queries[0]?.text ?? "warm-up", options.k, config.settings);
  } catch (error) {
    if (error instanceof HttpStatusError && (error.status === 503 || error.status === 400)) {
      throw new ConfigUnavailable(`${error.status}: ${describeError(error.body)}`);
    }
    throw error;
  }
  // Warm-up on texts that are not in the measured set (the words of a query in reverse order), so no
  // cache of query embeddings or rerank scores favours the measured queries.
  for (const query of queries.slice(0, options.warmup)) {
    await client.search(query.text.split(/\s+/).reverse().join(" "), options.k, config.settings);
  }
  const ranked = new Map<string, string[]>();
  const latenciesMs: number[] = [];
  let degraded = 0;
  let firstWarning: string | undefined;
  const step = progress.step(config.name, queries.length);
  const started = performance.now();
  for (const [i, query] of queries.entries()) {
    const outcome = await client.search(query.text, options.k, config.settings);
    latenciesMs.push(outcome.latencyMs);
    if (outcome.degraded.length > 0) {
      degraded++;
      firstWarning ??= `degraded ${outcome.degraded.join(",")}: ${outcome.warnings.join("; ")}`;
    }
    ranked.set(query.id, [...new Set(outcome.documentIds)]);
    step.update(i + 1, `p50 ${percentile(latenciesMs, 50).toFixed(0)} ms`);
  }
  const seconds = (performance.now() - started) / 1000;
  const metrics = meanFor(ranked, queries, qrels);
  step.done(
    `nDCG@10 ${metrics["ndcg@10"].toFixed(4)}, p50 ${percentile(latenciesMs, 50).toFixed(1)} ms` +
      (degraded > 0 ? `, ${degraded} DEGRADED (${firstWarning})` : ""),
  );
  return { ranked, latenciesMs, seconds, degraded };
}

function perQuery(
  ranked: ReadonlyMap<string, string[]>,
  queries: readonly BeirQuery[],
  qrels: ReadonlyMap<string, Qrels>,
): Record<string, number[]> {
  return Object.fromEntries(
    queries.map((q) => {
      const m = evaluateQuery(ranked.get(q.id) ?? [], qrels.get(q.id) ?? new Map());
      return [q.id, metricNames.map((name) => round(m[name]))];
    }),
  );
}

function meanFor(
  ranked: ReadonlyMap<string, string[]>,
  queries: readonly BeirQuery[],
  qrels: ReadonlyMap<string, Qrels>,
): QueryMetrics {
  return meanMetrics(queries.map((q) => evaluateQuery(ranked.get(q.id) ?? [], qrels.get(q.id) ?? new Map())));
}

function latencySummary(samples: readonly number[]): LatencySummary {
  return {
    p50: round(percentile(samples, 50), 3),
    p95: round(percentile(samples, 95), 3),
    p99: round(percentile(samples, 99), 3),
  };
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

class ConfigUnavailable extends Error {}

/** The service's error message from its JSON error body, else the body. */
function describeError(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: string; fields?: Array<{ path: string; message: string }> };
    };
    const fields = (parsed.error?.fields ?? []).map((f) => `${f.path}: ${f.message}`).join("; ");
    return [parsed.error?.message, fields].filter((t) => t !== undefined && t !== "").join(" — ") || body;
  } catch {
    return body.slice(0, 500);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
