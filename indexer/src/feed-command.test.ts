import path from "node:path";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { CollectionStatisticsCorpus, Feed, prepareFeedDocument } from "@sift/feed";
import { feedStoreOf, openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { useCliScratch } from "./cli-test-support";

const scratch = useCliScratch("sift-feed-cli-");
const run = scratch.run;

const texts = {
  d1: "Solar panel prices fell as new factories opened and solar power installations hit a record.",
  d2: "Cheap solar power changes utility planning: panel prices, storage costs and demand.",
  d3: "Quarterly earnings of the largest banks beat expectations on trading revenue.",
};

/** What the service would have stored: a profile, three matched documents, one read and its feedback. */
async function seed(): Promise<void> {
  const store = await openStore({ driver: "pglite", dataDir: path.join(scratch.dataDir, "pglite") });
  try {
    await store.migrate();
    const analyzer = createAnalyzer();
    const corpus = new CollectionStatisticsCorpus(analyzer);
    const { embedder, vector } = bagOfWordsEmbedder({ dimensions: 64 });
    const feed = new Feed({ store: feedStoreOf(store), corpora: { corpus: () => corpus }, embedder });
    await feed.putProfile("acme", "ana", {
      savedQueries: [{ text: "solar power prices" }],
      collections: ["news"],
    });
    const documents = Object.entries(texts).map(([id, text]) =>
      prepareFeedDocument(
        {
          tenant: "acme",
          collection: "news",
          documentId: id,
          title: id,
          text,
          chunks: [{ text, headingPath: [] }],
          chunkVectors: [vector(text)],
          metadata: { source: `wire-${id}` },
          arrivedAt: Date.now(),
        },
        analyzer,
      ),
    );
    for (const d of documents) for (const chunk of d.chunks) corpus.add(chunk);
    await feed.applyChanges({ tenant: "acme", upserted: documents, removed: [] });
    const page = await feed.read("acme", "ana", { limit: 3 });
    const last = page.items[2]!;
    await feed.recordEvents("acme", "ana", {
      events: [
        ...page.items.map((item, i) => ({
          type: "impression",
          itemId: item.itemId,
          requestId: page.requestId,
          position: i + 1,
        })),
        { type: "save", itemId: last.itemId, requestId: page.requestId, position: 3 },
      ],
    });
  } finally {
    await store.close();
  }
}

describe("sift feed", () => {
  it("refuses to train with nothing logged, shows a feed, trains a model and serves it", async () => {
    const empty = await run(["feed", "train", "--tenant", "acme"]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("nothing to learn from in tenant 'acme' yet: 0 feed read(s)");

    await seed();
    const shown = await run(["feed", "show", "ana", "--tenant", "acme", "--why"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("feed of acme/ana (2 items, ranker linear:hybrid+feedback+collab");
    // d3 was saved (read): it left the feed; the solar documents remain, with their reasons.
    const lines = shown.stdout.split("\n");
    expect(lines.filter((l) => /^\s+\d+ {2}/.test(l)).map((l) => l.trim().split(/\s+/).at(-1))).toEqual(
      expect.arrayContaining(["news/d1", "news/d2"]),
    );
    expect(shown.stdout).toMatch(/- .*solar/);

    const trained = await run(["feed", "train", "--tenant", "acme", "--json"]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    expect(JSON.parse(trained.stdout)).toMatchObject({
      tenant: "acme",
      name: "default",
      version: 1,
      ranker: "model:default@1",
      usable: 1,
    });
    const served = await run(["feed", "show", "ana", "--tenant", "acme", "--json", "--limit", "1"]);
    expect(served.code).toBe(0);
    const [item] = served.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(item).toMatchObject({ position: 1, itemId: expect.stringMatching(/^news\/d[12]$/) });
    const again = await run(["feed", "show", "ana", "--tenant", "acme"]);
    expect(again.stdout).toContain("ranker model:default@1");
  });

  it("says what is wrong with the arguments or the user", async () => {
    expect((await run(["feed"])).stderr).toContain("missing subcommand");
    expect((await run(["feed", "show"])).code).toBe(2);
    expect((await run(["feed", "show", "ana", "--limit", "0"])).stderr).toContain("--limit '0' is invalid");
    expect((await run(["feed", "train", "--why"])).code).toBe(2);
    const unknown = await run(["feed", "show", "nobody", "--tenant", "acme"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no user 'nobody' in tenant 'acme'");
    expect((await run(["feed", "--help"])).stdout).toContain("sift feed show USER");
  });
});
