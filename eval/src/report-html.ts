import { metricNames } from "./metrics";
import { type EvalReport, type LatencySummary, perQueryValues, winsAndLosses } from "./report";

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, no network. One bar chart per
 * metric across configurations and peers (`svg[data-chart=<metric>]`, one `rect.bar` per run), a latency
 * chart (three bars per run: p50, p95, p99), a wins/losses summary and a per-query table against the
 * baseline configuration (`table#per-query`, one body row per query).
 */
export function renderHtml(report: EvalReport): string {
  const runs = [
    ...Object.entries(report.configs).map(([name, r]) => ({ name, kind: "config" as const, result: r })),
    ...Object.entries(report.peers).map(([name, r]) => ({ name, kind: "peer" as const, result: r })),
  ];
  const charts = metricNames
    .map((metric) =>
      barChart(
        metric,
        runs.map((r) => ({ label: r.name, kind: r.kind, value: r.result[metric] })),
      ),
    )
    .join("\n");
  const latency = latencyChart(
    runs.map((r) => ({ label: r.name, kind: r.kind, latency: r.result.latency_ms })),
  );
  const others = Object.keys(report.perQuery.runs).filter((run) => run !== report.baseline);
  const base = perQueryValues(report, report.baseline, "ndcg@10");
  const columns = others.map((run) => ({ run, values: perQueryValues(report, run, "ndcg@10") }));
  const rows = report.perQuery.queries
    .map((query) => {
      const b = base.get(query.id);
      const cells = columns
        .map(({ values }) => {
          const v = values.get(query.id);
          if (v === undefined || b === undefined) return `<td class="na">–</td>`;
          const delta = v - b;
          const kind = delta > 1e-9 ? "win" : delta < -1e-9 ? "loss" : "tie";
          return `<td class="${kind}" title="${v.toFixed(4)}">${delta > 0 ? "+" : ""}${delta.toFixed(3)}</td>`;
        })
        .join("");
      return `<tr data-query="${escapeHtml(query.id)}"><td>${escapeHtml(query.id)}</td><td class="text">${escapeHtml(query.text)}</td><td>${b === undefined ? "–" : b.toFixed(3)}</td>${cells}</tr>`;
    })
    .join("\n");
  const wins = winsAndLosses(report)
    .map(
      (w) =>
        `<tr><td>${escapeHtml(w.run)}</td><td class="win">${w.wins}</td><td class="loss">${w.losses}</td><td>${w.ties}</td><td>${w.compared}</td></tr>`,
    )
    .join("\n");
  const summaryRows = runs
    .map(
      ({ name, kind, result }) =>
        `<tr class="${kind}"><td>${escapeHtml(name)}${kind === "peer" ? " <small>(peer)</small>" : ""}</td>${metricNames
          .map((m) => `<td>${result[m].toFixed(4)}</td>`)
          .join(
            "",
          )}<td>${result.latency_ms.p50.toFixed(1)}</td><td>${result.latency_ms.p95.toFixed(1)}</td><td>${result.latency_ms.p99.toFixed(1)}</td><td>${result.qps.toFixed(1)}</td><td>${result.queries}</td></tr>`,
    )
    .join("\n");
  const answers =
    report.answers === undefined
      ? ""
      : `<h2>Answers</h2><p>${escapeHtml(report.answers.subset)}; generator ${escapeHtml(report.answers.generator)}.</p>
<table id="answers"><thead><tr><th>questions</th><th>no-evidence rate</th><th>citations</th><th>citation validity</th><th>citation support</th><th>answers with a supported citation</th><th>answers without citations</th><th>removed by the verifier</th><th>p50 ms</th><th>p95 ms</th></tr></thead>
<tbody><tr><td>${report.answers.questions}</td><td>${percent(report.answers.noEvidenceRate)}</td><td>${report.answers.citations}</td><td>${percent(report.answers.citationValidity)}</td><td>${percent(report.answers.citationSupport)}</td><td>${percent(report.answers.answersSupported)}</td><td>${percent(report.answers.uncitedAnswers)}</td><td>${report.answers.removedCitations}</td><td>${report.answers.latency_ms.p50.toFixed(1)}</td><td>${report.answers.latency_ms.p95.toFixed(1)}</td></tr></tbody></table>`;
  const crossCheck =
    report.crossCheck === undefined
      ? ""
      : "skipped" in report.crossCheck
        ? `<p>Metric cross-check skipped: ${escapeHtml(report.crossCheck.skipped)}.</p>`
        : `<p>Metric cross-check: every run re-scored by ${escapeHtml(report.crossCheck.tool)}; largest difference ${report.crossCheck.maxAbsDiff.toExponential(2)} over ${report.crossCheck.compared} figures.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sift eval: ${escapeHtml(report.dataset)} (${escapeHtml(report.split)})</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td.text{text-align:left;max-width:32rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
td:first-child,th:first-child{text-align:left}.win{background:#d9f2d9}.loss{background:#f7d4d4}.na{color:#999}
tr.peer td:first-child{font-style:italic}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}svg text{font:11px system-ui,sans-serif}
.config{fill:#3b6ea5}.peer-bar{fill:#c77c2e}.p50{fill:#7fb3e0}.p95{fill:#3b6ea5}.p99{fill:#1d3c5e}
</style></head><body>
<h1>Sift eval: ${escapeHtml(report.dataset)} (${escapeHtml(report.split)}), ${report.queries} queries</h1>
<p>${escapeHtml(report.createdAt)}; k = ${report.settings.k}; embedding ${escapeHtml(report.settings.embeddingModel)}, reranker ${escapeHtml(report.settings.rerankModel)}, generator ${escapeHtml(report.settings.generator)};
${report.machine.cpus} × ${escapeHtml(report.machine.cpuModel)}, Node ${escapeHtml(report.machine.node)}, load average ${report.machine.loadAverage.map((l) => l.toFixed(1)).join(" ")}.
Configurations are measured through the HTTP API; peers (orange) in their own process.</p>
<table id="summary"><thead><tr><th>run</th>${metricNames.map((m) => `<th>${m}</th>`).join("")}<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>q/s</th><th>queries</th></tr></thead>
<tbody>${summaryRows}</tbody></table>
${inProcessTable(report)}
${Object.entries(report.unavailable ?? {})
  .map(
    ([name, reason]) =>
      `<p class="unavailable"><strong>${escapeHtml(name)}: not measured</strong>, the service refused it (${escapeHtml(reason)}).</p>`,
  )
  .join("\n")}
<div class="charts">
${charts}
${latency}
</div>
${crossCheck}
${answers}
<h2>Per query: nDCG@10 against <code>${escapeHtml(report.baseline)}</code></h2>
<table id="wins-losses"><thead><tr><th>run</th><th>wins</th><th>losses</th><th>ties</th><th>queries</th></tr></thead><tbody>${wins}</tbody></table>
<p>Each cell: the run's nDCG@10 minus the baseline's for that query (hover for the value).</p>
<table id="per-query"><thead><tr><th>query</th><th>text</th><th>${escapeHtml(report.baseline)}</th>${others.map((run) => `<th>${escapeHtml(run)}</th>`).join("")}</tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** `table#in-process`: one row per configuration measured in process, beside its HTTP p50. */
function inProcessTable(report: EvalReport): string {
  const rows = Object.entries(report.configs)
    .filter(([, r]) => r.inProcess !== undefined)
    .map(([name, r]) => {
      const p = r.inProcess!;
      return `<tr data-run="${escapeHtml(name)}"><td>${escapeHtml(name)}</td><td>${p.latency_ms.p50.toFixed(2)}</td><td>${p.latency_ms.p95.toFixed(2)}</td><td>${p.latency_ms.p99.toFixed(2)}</td><td>${p.qps.toFixed(1)}</td><td>${r.latency_ms.p50.toFixed(1)}</td><td>${p.identicalRankings} / ${p.queries}</td></tr>`;
    });
  if (rows.length === 0) return "";
  return `<h2>In process</h2><p>The Engine's searcher called directly on the same collection (no HTTP, no JSON), after the service stopped.</p>
<table id="in-process"><thead><tr><th>run</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>q/s</th><th>HTTP p50 ms</th><th>rankings identical to HTTP</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

const labelWidth = 170;
const plotWidth = 360;
const barHeight = 16;
const gap = 5;

/** One horizontal bar per run for a metric in [0, 1] (`svg[data-chart=<metric>]`, `rect.bar` per run). */
export function barChart(
  metric: string,
  bars: Array<{ label: string; kind: "config" | "peer"; value: number }>,
): string {
  const height = bars.length * (barHeight + gap) + 24;
  const items = bars
    .map((bar, i) => {
      const y = i * (barHeight + gap) + 4;
      const width = Math.max(0, Math.min(1, bar.value)) * plotWidth;
      return `<text x="${labelWidth - 6}" y="${y + barHeight - 4}" text-anchor="end">${escapeHtml(bar.label)}</text>
<rect class="bar ${bar.kind === "peer" ? "peer-bar" : "config"}" data-run="${escapeHtml(bar.label)}" data-value="${bar.value}" x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}"><title>${escapeHtml(bar.label)}: ${bar.value.toFixed(4)}</title></rect>
<text x="${labelWidth + width + 4}" y="${y + barHeight - 4}">${bar.value.toFixed(3)}</text>`;
    })
    .join("\n");
  const axisY = bars.length * (barHeight + gap) + 8;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<line x1="${labelWidth + t * plotWidth}" x2="${labelWidth + t * plotWidth}" y1="0" y2="${axisY}" stroke="#ddd"/><text x="${labelWidth + t * plotWidth}" y="${axisY + 12}" text-anchor="middle">${t}</text>`,
    )
    .join("");
  return `<figure><figcaption>${metric}</figcaption><svg data-chart="${metric}" xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 50}" height="${height}" role="img" aria-label="${metric} per run">${ticks}
${items}</svg></figure>`;
}

function latencyChart(
  bars: Array<{ label: string; kind: "config" | "peer"; latency: LatencySummary }>,
): string {
  const max = Math.max(1, ...bars.map((b) => (Number.isFinite(b.latency.p99) ? b.latency.p99 : 0)));
  const group = 3 * 7 + gap;
  const height = bars.length * group + 24;
  const items = bars
    .map((bar, i) => {
      const y = i * group + 4;
      const parts = (["p50", "p95", "p99"] as const)
        .map((p, j) => {
          const value = bar.latency[p];
          const width = Number.isFinite(value) ? (value / max) * plotWidth : 0;
          return `<rect class="bar ${p}" data-run="${escapeHtml(bar.label)}" data-percentile="${p}" data-value="${value}" x="${labelWidth}" y="${y + j * 7}" width="${width.toFixed(1)}" height="6"><title>${escapeHtml(bar.label)} ${p}: ${value.toFixed(1)} ms</title></rect>`;
        })
        .join("");
      return `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(bar.label)}${bar.kind === "peer" ? " (in process)" : ""}</text>${parts}<text x="${labelWidth + (bar.latency.p99 / max) * plotWidth + 4}" y="${y + 20}">${bar.latency.p99.toFixed(0)}</text>`;
    })
    .join("\n");
  return `<figure><figcaption>latency (ms): p50, p95, p99</figcaption><svg data-chart="latency" xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 50}" height="${height}" role="img" aria-label="latency per run">
${items}<text x="${labelWidth + plotWidth}" y="${height - 4}" text-anchor="end">max ${max.toFixed(0)} ms</text></svg></figure>`;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
