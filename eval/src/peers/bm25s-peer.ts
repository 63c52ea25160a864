import type { BeirQuery } from "../beir";
import { runPythonJson } from "../python";
import type { PeerRun } from "./minisearch-peer";

/**
 * bm25s 0.3.16 (PyPI) as the BEIR baselines run it: title + " " + text, English stop words, the Snowball
 * English stemmer (PyStemmer), Lucene BM25 (k1 1.5, b 0.75), one query at a time in a Python child
 * process; latency covers tokenizing and retrieving one query.
 */
export async function runBm25sPeer(
  python: string,
  datasetDir: string,
  queries: readonly BeirQuery[],
  k = 100,
): Promise<PeerRun> {
  const response = await runPythonJson<{
    version: string;
    indexSeconds: number;
    querySeconds: number;
    latenciesMs: number[];
    ranked: Record<string, string[]>;
  }>(python, "bm25s_peer.py", { corpus: datasetDir, k, queries: queries.map((q) => [q.id, q.text]) });
  return {
    name: "bm25s",
    description: `bm25s ${response.version} (PyPI), Lucene BM25, English stop words + Snowball stemmer, title+text, in a Python process`,
    indexSeconds: response.indexSeconds,
    latenciesMs: response.latenciesMs,
    querySeconds: response.querySeconds,
    ranked: new Map(Object.entries(response.ranked)),
  };
}
