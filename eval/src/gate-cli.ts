/**
 * `pnpm eval:gate [--report eval-out/report.json] [--thresholds eval/thresholds.json]
 *  [--baseline eval/baseline/scifact-test.json | --no-baseline]`
 *
 * Fails (exit 1) when a metric of the report is below its floor in the thresholds file, or dropped against
 * the committed baseline report by more than the thresholds' `baselineTolerance`. See docs/eval.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gateFiles } from "./gate";

const evalDir = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    report: { type: "string", default: "eval-out/report.json" },
    thresholds: { type: "string", default: path.join(evalDir, "thresholds.json") },
    baseline: { type: "string", default: path.join(evalDir, "baseline", "scifact-test.json") },
    "no-baseline": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: pnpm eval:gate [--report FILE] [--thresholds FILE] [--baseline FILE | --no-baseline]\n",
  );
  process.exit(0);
}
process.exitCode = await gateFiles({
  report: values.report,
  thresholds: values.thresholds,
  baseline: values["no-baseline"] ? undefined : values.baseline,
});
