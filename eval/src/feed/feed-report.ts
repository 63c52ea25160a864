import { barChart, escapeHtml } from "../report-html";
import type { PolicyMetrics } from "./feed-metrics";
import type { WorldParameters } from "./feed-world";

/** `report.json` of `pnpm eval:feed` (the contract: `policies.<name>`, `latency_ms`, `dedup`). */
export interface FeedReport {
  schema: 1;
  kind: "feed-simulation";
  dataset: string;
  split: string;
  parameters: WorldParameters & { trainEveryHours: number };
  world: {
    analysts: number;
    documents: number;
    backlog: number;
    injectedCopies: number;
    hiddenQueries: number;
    hours: number;
  };
  policies: Record<string, PolicyMetrics>;
  latency_ms: { arrivalToFeed: { p50: number; p99: number; samples: number; policy: string } };
  dedup: { precision: number; recall: number; predictedPairs: number; truePairs: number };
  unavailable: Record<string, string>;
  embeddingModel: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
  createdAt: string;
  durationSeconds: number;
}

const headline = [
  "auc",
  "mrr",
  "ndcg@5",
  "ndcg@10",
  "ndcg@10FirstThird",
  "ndcg@10LastThird",
  "relevantShownWithinDay",
  "intraListDiversity",
] as const;

export function renderFeedMarkdown(report: FeedReport): string {
  const rows = Object.entries(report.policies).map(
    ([name, m]) =>
      `| ${name} | ${headline.map((h) => m[h].toFixed(4)).join(" | ")} | ${m.reads} | ${m.modelsTrained} |`,
  );
  const unavailable = Object.entries(report.unavailable).map(
    ([name, why]) => `- ${name}: not measured (${why})`,
  );
  return [
    `# Feed simulation: ${report.dataset} (${report.split})`,
    "",
    `${report.world.analysts} analysts, ${report.world.documents} documents (${report.world.backlog} backlog, ${report.world.injectedCopies} injected copies) over ${report.world.hours.toFixed(0)} h; seed ${report.parameters.seed}; embedding ${report.embeddingModel}; ${report.machine.cpus} × ${report.machine.cpuModel}, load ${report.machine.loadAverage.map((l) => l.toFixed(1)).join(" ")}; ${report.durationSeconds.toFixed(0)} s.`,
    "",
    `| policy | ${headline.join(" | ")} | reads | models |`,
    `|---|${headline.map(() => "---").join("|")}|---|---|`,
    ...rows,
    "",
    ...unavailable,
    "",
    `Arrival to feed (${report.latency_ms.arrivalToFeed.policy}, matching against every profile): p50 ${report.latency_ms.arrivalToFeed.p50.toFixed(2)} ms, p99 ${report.latency_ms.arrivalToFeed.p99.toFixed(2)} ms over ${report.latency_ms.arrivalToFeed.samples} arrivals.`,
    `Near-duplicates: precision ${report.dedup.precision.toFixed(4)}, recall ${report.dedup.recall.toFixed(4)} (${report.dedup.predictedPairs} predicted pairs, ${report.dedup.truePairs} true pairs).`,
    "",
  ].join("\n");
}

const curveColours = ["#888", "#c77c2e", "#2e8bc7", "#3b6ea5", "#5aa05a", "#1d3c5e", "#b03060", "#7a4fb0"];

/** The learning curves: nDCG@10 per tenth of the run, one line per policy. */
function curveChart(report: FeedReport): string {
  const [width, height, left, top] = [560, 240, 40, 10];
  const entries = Object.entries(report.policies);
  const max = Math.max(0.05, ...entries.flatMap(([, m]) => m.curve.filter((v): v is number => v !== null)));
  const x = (i: number) => left + (i + 0.5) * ((width - left - 10) / 10);
  const y = (v: number) => top + (1 - v / max) * (height - top - 30);
  const lines = entries
    .map(([name, m], i) => {
      const points = m.curve.flatMap((v, j) => (v === null ? [] : [`${x(j).toFixed(1)},${y(v).toFixed(1)}`]));
      const colour = curveColours[i % curveColours.length];
      return `<polyline class="curve" data-policy="${escapeHtml(name)}" fill="none" stroke="${colour}" stroke-width="2" points="${points.join(" ")}"><title>${escapeHtml(name)}</title></polyline>`;
    })
    .join("\n");
  const legend = entries
    .map(
      ([name], i) =>
        `<span style="color:${curveColours[i % curveColours.length]}">&#9632; ${escapeHtml(name)}</span>`,
    )
    .join(" ");
  return `<figure><figcaption>learning curve: nDCG@10 per tenth of the run</figcaption>
<svg data-chart="learning-curve" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="learning curves">
<line x1="${left}" x2="${width - 10}" y1="${y(0)}" y2="${y(0)}" stroke="#ccc"/><text x="${left - 4}" y="${y(max) + 4}" text-anchor="end">${max.toFixed(2)}</text><text x="${left - 4}" y="${y(0) + 4}" text-anchor="end">0</text>
${lines}
<text x="${width / 2}" y="${height - 6}" text-anchor="middle">time (tenths of the run)</text></svg><p>${legend}</p></figure>`;
}

export function renderFeedHtml(report: FeedReport): string {
  const names = Object.keys(report.policies);
  const charts = (["ndcg@10", "ndcg@10LastThird", "auc", "relevantShownWithinDay"] as const)
    .map((metric) =>
      barChart(
        metric,
        names.map((n) => ({ label: n, kind: "config" as const, value: report.policies[n]![metric] })),
      ),
    )
    .join("\n");
  const rows = Object.entries(report.policies)
    .map(
      ([name, m]) =>
        `<tr><td>${escapeHtml(name)}</td>${headline.map((h) => `<td>${m[h].toFixed(4)}</td>`).join("")}<td>${m.reads}</td><td>${m.modelsTrained}</td></tr>`,
    )
    .join("\n");
  const markdownHead = renderFeedMarkdown(report).split("\n")[2] ?? "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sift feed simulation: ${escapeHtml(report.dataset)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0}figcaption{font-weight:600}svg text{font:11px system-ui,sans-serif}.config{fill:#3b6ea5}</style></head><body>
<h1>Feed simulation: ${escapeHtml(report.dataset)} (${escapeHtml(report.split)})</h1>
<p>${escapeHtml(markdownHead)}</p>
<table id="policies"><thead><tr><th>policy</th>${headline.map((h) => `<th>${h}</th>`).join("")}<th>reads</th><th>models</th></tr></thead><tbody>${rows}</tbody></table>
<p>Arrival to feed: p50 ${report.latency_ms.arrivalToFeed.p50.toFixed(2)} ms, p99 ${report.latency_ms.arrivalToFeed.p99.toFixed(2)} ms. Near-duplicates: precision ${report.dedup.precision.toFixed(4)}, recall ${report.dedup.recall.toFixed(4)}.</p>
<div class="charts">${curveChart(report)}
${charts}</div>
</body></html>
`;
}
