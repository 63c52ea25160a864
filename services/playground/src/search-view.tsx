import type { FusionMethod, SearchHit, SearchMode, SearchRequest, SearchResponse } from "@sift/client";
import { useState } from "preact/hooks";
import type { ViewProps } from "./app";
import { buildFilter, type FilterOperator, type FilterRow } from "./filters";
import { Degraded, Segments } from "./parts";
import { highlightSegments } from "./text-segments";

const operators: FilterOperator[] = ["eq", "in", "gte", "gt", "lte", "lt"];
const emptyRow = (): FilterRow => ({ field: "", op: "eq", value: "", negate: false });

export function SearchView({ client, collection, open, fail }: ViewProps) {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<SearchMode | "">("");
  const [fusion, setFusion] = useState<FusionMethod>("zscore");
  const [k, setK] = useState(10);
  const [rows, setRows] = useState<FilterRow[]>([]);
  const [combine, setCombine] = useState<"all" | "any">("all");
  const [result, setResult] = useState<SearchResponse | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const search = async () => {
    const request: SearchRequest = { query, k };
    if (mode !== "") request.mode = mode;
    if (mode !== "bm25" && mode !== "dense") request.fusion = { method: fusion };
    const filter = buildFilter(rows, combine);
    if (filter !== undefined) request.filter = filter;
    setBusy(true);
    try {
      setResult(await client.search(collection, request));
      setProblem(null);
    } catch (error) {
      setProblem(fail(error));
    } finally {
      setBusy(false);
    }
  };
  const setRow = (index: number, change: Partial<FilterRow>) =>
    setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  return (
    <section>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <input
          name="query"
          class="wide"
          placeholder="Search…"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <label>
          mode
          <select
            name="mode"
            value={mode}
            onChange={(e) => setMode(e.currentTarget.value as SearchMode | "")}
          >
            <option value="">service default</option>
            <option value="hybrid">hybrid</option>
            <option value="bm25">bm25</option>
            <option value="dense">dense</option>
          </select>
        </label>
        <label>
          fusion
          <select
            name="fusion"
            value={fusion}
            disabled={mode === "bm25" || mode === "dense"}
            onChange={(e) => setFusion(e.currentTarget.value as FusionMethod)}
          >
            {["rrf", "minmax", "zscore", "dbsf"].map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          k
          <input
            name="k"
            type="number"
            min={1}
            max={200}
            value={k}
            onInput={(e) => setK(Number(e.currentTarget.value))}
          />
        </label>
        <button type="submit" disabled={busy || query.trim() === "" || collection === ""}>
          Search
        </button>
      </form>
      <div class="filters">
        {rows.map((row, i) => (
          <div class="filter-row" key={i}>
            <label class="inline">
              <input
                type="checkbox"
                checked={row.negate}
                onChange={(e) => setRow(i, { negate: e.currentTarget.checked })}
              />
              not
            </label>
            <input
              name="filter-field"
              placeholder="metadata field, e.g. year"
              value={row.field}
              onInput={(e) => setRow(i, { field: e.currentTarget.value })}
            />
            <select
              name="filter-op"
              value={row.op}
              onChange={(e) => setRow(i, { op: e.currentTarget.value as FilterOperator })}
            >
              {operators.map((op) => (
                <option key={op} value={op}>
                  {op}
                </option>
              ))}
            </select>
            <input
              name="filter-value"
              placeholder={row.op === "in" ? "a, b, c" : "value"}
              value={row.value}
              onInput={(e) => setRow(i, { value: e.currentTarget.value })}
            />
            <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label="remove">
              −
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows([...rows, emptyRow()])}>
          + filter
        </button>
        {rows.length > 1 && (
          <select value={combine} onChange={(e) => setCombine(e.currentTarget.value as "all" | "any")}>
            <option value="all">match all</option>
            <option value="any">match any</option>
          </select>
        )}
      </div>
      {problem && <p class="error">{problem}</p>}
      {result && <Results result={result} open={(hit) => open(targetOf(collection, hit))} />}
    </section>
  );
}

const targetOf = (collection: string, hit: SearchHit) => ({
  collection,
  documentId: hit.documentId,
  charStart: hit.charStart,
  charEnd: hit.charEnd,
  label: `chunk ${hit.chunkId}`,
});

function Results({ result, open }: { result: SearchResponse; open: (hit: SearchHit) => void }) {
  const fused = result.hits.some((h) => h.scoreKind.startsWith("fused:"));
  const scale = Math.max(...result.hits.map((h) => Math.max(h.score, 0)), 1e-12);
  return (
    <div class="results">
      <p class="hint">
        {result.hits.length} hits · mode {result.mode} · {result.timings.totalMs?.toFixed(1)} ms
      </p>
      <Degraded degraded={result.degraded} warnings={result.warnings} />
      <ol class="hits">
        {result.hits.map((hit) => (
          <li class="hit" key={hit.chunkId} data-document-id={hit.documentId}>
            <div class="hit-head">
              <button type="button" class="link" onClick={() => open(hit)}>
                {hit.title ?? hit.documentId}
              </button>
              <span class="hint">
                {[hit.documentId, ...(hit.headingPath.length > 0 ? [hit.headingPath.join(" › ")] : [])].join(
                  " · ",
                )}
              </span>
              <span class="score" title={hit.scoreKind}>
                {hit.score.toPrecision(4)} <span class="hint">{hit.scoreKind}</span>
              </span>
            </div>
            <p class="snippet">
              <Segments segments={highlightSegments(hit.snippet.text, hit.snippet.highlights)} />
            </p>
            <LegChart hit={hit} fused={fused} scale={scale} />
          </li>
        ))}
      </ol>
    </div>
  );
}

const legColors: Record<string, string> = { bm25: "#3b6fd8", dense: "#d8823b" };

/**
 * One bar per leg, on the response's score scale. Fused hits: each leg's contribution, the next starting
 * where the previous ends, so that the last bar ends at the hit's fused score; single-leg hits: the raw
 * score over the best in the response.
 */
function LegChart({ hit, fused, scale }: { hit: SearchHit; fused: boolean; scale: number }) {
  const legs = Object.entries(hit.legs);
  const width = 160;
  const row = 16;
  return (
    <div class="legs">
      <svg class="leg-chart" width={width} height={legs.length * row} role="img" aria-label="per-leg scores">
        {legs.map(([leg, score], i) => {
          const value = fused ? (score?.contribution ?? 0) : (score?.score ?? 0);
          const w = Math.max(1, (Math.max(value, 0) / scale) * width);
          const before = fused
            ? legs.slice(0, i).reduce((sum, [, s]) => sum + Math.max(s?.contribution ?? 0, 0), 0)
            : 0;
          return (
            <rect
              key={leg}
              class="bar"
              data-leg={leg}
              x={(before / scale) * width}
              y={i * row + 2}
              width={w}
              height={row - 4}
              fill={legColors[leg] ?? "#888"}
            />
          );
        })}
      </svg>
      <table class="leg-table">
        <tbody>
          {legs.map(([leg, score]) => (
            <tr key={leg}>
              <th style={{ color: legColors[leg] }}>{leg}</th>
              <td>#{score?.rank}</td>
              <td>raw {score?.score.toPrecision(4)}</td>
              {score?.normalized !== undefined && <td>norm {score.normalized.toPrecision(3)}</td>}
              {score?.contribution !== undefined && <td>+{score.contribution.toPrecision(3)}</td>}
            </tr>
          ))}
          {hit.rerank && (
            <tr>
              <th>rerank</th>
              <td>#{hit.rerank.rank}</td>
              <td>score {hit.rerank.score.toPrecision(4)}</td>
              <td>was #{hit.rerank.firstStageRank}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
