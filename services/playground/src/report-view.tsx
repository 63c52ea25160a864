import { useEffect, useState } from "preact/hooks";
import { evalReportAvailable, evalReportUrl } from "./api";

/** The last `pnpm eval` run's HTML report, embedded, when the service serves one. */
export function ReportView() {
  const [available, setAvailable] = useState<boolean | null>(null);
  useEffect(() => {
    evalReportAvailable().then(setAvailable);
  }, []);
  if (available === null) return <p class="hint">looking for an evaluation report…</p>;
  if (!available) {
    return (
      <p class="notice">
        No evaluation report is served. Run{" "}
        <code>pnpm eval --dataset ../shared/datasets/scifact --split test --out eval-out/scifact</code> and
        restart the service.
      </p>
    );
  }
  return (
    <section class="report">
      <p class="hint">
        The last evaluation run (
        <a href={evalReportUrl} target="_blank" rel="noreferrer">
          open on its own
        </a>
        )
      </p>
      <iframe title="evaluation report" src={evalReportUrl} />
    </section>
  );
}
