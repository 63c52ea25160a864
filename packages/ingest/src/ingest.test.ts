import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { emptyJobCounts, type IngestionJob, type JobCounts } from "@sift/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deleteDocuments,
  type IngestionProgress,
  ingestDocuments,
  maxStoredErrors,
  runIngestion,
} from "./ingest";
import { readSource } from "./sources/index";
import type { SourceFormat, SourceItem } from "./sources/types";
import { createTestBed, documentsOf, type TestBed } from "./test-support";

let bed: TestBed;

beforeAll(async () => {
  bed = await createTestBed();
});

afterAll(async () => {
  await bed?.close();
});

function ingest(
  collectionId: number,
  source: AsyncIterable<SourceItem>,
  options: { batchSize?: number; prune?: boolean } = {},
) {
  return runIngestion({
    store: bed.store,
    lexical: bed.lexical,
    collectionId,
    source,
    sourceLabel: "test",
    ...options,
  });
}

/** Every source item lands in exactly one outcome. */
function expectBalanced(counts: JobCounts) {
  expect(counts.created + counts.updated + counts.unchanged + counts.skipped + counts.failed).toBe(
    counts.documentsSeen,
  );
}

const counts = (partial: Partial<JobCounts>): JobCounts => ({ ...emptyJobCounts(), ...partial });

/** Chunks of the collection grouped per external id, checking that no (document, ordinal) repeats. */
async function chunksPerDocument(collectionId: number): Promise<Map<string, number>> {
  const ids = await bed.store.listChunkIds(collectionId);
  expect(new Set(ids).size).toBe(ids.length);
  const perDocument = new Map<string, number>();
  const seen = new Set<string>();
  for (let afterId = 0; ; ) {
    const page = await bed.store.scanChunks(collectionId, { afterId, limit: 500 });
    for (const chunk of page) {
      const key = `${chunk.documentId}:${chunk.ordinal}`;
      expect(seen.has(key), `duplicate chunk ${key}`).toBe(false);
      seen.add(key);
      perDocument.set(chunk.externalId, (perDocument.get(chunk.externalId) ?? 0) + 1);
    }
    const last = page.at(-1);
    if (last === undefined) break;
    afterId = last.id;
  }
  return perDocument;
}

describe("runIngestion", () => {
  it("creates documents, then skips them unchanged on a rerun without new chunks or a revision bump", async () => {
    const collectionId = await bed.collection();
    const source = () =>
      documentsOf([
        {
          externalId: "guide.md",
          text: "# Guide\n\nHow to grow tomatoes.",
          format: "markdown",
          fallbackTitle: "guide.md",
        },
        { externalId: "notes.txt", text: "Plain notes about cucumbers.", fallbackTitle: "notes.txt" },
        {
          externalId: "page.html",
          text: "<html><head><title>Peppers</title></head><body><h1>Hot</h1><p>Chili peppers.</p></body></html>",
          format: "html",
        },
        { externalId: "j1", title: "Explicit", text: "A JSONL line", metadata: { lang: "en" } },
      ]);
    const first = await ingest(collectionId, source());
    expect(first.status).toBe("succeeded");
    expect(first.kind).toBe("ingest");
    expect(first.finishedAt).not.toBeNull();
    expect(first.counts).toMatchObject(counts({ documentsSeen: 4, created: 4, chunks: first.counts.chunks }));
    expect(first.counts.chunks).toBeGreaterThanOrEqual(4);
    expect(first.timings.totalMs).toBeGreaterThan(0);

    const guide = await bed.store.getDocument(collectionId, "guide.md");
    expect(guide).toMatchObject({ title: "Guide", content: "# Guide\n\nHow to grow tomatoes.", version: 1 });
    expect((await bed.store.getDocument(collectionId, "notes.txt"))?.title).toBe("notes.txt");
    const page = await bed.store.getDocument(collectionId, "page.html");
    expect(page?.title).toBe("Peppers");
    expect(page?.content).not.toContain("<p>");
    expect(await bed.store.getDocument(collectionId, "j1")).toMatchObject({
      title: "Explicit",
      metadata: { lang: "en" },
    });
    expect(await bed.searchIds(collectionId, "tomatoes")).toEqual(["guide.md"]);

    const revision = await bed.store.getRevision(collectionId);
    const chunkIds = await bed.store.listChunkIds(collectionId);
    const second = await ingest(collectionId, source());
    expect(second.status).toBe("succeeded");
    expect(second.counts).toEqual(counts({ documentsSeen: 4, unchanged: 4 }));
    expect(await bed.store.getRevision(collectionId)).toBe(revision);
    expect(await bed.store.listChunkIds(collectionId)).toEqual(chunkIds);
    expect((await bed.store.getDocument(collectionId, "guide.md"))?.version).toBe(1);
  });

  it("propagates a changed text: chunks replaced, version bumped, the lexical index finds the new text only", async () => {
    const collectionId = await bed.collection();
    await ingest(
      collectionId,
      documentsOf([
        { externalId: "a", text: "the quick zebra jumps" },
        { externalId: "b", text: "other" },
      ]),
    );
    expect(await bed.searchIds(collectionId, "zebra")).toEqual(["a"]);
    const oldChunks = await bed.store.listChunkIds(collectionId);

    const job = await ingest(
      collectionId,
      documentsOf([
        { externalId: "a", text: "the quick giraffe jumps" },
        { externalId: "b", text: "other" },
      ]),
    );
    expect(job.counts).toMatchObject({ updated: 1, unchanged: 1, created: 0 });
    expect(job.counts.chunks).toBe(1);
    expect((await bed.store.getDocument(collectionId, "a"))?.version).toBe(2);
    expect(await bed.searchIds(collectionId, "giraffe")).toEqual(["a"]);
    expect(await bed.searchIds(collectionId, "zebra")).toEqual([]);
    const newChunks = await bed.store.listChunkIds(collectionId);
    expect(newChunks).toHaveLength(oldChunks.length);
    expect(newChunks).not.toEqual(oldChunks);
  });

  it("deleteDocuments removes documents from the store and the lexical index at once", async () => {
    const collectionId = await bed.collection();
    await ingest(
      collectionId,
      documentsOf([
        { externalId: "keep", text: "apples and pears" },
        { externalId: "drop", text: "apples and plums" },
      ]),
    );
    expect((await bed.searchIds(collectionId, "apples")).sort()).toEqual(["drop", "keep"]);
    const result = await deleteDocuments({
      store: bed.store,
      lexical: bed.lexical,
      collectionId,
      externalIds: ["drop", "drop", "never-existed"],
    });
    expect(result).toEqual({ deleted: ["drop"], missing: ["never-existed"] });
    expect(await bed.searchIds(collectionId, "plums")).toEqual([]);
    expect(await bed.searchIds(collectionId, "apples")).toEqual(["keep"]);
    expect(await bed.store.countDocuments(collectionId)).toBe(1);
  });

  it("prunes documents that left the source, from the store and the lexical index", async () => {
    const collectionId = await bed.collection();
    await ingest(
      collectionId,
      documentsOf([
        { externalId: "a", text: "alpha river" },
        { externalId: "b", text: "beta river" },
        { externalId: "c", text: "gamma river" },
      ]),
    );
    // Without prune nothing is deleted.
    const plain = await ingest(collectionId, documentsOf([{ externalId: "a", text: "alpha river" }]));
    expect(plain.counts.deleted).toBe(0);
    expect(await bed.store.countDocuments(collectionId)).toBe(3);

    // A skipped entry that still names its id (e.g. an unreadable file) keeps its document.
    async function* source(): AsyncGenerator<SourceItem> {
      yield* documentsOf([{ externalId: "a", text: "alpha river" }]);
      yield { kind: "skipped", source: "b", reason: "unreadable: EIO", externalId: "b" };
    }
    const pruned = await ingest(collectionId, source(), { prune: true });
    expect(pruned.counts).toEqual(counts({ documentsSeen: 2, unchanged: 1, skipped: 1, deleted: 1 }));
    expect(await bed.store.listExternalIds(collectionId)).toEqual(["a", "b"]);
    expect(await bed.searchIds(collectionId, "gamma")).toEqual([]);
    expect((await bed.searchIds(collectionId, "river")).sort()).toEqual(["a", "b"]);
  });

  it("does not prune when the source yielded no document (a wrong path, most likely)", async () => {
    const collectionId = await bed.collection();
    await ingest(collectionId, documentsOf([{ externalId: "a", text: "alpha" }]));
    const job = await ingest(collectionId, documentsOf([]), { prune: true });
    expect(job.status).toBe("succeeded");
    expect(job.counts.deleted).toBe(0);
    expect(job.errors.at(-1)?.message).toMatch(/prune skipped/);
    expect(await bed.store.countDocuments(collectionId)).toBe(1);
  });

  it("counts a duplicate external id once: the last occurrence wins, the others are skipped duplicates", async () => {
    const collectionId = await bed.collection();
    const job = await ingest(
      collectionId,
      documentsOf([
        { externalId: "a", text: "first version" },
        { externalId: "b", text: "bee" },
        { externalId: "a", text: "second version" }, // same batch as the first
        { externalId: "c", text: "sea" },
        { externalId: "a", text: "third version wins" }, // a later batch
      ]),
      { batchSize: 3 },
    );
    expect(job.counts).toEqual(
      counts({ documentsSeen: 5, created: 3, skipped: 2, chunks: job.counts.chunks }),
    );
    expect(job.errors.filter((e) => e.source === "a").map((e) => e.message)).toEqual([
      "skipped: duplicate external id in the source; the last occurrence wins",
      "skipped: duplicate external id in the source; the last occurrence wins",
    ]);
    expect((await bed.store.getDocument(collectionId, "a"))?.content).toBe("third version wins");
    expect(await bed.store.countDocuments(collectionId)).toBe(3);
    expect([...(await chunksPerDocument(collectionId)).keys()].sort()).toEqual(["a", "b", "c"]);
    expect(await bed.searchIds(collectionId, "version")).toEqual(["a"]);
    expect(await bed.searchIds(collectionId, "first")).toEqual([]);
  });

  it("counts a document that fails to parse as failed with its error, and goes on with the batch", async () => {
    const collectionId = await bed.collection();
    const job = await ingest(
      collectionId,
      documentsOf([
        { externalId: "ok1", text: "fine" },
        { externalId: "bad", text: "whatever", format: "pdf" as SourceFormat },
        { externalId: "ok2", text: "also fine" },
      ]),
    );
    expect(job.status).toBe("succeeded");
    expect(job.counts).toMatchObject({ documentsSeen: 3, created: 2, failed: 1 });
    expect(job.errors).toEqual([
      { source: "bad", message: expect.stringMatching(/unknown source format 'pdf'/) },
    ]);
    expect(await bed.store.listExternalIds(collectionId)).toEqual(["ok1", "ok2"]);
  });

  it("records source skips, keeps at most 100 errors and says how many were dropped", async () => {
    const collectionId = await bed.collection();
    async function* source(): AsyncGenerator<SourceItem> {
      for (let i = 0; i < 150; i += 1) yield { kind: "skipped", source: `bad-${i}`, reason: "binary file" };
      yield* documentsOf([{ externalId: "good", text: "good text" }]);
    }
    const job = await ingest(collectionId, source(), { batchSize: 40 });
    expectBalanced(job.counts);
    expect(job.counts).toMatchObject({ documentsSeen: 151, skipped: 150, created: 1 });
    expect(job.errors).toHaveLength(maxStoredErrors);
    expect(job.errors[0]).toEqual({ source: "bad-0", message: "skipped: binary file" });
    expect(job.errors.at(-1)?.message).toBe("51 more errors not recorded (at most 100 are kept)");
  });

  it("marks the job failed with the error when the source throws, keeping committed batches", async () => {
    const collectionId = await bed.collection();
    async function* source(): AsyncGenerator<SourceItem> {
      yield* documentsOf([
        { externalId: "a", text: "one" },
        { externalId: "b", text: "two" },
      ]);
      throw new Error("disk on fire");
    }
    await expect(ingest(collectionId, source(), { batchSize: 2 })).rejects.toThrow("disk on fire");
    const [job] = await bed.store.listJobs(collectionId, { limit: 1 });
    expect(job?.status).toBe("failed");
    expect(job?.finishedAt).not.toBeNull();
    expect(job?.counts).toMatchObject({ created: 2 });
    expect(job?.errors.at(-1)).toEqual({ source: "(job)", message: "failed: disk on fire" });
    expect(await bed.store.countDocuments(collectionId)).toBe(2);
  });

  it("reports progress after every committed batch", async () => {
    const collectionId = await bed.collection();
    const seen: IngestionProgress[] = [];
    await runIngestion({
      store: bed.store,
      lexical: bed.lexical,
      collectionId,
      source: documentsOf(Array.from({ length: 7 }, (_, i) => ({ externalId: `d${i}`, text: `doc ${i}` }))),
      sourceLabel: "test",
      batchSize: 3,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => [p.phase, p.batches, p.counts.documentsSeen])).toEqual([
      ["ingesting", 1, 3],
      ["ingesting", 2, 6],
      ["ingesting", 3, 7],
      ["syncing", 3, 7],
      ["finished", 3, 7],
    ]);
  });

  it("ingestDocuments ingests a pushed array as one job (format text by default)", async () => {
    const collectionId = await bed.collection();
    const job: IngestionJob = await ingestDocuments({
      store: bed.store,
      lexical: bed.lexical,
      collectionId,
      documents: [
        { externalId: "p1", text: "# not a heading in text format", title: "Pushed" },
        { externalId: "p2", text: "# Heading\n\nmarkdown body", format: "markdown" },
      ],
    });
    expect(job.source).toBe("api");
    expect(job.counts).toMatchObject({ created: 2 });
    expect((await bed.store.getDocument(collectionId, "p1"))?.title).toBe("Pushed");
    expect((await bed.store.getDocument(collectionId, "p2"))?.title).toBe("Heading");
  });

  it("ingests a folder read by the files source end to end", async () => {
    const collectionId = await bed.collection();
    const folder = path.join(bed.dataDir, "folder");
    await mkdir(path.join(folder, "sub"), { recursive: true });
    await writeFile(path.join(folder, "a.md"), "# Alpha\n\nAardvarks live here.");
    await writeFile(path.join(folder, "sub", "b.html"), "<h1>Beta</h1><p>Badgers live here.</p>");
    await writeFile(path.join(folder, "c.bin"), new Uint8Array([0, 1, 2]));
    const job = await ingest(collectionId, readSource(folder));
    expect(job.counts).toMatchObject({ documentsSeen: 3, created: 2, skipped: 1 });
    expect(await bed.searchIds(collectionId, "badgers")).toEqual(["sub/b.html"]);
    expect((await bed.store.getDocument(collectionId, "sub/b.html"))?.title).toBe("Beta");
  });
});

describe("crash safety: abort and rerun", () => {
  const total = 57;
  const source = () =>
    documentsOf(
      Array.from({ length: total }, (_, i) => ({
        externalId: `doc-${String(i).padStart(3, "0")}`,
        text: `Document ${i} talks about token${i}x and shared words.`,
      })),
    );

  it("an abort after N batches leaves the job interrupted; a rerun completes with exactly the source", async () => {
    const collectionId = await bed.collection();
    const controller = new AbortController();
    const interrupted = await runIngestion({
      store: bed.store,
      lexical: bed.lexical,
      collectionId,
      source: source(),
      sourceLabel: "abort-test",
      batchSize: 10,
      prune: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.batches === 2) controller.abort(new Error("test abort"));
      },
    });
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.finishedAt).not.toBeNull();
    expect(interrupted.counts).toEqual(counts({ documentsSeen: 20, created: 20, chunks: 20 }));
    expect(interrupted.errors.at(-1)?.message).toMatch(/^interrupted: test abort; rerun the same source/);
    expect(await bed.store.countDocuments(collectionId)).toBe(20);

    const rerun = await ingest(collectionId, source(), { batchSize: 10, prune: true });
    expect(rerun.status).toBe("succeeded");
    expect(rerun.counts).toEqual(
      counts({ documentsSeen: total, created: total - 20, unchanged: 20, chunks: total - 20 }),
    );
    expect(await bed.store.countDocuments(collectionId)).toBe(total);
    const perDocument = await chunksPerDocument(collectionId);
    expect(perDocument.size).toBe(total);
    expect([...perDocument.values()].every((n) => n === 1)).toBe(true);
    expect(await bed.searchIds(collectionId, "token5x")).toEqual(["doc-005"]);
    expect(await bed.searchIds(collectionId, "token56x")).toEqual(["doc-056"]);
  });

  it("an abort before the first batch commits nothing and never prunes", async () => {
    const collectionId = await bed.collection();
    await ingest(collectionId, documentsOf([{ externalId: "old", text: "old" }]));
    const controller = new AbortController();
    controller.abort();
    const job = await runIngestion({
      store: bed.store,
      lexical: bed.lexical,
      collectionId,
      source: source(),
      sourceLabel: "abort-test",
      prune: true,
      signal: controller.signal,
    });
    expect(job.status).toBe("interrupted");
    expect(job.counts).toEqual(counts({}));
    expect(await bed.store.listExternalIds(collectionId)).toEqual(["old"]);
  });
});
