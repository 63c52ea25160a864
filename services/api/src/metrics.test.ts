import type { Embedder } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { metricNames } from "./metrics";
import { createTestApp } from "./test-support";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

/**
 * A strict reader of the Prometheus text format (0.0.4): HELP and TYPE lines, then samples
 * `name{label="value",…} value`; anything else is an error, so a malformed exposition fails the test.
 */
function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
  const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === "TYPE") {
        expect(["counter", "gauge", "histogram", "summary", "untyped"]).toContain(meta[3]);
        out.types.set(meta[2]!, meta[3]!);
      } else out.help.set(meta[2]!, meta[3]!);
      continue;
    }
    const match = sampleLine.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    labelPair.lastIndex = 0;
    while (labelPair.lastIndex < body.length) {
      const pair = labelPair.exec(body);
      if (pair === null) throw new Error(`bad labels in ${JSON.stringify(line)}`);
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== "NaN") throw new Error(`bad value in ${JSON.stringify(line)}`);
    out.samples.push({ name: match[1]!, labels, value });
  }
  return out;
}

/** The one sample of `name` whose labels include `labels` (0 when absent). */
function sampleValue(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value ?? 0;
}

describe("/metrics", () => {
  let t: Awaited<ReturnType<typeof createTestApp>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await t!.call("GET", "/metrics", undefined, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    return parseExposition(res.text);
  };

  it("exports every named metric with its type, and counts searches, answers, ingestion and index sizes", async () => {
    t = await createTestApp({ embedder: bagOfWordsEmbedder({ seed: 7 }).embedder, metrics: {} });
    await t.call("PUT", "/v1/collections/notes");
    const ingest = await t.call("POST", "/v1/collections/notes/documents", {
      documents: [
        { id: "tides", title: "Tides", text: "The moon's gravity pulls the oceans and raises the tides." },
        { id: "bees", title: "Bees", text: "Honey bees dance to tell the hive where flowers grow." },
      ],
    });
    const chunks = ingest.body.job.counts.chunks as number;
    expect(chunks).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 2; i++) {
      expect((await t.call("POST", "/v1/collections/notes/search", { query: "moon tides" })).status).toBe(
        200,
      );
    }
    expect(
      (await t.call("POST", "/v1/collections/notes/search", { query: "bees", mode: "bm25" })).status,
    ).toBe(200);
    const answered = await t.call("POST", "/v1/collections/notes/answer", {
      question: "what raises the tides?",
    });
    expect(answered.status).toBe(200);
    expect((await t.call("GET", "/no/such/route")).status).toBe(404);

    const e = await scrape();
    for (const name of metricNames.counters) expect([name, e.types.get(name)]).toEqual([name, "counter"]);
    for (const name of metricNames.histograms) expect([name, e.types.get(name)]).toEqual([name, "histogram"]);
    for (const name of metricNames.gauges) expect([name, e.types.get(name)]).toEqual([name, "gauge"]);
    for (const name of [...metricNames.counters, ...metricNames.histograms, ...metricNames.gauges]) {
      expect(name).toMatch(/^sift_[a-z_]+$/);
    }

    const search = { route: "/v1/collections/{collection}/search", method: "POST", status: "200" };
    expect(sampleValue(e, "sift_http_requests_total", search)).toBe(3);
    expect(sampleValue(e, "sift_http_request_duration_seconds_count", search)).toBe(3);
    expect(sampleValue(e, "sift_http_request_duration_seconds_bucket", { ...search, le: "+Inf" })).toBe(3);
    expect(sampleValue(e, "sift_http_request_duration_seconds_sum", search)).toBeGreaterThan(0);
    expect(sampleValue(e, "sift_http_requests_total", { route: "unmatched", status: "404" })).toBe(1);
    // Buckets are cumulative.
    const buckets = e.samples.filter(
      (s) => s.name === "sift_http_request_duration_seconds_bucket" && s.labels.route === search.route,
    );
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);

    // Three searches and the answer's retrieval; two of them hybrid; two distinct queries embedded.
    const stage = (name: string) =>
      sampleValue(e, "sift_search_stage_duration_seconds_count", { stage: name });
    expect([stage("total"), stage("hydrate"), stage("bm25")]).toEqual([4, 4, 4]);
    expect([stage("dense"), stage("fusion"), stage("rerank")]).toEqual([3, 3, 0]);
    expect(stage("query_embedding")).toBe(2);
    expect(sampleValue(e, "sift_generation_time_to_first_token_seconds_count")).toBe(1);

    expect(sampleValue(e, "sift_ingest_documents_total")).toBe(2);
    expect(sampleValue(e, "sift_ingest_chunks_total")).toBe(chunks);
    expect(sampleValue(e, "sift_index_chunks", { collection: "default/notes", index: "bm25" })).toBe(chunks);
    expect(sampleValue(e, "sift_index_chunks", { collection: "default/notes", index: "dense" })).toBe(chunks);
    // The repeated query came from the query LRU and the feed read the two passages' vectors from the
    // persistent cache; the passages (at ingestion) and two distinct queries went to the model.
    expect(sampleValue(e, "sift_embedding_cache_hits_total")).toBe(1 + chunks);
    expect(sampleValue(e, "sift_embedding_cache_misses_total")).toBe(chunks + 2);
    expect(sampleValue(e, "sift_degraded_legs_total", { leg: "dense" })).toBe(0);
  });

  it("counts a lost leg once however often it is scraped", async () => {
    const { embedder } = bagOfWordsEmbedder({ seed: 7 });
    // Passages embed; queries fail, so every hybrid search loses its dense leg.
    const failingQueries: Embedder = {
      profile: embedder.profile,
      embed: (options) =>
        options.kind === "query" ? Promise.reject(new Error("model server down")) : embedder.embed(options),
    };
    t = await createTestApp({ embedder: failingQueries, metrics: {} });
    await t.call("PUT", "/v1/collections/notes");
    await t.call("POST", "/v1/collections/notes/documents", {
      documents: [{ id: "tides", text: "The moon raises the tides." }],
    });
    const res = await t.call("POST", "/v1/collections/notes/search", { query: "moon" });
    expect(res.body.degraded).toEqual(["dense"]);
    expect(sampleValue(await scrape(), "sift_degraded_legs_total", { leg: "dense" })).toBe(1);
    expect(sampleValue(await scrape(), "sift_degraded_legs_total", { leg: "dense" })).toBe(1);
    await t.call("POST", "/v1/collections/notes/search", { query: "tides" });
    const e = await scrape();
    expect(sampleValue(e, "sift_degraded_legs_total", { leg: "dense" })).toBe(2);
    expect(sampleValue(e, "sift_degraded_legs_total", { leg: "bm25" })).toBe(0);
  });

  it("asks for SIFT_METRICS_TOKEN when auth is on, and counts rate-limited requests", async () => {
    const token = "metrics-token-0123456789";
    t = await createTestApp({
      auth: "required",
      rateLimit: { ratePerSecond: 0.001, burst: 1 },
      metrics: { token },
    });
    const { bearer } = await t.createKey("acme", "reader");
    expect((await t.call("GET", "/v1/collections", undefined, bearer)).status).toBe(200);
    expect((await t.call("GET", "/v1/collections", undefined, bearer)).status).toBe(429);
    expect((await t.call("GET", "/metrics")).status).toBe(401);
    expect((await t.call("GET", "/metrics", undefined, bearer)).status).toBe(401);
    expect((await t.call("GET", "/metrics", undefined, { authorization: `Bearer ${token}x` })).status).toBe(
      401,
    );
    const e = await scrape({ authorization: `Bearer ${token}` });
    expect(sampleValue(e, "sift_rate_limited_total")).toBe(1);
    expect(sampleValue(e, "sift_http_requests_total", { route: "/v1/collections", status: "429" })).toBe(1);
    expect(sampleValue(e, "sift_http_requests_total", { route: "/metrics", status: "401" })).toBe(3);
  });

  it("is refused with auth on and no token configured, and open with auth off", async () => {
    t = await createTestApp({ auth: "required", metrics: {} });
    const refused = await t.call("GET", "/metrics");
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain("SIFT_METRICS_TOKEN");
    await t.close();
    t = await createTestApp({ auth: "off", metrics: {} });
    await scrape();
  });
});
