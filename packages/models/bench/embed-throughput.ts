/**
 * In-process embedding throughput on SciFact passages, fp32 vs q8, batch sizes 16/32/64, plus a quality check
 * of q8 against fp32 (vector agreement and dense nDCG@10 over the same passages).
 *
 *   npx tsx packages/models/bench/embed-throughput.ts [--passages 1000] [--threads N]
 *
 * Reads SciFact from $SIFT_SCIFACT_DIR (default /work/shared/datasets/scifact) and models from
 * $SIFT_MODEL_STORE (default ~/.cache/sift/models). Prints figures; asserts nothing.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTransformersEmbedder, loadModelProfiles, type OnnxDtype } from "../src/index";

const { values } = parseArgs({
  options: { passages: { type: "string", default: "1000" }, threads: { type: "string" } },
});
const scifact = process.env.SIFT_SCIFACT_DIR ?? "/work/shared/datasets/scifact";
const modelStore = process.env.SIFT_MODEL_STORE ?? join(homedir(), ".cache", "sift", "models");
const limit = Number(values.passages);
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);

const readJsonl = <T>(file: string): T[] =>
  readFileSync(join(scifact, file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);

const corpus = readJsonl<{ _id: string; title: string; text: string }>("corpus.jsonl").slice(0, limit);
const passages = corpus.map((doc) => `${doc.title} ${doc.text}`);
const ids = new Set(corpus.map((doc) => doc._id));
const qrels = new Map<string, Set<string>>();
for (const line of readFileSync(join(scifact, "qrels/test.tsv"), "utf8").split("\n").slice(1)) {
  const [query, doc] = line.split("\t");
  if (query && doc && ids.has(doc)) qrels.set(query, (qrels.get(query) ?? new Set()).add(doc));
}
const queries = readJsonl<{ _id: string; text: string }>("queries.jsonl").filter((q) => qrels.has(q._id));

const manifest = fileURLToPath(new URL("../../../infra/models/manifest.json", import.meta.url));
const { profile } = (await loadModelProfiles(manifest)).resolveEmbeddingProfile();
console.log(
  `${profile.id}: ${passages.length} SciFact passages (title + text), ${queries.length} test queries with a ` +
    `relevant passage among them; ${threads} threads on ${cpus()[0]?.model ?? "?"}`,
);

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

function ndcgAt10(queryVectors: Float32Array[], passageVectors: Float32Array[]): number {
  let total = 0;
  queries.forEach((query, q) => {
    const relevant = qrels.get(query._id)!;
    const ranked = passageVectors
      .map((vector, p) => ({ id: corpus[p]!._id, score: dot(queryVectors[q]!, vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const dcg = ranked.reduce(
      (sum, hit, rank) => sum + (relevant.has(hit.id) ? 1 / Math.log2(rank + 2) : 0),
      0,
    );
    let ideal = 0;
    for (let rank = 0; rank < Math.min(relevant.size, 10); rank++) ideal += 1 / Math.log2(rank + 2);
    total += dcg / ideal;
  });
  return total / queries.length;
}

const vectors = new Map<OnnxDtype, { passages: Float32Array[]; queries: Float32Array[] }>();
console.log("dtype  batch  load_ms  seconds  passages/s");
for (const dtype of ["fp32", "q8"] as const) {
  for (const batchSize of [16, 32, 64]) {
    const embedder = createTransformersEmbedder({ profile, modelStore, dtype, batchSize, threads });
    const loadStarted = performance.now();
    await embedder.load();
    const loadMs = performance.now() - loadStarted;
    await embedder.embed({ texts: passages.slice(0, batchSize), kind: "passage" }); // warm-up
    const started = performance.now();
    const result = await embedder.embed({ texts: passages, kind: "passage" });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${dtype.padEnd(5)}  ${String(batchSize).padStart(5)}  ${loadMs.toFixed(0).padStart(7)}  ${seconds.toFixed(2).padStart(7)}  ${(passages.length / seconds).toFixed(1).padStart(10)}`,
    );
    if (batchSize === 32) {
      const texts = queries.map((q) => q.text);
      vectors.set(dtype, {
        passages: result.embeddings,
        queries: (await embedder.embed({ texts, kind: "query" })).embeddings,
      });
    }
    await embedder.dispose();
  }
}

const fp32 = vectors.get("fp32")!;
const q8 = vectors.get("q8")!;
const agreement = fp32.passages.map((vector, i) => dot(vector, q8.passages[i]!));
console.log(
  `q8 vs fp32 passage vectors: mean cosine ${(agreement.reduce((a, b) => a + b, 0) / agreement.length).toFixed(5)}, ` +
    `min ${Math.min(...agreement).toFixed(5)}`,
);
console.log(
  `dense nDCG@10 over these passages: fp32 ${ndcgAt10(fp32.queries, fp32.passages).toFixed(4)}, ` +
    `q8 ${ndcgAt10(q8.queries, q8.passages).toFixed(4)}`,
);
