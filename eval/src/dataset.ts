import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

/** Streams a BEIR corpus.jsonl ({"_id", "title"?, "text"} per line). */
export async function* readBeirCorpus(datasetDir: string): AsyncGenerator<BeirDocument> {
  const lines = createInterface({ input: createReadStream(path.join(datasetDir, "corpus.jsonl")) });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const raw = JSON.parse(line) as { _id?: unknown; title?: unknown; text?: unknown };
    if (typeof raw._id !== "string" && typeof raw._id !== "number") {
      throw new Error(`corpus.jsonl line ${lineNumber}: no _id`);
    }
    yield {
      id: String(raw._id),
      title: typeof raw.title === "string" ? raw.title : "",
      text: typeof raw.text === "string" ? raw.text : "",
    };
  }
}

/** First 12 hex digits of sha256(corpus.jsonl): names the persistent eval data dir of a corpus. */
export async function corpusFingerprint(datasetDir: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path.join(datasetDir, "corpus.jsonl"))) hash.update(chunk);
  return hash.digest("hex").slice(0, 12);
}
