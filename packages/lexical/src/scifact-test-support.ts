/**
 * BEIR SciFact for the lexical tests and benches: the corpus chunked exactly as ingestion chunks a BEIR
 * source (JSONL `_id`/`title`/`text`, an empty title is none, format `text`, `parseDocument` then
 * `chunkDocument` with the default options, the fields of `chunkToBm25Document`), chunk ids numbered
 * 1, 2, … in corpus and chunk order (as a fresh store would), and the test queries with their judgements.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChunkRecord } from "@sift/core";
import { chunkDocument, parseDocument } from "@sift/text";

export const scifactDirectory = fileURLToPath(
  new URL("../../../../shared/datasets/scifact", import.meta.url),
);

export function scifactPresent(directory = scifactDirectory): boolean {
  return existsSync(path.join(directory, "corpus.jsonl"));
}

function jsonl<T>(file: string): T[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as T);
}

export interface Scifact {
  chunks: ChunkRecord[];
  /** Test queries with at least one judgement, in file order. */
  queries: Array<{ id: string; text: string }>;
  /** Query id → relevant document (external) ids. */
  qrels: Map<string, Set<string>>;
}

export function loadScifact(directory = scifactDirectory): Scifact {
  const corpus = jsonl<{ _id: string | number; title?: string | null; text: string }>(
    path.join(directory, "corpus.jsonl"),
  );
  const chunks: ChunkRecord[] = [];
  corpus.forEach((row, index) => {
    const parsed = parseDocument(row.text, "text");
    const title = row.title?.trim() === "" ? undefined : (row.title ?? undefined);
    for (const chunk of chunkDocument(parsed)) {
      chunks.push({
        ...chunk,
        id: chunks.length + 1,
        documentId: index + 1,
        collectionId: 1,
        externalId: String(row._id),
        title: title ?? parsed.title ?? null,
        metadata: {},
      });
    }
  });
  const qrels = new Map<string, Set<string>>();
  for (const line of readFileSync(path.join(directory, "qrels", "test.tsv"), "utf8")
    .split("\n")
    .slice(1)) {
    const [queryId, corpusId, score] = line.trim().split("\t");
    if (queryId === undefined || corpusId === undefined || !(Number(score) > 0)) continue;
    const relevant = qrels.get(queryId) ?? new Set<string>();
    relevant.add(corpusId);
    qrels.set(queryId, relevant);
  }
  const queries = jsonl<{ _id: string | number; text: string }>(path.join(directory, "queries.jsonl"))
    .map((query) => ({ id: String(query._id), text: query.text }))
    .filter((query) => qrels.has(query.id));
  return { chunks, queries, qrels };
}

/** nDCG@k with binary relevance over documents ranked at their best chunk. */
export function ndcgAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, rank) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(rank + 2);
  });
  let ideal = 0;
  for (let rank = 0; rank < Math.min(k, relevant.size); rank += 1) ideal += 1 / Math.log2(rank + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Document ids in order of first appearance. */
export function dedupe(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
