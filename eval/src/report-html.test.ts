import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { haveChromium, launchChromium } from "./chromium-test-support";
import { metricNames } from "./metrics";
import { winsAndLosses } from "./report";
import { renderHtml } from "./report-html";
import { fixtureReport } from "./report-test-support";

describe.skipIf(!haveChromium("the HTML report browser test"))("report.html in headless Chromium", () => {
  it("renders a chart per metric with one bar per run, the latency chart and the per-query table, offline", {
    timeout: 120_000,
  }, async () => {
    const report = fixtureReport();
    const dir = await mkdtemp(path.join(tmpdir(), "sift-report-"));
    const file = path.join(dir, "report.html");
    await writeFile(file, renderHtml(report));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        external.push(url);
        return route.abort();
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      const runs = Object.keys(report.configs).length + Object.keys(report.peers).length;
      for (const metric of metricNames) {
        const chart = page.locator(`svg[data-chart="${metric}"]`);
        await expect(chart.count()).resolves.toBe(1);
        const bars = chart.locator("rect.bar");
        await expect(bars.count()).resolves.toBe(runs);
        // Bars are drawn to scale: width = value × plot width, so the best run has the widest bar.
        const widths = await bars.evaluateAll((els) =>
          els.map((e) => (e as unknown as { getBBox(): { width: number } }).getBBox().width),
        );
        const values = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
        expect(widths.every((w) => w > 0)).toBe(true);
        expect(widths.indexOf(Math.max(...widths))).toBe(values.indexOf(Math.max(...values)));
      }
      await expect(page.locator('svg[data-chart="latency"] rect.bar').count()).resolves.toBe(3 * runs);
      const rendered = await page.locator('svg[data-chart="ndcg@10"]').boundingBox();
      expect(rendered?.width ?? 0).toBeGreaterThan(300);
      expect(rendered?.height ?? 0).toBeGreaterThan(runs * 16);

      await expect(page.locator("table#per-query tbody tr").count()).resolves.toBe(report.queries);
      const otherRuns = Object.keys(report.perQuery.runs).length - 1;
      await expect(page.locator("table#per-query thead th").count()).resolves.toBe(3 + otherRuns);
      const tally = winsAndLosses(report).find((w) => w.run === "hybrid+rerank")!;
      const rerankColumn =
        3 +
        Object.keys(report.perQuery.runs)
          .filter((r) => r !== "bm25")
          .indexOf("hybrid+rerank");
      const cellClasses = await page
        .locator(`table#per-query tbody tr td:nth-child(${rerankColumn + 1})`)
        .evaluateAll((els) => els.map((e) => e.className));
      expect(cellClasses.filter((c) => c === "win")).toHaveLength(tally.wins);
      expect(cellClasses.filter((c) => c === "loss")).toHaveLength(tally.losses);
      expect(tally.wins).toBeGreaterThan(0);
      await expect(page.locator("table#wins-losses tbody tr").count()).resolves.toBe(otherRuns);
      // Escaped text stays text.
      await expect(
        page.locator("table#per-query tbody tr").first().locator("td.text").textContent(),
      ).resolves.toBe('question <0> about "things" & more');
      await expect(page.locator("table#answers").count()).resolves.toBe(1);
      // In-process figures: one row per configuration that has them (bm25 and hybrid in the fixture).
      const inProcessRows = page.locator("table#in-process tbody tr");
      await expect(
        inProcessRows.evaluateAll((els) => els.map((e) => e.getAttribute("data-run"))),
      ).resolves.toEqual(["bm25", "hybrid"]);
      await expect(
        inProcessRows
          .nth(1)
          .locator("td")
          .evaluateAll((els) => els.map((e) => e.textContent)),
      ).resolves.toEqual([
        "hybrid",
        "4.00",
        "8.00",
        "12.00",
        "250.0",
        "35.0",
        `${report.queries - 1} / ${report.queries}`,
      ]);
      expect(external).toEqual([]);
      expect(errors).toEqual([]);
      await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
