import {
  evaluateQuery,
  type MetricName,
  metricNames,
  type Qrels,
  type QueryMetrics,
  trecOrder,
} from "./metrics";
import { runPythonJson } from "./python";

/** A run as trec_eval sees it: per query, documents with scores (higher is better). */
export type ScoredRun = ReadonlyMap<string, ReadonlyArray<readonly [string, number]>>;

/**
 * A ranked list as scores that strictly decrease with rank (first document: n, last: 1), so trec_eval's
 * tie-breaking never reorders it. Repeated ids keep their first rank.
 */
export function rankedToScored(ranked: readonly string[]): Array<[string, number]> {
  const unique = [...new Set(ranked)];
  return unique.map((id, i) => [id, unique.length - i]);
}

/** A document given twice keeps its highest score, as in `trecOrder` (a JSON object keeps one entry). */
function bestScores(docs: ReadonlyArray<readonly [string, number]>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [id, score] of docs) if (!(id in best) || score > best[id]!) best[id] = score;
  return best;
}

/** Per run, per query: pytrec_eval's figures for our four metrics; queries with an empty run score 0. */
export async function pytrecEvalScores(
  python: string,
  qrels: ReadonlyMap<string, Qrels>,
  runs: ReadonlyMap<string, ScoredRun>,
): Promise<{ tool: string; runs: Map<string, Map<string, QueryMetrics>> }> {
  const request = {
    qrels: Object.fromEntries([...qrels].map(([q, judged]) => [q, Object.fromEntries(judged)])),
    runs: Object.fromEntries(
      [...runs].map(([name, run]) => [
        name,
        Object.fromEntries([...run].map(([q, docs]) => [q, bestScores(docs)])),
      ]),
    ),
  };
  const response = await runPythonJson<{ tool: string; runs: Record<string, Record<string, QueryMetrics>> }>(
    python,
    "trec_eval_runs.py",
    request,
  );
  const zero: QueryMetrics = { "ndcg@10": 0, "recall@100": 0, "mrr@10": 0, "map@100": 0 };
  const out = new Map<string, Map<string, QueryMetrics>>();
  for (const [name, run] of runs) {
    const scored = response.runs[name] ?? {};
    out.set(name, new Map([...run.keys()].map((q) => [q, scored[q] ?? zero])));
  }
  return { tool: response.tool, runs: out };
}

export interface TrecComparison {
  tool: string;
  /** Largest |ours − pytrec_eval| over every run, query and metric. */
  maxAbsDiff: number;
  compared: number;
  worst?: { run: string; query: string; metric: MetricName; ours: number; theirs: number };
}

/** Scores every run with our metrics (ranking scored runs by `trecOrder`) and with pytrec_eval; compares. */
export async function compareWithPytrecEval(
  python: string,
  qrels: ReadonlyMap<string, Qrels>,
  runs: ReadonlyMap<string, ScoredRun>,
): Promise<TrecComparison> {
  const theirs = await pytrecEvalScores(python, qrels, runs);
  const comparison: TrecComparison = { tool: theirs.tool, maxAbsDiff: 0, compared: 0 };
  for (const [name, run] of runs) {
    for (const [query, docs] of run) {
      const ours = evaluateQuery(trecOrder(docs), qrels.get(query) ?? new Map());
      const other = theirs.runs.get(name)?.get(query);
      if (other === undefined) throw new Error(`pytrec_eval returned nothing for ${name}/${query}`);
      for (const metric of metricNames) {
        comparison.compared++;
        const diff = Math.abs(ours[metric] - other[metric]);
        if (comparison.worst === undefined || diff > comparison.maxAbsDiff) {
          comparison.maxAbsDiff = diff;
          comparison.worst = { run: name, query, metric, ours: ours[metric], theirs: other[metric] };
        }
      }
    }
  }
  return comparison;
}
