import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ApiKeys, ConcurrencyGate, IdCodec, KeyUsage, TokenBuckets } from "@sift/access";
import { createExtractiveGenerator, type EvidencePolicy } from "@sift/answer";
import type { Logger, SiftStore } from "@sift/core";
import { CatalogFeed, createEmbedder, createGenerator, createRerankStage, Engine } from "@sift/engine";
import { readSource } from "@sift/ingest";
import { acquireDataDirLock, feedStoreOf, openStore } from "@sift/store";
import { createApp } from "./app";
import { isLoopback, type ServiceConfig } from "./config";
import { sweepOrphanIndexFolders } from "./index-folders";
import { ServiceMetrics, timedEmbedder } from "./metrics";
import { loadPages } from "./pages";
import { drain, listenWithLimits } from "./server";

export const sampleCorpusDir = fileURLToPath(new URL("../../../infra/sample-corpus", import.meta.url));
export const sampleCollection = "sample";

export interface RunningService {
  url: string;
  store: SiftStore;
  engine: Engine;
  /** Set when this start ingested the sample corpus into an empty store. */
  sampleIngested: boolean;
  /** The admin key this start created for tenant `default` (first start with auth on, no keys yet). */
  bootstrapKey: string | undefined;
  /** `SIFT_AUTH`. */
  auth: "required" | "off";
  close(): Promise<void>;
}

/** The name of the id permutation's secret in the store (shared by every process on one database). */
export const idSecretName = "id-permutation";

/**
 * Opens the store (migrating it), loads every collection's indexes, seeds the sample corpus into an empty
 * store when configured, and starts listening. Close it to release the store (and the embedded lock).
 */
export async function startService(config: ServiceConfig, logger: Logger): Promise<RunningService> {
  // One process per data directory in both modes: its index files are this process's own (docs/adr/0010).
  const lock = acquireDataDirLock(
    config.dataDir,
    config.store.driver === "pglite"
      ? undefined
      : "give each process its own SIFT_DATA_DIR (its indexes are rebuilt from Postgres)",
  );
  let store: SiftStore;
  try {
    store = await openStore(config.store);
  } catch (error) {
    lock.release();
    throw error;
  }
  let engine: Engine | undefined;
  try {
    await store.migrate();
    await sweepOrphanIndexFolders(
      config.dataDir,
      new Set((await store.listCollections()).map((c) => c.id)),
      logger,
    );
    // The embedded store has one process at a time, so any job still "running" is a leftover. On a shared
    // server another process may be ingesting: only jobs silent for 10 minutes are declared interrupted.
    const interrupted = await store.markStaleJobsInterrupted(config.store.driver === "pglite" ? 0 : 600_000);
    if (interrupted > 0)
      logger.warn("marked jobs left running by a stopped process as interrupted", { interrupted });
    const metrics = config.metrics.enabled ? new ServiceMetrics() : undefined;
    const model = await createEmbedder(config.embedding, logger);
    const embedder = model === undefined || metrics === undefined ? model : timedEmbedder(model, metrics);
    const rerank = await createRerankStage(config.rerank, logger);
    const running = new Engine({
      store,
      dataDir: config.dataDir,
      logger,
      embedder,
      rerank,
      legTimeoutMs: config.legTimeoutMs,
      // Writes by other processes (the CLI, another replica on a shared Postgres) reach searches this often.
      refreshIntervalMs: config.indexRefreshMs,
      denseFlushIntervalMs: config.denseFlushMs,
    });
    engine = running;
    metrics?.bind({ engine: running, store });
    logger.info("retrieval", {
      embeddingModel: embedder?.profile.id ?? null,
      modes: embedder === undefined ? ["bm25"] : ["bm25", "dense", "hybrid"],
      reranker: rerank?.reranker.id ?? null,
    });

    let sampleIngested = false;
    const collections = await store.listCollections();
    if (collections.length === 0 && config.sampleCorpus) {
      const { collection } = await store.ensureCollection({ tenant: "default", name: sampleCollection });
      const { job } = await running.ingest({
        collectionId: collection.id,
        source: readSource(sampleCorpusDir, { format: "files" }),
        sourceLabel: sampleCorpusDir,
        logger,
      });
      logger.info("ingested the sample corpus into an empty store", {
        collection: sampleCollection,
        counts: job.counts,
      });
      sampleIngested = true;
    }

    const access = await openAccess(config, store, logger);

    const generator = await createGenerator(config.generator, logger);
    const evidence = await loadEvidencePolicy(config.answer.calibrationPath, rerank?.reranker.id, logger);
    logger.info("answers", { generator: generator.id, kind: generator.kind, evidence });

    let loaded = false;
    let draining = false;
    const feed = new CatalogFeed({ store, feedStore: feedStoreOf(store), engine: running, logger });
    const app = createApp({
      store,
      engine: running,
      feed,
      answer: {
        generator,
        fallback: createExtractiveGenerator(),
        evidence,
        candidates: config.answer.candidates,
        contextTokens: config.answer.contextTokens,
        maxTokens: config.answer.maxTokens,
        timeoutMs: config.answer.timeoutMs,
        gate: new ConcurrencyGate({
          concurrency: config.limits.answerConcurrency,
          queue: config.limits.answerQueue,
          retryAfterSeconds: 5,
        }),
      },
      access: access.dependencies,
      limits: {
        maxBodyBytes: config.maxBodyBytes,
        maxQueryBodyBytes: config.limits.maxQueryBodyBytes,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        maxCollectionsPerTenant: config.limits.maxCollectionsPerTenant,
      },
      logger,
      indexesLoaded: () => loaded,
      draining: () => draining,
      metrics: metrics === undefined ? undefined : { registry: metrics, token: config.metrics.token },
      pages: await loadPages(config.pages),
    });
    const server = await listenWithLimits(app.fetch, {
      host: config.host,
      port: config.port,
      ...config.server,
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;

    for (const collection of await store.listCollections()) {
      const dense = await running.load(collection.id);
      if (dense === "needs-reindex") {
        logger.warn(
          "collection has no vectors from the embedding model; hybrid searches run on BM25 until reindexed",
          {
            collection: `${collection.tenant}/${collection.name}`,
            command: `pnpm sift reindex --collection ${collection.name} --tenant ${collection.tenant} --dense`,
          },
        );
      }
    }
    loaded = true;
    // What was committed while no service watched (the CLI, a replica) reaches the feed now, off the
    // readiness path; later changes queue behind it (docs/adr/0021).
    void feed
      .catchUp()
      .then((done) => {
        const replayed = done.filter((c) => c.from !== undefined && (c.to > c.from || c.result.removed > 0));
        logger.info("feed: caught up with the store", {
          collections: done.length,
          replayed: replayed.map((c) => `${c.tenant}/${c.collection}`),
          candidates: done.reduce((sum, c) => sum + c.result.candidates, 0),
          removed: done.reduce((sum, c) => sum + c.result.removed, 0),
        });
      })
      .catch((error) =>
        logger.error("feed: catching up with the store failed; each collection retries on its next change", {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
      );

    return {
      url,
      store,
      engine: running,
      sampleIngested,
      bootstrapKey: access.bootstrapKey,
      auth: config.auth.mode,
      /**
       * Graceful: readiness turns 503, no new connections, requests in flight finish (at most
       * SIFT_SHUTDOWN_TIMEOUT_MS, then their connections are cut), then index writes are flushed and the
       * store closed.
       */
      async close() {
        draining = true;
        const started = performance.now();
        const { cut } = await drain(server, config.shutdownTimeoutMs);
        const drained = { ms: Math.round(performance.now() - started), cutConnections: cut };
        if (cut > 0) logger.warn("shutdown: cut connections still busy at SIFT_SHUTDOWN_TIMEOUT_MS", drained);
        else logger.info("shutdown: requests drained", drained);
        await access.dependencies.usage?.close();
        await feed.close();
        if ("dispose" in generator && typeof generator.dispose === "function") await generator.dispose();
        await running.close();
        await store.close();
        lock.release();
      },
    };
  } catch (error) {
    await engine?.close().catch(() => {});
    await store.close().catch(() => {});
    lock.release();
    throw error;
  }
}

/**
 * Refuses to serve a non-loopback address without auth unless the operator turned it off on purpose
 * (`SIFT_AUTH=off` is then the only way to get there: the default is `required`), and says loudly when
 * auth is off.
 */
function checkAuthExposure(config: ServiceConfig, logger: Logger): void {
  if (config.auth.mode === "required") return;
  logger.warn(
    isLoopback(config.host)
      ? "AUTH IS OFF (SIFT_AUTH=off): anyone on this machine can read and change every tenant's data"
      : `AUTH IS OFF (SIFT_AUTH=off) ON ${config.host}: anyone who can reach this port can read and change every tenant's data`,
    { host: config.host },
  );
}

/**
 * Keys, usage tracking, the id permutation and rate limits; on a first start with auth on and no key in
 * the store, one admin key for tenant `default` (returned once, so the entrypoint can print it).
 */
async function openAccess(config: ServiceConfig, store: SiftStore, logger: Logger) {
  checkAuthExposure(config, logger);
  const keys = new ApiKeys({ store, cacheMs: config.auth.keyCacheMs });
  const usage = new KeyUsage({ store, logger }).start();
  const ids = new IdCodec(await store.serviceSecret(idSecretName, 32));
  const rateLimit =
    config.limits.rateLimitPerSecond > 0
      ? new TokenBuckets({
          ratePerSecond: config.limits.rateLimitPerSecond,
          burst: config.limits.rateLimitBurst,
        })
      : undefined;
  let bootstrapKey: string | undefined;
  if (config.auth.mode === "required" && config.auth.bootstrapKey && (await store.countApiKeys()) === 0) {
    const created = await keys.create({
      tenant: "default",
      role: "admin",
      createdBy: "bootstrap",
      name: "bootstrap",
    });
    await store.appendAudit([
      {
        tenant: "default",
        actor: "bootstrap",
        action: "key.create",
        target: created.record.id,
        detail: { role: "admin" },
      },
    ]);
    logger.info("created the bootstrap admin key for tenant 'default' (printed once on stdout)", {
      keyId: created.record.id,
    });
    bootstrapKey = created.key;
  }
  return { dependencies: { mode: config.auth.mode, keys, usage, ids, rateLimit }, bootstrapKey };
}

/**
 * The evidence threshold from the calibration file written by `pnpm eval:calibrate`. It applies to the
 * score kind it was learned on (reranker scores of one model); for other scores the answer is generated
 * and its evidence decision says the threshold did not apply. Without a file, every answer is generated.
 */
export async function loadEvidencePolicy(
  file: string,
  rerankerId: string | undefined,
  logger: Logger,
): Promise<EvidencePolicy> {
  let parsed: { threshold?: unknown; scoreKind?: unknown; reranker?: unknown };
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as typeof parsed;
  } catch (error) {
    logger.warn("no evidence calibration: every question is answered", {
      file,
      reason: (error as Error).message,
    });
    return { threshold: Number.NEGATIVE_INFINITY };
  }
  if (typeof parsed.threshold !== "number" || typeof parsed.scoreKind !== "string") {
    throw new Error(`evidence calibration ${file} lacks a numeric 'threshold' and a 'scoreKind'`);
  }
  if (parsed.scoreKind === "rerank" && parsed.reranker !== rerankerId) {
    logger.warn("the evidence threshold was calibrated for another reranker; it is not applied", {
      calibratedFor: parsed.reranker,
      reranker: rerankerId ?? null,
    });
    return { threshold: parsed.threshold, scoreKind: `rerank@${String(parsed.reranker)}` };
  }
  return { threshold: parsed.threshold, scoreKind: parsed.scoreKind };
}
