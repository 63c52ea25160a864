"""bm25s as a BM25 peer for the eval harness.

stdin: {"corpus": "<BEIR dir>", "k": 100, "queries": [[qid, text], ...]}
stdout: {"version", "indexSeconds", "querySeconds", "latenciesMs": [...], "ranked": {qid: [docid, ...]}}

Corpus text is title + " " + text (as the BEIR and bm25s baselines do), English stop words, Snowball
English stemmer, Lucene BM25 with k1 1.5 and b 0.75 (bm25s defaults). Queries run one at a time so each
latency is one query's tokenize + retrieve.
"""

import json
import os
import sys
import time
from importlib.metadata import version

import bm25s
import Stemmer


def main():
    request = json.load(sys.stdin)
    ids, texts = [], []
    with open(os.path.join(request["corpus"], "corpus.jsonl"), encoding="utf-8") as corpus:
        for line in corpus:
            if not line.strip():
                continue
            doc = json.loads(line)
            ids.append(str(doc["_id"]))
            texts.append(f"{doc.get('title') or ''} {doc.get('text') or ''}")
    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    index_seconds = time.perf_counter() - started
    k = min(int(request["k"]), len(ids))
    ranked, latencies = {}, []
    started = time.perf_counter()
    for qid, text in request["queries"]:
        t0 = time.perf_counter()
        tokens = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        latencies.append((time.perf_counter() - t0) * 1000)
        # bm25s returns k documents even when fewer match; keep the ones with a positive score.
        ranked[qid] = [ids[d] for d, s in zip(docs[0].tolist(), scores[0].tolist()) if s > 0]
    json.dump(
        {
            "version": version("bm25s"),
            "indexSeconds": index_seconds,
            "querySeconds": time.perf_counter() - started,
            "latenciesMs": latencies,
            "ranked": ranked,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
