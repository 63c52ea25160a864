/**
 * The synthetic corpus of `pnpm bench:scale`: documents assembled from SciFact sentences, deterministic for a
 * seed. Each document has a topic (a SciFact document) drawn from a Zipfian mix (s = 1 over a seeded ranking
 * of the topics), most of its sentences from that topic and the rest from anywhere, and metadata that
 * Sift's filters can select on: `source` (one of 300, uniform), `date` (a uniform day of 2015–2024) and
 * `tags` (`open` or `restricted` with equal odds, plus the topic's bucket tag).
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { DocumentInput, Filter } from "@sift/core";
import { seededRandom } from "@sift/core";

/** A SciFact document: the sentences documents of this topic draw from. */
export interface Topic {
  title: string;
  sentences: string[];
}

export interface CorpusOptions {
  seed: number;
  /** Zipf exponent of the topic mix. Default 1. */
  zipfExponent?: number;
  /** Prefix of the external ids (`doc-0`, `doc-1`, … by default). */
  idPrefix?: string;
}

export const sourceCount = 300;
const firstDay = Date.UTC(2015, 0, 1);
export const dayCount = 3653; // 2015-01-01 .. 2024-12-31
const ownTopicShare = 0.8;
const topicBuckets = 40;

/**
 * The filters whose selectivity the benchmark measures, by the share of the corpus they select: three of the
 * 300 sources, the first tenth of the date span, and one of the two equally likely tier tags.
 */
export const scaleFilters: Record<"1%" | "10%" | "50%", Filter> = {
  "1%": { field: "source", in: [sourceName(0), sourceName(1), sourceName(2)] },
  "10%": { field: "date", gte: isoDay(0), lt: isoDay(Math.round(dayCount / 10)) },
  "50%": { field: "tags", eq: "open" },
};

export function sourceName(index: number): string {
  return `source-${String(index).padStart(3, "0")}`;
}

function isoDay(day: number): string {
  return new Date(firstDay + day * 86_400_000).toISOString().slice(0, 10);
}

/** SciFact sentences split at sentence ends (the corpus often omits the space after a full stop). */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|(?<=[a-z)][.!?])(?=[A-Z])/)
    .map((s) => s.trim())
    .filter((s) => s.length >= 20);
}

/** Reads the topics from a BEIR corpus (`corpus.jsonl`); documents without a usable sentence are left out. */
export async function loadTopics(datasetDir: string): Promise<Topic[]> {
  const lines = createInterface({ input: createReadStream(path.join(datasetDir, "corpus.jsonl")) });
  const topics: Topic[] = [];
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as { title?: string; text?: string };
    const sentences = splitSentences(record.text ?? "");
    if (sentences.length > 0) topics.push({ title: record.title ?? "", sentences });
  }
  return topics;
}

/** Samples indexes 0..n-1 with probability ∝ 1 / (rank + 1)^s, ranks a seeded permutation of the indexes. */
export function zipfSampler(n: number, exponent: number, random: () => number): () => number {
  const byRank = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [byRank[i], byRank[j]] = [byRank[j]!, byRank[i]!];
  }
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** exponent;
    cumulative[r] = total;
  }
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return byRank[lo]!;
  };
}

/** The metadata every generated document has (a type alias, so it is a `Metadata`). */
export type ScaleMetadata = { source: string; date: string; tags: string[] };

/** A generated document and the topic it was drawn from (for tests and reports). */
export interface SyntheticDocument extends DocumentInput {
  metadata: ScaleMetadata;
  topic: number;
}

/**
 * The corpus as an endless deterministic sequence: the same seed and topics give the same documents in the
 * same order, so the first N of a run are the corpus of N.
 */
export function* generateDocuments(
  topics: readonly Topic[],
  options: CorpusOptions,
): Generator<SyntheticDocument> {
  if (topics.length === 0) throw new RangeError("the corpus needs at least one topic");
  const random = seededRandom(options.seed);
  const nextTopic = zipfSampler(topics.length, options.zipfExponent ?? 1, random);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const prefix = options.idPrefix ?? "doc-";
  for (let i = 0; ; i++) {
    const topic = nextTopic();
    const own = topics[topic]!;
    const count = 3 + Math.floor(random() * 6);
    const sentences: string[] = [];
    for (let s = 0; s < count; s++) {
      const from = random() < ownTopicShare ? own : pick(topics);
      sentences.push(pick(from.sentences));
    }
    const source = sourceName(Math.floor(random() * sourceCount));
    const date = isoDay(Math.floor(random() * dayCount));
    const tier = random() < 0.5 ? "open" : "restricted";
    yield {
      externalId: `${prefix}${i}`,
      title: own.title,
      text: sentences.join(" "),
      metadata: { source, date, tags: [tier, `topic-${topic % topicBuckets}`] },
      topic,
    };
  }
}

/** The first `count` documents of `generateDocuments`. */
export function takeDocuments(
  topics: readonly Topic[],
  options: CorpusOptions,
  count: number,
): SyntheticDocument[] {
  const out: SyntheticDocument[] = [];
  for (const document of generateDocuments(topics, options)) {
    if (out.length >= count) break;
    out.push(document);
  }
  return out;
}
