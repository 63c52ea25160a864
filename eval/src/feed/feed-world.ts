import { seededRandom } from "@sift/core";
import type { BeirQuery } from "../beir";
import type { BeirDocument } from "../dataset";

/**
 * The simulated world's parameters. Every value was fixed from first principles before any policy was run
 * (docs/feed.md, "Simulator"), and none is fitted to a dataset:
 * - population: `analysts` 200 (the deployment's upper end) on desks of `deskSize` 5; a desk shares a pool
 *   of `deskPool` 4 judged queries, each analyst takes `deskShare` 3 of them plus `personal` 3 of their own
 *   (a hidden interest of 6 judged queries) and states 1 or 2 of the 6 in the profile;
 * - stream: the corpus in a seeded order; `backlogShare` 20 % exists before the analysts arrive (spread
 *   over the 3 days before), the rest arrives at `arrivalsPerHour` 100 (the deployment's rate) as a Poisson
 *   process; `sources` 50 publishers with Zipf(1) shares;
 * - near-duplicates: `duplicateShare` 10 % of the streamed documents get 1–3 copies from other sources,
 *   arriving after an exponential delay of mean 2 h, each with one sentence dropped (≥ 3 sentences), 5 % of
 *   its words replaced by words of another document and a "Reported by" line appended;
 * - reading: every analyst reads every `readIntervalHours` 4 (jittered ×0.5–1.5) and sees the top
 *   `shown` 10; a position-based click model examines position k with probability 1/k; an examined item
 *   relevant to the hidden interest (qrels grade > 0) is opened with probability 0.9, any other with 0.05
 *   (noise); dwell is log-normal (σ 0.8) with median 90 s on relevant items and 15 s on others; a relevant
 *   read is saved with probability 0.3; an examined, unopened, non-relevant item is dismissed with
 *   probability 0.1 or marked "less like this" with 0.02;
 * - the run ends 24 h after the last arrival, so every arrival has a full day to be shown.
 */
export interface WorldParameters {
  seed: number;
  analysts: number;
  deskSize: number;
  deskPool: number;
  deskShare: number;
  personal: number;
  backlogShare: number;
  arrivalsPerHour: number;
  sources: number;
  duplicateShare: number;
  readIntervalHours: number;
  shown: number;
  clickRelevant: number;
  clickOther: number;
  dwellMedianRelevant: number;
  dwellMedianOther: number;
  dwellSigma: number;
  saveRelevant: number;
  dismissOther: number;
  lessLikeThisOther: number;
}

export const defaultWorldParameters: WorldParameters = Object.freeze({
  seed: 1,
  analysts: 200,
  deskSize: 5,
  deskPool: 4,
  deskShare: 3,
  personal: 3,
  backlogShare: 0.2,
  arrivalsPerHour: 100,
  sources: 50,
  duplicateShare: 0.1,
  readIntervalHours: 4,
  shown: 10,
  clickRelevant: 0.9,
  clickOther: 0.05,
  dwellMedianRelevant: 90,
  dwellMedianOther: 15,
  dwellSigma: 0.8,
  saveRelevant: 0.3,
  dismissOther: 0.1,
  lessLikeThisOther: 0.02,
});

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

/** Deterministic random numbers (`seededRandom`) with the few distributions the simulator draws from. */
export class Random {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  next(): number {
    return this.#next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

/** One document of the stream: an original of the corpus or an injected copy of one. */
export interface SimDocument {
  /** Unique in the stream (a copy: `<original>~dup<n>`). */
  id: string;
  /** The corpus document whose relevance it carries (itself for an original). */
  storyId: string;
  title: string;
  text: string;
  source: string;
  arrivedAt: number;
  backlog: boolean;
}

export interface SimAnalyst {
  user: string;
  desk: number;
  /** Judged query ids of the hidden interest. */
  hidden: string[];
  /** The subset stated as saved queries. */
  stated: string[];
  /** Offsets of the analyst's reads. */
  readTimes: number[];
}

export interface World {
  parameters: WorldParameters;
  start: number;
  end: number;
  documents: SimDocument[];
  analysts: SimAnalyst[];
  queries: Map<string, BeirQuery>;
  /** Story id → query ids it is relevant to (qrels grade > 0). */
  relevantTo: Map<string, Set<string>>;
  /** Copy id → original id, for near-duplicate precision and recall. */
  copies: Map<string, string>;
}

/** Builds the world: the stream, the copies, the analysts and their reading times. */
export function buildWorld(
  corpus: readonly BeirDocument[],
  queries: readonly BeirQuery[],
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
  parameters: WorldParameters,
): World {
  const random = new Random(parameters.seed);
  const start = Date.parse("2026-01-05T00:00:00Z");
  const sources = sourceSampler(parameters.sources, random);
  const order = random.shuffle(corpus);
  const backlogCount = Math.round(order.length * parameters.backlogShare);
  const documents: SimDocument[] = [];
  const copies = new Map<string, string>();
  let clock = start;
  for (const [i, doc] of order.entries()) {
    const backlog = i < backlogCount;
    if (backlog) {
      documents.push({
        ...base(doc),
        source: sources(),
        arrivedAt: start - random.next() * 3 * dayMs,
        backlog,
      });
      continue;
    }
    clock += random.exponential(hourMs / parameters.arrivalsPerHour);
    const original: SimDocument = { ...base(doc), source: sources(), arrivedAt: clock, backlog };
    documents.push(original);
    if (random.next() < parameters.duplicateShare) {
      const n = 1 + random.int(3);
      for (let c = 1; c <= n; c += 1) {
        const copy = perturbedCopy(original, c, order, random, sources);
        copies.set(copy.id, original.id);
        documents.push(copy);
      }
    }
  }
  documents.sort((a, b) => a.arrivedAt - b.arrivedAt || (a.id < b.id ? -1 : 1));
  const end = Math.max(...documents.map((d) => d.arrivedAt)) + dayMs;
  const judged = queries.filter((q) => [...(qrels.get(q.id)?.values() ?? [])].some((g) => g > 0));
  const relevantTo = new Map<string, Set<string>>();
  for (const query of judged) {
    for (const [docId, grade] of qrels.get(query.id) ?? []) {
      if (grade <= 0) continue;
      const set = relevantTo.get(docId) ?? new Set<string>();
      set.add(query.id);
      relevantTo.set(docId, set);
    }
  }
  const analysts = buildAnalysts(judged, parameters, random, start, end);
  return {
    parameters,
    start,
    end,
    documents,
    analysts,
    queries: new Map(judged.map((q) => [q.id, q])),
    relevantTo,
    copies,
  };
}

const base = (doc: BeirDocument) => ({ id: doc.id, storyId: doc.id, title: doc.title, text: doc.text });

function sourceSampler(count: number, random: Random): () => string {
  const weights = Array.from({ length: count }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let u = random.next() * total;
    for (const [i, w] of weights.entries()) {
      u -= w;
      if (u <= 0) return `source-${String(i + 1).padStart(2, "0")}`;
    }
    return `source-${count}`;
  };
}

function perturbedCopy(
  original: SimDocument,
  n: number,
  corpus: readonly BeirDocument[],
  random: Random,
  sources: () => string,
): SimDocument {
  let sentences = original.text.split(/(?<=[.!?])\s+/);
  if (sentences.length >= 3) {
    const drop = random.int(sentences.length);
    sentences = sentences.filter((_, i) => i !== drop);
  }
  const donor = random
    .pick(corpus)
    .text.split(/\s+/)
    .filter((w) => w !== "");
  const words = sentences
    .join(" ")
    .split(/\s+/)
    .map((w) => (random.next() < 0.05 && donor.length > 0 ? random.pick(donor) : w));
  let source = sources();
  for (let tries = 0; source === original.source && tries < 10; tries += 1) source = sources();
  return {
    id: `${original.id}~dup${n}`,
    storyId: original.storyId,
    title: original.title,
    text: `${words.join(" ")} Reported by ${source}.`,
    source,
    arrivedAt: original.arrivedAt + random.exponential(2 * hourMs),
    backlog: false,
  };
}

function buildAnalysts(
  judged: readonly BeirQuery[],
  p: WorldParameters,
  random: Random,
  start: number,
  end: number,
): SimAnalyst[] {
  const ids = judged.map((q) => q.id);
  const desks = Math.ceil(p.analysts / p.deskSize);
  const pools = Array.from({ length: desks }, () => random.shuffle(ids).slice(0, p.deskPool));
  return Array.from({ length: p.analysts }, (_, i) => {
    const desk = Math.floor(i / p.deskSize);
    const shared = random.shuffle(pools[desk]!).slice(0, p.deskShare);
    const personal = random.shuffle(ids.filter((id) => !shared.includes(id))).slice(0, p.personal);
    const hidden = [...shared, ...personal];
    const stated = random.shuffle(hidden).slice(0, 1 + random.int(2));
    const readTimes: number[] = [];
    let t = start + random.next() * p.readIntervalHours * hourMs;
    while (t < end) {
      readTimes.push(t);
      t += p.readIntervalHours * hourMs * (0.5 + random.next());
    }
    return { user: `analyst-${String(i + 1).padStart(3, "0")}`, desk, hidden, stated, readTimes };
  });
}
