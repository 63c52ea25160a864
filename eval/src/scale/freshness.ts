import type { DocumentInput } from "@sift/core";
import { percentile } from "../metrics";
import { round } from "./load";

export interface FreshnessFigures {
  /** Write requests timed (by their first document). */
  samples: number;
  /** Write sent → the first search that returns the document, ms (an upper bound of commit → visible). */
  p50: number;
  p99: number;
  max: number;
  /** The write request's round trip (it answers after its snapshot refresh: read your writes), ms. */
  writeP50: number;
  writeP99: number;
  /** Documents written in all and their rate. */
  written: number;
  writesPerSecond: number;
  /** Writes that failed or whose document never appeared. */
  errors: number;
}

export interface FreshnessTarget {
  /** `.../v1/collections/<name>` */
  collectionUrl: string;
}

/** A search term no SciFact sentence contains: `zqv` and six letters from `i`. */
export function markerOf(i: number): string {
  let letters = "";
  let rest = i;
  for (let d = 0; d < 6; d++) {
    letters += String.fromCharCode(97 + (rest % 26));
    rest = Math.floor(rest / 26);
  }
  return `zqv${letters}`;
}

async function postDocuments(target: FreshnessTarget, documents: readonly DocumentInput[]): Promise<boolean> {
  const response = await fetch(`${target.collectionUrl}/documents`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      documents: documents.map((d) => ({
        id: d.externalId,
        title: d.title,
        text: d.text,
        metadata: d.metadata,
      })),
    }),
  });
  await response.arrayBuffer();
  return response.ok;
}

/** Polls a BM25 search for the marker until the document is among the hits; resolves with the time it was. */
async function pollUntilVisible(
  target: FreshnessTarget,
  externalId: string,
  marker: string,
  stop: AbortSignal,
): Promise<number | undefined> {
  const body = JSON.stringify({ query: marker, mode: "bm25", k: 10 });
  while (!stop.aborted) {
    const response = await fetch(`${target.collectionUrl}/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const at = performance.now();
    if (response.ok) {
      const { hits } = (await response.json()) as { hits: Array<{ documentId: string }> };
      if (hits.some((hit) => hit.documentId === externalId)) return at;
    } else await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return undefined;
}

interface TimedWrite {
  freshMs: number | undefined;
  writeMs: number;
  ok: boolean;
}

/**
 * Writes a batch (one request) while polling for its first document, which carries the marker; the poll
 * gives up `graceMs` after the write answered.
 */
async function timedWrite(
  target: FreshnessTarget,
  batch: readonly DocumentInput[],
  marker: string,
  graceMs = 30_000,
): Promise<TimedWrite> {
  const [first, ...rest] = batch;
  if (first === undefined) throw new RangeError("a timed write needs a document");
  const stop = new AbortController();
  const sent = performance.now();
  const visible = pollUntilVisible(target, first.externalId, marker, stop.signal);
  const ok = await postDocuments(target, [withMarker(first, marker), ...rest]);
  const writeMs = performance.now() - sent;
  const timer = setTimeout(() => stop.abort(), graceMs);
  const at = await visible;
  clearTimeout(timer);
  stop.abort();
  return { freshMs: at === undefined ? undefined : at - sent, writeMs, ok };
}

function summarize(timed: TimedWrite[], written: number, seconds: number): FreshnessFigures {
  const fresh = timed.flatMap((t) => (t.freshMs === undefined ? [] : [t.freshMs]));
  const writes = timed.map((t) => t.writeMs);
  return {
    samples: timed.length,
    p50: round(percentile(fresh, 50)),
    p99: round(percentile(fresh, 99)),
    max: round(Math.max(...fresh)),
    writeP50: round(percentile(writes, 50)),
    writeP99: round(percentile(writes, 99)),
    written,
    writesPerSecond: round(written / seconds),
    errors: timed.filter((t) => t.freshMs === undefined || !t.ok).length,
  };
}

/**
 * The trickle: single writes one at a time, `gapMs` apart, each timed. (100 documents an hour is one every
 * 36 s; the writes are isolated either way, so a shorter gap samples the same thing sooner.)
 */
export async function measureTrickle(
  target: FreshnessTarget,
  documents: readonly DocumentInput[],
  gapMs: number,
): Promise<FreshnessFigures> {
  const started = performance.now();
  const timed: TimedWrite[] = [];
  for (const [i, document] of documents.entries()) {
    timed.push(await timedWrite(target, [document], markerOf(i)));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return summarize(timed, documents.length, (performance.now() - started) / 1000);
}

/**
 * The burst: the documents in batches of `batchSize` (one request each) from `writers` concurrent clients,
 * every batch timed by its first document. `markerOffset` keeps its markers apart from the trickle's.
 */
export async function measureBurst(
  target: FreshnessTarget,
  documents: readonly DocumentInput[],
  options: { writers: number; batchSize: number; markerOffset: number },
): Promise<FreshnessFigures> {
  const started = performance.now();
  const timed: TimedWrite[] = [];
  const batches: DocumentInput[][] = [];
  for (let i = 0; i < documents.length; i += options.batchSize)
    batches.push(documents.slice(i, i + options.batchSize));
  let next = 0;
  const writer = async () => {
    for (let b = next++; b < batches.length; b = next++)
      timed.push(await timedWrite(target, batches[b]!, markerOf(options.markerOffset + b)));
  };
  await Promise.all(Array.from({ length: options.writers }, writer));
  return summarize(timed, documents.length, (performance.now() - started) / 1000);
}

/** The document with its marker term appended (what the poll searches for). */
function withMarker(document: DocumentInput, marker: string): DocumentInput {
  return { ...document, text: `${document.text} ${marker}` };
}
