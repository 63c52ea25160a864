import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Collection, DocumentStore, IngestionJob, Logger } from "@sift/core";
import { createJsonLogger, SiftError } from "@sift/core";
import type { Engine } from "@sift/engine";
import {
  countSource,
  readResolved,
  resolveSource,
  type SourceFormatOption,
  sourceFormats,
} from "@sift/ingest";
import { ConfigError, describeStore, type IndexerConfig, parseConfig } from "./config";
import { runFeed } from "./feed-command";
import { runKeys } from "./keys-command";
import { runMcp } from "./mcp-command";
import {
  createProgressReporter,
  createStepProgress,
  formatDuration,
  formatInteger,
  formatSummary,
  type StepProgress,
} from "./progress";

export const exitCodes = { ok: 0, failed: 1, usage: 2, storeLocked: 3, interrupted: 130 } as const;

/** Where the CLI reads and writes; `main` gets the process's own, tests their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean | undefined; columns?: number | undefined };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Installs handlers for SIGINT/SIGTERM; returns a function removing them. */
  onSignal?: ((handler: (signal: NodeJS.Signals) => void) => () => void) | undefined;
  /** Ends the process at once (a second Ctrl-C). */
  exit?: ((code: number) => void) | undefined;
}

class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string | undefined,
  ) {
    super(message);
  }
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const help = {
  main: `Usage: sift <command> [options]

Commands:
  ingest <path>              Index a folder of .md/.txt/.html files, a JSONL file or a BEIR corpus
  delete <externalId...>     Delete documents from a collection (store and lexical index)
  jobs                       List recent ingestion jobs
  collections                List collections with their document counts
  reindex                    Merge a collection's BM25 generations; --dense embeds it for the model
  keys                       Create, list and revoke API keys
  mcp                        Serve the MCP tools over stdio for an agent (against a running service)
  feed                       Show an analyst's feed; train the feed's learned ranker

Run 'sift <command> --help' for a command's options.

Environment:
  DATABASE_URL               postgres:// URL; when unset, the embedded PGlite store is used
  SIFT_DATA_DIR              data folder (PGlite, BM25 generations, vectors); default .sift-data
  SIFT_LOG_LEVEL             debug | info | warn | error; default info
  SIFT_EMBEDDING_MODEL       manifest key or model id (default: the manifest's default embedder when
                             the model store holds it); 'none' indexes BM25 only
  SIFT_MODEL_STORE           offline model store; default ~/.cache/sift/models
  SIFT_EMBEDDING_URL         an OpenAI-compatible /v1/embeddings server to embed with instead
  (the README's configuration reference lists the rest)

Exit codes: 0 ok, 1 run failed, 2 usage error, 3 store locked by another process, 130 interrupted.`,
  ingest: `Usage: sift ingest <path> [options]

Reads <path> and indexes its documents: the store, the BM25 index, and (with an embedding model) the
vectors of new chunks, from the embedding cache when the same text was embedded before. Unchanged
documents (same content hash) are skipped, so an interrupted run is resumed by running it again.

  <path>                     a folder (recursive; .md, .markdown, .txt, .html, .htm), a single file,
                             a JSONL file ({id, title?, text, metadata?} per line) or a BEIR folder
                             (with corpus.jsonl)

Options:
  --collection NAME          collection to write to; created when missing (default: default)
  --tenant T                 tenant owning the collection (default: default)
  --format F                 auto | files | jsonl | beir (default: auto)
  --prune                    delete documents of the collection that are no longer in the source
  --batch-size N             documents per transaction (default: 100)
  -h, --help                 show this help`,
  delete: `Usage: sift delete <externalId...> --collection NAME [--tenant T]

Deletes documents by external id from the store and the lexical index.

Options:
  --collection NAME          collection to delete from (required)
  --tenant T                 tenant owning the collection (default: default)
  -h, --help                 show this help`,
  jobs: `Usage: sift jobs [--collection NAME] [--tenant T] [--limit N] [--json]

Lists ingestion jobs, most recent first (of all collections of the tenant unless --collection).

Options:
  --collection NAME          only this collection's jobs
  --tenant T                 tenant (default: default)
  --limit N                  at most N jobs (default: 20)
  --json                     one JSON object per line
  -h, --help                 show this help`,
  collections: `Usage: sift collections [--tenant T] [--json]

Lists collections (of every tenant unless --tenant) with their document counts.

Options:
  --tenant T                 only this tenant's collections
  --json                     one JSON object per line
  -h, --help                 show this help`,
  reindex: `Usage: sift reindex --collection NAME [--tenant T] [--dense [--yes]]

Merges the collection's lexical (BM25) generations into one, built from the store.

With --dense, embeds every chunk that has no vector from the configured embedding model (after a model
change, or for a collection indexed without one). It first prints what that costs: chunks, how many are
already in the embedding cache, and the time at a rate measured now. Nothing is embedded without --yes.

Options:
  --collection NAME          collection to reindex (required)
  --tenant T                 tenant owning the collection (default: default)
  --dense                    (re)build the vectors for the configured embedding model
  --yes                      with --dense: go ahead after printing the estimate
  -h, --help                 show this help`,
} as const;

type Command = Exclude<keyof typeof help, "main">;
const commands = Object.keys(help).filter((c) => c !== "main") as Command[];

const stringOption = { type: "string" } as const;
const flag = { type: "boolean" } as const;
const optionsOf = {
  ingest: {
    collection: stringOption,
    tenant: stringOption,
    format: stringOption,
    prune: flag,
    "batch-size": stringOption,
    help: { type: "boolean", short: "h" },
  },
  delete: { collection: stringOption, tenant: stringOption, help: { type: "boolean", short: "h" } },
  jobs: {
    collection: stringOption,
    tenant: stringOption,
    limit: stringOption,
    json: flag,
    help: { type: "boolean", short: "h" },
  },
  collections: { tenant: stringOption, json: flag, help: { type: "boolean", short: "h" } },
  reindex: {
    collection: stringOption,
    tenant: stringOption,
    dense: flag,
    yes: flag,
    help: { type: "boolean", short: "h" },
  },
} as const;

function parse<C extends Command>(command: C, args: string[]) {
  try {
    return parseArgs({ args, options: optionsOf[command], allowPositionals: true, strict: true });
  } catch (error) {
    // node's messages name the flag: "Unknown option '--colection'", "Option '--tenant <value>' argument missing".
    throw new UsageError((error as Error).message, command);
  }
}

function name(value: string | undefined, flagName: string, command: Command, fallback?: string): string {
  const resolved = value ?? fallback;
  if (resolved === undefined) throw new UsageError(`--${flagName} is required`, command);
  if (!namePattern.test(resolved)) {
    throw new UsageError(
      `--${flagName} '${resolved}' is invalid: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      command,
    );
  }
  return resolved;
}

function positiveInteger(
  value: string | undefined,
  flagName: string,
  command: Command,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new UsageError(
      `--${flagName} '${value}' is invalid: expected an integer from 1 to 100000`,
      command,
    );
  }
  return Number(value);
}

function noPositionals(positionals: string[], command: Command): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, command);
}

/** A shell-safe rendering of the arguments, for the "rerun this" hint. */
function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

interface Session {
  config: IndexerConfig;
  logger: Logger;
  store: DocumentStore;
  engine: Engine;
  /** Receives embedding progress while a command embeds chunks. */
  embedProgress: { current: StepProgress | undefined };
  /** Routes log lines elsewhere (through the progress bar) until called with undefined. */
  setLogSink: (sink: ((line: string) => void) | undefined) => void;
  /** Releases the data-dir lock (after the store is closed). */
  releaseLock: () => void;
}

/**
 * Runs the CLI and returns the exit code. Everything it touches comes in through `io`, so tests run it
 * in-process; the module's own entry point (below) passes the real process.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  const write = (text: string) => io.stdout.write(`${text}\n`);
  const fail = (text: string) => io.stderr.write(`${text}\n`);

  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    (first === undefined ? fail : write)(help.main);
    return first === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (first === "keys") return runKeys(rest, { write, fail, env: io.env, cwd: io.cwd });
  if (first === "mcp") return runMcp(rest, { write, fail, env: io.env });
  if (first === "feed") return runFeed(rest, { write, fail, env: io.env, cwd: io.cwd });
  if (!commands.includes(first as Command)) {
    fail(`sift: unknown command '${first}'\n\n${help.main}`);
    return exitCodes.usage;
  }
  const command = first as Command;

  let session: Session | undefined;
  try {
    const parsed = parse(command, rest);
    if (parsed.values.help === true) {
      write(help[command]);
      return exitCodes.ok;
    }
    // Validate every argument before touching the store, so a typo costs nothing.
    const plan = await planCommand(command, parsed.values as Values, parsed.positionals, io.cwd);

    let config: IndexerConfig;
    try {
      config = parseConfig(io.env, io.cwd);
    } catch (error) {
      if (error instanceof ConfigError) {
        fail(`sift: ${error.message}`);
        return exitCodes.usage;
      }
      throw error;
    }
    // On a terminal a person reads the bar and the summary; JSON info lines would only bury them.
    const level = config.logLevel ?? (io.stderr.isTTY === true ? "warn" : "info");
    let logSink = (line: string) => io.stderr.write(line);
    const logger = createJsonLogger(level, (line) => logSink(line));
    session = await openSession(config, logger, io.cwd);
    session.setLogSink = (sink) => {
      logSink = sink ?? ((line: string) => io.stderr.write(line));
    };
    return await plan(session, { io, write, fail, argv });
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`sift ${error.command ?? ""}: ${error.message}`.replace("  ", " "));
      fail(`Run 'sift ${error.command ?? ""} --help' for usage.`.replace("  ", " "));
      return exitCodes.usage;
    }
    if (SiftError.is(error) && error.code === "store_locked") {
      fail(`sift: ${error.message}`);
      return exitCodes.storeLocked;
    }
    if (SiftError.is(error) && error.code === "invalid_request") {
      fail(`sift ${command}: ${error.message}`);
      return exitCodes.usage;
    }
    fail(`sift ${command}: failed: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.failed;
  } finally {
    if (session !== undefined) await closeSession(session);
  }
}

// The store, the index and the ingestion pipeline (PGlite, drizzle, wink) are loaded only once a command
// needs them, so `--help` and usage errors answer at once.
async function openSession(config: IndexerConfig, logger: Logger, cwd: string): Promise<Session> {
  const [{ acquireDataDirLock, openStore }, { Engine, createEmbedder }] = await Promise.all([
    import("@sift/store"),
    import("@sift/engine"),
  ]);
  // The CLI writes index files into SIFT_DATA_DIR too: one process per data directory, in both modes.
  const lock = acquireDataDirLock(
    config.dataDir,
    config.store.driver === "pglite"
      ? undefined
      : "give this command its own SIFT_DATA_DIR (e.g. SIFT_DATA_DIR=.sift-cli), or push documents over HTTP",
  );
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config.store);
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    await store.migrate();
    const stale = await store.markStaleJobsInterrupted(config.staleJobAfterMs);
    if (stale > 0)
      logger.warn("marked jobs left running by a stopped process as interrupted", { jobs: stale });
    logger.debug("store open", { store: describeStore(config.store) });
    const embedder = await createEmbedder(config.embedding, logger, "batch-embedding");
    logger.debug("embedding model", { model: embedder?.profile.id ?? null, cwd });
    const embedProgress: Session["embedProgress"] = { current: undefined };
    const engine = new Engine({
      store,
      dataDir: config.dataDir,
      logger,
      embedder,
      onEmbedProgress: ({ embedded, total }) => embedProgress.current?.update(embedded, total),
    });
    return { config, logger, store, engine, embedProgress, setLogSink: () => {}, releaseLock: lock.release };
  } catch (error) {
    await store.close();
    lock.release();
    throw error;
  }
}

async function closeSession(session: Session): Promise<void> {
  try {
    await session.engine.close();
  } finally {
    await session.store.close();
    session.releaseLock();
    session.logger.debug("store closed");
  }
}

interface RunContext {
  io: CliIo;
  write: (text: string) => void;
  fail: (text: string) => void;
  argv: string[];
}

type Plan = (session: Session, context: RunContext) => Promise<number>;
type Values = Record<string, string | boolean | undefined>;

async function planCommand(
  command: Command,
  values: Values,
  positionals: string[],
  cwd: string,
): Promise<Plan> {
  const str = (key: string) => values[key] as string | undefined;
  switch (command) {
    case "ingest": {
      if (positionals.length === 0) throw new UsageError("missing <path>", command);
      if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, command);
      const format = str("format") ?? "auto";
      if (!(sourceFormats as readonly string[]).includes(format)) {
        throw new UsageError(
          `--format '${format}' is invalid: expected one of ${sourceFormats.join(", ")}`,
          command,
        );
      }
      const tenant = name(str("tenant"), "tenant", command, "default");
      const collectionName = name(str("collection"), "collection", command, "default");
      const batchSize = positiveInteger(str("batch-size"), "batch-size", command, 100);
      const target = path.resolve(cwd, positionals[0]!);
      const resolved = await resolveSource(target, format as SourceFormatOption);
      return (session, context) =>
        ingest(session, context, {
          tenant,
          collectionName,
          batchSize,
          prune: values.prune === true,
          resolved,
          label: target,
        });
    }
    case "delete": {
      if (positionals.length === 0) throw new UsageError("missing <externalId...>", command);
      const tenant = name(str("tenant"), "tenant", command, "default");
      const collectionName = name(str("collection"), "collection", command);
      return async (session, { write }) => {
        const collection = await requireCollection(session.store, tenant, collectionName);
        const { deleteDocuments } = await import("@sift/ingest");
        const result = await deleteDocuments({
          store: session.store,
          lexical: session.engine.indexes,
          collectionId: collection.id,
          externalIds: positionals,
        });
        write(`deleted ${result.deleted.length} document(s) from ${tenant}/${collectionName}`);
        for (const id of result.deleted) write(`  deleted   ${id}`);
        for (const id of result.missing) write(`  not found ${id}`);
        return exitCodes.ok;
      };
    }
    case "jobs": {
      noPositionals(positionals, command);
      const tenant = name(str("tenant"), "tenant", command, "default");
      const collectionName =
        str("collection") === undefined ? undefined : name(str("collection"), "collection", command);
      const limit = positiveInteger(str("limit"), "limit", command, 20);
      return (session, { write }) =>
        listJobs(session, write, { tenant, collectionName, limit, json: values.json === true });
    }
    case "collections": {
      noPositionals(positionals, command);
      const tenant = str("tenant") === undefined ? undefined : name(str("tenant"), "tenant", command);
      return (session, { write }) => listCollections(session, write, { tenant, json: values.json === true });
    }
    case "reindex": {
      noPositionals(positionals, command);
      const tenant = name(str("tenant"), "tenant", command, "default");
      const collectionName = name(str("collection"), "collection", command);
      if (values.yes === true && values.dense !== true)
        throw new UsageError("--yes goes with --dense", command);
      return (session, context) =>
        reindex(session, context, {
          tenant,
          collectionName,
          dense: values.dense === true,
          yes: values.yes === true,
        });
    }
  }
}

class CommandError extends Error {}

async function requireCollection(
  store: DocumentStore,
  tenant: string,
  collectionName: string,
): Promise<Collection> {
  const collection = await store.getCollection(tenant, collectionName);
  if (collection === undefined) {
    throw new CommandError(`collection '${collectionName}' does not exist for tenant '${tenant}'`);
  }
  return collection;
}

async function ingest(
  session: Session,
  context: RunContext,
  plan: {
    tenant: string;
    collectionName: string;
    batchSize: number;
    prune: boolean;
    resolved: Awaited<ReturnType<typeof resolveSource>>;
    label: string;
  },
): Promise<number> {
  const { store, engine, logger, config } = session;
  const { io, write, fail } = context;
  const { collection, created } = await store.ensureCollection({
    tenant: plan.tenant,
    name: plan.collectionName,
  });
  if (created) logger.info("collection created", { tenant: plan.tenant, collection: plan.collectionName });
  const controller = new AbortController();
  let signals = 0;
  const removeHandlers = io.onSignal?.((signal) => {
    signals += 1;
    if (signals > 1) {
      fail("\nsift: stopping now; the batch in flight rolls back. Rerun the same command to resume.");
      io.exit?.(exitCodes.interrupted);
      return;
    }
    fail(
      `\nsift: ${signal}: finishing the current batch, then stopping (press Ctrl-C again to stop at once)`,
    );
    controller.abort(new Error(`received ${signal}`));
  });

  const progress = createProgressReporter({
    stream: io.stderr,
    isTTY: io.stderr.isTTY === true,
    logger,
    intervalMs: config.progressIntervalMs,
  });
  session.setLogSink((line) => progress.interject(line));
  const heading = `${plan.tenant}/${plan.collectionName}`;
  let job: IngestionJob;
  let embedded: number | undefined;
  try {
    const total = await countSource(plan.resolved, controller.signal);
    progress.start({ jobLabel: heading, total });
    session.embedProgress.current = createStepProgress({
      stream: io.stderr,
      isTTY: io.stderr.isTTY === true,
      logger,
      intervalMs: config.progressIntervalMs,
      label: "embedding chunks",
    });
    const result = await engine.ingest({
      collectionId: collection.id,
      source: readResolved(plan.resolved, { signal: controller.signal }),
      sourceLabel: plan.label,
      batchSize: plan.batchSize,
      prune: plan.prune,
      // Nobody searches through this process's index: mid-run syncs would only refresh the persisted
      // generation, and a rebuild costs O(collection). The end of the run always syncs.
      lexicalSyncIntervalMs: 60_000,
      signal: controller.signal,
      logger,
      onProgress: (snapshot) => progress.update(snapshot),
      onIngested: (done) => progress.finish(done),
    });
    job = result.job;
    embedded = result.dense?.added;
    session.embedProgress.current.finish();
  } catch (error) {
    session.embedProgress.current?.finish();
    progress.finish();
    throw error;
  } finally {
    session.embedProgress.current = undefined;
    removeHandlers?.();
    session.setLogSink(undefined);
  }
  progress.finish(job);

  write(
    formatSummary(job, `${plan.label} → ${heading} (${plan.resolved.kind}, job #${job.id}, ${job.status})`),
  );
  const denseStatus = await engine.denseStatus(collection.id);
  if (denseStatus === "ready" && embedded !== undefined) {
    write(`  vectors: ${formatInteger(embedded)} new chunk(s) embedded with ${engine.embedder?.profile.id}`);
  } else if (denseStatus === "needs-reindex") {
    write(
      `  vectors: not updated: this collection has no vectors from ${engine.embedder?.profile.id} yet; ` +
        `see the cost with 'pnpm sift reindex --collection ${plan.collectionName} --tenant ${plan.tenant} --dense'`,
    );
  } else if (denseStatus === "unavailable") {
    write("  vectors: none (no embedding model; BM25 only)");
  }
  const notable = job.errors.filter((e) => e.source !== "(job)");
  if (notable.length > 0) {
    const shown = notable.slice(0, 5);
    write(
      `  problems (${shown.length} of ${formatInteger(job.counts.skipped + job.counts.failed)}; 'sift jobs --json' lists up to 100):`,
    );
    for (const e of shown) write(`    ${e.source}: ${e.message}`);
  }
  if (job.status === "interrupted") {
    fail(
      `sift: interrupted after ${formatInteger(job.counts.documentsSeen)} committed item(s) in ${formatDuration(job.timings.totalMs ?? 0)}. ` +
        `Rerun the same command to resume (unchanged documents are skipped):\n  pnpm sift ${shellQuote(context.argv)}`,
    );
    return exitCodes.interrupted;
  }
  return job.status === "succeeded" ? exitCodes.ok : exitCodes.failed;
}

async function reindex(
  session: Session,
  context: RunContext,
  plan: { tenant: string; collectionName: string; dense: boolean; yes: boolean },
): Promise<number> {
  const { engine, store } = session;
  const { write, io } = context;
  const collection = await requireCollection(store, plan.tenant, plan.collectionName);
  const heading = `${plan.tenant}/${plan.collectionName}`;
  if (!plan.dense) {
    const started = performance.now();
    await engine.mergeLexical(collection.id);
    write(
      `reindexed ${heading}: lexical index merged in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return exitCodes.ok;
  }
  if (engine.embedder === undefined) {
    throw new CommandError(
      "no embedding model is configured (SIFT_EMBEDDING_MODEL=none, or the model store lacks the default model)",
    );
  }
  const model = engine.embedder.profile.id;
  const estimate = await engine.estimateReindex(collection.id);
  write(
    `${heading} with ${model}: ${formatInteger(estimate.chunks)} chunk(s), ${formatInteger(estimate.cached)} already in the embedding cache, ` +
      `${formatInteger(estimate.textsToEmbed)} text(s) to embed at ${estimate.passagesPerSecond.toFixed(1)} passages/s ` +
      `(${estimate.measured ? "measured now" : "given"}): about ${formatDuration(estimate.estimatedSeconds * 1000)}`,
  );
  if (!plan.yes) {
    write("nothing embedded; rerun with --yes to go ahead");
    return exitCodes.ok;
  }
  const bar = createStepProgress({
    stream: io.stderr,
    isTTY: io.stderr.isTTY === true,
    logger: session.logger,
    intervalMs: session.config.progressIntervalMs,
    label: "embedding chunks",
  });
  session.embedProgress.current = bar;
  const started = performance.now();
  try {
    const result = await engine.reindexDense(collection.id);
    bar.finish();
    write(
      `reindexed ${heading}: ${formatInteger(result.added)} vector(s) added, ${formatInteger(result.removed)} removed with ${model} in ${formatDuration(performance.now() - started)}`,
    );
  } finally {
    bar.finish();
    session.embedProgress.current = undefined;
  }
  return exitCodes.ok;
}

async function listJobs(
  session: Session,
  write: (text: string) => void,
  options: { tenant: string; collectionName: string | undefined; limit: number; json: boolean },
): Promise<number> {
  const { store } = session;
  const collections =
    options.collectionName === undefined
      ? await store.listCollections(options.tenant)
      : [await requireCollection(store, options.tenant, options.collectionName)];
  const names = new Map(collections.map((c) => [c.id, c.name]));
  const jobs = (await Promise.all(collections.map((c) => store.listJobs(c.id, { limit: options.limit }))))
    .flat()
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id)
    .slice(0, options.limit);
  if (options.json) {
    for (const job of jobs) write(JSON.stringify({ ...job, collection: names.get(job.collectionId) }));
    return exitCodes.ok;
  }
  if (jobs.length === 0) {
    write("no jobs");
    return exitCodes.ok;
  }
  const header = [
    "job",
    "collection",
    "status",
    "started",
    "elapsed",
    "seen",
    "new",
    "upd",
    "same",
    "del",
    "skip",
    "fail",
    "chunks",
    "source",
  ];
  const rows = jobs.map((job) => {
    const elapsed = (job.finishedAt ?? job.updatedAt).getTime() - job.startedAt.getTime();
    const c = job.counts;
    return [
      `#${job.id}`,
      names.get(job.collectionId) ?? String(job.collectionId),
      job.status,
      job.startedAt.toISOString().replace("T", " ").slice(0, 19),
      formatDuration(elapsed),
      ...[c.documentsSeen, c.created, c.updated, c.unchanged, c.deleted, c.skipped, c.failed, c.chunks].map(
        String,
      ),
      job.source,
    ];
  });
  writeTable(write, header, rows);
  return exitCodes.ok;
}

async function listCollections(
  session: Session,
  write: (text: string) => void,
  options: { tenant: string | undefined; json: boolean },
): Promise<number> {
  const collections = await session.store.listCollections(options.tenant);
  const withCounts = await Promise.all(
    collections.map(async (c) => ({ ...c, documents: await session.store.countDocuments(c.id) })),
  );
  if (options.json) {
    for (const c of withCounts) write(JSON.stringify(c));
    return exitCodes.ok;
  }
  if (withCounts.length === 0) {
    write("no collections");
    return exitCodes.ok;
  }
  writeTable(
    write,
    ["tenant", "collection", "id", "documents", "created"],
    withCounts.map((c) => [
      c.tenant,
      c.name,
      String(c.id),
      String(c.documents),
      c.createdAt.toISOString().slice(0, 19).replace("T", " "),
    ]),
  );
  return exitCodes.ok;
}

function writeTable(write: (text: string) => void, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  write(line(header));
  for (const row of rows) write(line(row));
}

/** The process's own streams, environment and signals. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    exit: (code) => process.exit(code),
  };
}

/**
 * Under the `tsx` CLI (how `pnpm sift` runs), the tsx parent relays Ctrl-C to this process and SIGKILLs
 * it unless the event loop acknowledges within ~60 ms, which a busy ingestion (a PGlite write, a BM25
 * rebuild) cannot promise. So `ingest` re-runs itself in a plain `node --import tsx` child: this process
 * stays idle (and acknowledges at once), while the terminal delivers Ctrl-C to the child directly, as to
 * every process of the foreground group. SIGTERM, which reaches only the tsx parent, is forwarded.
 */
async function runBehindTsxCli(argv: string[]): Promise<number> {
  const { spawn } = await import("node:child_process");
  const { constants } = await import("node:os");
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), fileURLToPath(import.meta.url), ...argv],
    {
      stdio: "inherit",
    },
  );
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  return new Promise((resolve) => {
    child.on("error", (error) => {
      process.stderr.write(`sift: could not start the ingestion process: ${error.message}\n`);
      resolve(exitCodes.failed);
    });
    child.on("exit", (code, signal) =>
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])),
    );
  });
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  const underTsxCli = process.execArgv.some((arg) => /[\\/]tsx[\\/]dist[\\/]preflight\.cjs$/.test(arg));
  const code =
    underTsxCli && argv[0] === "ingest" ? await runBehindTsxCli(argv) : await main(argv, processIo());
  // stdout/stderr are synchronous for files and pipes on POSIX, so nothing written is lost.
  process.exit(code);
}
