"""Scores runs with pytrec_eval (trec_eval's own C code) for the eval harness and its agreement test.

stdin: {"qrels": {qid: {docid: grade}}, "runs": {name: {qid: {docid: score}}}}
stdout: {"tool": "pytrec_eval-terrier <version>", "runs": {name: {qid: {"ndcg@10", "recall@100", "mrr@10",
"map@100"}}}}

ndcg@10 = ndcg_cut.10, recall@100 = recall.100, map@100 = map_cut.100, all on the whole run; mrr@10 =
recip_rank on the run cut to its first 10 documents in trec_eval's order (score descending, ties by docid
descending). pytrec_eval leaves out a query whose run is empty; the caller scores those as 0 (trec_eval -c).
"""

import json
import sys
from importlib.metadata import version

import pytrec_eval


def trec_order(run):
    # trec_eval sorts by score descending, then strcmp(docid) descending.
    return sorted(run.items(), key=lambda item: (-item[1], _Desc(item[0].encode())))


class _Desc:
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return self.key > other.key

    def __eq__(self, other):
        return self.key == other.key


def main():
    request = json.load(sys.stdin)
    qrels = {q: {d: int(g) for d, g in docs.items()} for q, docs in request["qrels"].items()}
    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map_cut.100"})
    cut = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})
    out = {}
    for name, run in request["runs"].items():
        run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if docs}
        top10 = {q: dict(trec_order(docs)[:10]) for q, docs in run.items()}
        a = full.evaluate(run)
        b = cut.evaluate(top10)
        out[name] = {
            q: {
                "ndcg@10": a[q]["ndcg_cut_10"],
                "recall@100": a[q]["recall_100"],
                "mrr@10": b[q]["recip_rank"],
                "map@100": a[q]["map_cut_100"],
            }
            for q in a
        }
    json.dump({"tool": f"pytrec_eval-terrier {version('pytrec-eval-terrier')}", "runs": out}, sys.stdout)


if __name__ == "__main__":
    main()
