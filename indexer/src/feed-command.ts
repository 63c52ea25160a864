import { parseArgs } from "node:util";
import type { SiftStore } from "@sift/core";
import { SiftError } from "@sift/core";
import type { Feed, FeedItem, TrainingGroup } from "@sift/feed";
import type { IndexerConfig } from "./config";
import { type SubcommandIo, subcommandConfig } from "./subcommand";

export const feedHelp = `Usage: sift feed <show|train> [options]

Reads and trains analysts' feeds in the store (stop an embedded service first; with a Postgres server, run
it anywhere: a running service serves a newly trained model within 5 seconds).

  sift feed show USER [--tenant T] [--limit N] [--why] [--json]
      the analyst's ranked feed, best first (logged as a feed read, like GET /v1/users/USER/feed)
      --why           each item's reasons and feature contributions
      --json          one JSON object per item
  sift feed train [--tenant T] [--name NAME] [--json]
      trains the learned ranker (pairwise, position-debiased) from the tenant's logged feed reads and
      events, and stores it as the next version of NAME (default: default, the model the service serves)

Exit codes: 0 ok, 1 failed (unknown user, nothing to learn from), 2 usage error, 3 store locked.`;

const options = {
  tenant: { type: "string" },
  limit: { type: "string" },
  name: { type: "string" },
  why: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

class FeedUsageError extends Error {}

type Parsed = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
type Run = (feed: Feed) => Promise<number>;

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const userPattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

/** Runs `sift feed …`; returns the exit code (0, 1, 2 or 3). */
export async function runFeed(argv: string[], io: SubcommandIo): Promise<number> {
  let parsed: Parsed;
  let run: Run;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (parsed.values.help === true) {
      io.write(feedHelp);
      return 0;
    }
    run = planFeed(parsed, io);
  } catch (error) {
    if (error instanceof SiftError || !(error instanceof Error)) throw error;
    io.fail(`sift feed: ${error.message}\nRun 'sift feed --help' for usage.`);
    return 2;
  }
  const config = subcommandConfig(io);
  if (config === 2) return 2;
  return withFeed(config.store, io, run);
}

async function withFeed(storeOptions: IndexerConfig["store"], io: SubcommandIo, run: Run) {
  const [{ openStore, feedStoreOf }, { Feed }] = await Promise.all([
    import("@sift/store"),
    import("@sift/feed"),
  ]);
  let store: SiftStore | undefined;
  try {
    store = await openStore(storeOptions);
    await store.migrate();
    // Reading and training need no matching: no corpus, no embedder.
    return await run(new Feed({ store: feedStoreOf(store), corpora: { corpus: () => undefined } }));
  } catch (error) {
    if (SiftError.is(error) && error.code === "store_locked") {
      io.fail(`sift: ${error.message}`);
      return 3;
    }
    if (SiftError.is(error) && error.code === "invalid_request") {
      io.fail(`sift feed: ${error.message}`);
      return 2;
    }
    io.fail(`sift feed: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await store?.close();
  }
}

function planFeed(parsed: Parsed, io: SubcommandIo): Run {
  const [sub, ...rest] = parsed.positionals;
  const v = parsed.values;
  const tenant = checked(v.tenant ?? "default", namePattern, "--tenant");
  const json = v.json === true;
  switch (sub) {
    case "show": {
      if (rest.length === 0) throw new FeedUsageError("missing USER");
      if (rest.length > 1) throw new FeedUsageError(`unexpected argument '${rest[1]}'`);
      if (v.name !== undefined) throw new FeedUsageError("--name goes with 'train'");
      const user = checked(rest[0]!, userPattern, "USER");
      const limit = v.limit === undefined ? 20 : Number(v.limit);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 200)) {
        throw new FeedUsageError(`--limit '${v.limit}' is invalid: expected an integer from 1 to 200`);
      }
      return (feed) => show(feed, io, { tenant, user, limit, why: v.why === true, json });
    }
    case "train": {
      if (rest.length > 0) throw new FeedUsageError(`unexpected argument '${rest[0]}'`);
      if (v.limit !== undefined || v.why !== undefined)
        throw new FeedUsageError("--limit and --why go with 'show'");
      const name = checked(v.name ?? "default", namePattern, "--name");
      return (feed) => train(feed, io, { tenant, name, json });
    }
    case undefined:
      throw new FeedUsageError("missing subcommand: show or train");
    default:
      throw new FeedUsageError(`unknown subcommand '${sub}': expected show or train`);
  }
}

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) {
    throw new FeedUsageError(`${what} '${value}' is invalid: use 1–128 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

async function show(
  feed: Feed,
  io: SubcommandIo,
  plan: { tenant: string; user: string; limit: number; why: boolean; json: boolean },
): Promise<number> {
  const { tenant, user } = plan;
  if ((await feed.getProfile(tenant, user).catch(() => undefined)) === undefined) {
    io.fail(`sift feed: no user '${user}' in tenant '${tenant}' (create one with PUT /v1/users/${user})`);
    return 1;
  }
  const page = await feed.read(tenant, user, { limit: plan.limit });
  if (!plan.json) {
    io.write(
      `feed of ${tenant}/${user} (${page.items.length} items, ranker ${page.ranker}, read ${page.requestId})`,
    );
  }
  for (const [i, item] of page.items.entries()) {
    const why = plan.why ? await feed.why(tenant, user, item.itemId) : undefined;
    if (plan.json) {
      io.write(JSON.stringify({ position: i + 1, ...itemJson(item), ...(why === undefined ? {} : { why }) }));
      continue;
    }
    const from = item.alsoFrom.length > 0 ? ` (also from ${item.alsoFrom.length})` : "";
    io.write(
      `${String(i + 1).padStart(3)}  ${item.score.toFixed(3)}  ${item.title}  [${item.source ?? "no source"}${from}]  ${item.itemId}`,
    );
    for (const reason of why?.reasons ?? []) io.write(`       - ${reason}`);
  }
  return 0;
}

function itemJson(item: FeedItem) {
  return {
    itemId: item.itemId,
    title: item.title,
    source: item.source,
    publishedAt: new Date(item.publishedAt).toISOString(),
    score: item.score,
    features: item.features,
    alsoFrom: item.alsoFrom,
  };
}

/** Groups that yield at least one training pair: a positive item above a lower-graded one. */
function learnable(groups: readonly TrainingGroup[]): number {
  return groups.filter((g) => g.items.some((a) => a.label > 0 && g.items.some((b) => b.label < a.label)))
    .length;
}

async function train(
  feed: Feed,
  io: SubcommandIo,
  plan: { tenant: string; name: string; json: boolean },
): Promise<number> {
  const groups = await feed.trainingGroups(plan.tenant);
  const usable = learnable(groups);
  if (usable === 0) {
    io.fail(
      `sift feed: nothing to learn from in tenant '${plan.tenant}' yet: ${groups.length} feed read(s) logged, ` +
        "none with a read or saved item shown beside another (events answer reads by requestId)",
    );
    return 1;
  }
  const { version, model } = await feed.train(plan.tenant, { name: plan.name });
  const summary = {
    tenant: plan.tenant,
    name: plan.name,
    version,
    ranker: model.id,
    reads: groups.length,
    usable,
  };
  io.write(
    plan.json
      ? JSON.stringify(summary)
      : `trained ${model.id} for tenant '${plan.tenant}' from ${usable} of ${groups.length} logged feed reads`,
  );
  return 0;
}
