import type { Embedder, EmbeddingModelProfile } from "@sift/core";
import {
  CollectionStatisticsCorpus,
  dot,
  Feed,
  type FeedDocument,
  type FeedEventInput,
  type FeedItem,
  MemoryFeedStore,
  type Ranker,
  type SerializedModel,
  type TrainingGroup,
} from "@sift/feed";
import type { Analyzer } from "@sift/text";
import type { Progress } from "../progress";
import { type ReadMetrics, readMetrics } from "./feed-metrics";
import { dayMs, hourMs, Random, type SimAnalyst, type World } from "./feed-world";

export const simTenant = "sim";
export const simCollection = "sim";

/** A policy under test: a ranker, and for learned policies how (and how often) it is retrained. */
export interface PolicySpec {
  name: string;
  ranker: Ranker;
  /** Retrains from the run's own logs every `trainEveryHours` (sim time) and serves the result. */
  trainer?: ((groups: TrainingGroup[]) => Promise<SerializedModel>) | undefined;
}

/** What the simulator prepared once for every policy: documents as the feed sees them, query vectors. */
export interface SimData {
  world: World;
  documents: Map<string, FeedDocument>;
  queryVectors: Map<string, Float32Array>;
  profile: EmbeddingModelProfile;
  analyzer: Analyzer;
  backfill: (documents: readonly FeedDocument[]) => import("@sift/feed").BackfillSearch;
}

export interface PolicyOutcome {
  name: string;
  reads: ReadMetrics[];
  /** (analyst, relevant streamed story) pairs, and how many were shown in a top 10 within a day. */
  relevantArrivals: number;
  relevantShownWithinDay: number;
  /** Milliseconds per arrival, matching against every profile to candidates stored. */
  matchMs: number[];
  /** Mean over served pages of 1 − mean pairwise cosine of the shown items. */
  intraListDiversity: number;
  /** Stream document id → cluster id, as the feed assigned them. */
  clusters: Map<string, string>;
  models: number;
  seconds: number;
}

/** Serves the precomputed query vectors (the saved queries are judged queries embedded beforehand). */
function lookupEmbedder(profile: EmbeddingModelProfile, vectors: Map<string, Float32Array>): Embedder {
  return {
    profile,
    async embed({ texts }) {
      return {
        embeddings: texts.map((t) => {
          const v = vectors.get(t);
          if (v === undefined) throw new Error(`no precomputed vector for query '${t}'`);
          return v;
        }),
        warnings: [],
      };
    },
  };
}

type Step =
  | { at: number; kind: "arrive"; id: string }
  | { at: number; kind: "read"; analyst: SimAnalyst; index: number };

/** Runs one policy over the whole stream with its own feed, store and collection statistics. */
export async function simulatePolicy(
  data: SimData,
  policy: PolicySpec,
  options: { trainEveryHours: number },
  progress: Progress,
): Promise<PolicyOutcome> {
  const started = performance.now();
  const { world } = data;
  const corpus = new CollectionStatisticsCorpus(data.analyzer);
  const clock = { now: world.start };
  const queryText = new Map([...world.queries].map(([id, q]) => [id, q.text]));
  const textVectors = new Map([...data.queryVectors].map(([id, v]) => [queryText.get(id)!, v]));
  const backlog = world.documents.filter((d) => d.backlog).map((d) => data.documents.get(d.id)!);
  const store = new MemoryFeedStore();
  const feed = new Feed({
    store,
    corpora: { corpus: () => corpus },
    embedder: lookupEmbedder(data.profile, textVectors),
    backfill: data.backfill(backlog),
    ranker: policy.ranker,
    clock: () => clock.now,
  });
  for (const document of backlog) for (const chunk of document.chunks) corpus.add(chunk);
  await feed.applyChanges({ tenant: simTenant, upserted: backlog, removed: [] });
  for (const analyst of world.analysts) {
    await feed.putProfile(simTenant, analyst.user, {
      savedQueries: analyst.stated.map((id) => ({ id, text: queryText.get(id)! })),
      collections: [simCollection],
    });
  }
  const state = newRunState(world);
  const steps = timeline(world);
  const step = progress.step(`policy ${policy.name}`, steps.length);
  let nextTraining = world.start + options.trainEveryHours * hourMs;
  for (const [i, s] of steps.entries()) {
    clock.now = s.at;
    if (policy.trainer !== undefined && s.at >= nextTraining) {
      nextTraining += options.trainEveryHours * hourMs;
      const groups = await feed.trainingGroups(simTenant);
      if (groups.some((g) => g.items.some((item) => item.label > 0))) {
        await feed.train(simTenant, { trainer: policy.trainer });
        state.models += 1;
      }
    }
    if (s.kind === "arrive") {
      const document = data.documents.get(s.id)!;
      for (const chunk of document.chunks) corpus.add(chunk);
      const result = await feed.applyChanges({ tenant: simTenant, upserted: [document], removed: [] });
      state.matchMs.push(...result.matchMs);
    } else {
      await simulateRead(feed, data, s.analyst, s.index, state);
    }
    if (i % 200 === 0) step.update(i + 1);
  }
  const clusters = new Map(
    (await store.listDocuments(simTenant)).map((r) => [
      r.documentId,
      r.clusterId.slice(simCollection.length + 1),
    ]),
  );
  step.done(`${state.reads.length} reads with a relevant item, ${state.models} models trained`);
  return finish(policy.name, world, state, clusters, (performance.now() - started) / 1000);
}

interface RunState {
  reads: ReadMetrics[];
  /** `user story` → first time shown in a served page. */
  firstShown: Map<string, number>;
  matchMs: number[];
  diversity: number[];
  models: number;
}

function newRunState(_world: World): RunState {
  return { reads: [], firstShown: new Map(), matchMs: [], diversity: [], models: 0 };
}

function timeline(world: World): Step[] {
  const steps: Step[] = world.documents
    .filter((d) => !d.backlog)
    .map((d) => ({ at: d.arrivedAt, kind: "arrive" as const, id: d.id }));
  for (const analyst of world.analysts) {
    for (const [index, at] of analyst.readTimes.entries()) steps.push({ at, kind: "read", analyst, index });
  }
  return steps.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === "arrive" ? -1 : 1));
}

/** Whether an item (any member of its cluster) is relevant to the analyst's hidden interest. */
function relevantItem(world: World, analyst: SimAnalyst, item: FeedItem): boolean {
  return item.members.some((key) => {
    const id = key.slice(simCollection.length + 1);
    const story = world.copies.get(id) ?? id;
    const queries = world.relevantTo.get(story);
    return queries !== undefined && analyst.hidden.some((q) => queries.has(q));
  });
}

async function simulateRead(feed: Feed, data: SimData, analyst: SimAnalyst, index: number, state: RunState) {
  const { world } = data;
  const p = world.parameters;
  const page = await feed.read(simTenant, analyst.user, { limit: p.shown, withRanking: true });
  const ranking = page.ranking ?? page.items;
  const labels = ranking.map((item) => relevantItem(world, analyst, item));
  if (labels.some(Boolean)) state.reads.push(readMetrics(labels, page.asOf, world));
  for (const item of page.items) {
    for (const key of item.members) {
      const id = key.slice(simCollection.length + 1);
      const story = `${analyst.user} ${world.copies.get(id) ?? id}`;
      if (!state.firstShown.has(story)) state.firstShown.set(story, page.asOf);
    }
  }
  state.diversity.push(intraListDiversity(page.items, data));
  const events = clickEvents(
    page.items,
    labels,
    page.requestId,
    new Random(hashSeed(p.seed, analyst.user, index)),
    p,
  );
  if (events.length > 0) await feed.recordEvents(simTenant, analyst.user, { events });
}

function hashSeed(seed: number, user: string, index: number): number {
  let h = seed ^ 0x9e3779b9;
  for (const c of `${user}#${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

/** The position-based click model of `WorldParameters`, drawn with the read's own random numbers. */
function clickEvents(
  shown: readonly FeedItem[],
  labels: readonly boolean[],
  requestId: string,
  random: Random,
  p: World["parameters"],
): FeedEventInput[] {
  const events: FeedEventInput[] = [];
  for (const [k, item] of shown.entries()) {
    // Draw every number whether or not it is used, so policies see the same randomness per position.
    const [examine, click, dwellNoise, save, negative] = [
      random.next(),
      random.next(),
      random.normal(),
      random.next(),
      random.next(),
    ];
    if (examine >= 1 / (k + 1)) continue;
    const relevant = labels[k] === true;
    const position = k + 1;
    const base = { itemId: item.itemId, requestId, position };
    if (click < (relevant ? p.clickRelevant : p.clickOther)) {
      const median = relevant ? p.dwellMedianRelevant : p.dwellMedianOther;
      const dwellSeconds = Math.round(median * Math.exp(p.dwellSigma * dwellNoise));
      events.push({ ...base, type: "open" }, { ...base, type: "dwell", dwellSeconds });
      if (relevant && save < p.saveRelevant) events.push({ ...base, type: "save" });
    } else if (!relevant && negative < p.dismissOther) {
      events.push({ ...base, type: "dismiss" });
    } else if (!relevant && negative < p.dismissOther + p.lessLikeThisOther) {
      events.push({ ...base, type: "less-like-this" });
    }
  }
  return events;
}

function intraListDiversity(items: readonly FeedItem[], data: SimData): number {
  const vectors = items
    .map((item) => data.documents.get(item.documentId)?.embedding ?? null)
    .filter((v): v is Float32Array => v !== null);
  if (vectors.length < 2) return 0;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < vectors.length; i += 1) {
    for (let j = i + 1; j < vectors.length; j += 1) {
      sum += dot(vectors[i]!, vectors[j]!);
      pairs += 1;
    }
  }
  return 1 - sum / pairs;
}

function finish(
  name: string,
  world: World,
  state: RunState,
  clusters: Map<string, string>,
  seconds: number,
): PolicyOutcome {
  let relevantArrivals = 0;
  let shownWithinDay = 0;
  const originals = world.documents.filter(
    (d) => !d.backlog && !world.copies.has(d.id) && d.arrivedAt <= world.end - dayMs,
  );
  for (const analyst of world.analysts) {
    for (const document of originals) {
      const queries = world.relevantTo.get(document.id);
      if (queries === undefined || !analyst.hidden.some((q) => queries.has(q))) continue;
      relevantArrivals += 1;
      const shown = state.firstShown.get(`${analyst.user} ${document.id}`);
      if (shown !== undefined && shown - document.arrivedAt <= dayMs) shownWithinDay += 1;
    }
  }
  const diversity = state.diversity.filter((d) => d > 0);
  return {
    name,
    reads: state.reads,
    relevantArrivals,
    relevantShownWithinDay: shownWithinDay,
    matchMs: state.matchMs,
    intraListDiversity: diversity.length === 0 ? 0 : diversity.reduce((a, b) => a + b, 0) / diversity.length,
    clusters,
    models: state.models,
    seconds,
  };
}
