import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";

export interface BeirQuery {
  id: string;
  text: string;
}

/** Reads a BEIR dataset's queries and qrels for one split; only queries with judgements are returned. */
export async function loadBeirQueries(
  datasetDir: string,
  split: string,
): Promise<{ queries: BeirQuery[]; qrels: Map<string, Map<string, number>> }> {
  const qrels = new Map<string, Map<string, number>>();
  const tsv = await readFile(path.join(datasetDir, "qrels", `${split}.tsv`), "utf8");
  for (const [i, line] of tsv.split("\n").entries()) {
    if (line.trim() === "" || (i === 0 && line.startsWith("query-id"))) continue;
    const [queryId, corpusId, score] = line.split("\t");
    if (queryId === undefined || corpusId === undefined || score === undefined) {
      throw new Error(`qrels/${split}.tsv line ${i + 1}: expected three tab-separated fields`);
    }
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(corpusId, Number(score));
    qrels.set(queryId, judged);
  }
  const queries: BeirQuery[] = [];
  const lines = createInterface({ input: createReadStream(path.join(datasetDir, "queries.jsonl")) });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const q = JSON.parse(line) as { _id: string; text: string };
    if (qrels.has(q._id)) queries.push({ id: q._id, text: q.text });
  }
  return { queries, qrels };
}
