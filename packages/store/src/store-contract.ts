/**
 * The `DocumentStore` contract suite. Every implementation (Postgres through postgres.js, PGlite) runs it
 * unchanged from its own test file: `describeDocumentStoreContract("pglite", () => openStore(...))`.
 *
 * `open` must return a store over an EMPTY database each time it is called (the suite migrates it); the
 * suite closes what it opened, the caller disposes of the databases afterwards. Most tests share one store
 * and isolate themselves with fresh collection names; tests that observe global state open their own.
 */
import { randomUUID } from "node:crypto";
import {
  ConflictError,
  type DocumentStore,
  emptyJobCounts,
  type Metadata,
  NotFoundError,
  SiftError,
  ValidationError,
} from "@sift/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentWrite } from "./sample-documents";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeDocumentStoreContract(name: string, open: () => Promise<DocumentStore>): void {
  describe(`DocumentStore contract: ${name}`, () => {
    const opened: DocumentStore[] = [];
    let store: DocumentStore;

    /** A fresh, migrated store over an empty database (for tests that observe global state). */
    async function freshStore(): Promise<DocumentStore> {
      const created = await open();
      opened.push(created);
      await created.migrate();
      return created;
    }

    /** A collection no other test uses. */
    async function newCollection(tenant = "t-contract"): Promise<number> {
      const { collection } = await store.ensureCollection({ tenant, name: `c-${randomUUID()}` });
      return collection.id;
    }

    beforeAll(async () => {
      store = await freshStore();
    });

    afterAll(async () => {
      for (const each of opened) await each.close();
    });

    describe("lifecycle", () => {
      it("migrate is idempotent and ping answers", async () => {
        await store.migrate();
        await store.migrate();
        await expect(store.ping()).resolves.toBeUndefined();
        expect(await store.getCollection("t-contract", "never-created")).toBeUndefined();
      });
    });

    describe("collections", () => {
      it("ensureCollection creates once, then returns the existing collection unchanged", async () => {
        const name = `c-${randomUUID()}`;
        const first = await store.ensureCollection({
          tenant: "t-a",
          name,
          settings: { lang: "en", k: [1, 2] },
        });
        expect(first.created).toBe(true);
        expect(first.collection).toMatchObject({ tenant: "t-a", name, settings: { lang: "en", k: [1, 2] } });
        expect(first.collection.createdAt).toBeInstanceOf(Date);
        const second = await store.ensureCollection({ tenant: "t-a", name, settings: { lang: "de" } });
        expect(second).toEqual({ collection: first.collection, created: false });
        expect(await store.getCollectionById(first.collection.id)).toEqual(first.collection);
        expect(await store.getCollection("t-a", name)).toEqual(first.collection);
        expect(await store.getRevision(first.collection.id)).toBe(0);
      });

      it("concurrent ensureCollection calls agree on one collection", async () => {
        const name = `c-${randomUUID()}`;
        const results = await Promise.all(
          Array.from({ length: 6 }, () => store.ensureCollection({ tenant: "t-race", name })),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.collection.id)).size).toBe(1);
      });

      it("isolates tenants: the same name is a different collection per tenant", async () => {
        const name = `shared-${randomUUID()}`;
        const a = await store.ensureCollection({ tenant: "t-iso-a", name });
        const b = await store.ensureCollection({ tenant: "t-iso-b", name });
        expect(b.created).toBe(true);
        expect(b.collection.id).not.toBe(a.collection.id);
        expect(await store.getCollection("t-iso-c", name)).toBeUndefined();
        await store.writeDocuments(a.collection.id, [documentWrite("d1", "only in tenant a")]);
        expect(await store.getDocument(b.collection.id, "d1")).toBeUndefined();
        expect(await store.countDocuments(b.collection.id)).toBe(0);
      });

      it("listCollections orders by tenant then name and filters by tenant", async () => {
        const tenant = `t-list-${randomUUID()}`;
        for (const name of ["zeta", "alpha", "mid"]) await store.ensureCollection({ tenant, name });
        const own = await store.listCollections(tenant);
        expect(own.map((c) => c.name)).toEqual(["alpha", "mid", "zeta"]);
        const all = await store.listCollections();
        expect(all.length).toBeGreaterThanOrEqual(3);
        const keys = all.map((c) => [c.tenant, c.name] as const);
        const sorted = [...keys].sort((x, y) =>
          x[0] === y[0] ? (x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1,
        );
        expect(keys).toEqual(sorted);
        expect(await store.listCollections(`t-none-${randomUUID()}`)).toEqual([]);
      });

      it("getRevision of a missing collection throws NotFoundError", async () => {
        await expect(store.getRevision(987_654_321)).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe("writeDocuments", () => {
      it("creates documents with version 1 and bumps the revision once", async () => {
        const collectionId = await newCollection();
        const results = await store.writeDocuments(collectionId, [
          documentWrite("a", "alpha text that spans chunks", { title: "Alpha", sourceUri: "file:///a.md" }),
          documentWrite("b", "beta"),
        ]);
        expect(results.map((r) => [r.externalId, r.outcome, r.version])).toEqual([
          ["a", "created", 1],
          ["b", "created", 1],
        ]);
        expect(await store.getRevision(collectionId)).toBe(1);
        expect(await store.countDocuments(collectionId)).toBe(2);
        const a = await store.getDocument(collectionId, "a");
        expect(a).toMatchObject({
          id: results[0]!.documentId,
          collectionId,
          externalId: "a",
          title: "Alpha",
          sourceUri: "file:///a.md",
          metadata: {},
          content: "alpha text that spans chunks",
          contentHash: documentWrite("a", "alpha text that spans chunks", {
            title: "Alpha",
            sourceUri: "file:///a.md",
          }).contentHash,
          version: 1,
        });
        expect(a?.createdAt).toBeInstanceOf(Date);
        expect(a?.updatedAt).toBeInstanceOf(Date);
        expect(await store.getDocument(collectionId, "b")).toMatchObject({ title: null, sourceUri: null });
        const records = await store.getChunks(await store.listChunkIds(collectionId));
        const ofA = records.filter((c) => c.externalId === "a").sort((x, y) => x.ordinal - y.ordinal);
        expect(ofA.map((c) => c.text).join("")).toBe("alpha text that spans chunks");
        for (const chunk of ofA) {
          expect(a?.content.slice(chunk.charStart, chunk.charEnd)).toBe(chunk.text);
          expect(chunk).toMatchObject({ documentId: a?.id, collectionId, title: "Alpha", metadata: {} });
        }
      });

      it("leaves a document with an equal content hash alone (no revision bump)", async () => {
        const collectionId = await newCollection();
        const write = documentWrite("a", "same text, twice");
        const [created] = await store.writeDocuments(collectionId, [write]);
        const before = await store.getDocument(collectionId, "a");
        const chunkIds = await store.listChunkIds(collectionId);
        const [again] = await store.writeDocuments(collectionId, [write]);
        expect(again).toEqual({ ...created, outcome: "unchanged" });
        expect(await store.getDocument(collectionId, "a")).toEqual(before);
        expect(await store.listChunkIds(collectionId)).toEqual(chunkIds);
        expect(await store.getRevision(collectionId)).toBe(1);
      });

      it("replaces a changed document's chunks with new, higher ids and bumps version and revision", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [
          documentWrite("a", "first version of a"),
          documentWrite("b", "b"),
        ]);
        const oldA = await store.getDocument(collectionId, "a");
        const oldIds = await store.listChunkIds(collectionId);
        const [updated] = await store.writeDocuments(collectionId, [
          documentWrite("a", "second, longer version of document a", { title: "A2", metadata: { v: 2 } }),
        ]);
        expect(updated).toEqual({ externalId: "a", documentId: oldA?.id, outcome: "updated", version: 2 });
        const newA = await store.getDocument(collectionId, "a");
        expect(newA).toMatchObject({
          content: "second, longer version of document a",
          title: "A2",
          version: 2,
        });
        expect(newA?.createdAt).toEqual(oldA?.createdAt);
        expect(newA!.updatedAt.getTime()).toBeGreaterThanOrEqual(oldA!.updatedAt.getTime());
        expect(await store.getRevision(collectionId)).toBe(2);

        const ids = await store.listChunkIds(collectionId);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        const oldAIds = (await store.getChunks(oldIds)).filter((c) => c.externalId === "a").map((c) => c.id);
        expect(oldAIds).toEqual([]); // the old chunks of `a` are gone
        const newAChunks = (await store.getChunks(ids)).filter((c) => c.externalId === "a");
        expect(newAChunks.map((c) => c.ordinal).sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
        expect(Math.min(...newAChunks.map((c) => c.id))).toBeGreaterThan(Math.max(...oldIds));
        expect(newAChunks.every((c) => c.title === "A2" && c.metadata.v === 2)).toBe(true);
      });

      it("applies a mixed batch in input order and bumps the revision once", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [documentWrite("keep", "k"), documentWrite("change", "c1")]);
        const results = await store.writeDocuments(collectionId, [
          documentWrite("new", "n"),
          documentWrite("keep", "k"),
          documentWrite("change", "c2"),
        ]);
        expect(results.map((r) => [r.externalId, r.outcome, r.version])).toEqual([
          ["new", "created", 1],
          ["keep", "unchanged", 1],
          ["change", "updated", 2],
        ]);
        expect(await store.getRevision(collectionId)).toBe(2);
      });

      it("serialises concurrent writes of the same new document", async () => {
        const collectionId = await newCollection();
        const outcomes = await Promise.all([
          store.writeDocuments(collectionId, [documentWrite("x", "one")]),
          store.writeDocuments(collectionId, [documentWrite("x", "two")]),
        ]);
        expect(outcomes.map(([r]) => r?.outcome).sort()).toEqual(["created", "updated"]);
        expect((await store.getDocument(collectionId, "x"))?.version).toBe(2);
        expect(await store.getRevision(collectionId)).toBe(2);
      });

      it("writes batches larger than one statement can carry", async () => {
        const collectionId = await newCollection();
        const writes = Array.from({ length: 1_200 }, (_, i) =>
          documentWrite(`doc-${i}`, `text of ${i}`, { chunkSize: 4 }),
        );
        const results = await store.writeDocuments(collectionId, writes);
        expect(results.every((r) => r.outcome === "created")).toBe(true);
        expect(await store.countDocuments(collectionId)).toBe(1_200);
        const chunkCount = writes.reduce((sum, w) => sum + w.chunks.length, 0);
        expect(chunkCount).toBeGreaterThan(2_000);
        expect(await store.listChunkIds(collectionId)).toHaveLength(chunkCount);
        expect(await store.getRevision(collectionId)).toBe(1);
      });

      it("rejects duplicate external ids in one batch and unknown collections", async () => {
        const collectionId = await newCollection();
        await expect(
          store.writeDocuments(collectionId, [documentWrite("d", "one"), documentWrite("d", "two")]),
        ).rejects.toBeInstanceOf(ValidationError);
        await expect(store.writeDocuments(987_654_321, [documentWrite("d", "x")])).rejects.toBeInstanceOf(
          NotFoundError,
        );
        expect(await store.writeDocuments(collectionId, [])).toEqual([]);
        expect(await store.getRevision(collectionId)).toBe(0);
      });

      it("is atomic: a batch that fails midway leaves nothing behind", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [documentWrite("existing", "original text")]);
        const idsBefore = await store.listChunkIds(collectionId);
        const broken = documentWrite("broken", "this chunk is invalid");
        broken.chunks[1] = { ...broken.chunks[1]!, text: null as unknown as string }; // violates NOT NULL
        const failure = await store
          .writeDocuments(collectionId, [
            documentWrite("fresh", "a new document"),
            documentWrite("existing", "an update that must not stick"),
            broken,
          ])
          .catch((error: unknown) => error);
        expect(SiftError.is(failure)).toBe(true);
        expect((failure as Error).cause).toBeDefined();
        expect(await store.getDocument(collectionId, "fresh")).toBeUndefined();
        expect(await store.getDocument(collectionId, "broken")).toBeUndefined();
        expect(await store.getDocument(collectionId, "existing")).toMatchObject({
          content: "original text",
          version: 1,
        });
        expect(await store.listChunkIds(collectionId)).toEqual(idsBefore);
        expect(await store.getRevision(collectionId)).toBe(1);
      });

      it("round-trips metadata JSON (nested, arrays, unicode) into documents and chunks", async () => {
        const collectionId = await newCollection();
        const metadata: Metadata = {
          lang: "日本語",
          emoji: "🔍✨ café naïve",
          rtl: "مرحبا",
          "dotted.key": true,
          nested: { deep: { list: [1, -2.5, 1e21, null, "x", { y: [false] }] }, empty: {} },
          tags: ["a", "b", ""],
          year: 2024,
          none: null,
        };
        const text = "Ünïcödé text — with emoji 🧪 and CJK 漢字 beyond the BMP 𝔘";
        const write = documentWrite("ü/é 🔑", text, { title: "Tïtle 🧪", metadata, chunkSize: 8 });
        write.chunks = write.chunks.map((c) => ({ ...c, headingPath: ["Über", "Section 🔖"] }));
        await store.writeDocuments(collectionId, [write]);
        const stored = await store.getDocument(collectionId, "ü/é 🔑");
        expect(stored?.metadata).toEqual(metadata);
        expect(stored?.content).toBe(text);
        const chunkRecords = await store.getChunks(await store.listChunkIds(collectionId));
        expect(chunkRecords.length).toBeGreaterThan(1);
        for (const chunk of chunkRecords) {
          expect(chunk.metadata).toEqual(metadata);
          expect(chunk.headingPath).toEqual(["Über", "Section 🔖"]);
          expect(text.slice(chunk.charStart, chunk.charEnd)).toBe(chunk.text);
        }
        expect(await store.getContentHashes(collectionId, ["ü/é 🔑"])).toEqual(
          new Map([["ü/é 🔑", write.contentHash]]),
        );
      });
    });

    describe("deleteDocuments", () => {
      it("deletes documents with their chunks, returns the ids that existed and bumps the revision", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [
          documentWrite("a", "aaaaaaaaaaaaaaaaaaaa"),
          documentWrite("b", "bb"),
        ]);
        const allIds = await store.listChunkIds(collectionId);
        const idsOfA = (await store.getChunks(allIds)).filter((c) => c.externalId === "a").map((c) => c.id);
        expect(await store.deleteDocuments(collectionId, ["missing", "a", "a"])).toEqual(["a"]);
        expect(await store.getDocument(collectionId, "a")).toBeUndefined();
        expect(await store.getChunks(idsOfA)).toEqual([]);
        expect(await store.listChunkIds(collectionId)).toEqual(allIds.filter((id) => !idsOfA.includes(id)));
        expect(await store.getRevision(collectionId)).toBe(2);
        expect(await store.listExternalIds(collectionId)).toEqual(["b"]);
      });

      it("deleting nothing changes nothing", async () => {
        const collectionId = await newCollection();
        expect(await store.deleteDocuments(collectionId, ["missing"])).toEqual([]);
        expect(await store.deleteDocuments(collectionId, [])).toEqual([]);
        expect(await store.getRevision(collectionId)).toBe(0);
      });
    });

    describe("reads", () => {
      it("listDocuments pages by external id and covers every document exactly once", async () => {
        const collectionId = await newCollection();
        const ids = Array.from({ length: 25 }, (_, i) => `doc-${String(i).padStart(3, "0")}`);
        await store.writeDocuments(
          collectionId,
          [...ids].reverse().map((id) => documentWrite(id, `text ${id}`)),
        );
        for (const limit of [7, 5, 25, 100]) {
          const seen: string[] = [];
          let after: string | undefined;
          let pages = 0;
          do {
            const page = await store.listDocuments(
              collectionId,
              after === undefined ? { limit } : { limit, after },
            );
            expect(page.documents.length).toBeLessThanOrEqual(limit);
            expect(page.documents.length).toBeGreaterThan(0);
            for (const summary of page.documents) expect(summary).not.toHaveProperty("content");
            seen.push(...page.documents.map((d) => d.externalId));
            after = page.nextCursor;
            pages++;
          } while (after !== undefined);
          expect(seen).toEqual(ids);
          expect(pages).toBe(Math.ceil(25 / limit));
        }
        const empty = await newCollection();
        expect(await store.listDocuments(empty, { limit: 10 })).toEqual({ documents: [] });
        await expect(store.listDocuments(collectionId, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
      });

      it("getContentHashes returns stored hashes and omits missing ids; listExternalIds is sorted", async () => {
        const collectionId = await newCollection();
        const writes = [documentWrite("b", "bee"), documentWrite("a", "ay"), documentWrite("c", "sea")];
        await store.writeDocuments(collectionId, writes);
        const hashes = await store.getContentHashes(collectionId, ["a", "c", "zzz"]);
        expect(hashes).toEqual(
          new Map([
            ["a", writes[1]!.contentHash],
            ["c", writes[2]!.contentHash],
          ]),
        );
        expect(await store.getContentHashes(collectionId, [])).toEqual(new Map());
        expect(await store.listExternalIds(collectionId)).toEqual(["a", "b", "c"]);
      });

      it("scanChunks pages by ascending id and matches listChunkIds", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [
          documentWrite("a", "a".repeat(45), { title: "A", metadata: { k: "a" } }),
          documentWrite("b", "b".repeat(33)),
        ]);
        const ids = await store.listChunkIds(collectionId);
        expect(ids).toHaveLength(9);
        const scanned: number[] = [];
        let afterId = 0;
        for (;;) {
          const page = await store.scanChunks(collectionId, { afterId, limit: 4 });
          if (page.length === 0) break;
          for (const chunk of page) {
            expect(chunk.collectionId).toBe(collectionId);
            expect(chunk.metadata).toEqual(chunk.externalId === "a" ? { k: "a" } : {});
            expect(chunk.title).toBe(chunk.externalId === "a" ? "A" : null);
          }
          scanned.push(...page.map((c) => c.id));
          afterId = page[page.length - 1]!.id;
        }
        expect(scanned).toEqual(ids);
        expect(await store.getChunks([])).toEqual([]);
        expect(await store.getChunks([ids[0]!, 987_654_321])).toHaveLength(1);
      });

      it("getDocumentChunks returns the named documents' chunks in order, and only this collection's", async () => {
        const collectionId = await newCollection();
        const other = await newCollection();
        await store.writeDocuments(collectionId, [
          documentWrite("b", "b".repeat(25), { title: "B" }),
          documentWrite("a", "a".repeat(15)),
        ]);
        await store.writeDocuments(other, [documentWrite("a", "x".repeat(15))]);
        const found = await store.getDocumentChunks(collectionId, ["b", "a", "missing"]);
        expect(found.map((c) => [c.externalId, c.ordinal])).toEqual([
          ["a", 0],
          ["a", 1],
          ["b", 0],
          ["b", 1],
          ["b", 2],
        ]);
        expect(found.every((c) => c.collectionId === collectionId)).toBe(true);
        expect(found.find((c) => c.externalId === "b")?.title).toBe("B");
        expect(await store.getDocumentChunks(collectionId, [])).toEqual([]);
      });
    });

    describe("jobs", () => {
      it("goes through its lifecycle and lists most recent first", async () => {
        const collectionId = await newCollection();
        const job = await store.createJob({ collectionId, kind: "ingest", source: "files:./docs" });
        expect(job).toMatchObject({
          collectionId,
          kind: "ingest",
          source: "files:./docs",
          status: "running",
          counts: emptyJobCounts(),
          errors: [],
          timings: {},
          finishedAt: null,
        });
        expect(job.startedAt).toBeInstanceOf(Date);
        await store.updateJob(job.id, {
          counts: { ...emptyJobCounts(), created: 3 },
          timings: { parseMs: 1.5 },
        });
        expect(await store.getJob(job.id)).toMatchObject({
          status: "running",
          counts: { created: 3 },
          finishedAt: null,
        });
        await store.updateJob(job.id, {
          status: "failed",
          errors: [{ source: "a.md", message: "unreadable ✗" }],
          finished: true,
        });
        const finished = await store.getJob(job.id);
        expect(finished).toMatchObject({
          status: "failed",
          counts: { created: 3 },
          timings: { parseMs: 1.5 },
          errors: [{ source: "a.md", message: "unreadable ✗" }],
        });
        expect(finished?.finishedAt).toBeInstanceOf(Date);
        const second = await store.createJob({ collectionId, kind: "api", source: "push" });
        expect((await store.listJobs(collectionId, { limit: 10 })).map((j) => j.id)).toEqual([
          second.id,
          job.id,
        ]);
        expect((await store.listJobs(collectionId, { limit: 1 })).map((j) => j.id)).toEqual([second.id]);
        expect(await store.getJob(987_654_321)).toBeUndefined();
        await expect(store.updateJob(987_654_321, { status: "failed" })).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });

      it("markStaleJobsInterrupted marks only running jobs not updated recently", async () => {
        const own = await freshStore();
        const { collection } = await own.ensureCollection({ tenant: "t", name: "jobs" });
        const stale = await own.createJob({ collectionId: collection.id, kind: "ingest", source: "s1" });
        const done = await own.createJob({ collectionId: collection.id, kind: "ingest", source: "s2" });
        await own.updateJob(done.id, { status: "succeeded", finished: true });
        expect(await own.markStaleJobsInterrupted(60_000)).toBe(0);
        // Wide margins: the machine running this may be loaded (the job's clock starts in its transaction).
        await sleep(1_000);
        const fresh = await own.createJob({ collectionId: collection.id, kind: "ingest", source: "s3" });
        expect(await own.markStaleJobsInterrupted(500)).toBe(1);
        expect(await own.getJob(stale.id)).toMatchObject({ status: "interrupted" });
        expect((await own.getJob(stale.id))?.finishedAt).toBeInstanceOf(Date);
        expect(await own.getJob(done.id)).toMatchObject({ status: "succeeded" });
        expect(await own.getJob(fresh.id)).toMatchObject({ status: "running" });
        expect(await own.markStaleJobsInterrupted(0)).toBe(1); // 0: every running job
        expect(await own.markStaleJobsInterrupted(0)).toBe(0);
      });
    });

    describe("generations", () => {
      it("numbers, completes, retires and finds the latest per (collection, kind)", async () => {
        const collectionId = await newCollection();
        const first = await store.beginGeneration({
          collectionId,
          kind: "bm25",
          path: "bm25/1",
          revision: 3,
        });
        expect(first).toMatchObject({
          collectionId,
          kind: "bm25",
          generation: 1,
          status: "building",
          path: "bm25/1",
          checksum: null,
          chunkCount: 0,
          revision: 3,
          completedAt: null,
        });
        expect(await store.latestGeneration(collectionId, "bm25")).toBeUndefined();
        const second = await store.beginGeneration({
          collectionId,
          kind: "bm25",
          path: "bm25/2",
          revision: 4,
        });
        expect(second.generation).toBe(2);
        const other = await store.beginGeneration({ collectionId, kind: "vector", path: "v/1", revision: 4 });
        expect(other.generation).toBe(1);

        const ready1 = await store.completeGeneration(first.id, { checksum: "sha-1", chunkCount: 10 });
        expect(ready1).toMatchObject({ status: "ready", checksum: "sha-1", chunkCount: 10 });
        expect(ready1.completedAt).toBeInstanceOf(Date);
        expect((await store.latestGeneration(collectionId, "bm25"))?.id).toBe(first.id);

        await store.completeGeneration(other.id, { checksum: "v", chunkCount: 1 });
        await store.completeGeneration(second.id, { checksum: "sha-2", chunkCount: 12 });
        expect((await store.latestGeneration(collectionId, "bm25"))?.id).toBe(second.id);
        const listed = await store.listGenerations(collectionId, "bm25");
        expect(listed.map((g) => [g.generation, g.status])).toEqual([
          [2, "ready"],
          [1, "retired"],
        ]);
        // Another kind is never retired by this one.
        expect(await store.latestGeneration(collectionId, "vector")).toMatchObject({
          id: other.id,
          status: "ready",
        });

        await expect(
          store.completeGeneration(second.id, { checksum: "x", chunkCount: 1 }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          store.completeGeneration(987_654_321, { checksum: "x", chunkCount: 1 }),
        ).rejects.toBeInstanceOf(NotFoundError);
        await store.deleteGeneration(first.id);
        expect((await store.listGenerations(collectionId, "bm25")).map((g) => g.generation)).toEqual([2]);
        // Numbering continues after the highest existing generation.
        expect(
          (await store.beginGeneration({ collectionId, kind: "bm25", path: "p", revision: 5 })).generation,
        ).toBe(3);
      });
    });

    describe("deleteCollection", () => {
      it("cascades to documents, chunks, jobs and generations", async () => {
        const collectionId = await newCollection();
        await store.writeDocuments(collectionId, [documentWrite("a", "some text to chunk")]);
        const chunkIds = await store.listChunkIds(collectionId);
        const job = await store.createJob({ collectionId, kind: "ingest", source: "s" });
        await store.beginGeneration({ collectionId, kind: "bm25", path: "p", revision: 1 });
        await store.deleteCollection(collectionId);
        expect(await store.getCollectionById(collectionId)).toBeUndefined();
        expect(await store.getDocument(collectionId, "a")).toBeUndefined();
        expect(await store.countDocuments(collectionId)).toBe(0);
        expect(await store.getChunks(chunkIds)).toEqual([]);
        expect(await store.listChunkIds(collectionId)).toEqual([]);
        expect(await store.getJob(job.id)).toBeUndefined();
        expect(await store.listGenerations(collectionId, "bm25")).toEqual([]);
        await expect(store.deleteCollection(collectionId)).resolves.toBeUndefined(); // idempotent
      });
    });

    describe("embedding cache", () => {
      /** A distinct model key per test keeps the (global) cache tests independent. */
      const newModel = () => `model-${randomUUID()}`;
      const vector = (...values: number[]) => Float32Array.from(values);

      it("round-trips float32 vectors bit for bit and leaves unknown hashes out", async () => {
        const model = newModel();
        const awkward = vector(Math.fround(0.1), -0, -1e-38, 3.4028234663852886e38, Math.fround(Math.PI));
        expect(
          await store.putCachedEmbeddings(model, [
            { textHash: "h1", vector: awkward },
            { textHash: "h2", vector: vector(1, 2, 3) },
          ]),
        ).toBe(2);
        const found = await store.getCachedEmbeddings(model, ["h1", "h2", "h3", "h1"]);
        expect([...found.keys()].sort()).toEqual(["h1", "h2"]);
        expect(found.get("h1")).toBeInstanceOf(Float32Array);
        expect(Object.is(found.get("h1")![1], -0)).toBe(true);
        expect([...found.get("h1")!]).toEqual([...awkward]);
        expect([...found.get("h2")!]).toEqual([1, 2, 3]);
        expect(await store.getCachedEmbeddings(model, [])).toEqual(new Map());
        expect(await store.putCachedEmbeddings(model, [])).toBe(0);
      });

      it("keeps the first vector of a (model, hash) and separates models", async () => {
        const [first, second] = [newModel(), newModel()];
        await store.putCachedEmbeddings(first, [{ textHash: "h", vector: vector(1, 1) }]);
        // Existing entries and duplicates within one batch are skipped, not errors.
        expect(
          await store.putCachedEmbeddings(first, [
            { textHash: "h", vector: vector(9, 9) },
            { textHash: "n", vector: vector(2, 2) },
            { textHash: "n", vector: vector(3, 3) },
          ]),
        ).toBe(1);
        expect([...(await store.getCachedEmbeddings(first, ["h"])).get("h")!]).toEqual([1, 1]);
        expect([...(await store.getCachedEmbeddings(first, ["n"])).get("n")!]).toEqual([2, 2]);
        expect(await store.getCachedEmbeddings(second, ["h", "n"])).toEqual(new Map());
        await store.putCachedEmbeddings(second, [{ textHash: "h", vector: vector(5) }]);
        expect([...(await store.getCachedEmbeddings(second, ["h"])).get("h")!]).toEqual([5]);
      });

      it("writes and reads more entries than one statement batch holds", async () => {
        const model = newModel();
        const entries = Array.from({ length: 2_345 }, (_, i) => ({
          textHash: `hash-${i}`,
          vector: vector(i, -i, i / 7),
        }));
        expect(await store.putCachedEmbeddings(model, entries)).toBe(entries.length);
        const found = await store.getCachedEmbeddings(
          model,
          entries.map((entry) => entry.textHash),
        );
        expect(found.size).toBe(entries.length);
        expect([...found.get("hash-2000")!]).toEqual([...vector(2000, -2000, 2000 / 7)]);
      });

      it("concurrent writers of the same entries do not conflict", async () => {
        const model = newModel();
        const entries = Array.from({ length: 50 }, (_, i) => ({ textHash: `c-${i}`, vector: vector(i) }));
        const counts = await Promise.all([1, 2, 3].map(() => store.putCachedEmbeddings(model, entries)));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(entries.length);
        expect((await store.getCachedEmbeddings(model, ["c-49"])).get("c-49")).toEqual(vector(49));
      });
    });
  });
}
