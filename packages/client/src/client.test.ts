import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SiftApiError, SiftClient } from "./client";
import { type SiftProcess, startSiftProcess, withEmbeddingModel } from "./test-support";
import type { AnswerStreamEvent } from "./types";

if (!withEmbeddingModel) console.warn("client tests: SIFT_SKIP_MODEL_TESTS=1, the service runs BM25-only");

describe("SiftClient against a real service process (sample corpus)", () => {
  let service: SiftProcess;
  let client: SiftClient;

  beforeAll(async () => {
    service = await startSiftProcess();
    client = new SiftClient({ baseUrl: service.url });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
  });

  it("lists collections and searches with per-leg provenance and snippet offsets into the document", async () => {
    const collections = await client.listCollections();
    expect(collections.map((c) => c.name)).toContain("sample");
    const result = await client.search("sample", { query: "reciprocal rank fusion", k: 3 });
    expect(result.mode).toBe(withEmbeddingModel ? "hybrid" : "bm25");
    const top = result.hits[0]!;
    expect(top.documentId).toBe("hybrid-search.md");
    expect(top.legs.bm25?.rank).toBeGreaterThan(0);
    if (withEmbeddingModel) {
      expect(top.scoreKind).toBe("fused:zscore");
      const sum = (top.legs.bm25?.contribution ?? 0) + (top.legs.dense?.contribution ?? 0);
      expect(sum).toBeCloseTo(top.score, 9);
    }
    const document = await client.getDocument("sample", top.documentId);
    const excerpt = top.snippet.text.replace(/^…|…$/g, "");
    expect(document.text.slice(top.snippet.charStart, top.snippet.charEnd)).toBe(excerpt);
    for (const [start, end] of top.snippet.highlights) expect(end).toBeGreaterThan(start);
  });

  it("streams an answer as retrieval, deltas, citations, done; the deltas make the checked text", async () => {
    const events: AnswerStreamEvent[] = [];
    for await (const event of client.streamAnswer("sample", {
      question: "How does reciprocal rank fusion combine rankings?",
    })) {
      events.push(event);
    }
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("retrieval");
    expect(types.at(-1)).toBe("done");
    expect(types.filter((t) => t === "delta").length).toBeGreaterThan(0);
    const text = events.flatMap((e) => (e.type === "delta" ? [e.text] : [])).join("");
    const citations = events.find((e) => e.type === "citations");
    if (citations?.type !== "citations") throw new Error("no citations event");
    expect(citations.text).toBe(text);
    expect(citations.citations.length).toBeGreaterThan(0);
    // Each citation locates its passage in the document's text.
    const retrieval = events[0];
    if (retrieval?.type !== "retrieval") throw new Error("no retrieval event");
    for (const citation of citations.citations) {
      const passage = retrieval.passages.find((p) => p.n === citation.source)!;
      const document = await client.getDocument("sample", citation.documentId);
      expect(document.text.slice(citation.charStart, citation.charEnd)).toBe(passage.text);
    }
  });

  it("answers as one JSON body with the same citation fields", async () => {
    const answer = await client.answer("sample", { question: "What does BM25 score?" });
    expect(answer.outcome).toBe("answered");
    expect(answer.citations[0]).toMatchObject({
      source: expect.any(Number),
      documentId: expect.any(String),
      charStart: expect.any(Number),
      charEnd: expect.any(Number),
    });
  });

  it("ingests a batch, reads its job back, and finds the new document", async () => {
    await client.ensureCollection("client-test");
    const job = await client.ingestDocuments("client-test", [
      { id: "a", title: "Quokka notes", text: "The quokka is a small marsupial from Rottnest Island." },
      { id: "b", text: "Unrelated text about databases.", metadata: { year: 2024 } },
    ]);
    expect(job.status).toBe("succeeded");
    expect(job.counts.created).toBe(2);
    expect((await client.getJob("client-test", job.id)).id).toBe(job.id);
    expect((await client.listJobs("client-test")).map((j) => j.id)).toContain(job.id);
    const found = await client.search("client-test", { query: "quokka", mode: "bm25" });
    expect(found.hits.map((h) => h.documentId)).toEqual(["a"]);
    const filtered = await client.search("client-test", {
      query: "databases",
      mode: "bm25",
      filter: { field: "year", gte: 2025 },
    });
    expect(filtered.hits).toEqual([]);
    const page = await client.listDocuments("client-test", { limit: 1 });
    expect(page.documents.map((d) => d.id)).toEqual(["a"]);
    expect(page.nextCursor).not.toBeNull();
    await client.deleteDocument("client-test", "a");
    await expect(client.getDocument("client-test", "a")).rejects.toMatchObject({ status: 404 });
  });

  it("throws SiftApiError with the API's code and fields", async () => {
    const invalid = await client.search("sample", { query: "x", k: 0 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(SiftApiError);
    expect(invalid).toMatchObject({ status: 400, code: "invalid_request" });
    expect((invalid as SiftApiError).fields.map((f) => f.path)).toContain("k");
    await expect(client.getCollection("no-such-collection")).rejects.toMatchObject({
      status: 404,
      code: "not_found",
    });
    await expect(client.feed("nobody")).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("runs a feed: profile, a matching write, the page, why, feedback, and the stream", async () => {
    await client.ensureCollection("client-news");
    const profile = await client.putUser("client-ana", {
      savedQueries: [{ id: "solar", text: "solar power prices" }],
      collections: ["client-news"],
    });
    expect(profile).toMatchObject({ user: "client-ana", collections: ["client-news"], version: 1 });
    expect((await client.getUser("client-ana")).savedQueries).toEqual([
      { id: "solar", text: "solar power prices" },
    ]);

    await client.ingestDocuments("client-news", [
      {
        id: "solar/1",
        title: "Solar power prices fall",
        text: "Solar power prices fell again this quarter as panel costs dropped.",
        metadata: { source: "wire-a", published: new Date().toISOString() },
      },
    ]);
    const page = await client.feed("client-ana", { limit: 10 });
    const item = page.items.find((i) => i.documentId === "solar/1");
    if (item === undefined)
      throw new Error(`the matching document is not in the feed: ${JSON.stringify(page)}`);
    expect(item).toMatchObject({ itemId: "client-news/solar/1", source: "wire-a", position: 1 });

    const why = await client.feedWhy("client-ana", item.itemId);
    expect(why.itemId).toBe(item.itemId);
    expect(why.matchedQuery).toMatchObject({ queryId: "solar" });
    expect(why.reasons.length).toBeGreaterThan(0);

    const accepted = await client.sendFeedEvents("client-ana", [
      { type: "impression", itemId: item.itemId, requestId: page.requestId, position: item.position },
      { type: "open", itemId: item.itemId },
    ]);
    expect(accepted).toEqual({ accepted: 2 });
    const refused = await client
      .sendFeedEvents("client-ana", [{ type: "impression", itemId: item.itemId }])
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: "invalid_request" });

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    const seen: string[] = [];
    try {
      for await (const event of client.feedStream("client-ana", { signal: controller.signal })) {
        seen.push(event.type);
        if (event.type === "ready") {
          expect(event.user).toBe("client-ana");
          await client.ingestDocuments("client-news", [
            {
              id: "solar-2",
              title: "Solar power prices rise",
              text: "Solar power prices rose in the north.",
            },
          ]);
        } else if (event.type === "item") {
          expect(event.item).toMatchObject({ itemId: "client-news/solar-2", documentId: "solar-2" });
          break;
        }
      }
    } finally {
      clearTimeout(timer);
    }
    expect(seen).toEqual(["ready", "item"]);

    await client.deleteUser("client-ana");
    await expect(client.getUser("client-ana")).rejects.toMatchObject({ status: 404, code: "not_found" });
  }, 60_000);

  it("sends the API key as a bearer token and the tenant header on every call", async () => {
    const seen: Headers[] = [];
    const recording = new SiftClient({
      baseUrl: service.url,
      apiKey: "sift_test_key",
      tenant: "other",
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers));
        return fetch(input, init);
      },
    });
    await recording.listCollections();
    await recording.health();
    expect(seen.map((h) => h.get("authorization"))).toEqual(["Bearer sift_test_key", "Bearer sift_test_key"]);
    expect(seen.map((h) => h.get("x-sift-tenant"))).toEqual(["other", "other"]);
  });
});
