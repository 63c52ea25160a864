/**
 * Batch-embedding throughput on SciFact, as the indexer embeds it: each document (title, blank line, text)
 * parsed and chunked by `@sift/text` with its default options, the chunks embedded in batches.
 *
 *   tsx indexer/src/bench-embed-passages.ts [--url URL --remote-model NAME] [--local] [--passages N]
 *        [--batch 64] [--threads N] [--dataset DIR] [--model-store DIR] [--manifest FILE] [--json FILE]
 *
 * `--url`: an OpenAI-compatible embeddings server (TEI, vLLM, or infra/gpu/embed_server.py on the GPU);
 * `--local`: the in-process ONNX model on the CPU (onnxruntime-node). Both may be given: they run one after
 * the other on the same chunks. Prints passages/s per backend and writes them to `--json`. Asserts nothing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, homedir, loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Embedder } from "@sift/core";
import { createOpenAICompatibleEmbedder, createTransformersEmbedder, loadModelProfiles } from "@sift/models";
import { chunkDocument, parseDocument } from "@sift/text";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "remote-model": { type: "string" },
    local: { type: "boolean", default: false },
    passages: { type: "string" },
    batch: { type: "string", default: "64" },
    threads: { type: "string" },
    dataset: { type: "string", default: "/work/shared/datasets/scifact" },
    "model-store": { type: "string", default: path.join(homedir(), ".cache", "sift", "models") },
    manifest: {
      type: "string",
      default: path.resolve(import.meta.dirname, "../../infra/models/manifest.json"),
    },
    json: { type: "string" },
  },
});
if (values.url === undefined && !values.local) throw new Error("give --url URL, --local, or both");
const batchSize = Number(values.batch);
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);

/** The SciFact corpus as the indexer chunks it (first `limit` chunks). */
function sciFactChunks(dataset: string, limit: number): string[] {
  const chunks: string[] = [];
  for (const line of readFileSync(path.join(dataset, "corpus.jsonl"), "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const document = JSON.parse(line) as { title: string; text: string };
    const parsed = parseDocument(`${document.title}\n\n${document.text}`, "text");
    for (const chunk of chunkDocument(parsed)) {
      chunks.push(chunk.text);
      if (chunks.length >= limit) return chunks;
    }
  }
  return chunks;
}

async function measure(name: string, embedder: Embedder, texts: string[]) {
  await embedder.embed({ texts: texts.slice(0, batchSize), kind: "passage" }); // warm-up, not measured
  const started = performance.now();
  for (let at = 0; at < texts.length; at += batchSize) {
    await embedder.embed({ texts: texts.slice(at, at + batchSize), kind: "passage" });
  }
  const seconds = (performance.now() - started) / 1000;
  const figures = { passages: texts.length, seconds, passagesPerSecond: texts.length / seconds, batchSize };
  console.log(
    `${name}: ${texts.length} passages in ${seconds.toFixed(2)} s = ${figures.passagesPerSecond.toFixed(1)} passages/s`,
  );
  return figures;
}

const texts = sciFactChunks(
  values.dataset,
  values.passages === undefined ? Number.POSITIVE_INFINITY : Number(values.passages),
);
const { profile } = (await loadModelProfiles(values.manifest)).resolveEmbeddingProfile();
console.log(
  `${texts.length} SciFact chunks, ${profile.id}, batch ${batchSize}; ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
);
const results: Record<string, unknown> = {};
if (values.url !== undefined) {
  const remote = createOpenAICompatibleEmbedder({
    profile,
    baseUrl: values.url,
    model: values["remote-model"] ?? profile.id,
    batchSize,
    timeoutMs: 120_000,
  });
  results.remote = { url: values.url, ...(await measure(`server ${values.url}`, remote, texts)) };
}
if (values.local) {
  const local = createTransformersEmbedder({
    profile,
    modelStore: values["model-store"],
    batchSize,
    threads,
    device: "cpu",
  });
  await local.load();
  results.localCpu = {
    threads,
    ...(await measure(`in-process ONNX on the CPU (${threads} threads)`, local, texts)),
  };
  await local.dispose();
}
const report = { model: profile.id, chunks: texts.length, loadAverageAfter: loadavg(), ...results };
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
