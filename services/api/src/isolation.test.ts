/**
 * Randomized tenant isolation: several tenants with the same collection names, the same document ids and
 * mostly the same texts; every route is called with every key of every tenant, and no response may hold
 * another tenant's document (its marker word), chunk id, count, job or score. BM25 scores are compared
 * with a service holding one tenant alone, so collection statistics cannot leak either.
 */
import { type Role, seededRandom } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const seed = Number(process.env.SIFT_ISOLATION_SEED ?? 20261204);
const next = seededRandom(seed); // a failure reproduces with its seed
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

const tenants = ["alpha", "bravo", "charlie", "delta"] as const;
/** A word only the tenant's documents contain (in text, title and metadata). */
const marker = (tenant: string) => `${tenant}qzx`;
const collectionNames = ["news", "shared", "archive"];
const words = [
  "prices",
  "supply",
  "energy",
  "bonds",
  "rates",
  "oil",
  "gas",
  "storage",
  "inflation",
  "growth",
];

interface TenantModel {
  documents: Map<string, Map<string, { text: string; desk: string }>>;
  jobs: Map<string, number>;
}

function corpus(tenant: string, collection: string) {
  const count = 3 + Math.floor(next() * 5);
  return Array.from({ length: count }, (_, i) => {
    const desk = pick(["energy", "macro"]);
    const text = `${Array.from({ length: 8 }, () => pick(words)).join(" ")} ${marker(tenant)} in ${collection}.`;
    return {
      id: `doc-${i}`,
      title: `Note ${i} ${marker(tenant)}`,
      text,
      metadata: { desk, owner: marker(tenant) },
    };
  });
}

describe(`tenant isolation (seed ${seed})`, () => {
  let t: TestApp;
  const model = new Map<string, TenantModel>();
  const keys = new Map<string, Array<{ role: Role | "scoped"; headers: Record<string, string> }>>();

  async function write(tenant: string, collection: string, writer: Record<string, string>) {
    const documents = corpus(tenant, collection);
    expect((await t.call("PUT", `/v1/collections/${collection}`, undefined, writer)).status).toBeLessThan(
      300,
    );
    const res = await t.call("POST", `/v1/collections/${collection}/documents`, { documents }, writer);
    expect(res.status).toBe(200);
    const own = model.get(tenant)!;
    const stored = own.documents.get(collection) ?? new Map();
    for (const d of documents) stored.set(d.id, { text: d.text, desk: d.metadata.desk });
    own.documents.set(collection, stored);
    own.jobs.set(collection, (own.jobs.get(collection) ?? 0) + 1);
    return documents;
  }

  beforeAll(async () => {
    t = await createTestApp({ auth: "required", embedder: bagOfWordsEmbedder().embedder });
    for (const tenant of tenants) {
      model.set(tenant, { documents: new Map(), jobs: new Map() });
      const made = await Promise.all(
        (["admin", "writer", "reader"] as const).map((role) => t.createKey(tenant, role)),
      );
      const scoped = await t.createKey(tenant, "reader", { filter: { field: "desk", eq: "energy" } });
      keys.set(tenant, [
        ...made.map((k, i) => ({ role: (["admin", "writer", "reader"] as const)[i]!, headers: k.bearer })),
        { role: "scoped", headers: scoped.bearer },
      ]);
      // Each tenant gets a random subset of the shared collection names, some written twice.
      for (const collection of collectionNames.filter(() => next() < 0.8)) {
        await write(tenant, collection, made[1]!.bearer);
        if (next() < 0.4) await write(tenant, collection, made[1]!.bearer);
      }
    }
  });
  afterAll(async () => t.close());

  /** The routes a key can call on a collection name (its own tenant's, or one it does not have). */
  const readRoutes = (collection: string, tenant: string): Array<[string, string, unknown?]> => [
    ["GET", "/v1/collections"],
    ["GET", `/v1/collections/${collection}`],
    ["GET", `/v1/collections/${collection}/documents?limit=1000`],
    ["GET", `/v1/collections/${collection}/documents/doc-0`],
    ["GET", `/v1/collections/${collection}/jobs`],
    ["GET", `/v1/collections/${collection}/jobs/1`],
    [
      "POST",
      `/v1/collections/${collection}/search`,
      { query: `${pick(words)} ${pick(words)}`, mode: "bm25", k: 50 },
    ],
    [
      "POST",
      `/v1/collections/${collection}/search`,
      { query: `${pick(words)} ${pick(words)}`, mode: "dense", k: 50 },
    ],
    [
      "POST",
      `/v1/collections/${collection}/search`,
      { query: `${pick(words)} ${pick(words)}`, mode: "hybrid", k: 50 },
    ],
    // Another tenant's marker as the query: BM25 must find nothing (dense always finds neighbours).
    [
      "POST",
      `/v1/collections/${collection}/search`,
      { query: marker(pick(tenants.filter((x) => x !== tenant))), mode: "bm25", k: 50 },
    ],
    [
      "POST",
      `/v1/collections/${collection}/answer`,
      { question: `what about ${pick(words)}?`, mode: "hybrid" },
    ],
    ["GET", "/v1/keys"],
    ["GET", "/v1/audit?limit=1000"],
  ];

  it("never shows a tenant another tenant's documents, markers, counts or jobs, whatever the key and route", async () => {
    let calls = 0;
    for (const tenant of tenants) {
      const others = tenants.filter((x) => x !== tenant).map(marker);
      const own = model.get(tenant)!;
      for (const key of keys.get(tenant)!) {
        for (const collection of collectionNames) {
          for (const [method, path, body] of readRoutes(collection, tenant)) {
            const res = await t.call(method, path, body, key.headers);
            calls++;
            // The request's own query comes back as given; everything else must be the tenant's.
            const asked = (body as { query?: string } | undefined)?.query;
            const text = asked === undefined ? res.text : res.text.replaceAll(JSON.stringify(asked), '""');
            for (const other of others)
              expect(text, `${tenant}/${key.role} ${method} ${path}`).not.toContain(other);
            if (asked?.endsWith("qzx") === true && res.status === 200) expect(res.body.hits).toEqual([]);
            expect(res.status, `${method} ${path}`).toBeLessThan(500);
            const mine = own.documents.get(collection);
            if (mine === undefined && path.startsWith(`/v1/collections/${collection}`)) {
              // A name only other tenants use: not found, never forbidden.
              expect(res.status, `${tenant} ${method} ${path}`).toBe(
                key.role === "scoped" && path.includes("/jobs") ? 403 : 404,
              );
            }
            if (mine !== undefined && res.status === 200) {
              const inScope = [...mine.values()].filter(
                (d) => key.role !== "scoped" || d.desk === "energy",
              ).length;
              if (path === `/v1/collections/${collection}`) {
                expect(res.body.documents).toBe(key.role === "scoped" ? null : mine.size);
              }
              if (path.endsWith("/documents?limit=1000")) expect(res.body.documents).toHaveLength(inScope);
              if (path.endsWith("/jobs")) {
                expect(res.body.jobs.map((j: { id: number }) => j.id)).toEqual(
                  Array.from({ length: own.jobs.get(collection)! }, (_, i) => own.jobs.get(collection)! - i),
                );
              }
              if (path.endsWith("/search")) {
                for (const hit of res.body.hits) {
                  expect(mine.has(hit.documentId)).toBe(true);
                  expect(hit.snippet.text + hit.title).toContain(marker(tenant));
                  if (key.role === "scoped") expect(hit.metadata.desk).toBe("energy");
                }
              }
              if (path.endsWith("/answer")) {
                for (const citation of [...res.body.citations, ...res.body.passages]) {
                  expect(mine.has(citation.documentId)).toBe(true);
                }
                if (key.role === "scoped") {
                  for (const p of res.body.passages) expect(mine.get(p.documentId)?.desk).toBe("energy");
                }
              }
            }
            if (path === "/v1/collections" && res.status === 200) {
              expect(res.body.collections.map((c: { name: string }) => c.name).sort()).toEqual(
                [...own.documents.keys()].sort(),
              );
              expect(res.body.collections.every((c: { tenant: string }) => c.tenant === tenant)).toBe(true);
            }
            if (path === "/v1/keys" && res.status === 200) {
              expect(res.body.keys.every((k: { tenant: string }) => k.tenant === tenant)).toBe(true);
            }
            if (path.startsWith("/v1/audit") && res.status === 200) {
              expect(res.body.events.length).toBeGreaterThan(0);
            }
          }
        }
      }
    }
    expect(calls).toBe(tenants.length * 4 * collectionNames.length * 13);
  });

  it("lets no key write to or delete from another tenant's collections", async () => {
    for (const tenant of tenants) {
      const owned = model.get(tenant)!.documents;
      for (const key of keys.get(tenant)!) {
        for (const collection of collectionNames.filter((name) => !owned.has(name))) {
          const writes: Array<[string, string, unknown?]> = [
            [
              "POST",
              `/v1/collections/${collection}/documents`,
              { documents: [{ id: "doc-0", text: "overwrite" }] },
            ],
            ["DELETE", `/v1/collections/${collection}/documents/doc-0`],
            ["DELETE", `/v1/collections/${collection}`],
          ];
          for (const [method, path, body] of writes) {
            const res = await t.call(method, path, body, key.headers);
            expect(res.status, `${tenant}/${key.role} ${method} ${path}`).toBe(
              key.role === "reader" || key.role === "scoped" ? 403 : 404,
            );
          }
        }
      }
    }
    for (const tenant of tenants) {
      const admin = keys.get(tenant)!.find((k) => k.role === "admin")!.headers;
      for (const [collection, documents] of model.get(tenant)!.documents) {
        const res = await t.call("GET", `/v1/collections/${collection}`, undefined, admin);
        expect(res.body.documents).toBe(documents.size);
      }
    }
  });

  it("shows each tenant chunk ids that no other tenant ever sees", async () => {
    const seen = new Map<string, Set<number>>();
    for (const tenant of tenants) {
      const admin = keys.get(tenant)!.find((k) => k.role === "admin")!.headers;
      const ids = new Set<number>();
      for (const collection of model.get(tenant)!.documents.keys()) {
        const res = await t.call(
          "POST",
          `/v1/collections/${collection}/search`,
          { query: words.join(" "), k: 200, mode: "bm25" },
          admin,
        );
        for (const hit of res.body.hits) ids.add(hit.chunkId);
      }
      seen.set(tenant, ids);
    }
    for (const a of tenants) {
      for (const b of tenants) {
        if (a === b) continue;
        expect([...seen.get(a)!].filter((id) => seen.get(b)!.has(id))).toEqual([]);
      }
    }
  });

  it("scores a tenant's search exactly as a service holding that tenant alone would", async () => {
    const tenant = tenants[0];
    const reference = await createTestApp({ auth: "required", embedder: bagOfWordsEmbedder().embedder });
    try {
      const refKey = (await reference.createKey(tenant, "admin")).bearer;
      const liveKey = keys.get(tenant)!.find((k) => k.role === "admin")!.headers;
      for (const [collection, documents] of model.get(tenant)!.documents) {
        const { body: page } = await t.call(
          "GET",
          `/v1/collections/${collection}/documents?limit=1000`,
          undefined,
          liveKey,
        );
        const full = await Promise.all(
          page.documents.map(
            async (d: { id: string }) =>
              (await t.call("GET", `/v1/collections/${collection}/documents/${d.id}`, undefined, liveKey))
                .body.document,
          ),
        );
        await reference.call("PUT", `/v1/collections/${collection}`, undefined, refKey);
        await reference.call(
          "POST",
          `/v1/collections/${collection}/documents`,
          { documents: full.map((d) => ({ id: d.id, title: d.title, text: d.text, metadata: d.metadata })) },
          refKey,
        );
        expect(documents.size).toBe(full.length);
        for (const query of [`${pick(words)} ${pick(words)}`, words.slice(0, 4).join(" ")]) {
          const live = await t.call(
            "POST",
            `/v1/collections/${collection}/search`,
            { query, mode: "bm25", k: 50 },
            liveKey,
          );
          const alone = await reference.call(
            "POST",
            `/v1/collections/${collection}/search`,
            { query, mode: "bm25", k: 50 },
            refKey,
          );
          const view = (hits: Array<{ documentId: string; score: number; snippet: { text: string } }>) =>
            hits.map((h) => ({ documentId: h.documentId, score: h.score, snippet: h.snippet.text }));
          expect(view(live.body.hits)).toEqual(view(alone.body.hits));
        }
      }
    } finally {
      await reference.close();
    }
  });
});
