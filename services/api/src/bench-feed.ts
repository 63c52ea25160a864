/**
 * Feed speed over HTTP, on a real service in this process (embedded store, BM25 only: no model is needed and
 * the dense leg is not what is measured). Synthetic documents (200 words over a seeded Zipf(1) vocabulary of
 * 20,000 words) are written over HTTP; then each analyst (10 saved queries of 3 mid-frequency words) is
 * created with `PUT /v1/users/{user}` (each one a backfill by search over the whole corpus, timed); then
 * each analyst's first feed read (timed apart: it loads the analyst's state), then R more reads round-robin
 * over the analysts (timed); then single-document writes with one analyst's stream
 * open, timed from the write's start to the item arriving on the stream; then, with `--burst N`, N more
 * documents written in batches of 500 while every profile follows the collection (each write returns once
 * the feed has matched it), timed as a whole. Prints the figures and the load.
 *
 *   pnpm --filter @sift/api bench:feed [--documents 5000 --analysts 200 --reads 1000 --arrivals 20 --burst 0]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { seededRandom } from "@sift/core";
import { startBenchService } from "./bench-support";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    documents: { type: "string", default: "5000" },
    analysts: { type: "string", default: "200" },
    reads: { type: "string", default: "1000" },
    arrivals: { type: "string", default: "20" },
    burst: { type: "string", default: "0" },
  },
});
const sizes = {
  documents: Number(values.documents),
  analysts: Number(values.analysts),
  reads: Number(values.reads),
  arrivals: Number(values.arrivals),
  burst: Number(values.burst),
};

/** Seeded: every run writes the same corpus and profiles. */
const next = seededRandom(20261202);
const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}x`);
const harmonic = vocabulary.reduce((sum, _, i) => sum + 1 / (i + 1), 0);
const cumulative: number[] = [];
vocabulary.reduce((sum, _, i) => {
  cumulative.push(sum + 1 / (i + 1) / harmonic);
  return cumulative.at(-1)!;
}, 0);
function zipfWord(): string {
  const u = next();
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return vocabulary[lo]!;
}
const text = (words: number) => Array.from({ length: words }, zipfWord).join(" ");
const queryText = () =>
  Array.from({ length: 3 }, () => vocabulary[100 + Math.floor(next() * 2000)]!).join(" ");

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
const figures = (xs: number[]) =>
  xs.length === 0
    ? "not measured (n=0)"
    : `p50 ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

const { service, stop } = await startBenchService("sift-bench-feed-", {
  SIFT_AUTH: "off",
  SIFT_SAMPLE_CORPUS: "false",
  SIFT_MAX_BODY_BYTES: String(64 * 1024 * 1024),
});
const headers = { "content-type": "application/json" };
async function call(method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${service.url}${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${answer.slice(0, 300)}`);
  return answer === "" ? undefined : JSON.parse(answer);
}

try {
  await call("PUT", "/v1/collections/bench");
  const ingestMs = await writeDocuments("d", sizes.documents);
  let started: number;

  const backfills: number[] = [];
  for (let a = 0; a < sizes.analysts; a++) {
    const profile = {
      savedQueries: Array.from({ length: 10 }, (_, q) => ({ id: `q${q}`, text: queryText() })),
      collections: ["bench"],
    };
    started = performance.now();
    await call("PUT", `/v1/users/a${a}`, profile);
    backfills.push(performance.now() - started);
  }

  // Each analyst's first read after the backfill wrote their candidates (the service loads their state),
  // then reads round-robin with nothing written in between.
  const firstReads: number[] = [];
  const reads: number[] = [];
  let items = 0;
  for (let r = 0; r < sizes.analysts + sizes.reads; r++) {
    started = performance.now();
    const page = (await call("GET", `/v1/users/a${r % sizes.analysts}/feed?limit=20`)) as {
      items: unknown[];
    };
    (r < sizes.analysts ? firstReads : reads).push(performance.now() - started);
    if (r >= sizes.analysts) items += page.items.length;
  }

  const arrivals = await measureArrivals();
  const burstMs = sizes.burst > 0 ? await writeDocuments("burst-", sizes.burst) : 0;
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}; ${sizes.documents} documents, ${sizes.analysts} analysts × 10 saved queries`,
  );
  console.log(`ingest over HTTP (no profiles yet): ${(ingestMs / 1000).toFixed(1)} s`);
  console.log(`backfill of a new profile (PUT /v1/users/{user}): ${figures(backfills)}`);
  console.log(`first feed read of each analyst (GET …/feed?limit=20): ${figures(firstReads)}`);
  console.log(
    `feed read (GET …/feed?limit=20, ${(items / sizes.reads).toFixed(1)} items a page): ${figures(reads)}`,
  );
  console.log(
    `write of one document → item on the analyst's stream, ${sizes.analysts} profiles: ${figures(arrivals)}`,
  );
  if (sizes.burst > 0) {
    console.log(
      `burst of ${sizes.burst} documents, ${sizes.analysts * 10} saved queries following (write, BM25, matching): ` +
        `${(burstMs / 1000).toFixed(1)} s (${((sizes.burst * 1000) / burstMs).toFixed(0)} documents/s)`,
    );
  }
} finally {
  await stop();
}

/** Writes `count` synthetic documents (ids `prefix0`…) over HTTP in batches of 500; the milliseconds it took. */
async function writeDocuments(prefix: string, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 500) {
    const documents = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      id: `${prefix}${i + j}`,
      title: text(6),
      text: text(200),
      metadata: { source: `s${Math.floor(next() * 50)}` },
    }));
    await call("POST", "/v1/collections/bench/documents", { documents });
  }
  return performance.now() - started;
}

/** One analyst's stream open; each write is a document made of that analyst's first saved query. */
async function measureArrivals(): Promise<number[]> {
  const profile = (await call("GET", "/v1/users/a0")) as {
    profile: { savedQueries: Array<{ text: string }> };
  };
  const query = profile.profile.savedQueries[0]!.text;
  const controller = new AbortController();
  const res = await fetch(`${service.url}/v1/users/a0/feed/stream`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const waitFor = async (needle: string) => {
    while (!buffer.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended");
      buffer += decoder.decode(value, { stream: true });
    }
    buffer = buffer.slice(buffer.indexOf(needle) + needle.length);
  };
  await waitFor("event: ready");
  const times: number[] = [];
  for (let i = 0; i < sizes.arrivals; i++) {
    const id = `arrival-${i}`;
    const started = performance.now();
    await call("POST", "/v1/collections/bench/documents", {
      documents: [{ id, title: query, text: `${query} ${text(100)}`, metadata: { source: "s0" } }],
    });
    await waitFor(`"documentId":"${id}"`);
    times.push(performance.now() - started);
  }
  controller.abort();
  return times;
}
