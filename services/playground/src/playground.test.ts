import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SiftClient } from "@sift/client";
import { bootstrapKey, type SiftProcess, startSiftProcess, withEmbeddingModel } from "@sift/client/testing";
import { haveChromium, launchChromium } from "@sift/eval/chromium-test-support";
import { renderHtml } from "@sift/eval/report-html";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlayground, playgroundRoot } from "./test-support";

const repositoryRoot = path.resolve(playgroundRoot, "../..");
/** Screenshots of each step, kept after the run (git-ignored) to be looked at. */
const artifacts = path.join(repositoryRoot, ".artifacts/playground");

/** A long Markdown document (several chunks) whose ninth section alone is about the aurora. */
function fieldNotes(): string {
  const topics = [
    "glacier",
    "volcano",
    "reef",
    "desert",
    "forest",
    "tundra",
    "river",
    "canyon",
    "aurora",
    "tide",
    "marsh",
    "savanna",
  ];
  return topics
    .map((topic) => {
      const lines = Array.from(
        { length: 6 },
        (_, week) =>
          `The ${topic} survey of week ${week + 1} logged ${40 + week * 7} readings, and the team compared them with the earlier ${topic} records before writing the summary.`,
      );
      if (topic === "aurora") {
        lines.splice(
          3,
          0,
          "The aurora glows when charged particles of the solar wind collide with oxygen far above the magnetosphere.",
        );
      }
      return `## The ${topic}\n\n${lines.join(" ")}`;
    })
    .join("\n\n");
}

describe.skipIf(!haveChromium("the playground browser test"))(
  "the playground, served by a real service with auth on, in headless Chromium",
  () => {
    let pageDir: string;
    let service: SiftProcess;
    let apiKey: string;
    let front: { url: string };
    let browser: Browser;
    let page: Page;
    let direct: SiftClient;
    const pageErrors: string[] = [];
    const external: string[] = [];
    const apiCalls: Array<{ url: string; authorization: string | null }> = [];

    beforeAll(async () => {
      pageDir = await mkdtemp(path.join(tmpdir(), "sift-playground-"));
      const size = await buildPlayground(pageDir);
      console.log(
        `playground build: ${size.bytes} bytes, ${size.gzipBytes} gzipped (${size.files
          .map((f) => `${f.file} ${f.bytes}/${f.gzipBytes}`)
          .join(", ")})`,
      );
      await mkdir(artifacts, { recursive: true });
      const baseline = path.join(repositoryRoot, "eval/baseline/scifact-test.json");
      const report = JSON.parse(await readFile(baseline, "utf8")) as Parameters<typeof renderHtml>[0];
      const reportFile = path.join(pageDir, "report.html");
      await writeFile(reportFile, renderHtml(report));
      // The service serves the built page at /, the reference page at /docs and this report; keys required.
      service = await startSiftProcess({
        SIFT_AUTH: "required",
        SIFT_PLAYGROUND_DIR: pageDir,
        SIFT_EVAL_REPORT: reportFile,
      });
      apiKey = await bootstrapKey(service);
      front = { url: service.url };
      direct = new SiftClient({ baseUrl: service.url, apiKey });
      await direct.ensureCollection("field-notes");
      const job = await direct.ingestDocuments("field-notes", [
        { id: "field-notes.md", title: "Field notes", text: `# Field notes\n\n${fieldNotes()}` },
      ]);
      expect(job.counts.chunks).toBeGreaterThan(2);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.route("**/*", (route) => {
        const request = route.request();
        if (!request.url().startsWith(front.url)) {
          external.push(request.url());
          return route.abort();
        }
        if (new URL(request.url()).pathname.startsWith("/v1/")) {
          apiCalls.push({ url: request.url(), authorization: request.headers().authorization ?? null });
        }
        return route.continue();
      });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await service?.stop();
      if (pageDir) await rm(pageDir, { recursive: true, force: true });
    });

    const shot = (name: string) =>
      page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
    const tab = (name: string) => page.getByRole("button", { name, exact: true }).click();

    it("asks for the API key when the service answers 401, keeps it for the session and sends it on every call", async () => {
      await page.goto(front.url);
      const dialog = page.getByRole("form", { name: "API key" });
      await dialog.waitFor();
      await expect(dialog.locator(".error").textContent()).resolves.toContain("unauthorized (401)");
      await shot("1-key");
      await dialog.locator('input[name="apiKey"]').fill(apiKey);
      await dialog.getByRole("button", { name: "Save" }).click();
      await page.locator('select[name="collection"] option[value="sample"]').waitFor({ state: "attached" });
      await page.reload();
      await page.locator('select[name="collection"] option[value="sample"]').waitFor({ state: "attached" });
      await expect(dialog.count()).resolves.toBe(0);
      await expect(page.locator('select[name="collection"]').inputValue()).resolves.toBe("sample");
    });

    it("searches, with each hit's per-leg chart and highlighted snippet", async () => {
      await page.locator('input[name="query"]').fill("reciprocal rank fusion");
      await page.getByRole("button", { name: "Search", exact: true }).last().click();
      const first = page.locator("li.hit").first();
      await first.waitFor();
      await expect(first.getAttribute("data-document-id")).resolves.toBe("hybrid-search.md");
      await expect(first.locator(".snippet mark").count()).resolves.toBeGreaterThan(0);
      const legs = withEmbeddingModel ? ["bm25", "dense"] : ["bm25"];
      const bars = first.locator("svg.leg-chart rect.bar");
      await expect(bars.evaluateAll((els) => els.map((e) => e.getAttribute("data-leg")))).resolves.toEqual(
        legs,
      );
      const widths = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("width"))));
      expect(widths.every((w) => w > 1)).toBe(true);
      await expect(first.locator(".score .hint").textContent()).resolves.toBe(
        withEmbeddingModel ? "fused:zscore" : "bm25",
      );
      await shot("2-search");

      if (withEmbeddingModel) {
        await page.locator('select[name="fusion"]').selectOption("minmax");
        await page.getByRole("button", { name: "Search", exact: true }).last().click();
        await page.locator("li.hit .score .hint", { hasText: "fused:minmax" }).first().waitFor();
      }
      // A filter no sample document matches: the builder's filter reaches the service, no hit comes back.
      await page.getByRole("button", { name: "+ filter" }).click();
      await page.locator('input[name="filter-field"]').fill("lang");
      await page.locator('input[name="filter-value"]').fill("xx");
      await page.getByRole("button", { name: "Search", exact: true }).last().click();
      await page.locator(".results .hint", { hasText: /^0 hits/ }).waitFor();
      await page.getByRole("button", { name: "remove" }).click();
    });

    it("streams an answer, its text arriving in parts, with citation links", async () => {
      await tab("Ask");
      await page.locator('input[name="question"]').fill("How does reciprocal rank fusion combine rankings?");
      const streamed = page.waitForResponse((r) => r.url().endsWith("/answer"));
      await page.getByRole("button", { name: "Ask", exact: true }).last().click();
      const response = await streamed;
      expect(response.headers()["content-type"]).toContain("text/event-stream");
      const answer = page.locator('.answer[data-phase="done"]');
      await answer.waitFor();
      await expect(answer.getAttribute("data-deltas").then(Number)).resolves.toBeGreaterThan(0);
      await expect(page.locator(".answer-text button.cite").count()).resolves.toBeGreaterThan(0);
      await shot("3-answer");
    });

    it("opens a citation: the document with exactly the cited characters highlighted, scrolled into view", async () => {
      await page.locator('select[name="collection"]').selectOption("field-notes");
      await page.locator('select[name="mode"]').selectOption("bm25");
      await page.locator('input[name="question"]').fill("Why does the aurora glow above the magnetosphere?");
      await page.getByRole("button", { name: "Ask", exact: true }).last().click();
      await page.locator('.answer[data-phase="done"]').waitFor();
      const link = page.locator(".answer-text button.cite").first();
      const documentId = (await link.getAttribute("data-document-id"))!;
      const charStart = Number(await link.getAttribute("data-char-start"));
      const charEnd = Number(await link.getAttribute("data-char-end"));
      await link.click();
      const mark = page.locator(".viewer mark.cited");
      await mark.waitFor();
      const document = await direct.getDocument("field-notes", documentId);
      // The cited chunk lies inside the document (neither its start nor its end), and is the aurora's.
      expect(charStart).toBeGreaterThan(0);
      expect(charEnd).toBeLessThan(document.text.length);
      const highlighted = await mark.textContent();
      expect(highlighted).toBe(document.text.slice(charStart, charEnd));
      expect(highlighted).toContain("The aurora glows");
      const view = await mark.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const pane = el.closest("pre")!;
        const paneBox = pane.getBoundingClientRect();
        return { inView: box.top < paneBox.bottom && box.bottom > paneBox.top, scrolled: pane.scrollTop };
      });
      expect(view.inView).toBe(true);
      expect(view.scrolled).toBeGreaterThan(0);
      await shot("4-citation");
      await page.getByRole("button", { name: "close" }).click();
      await page.locator('select[name="collection"]').selectOption("sample");
    });

    it("says plainly when there is not enough evidence", async () => {
      await page.locator('select[name="mode"]').selectOption("bm25");
      await page.locator('input[name="question"]').fill("qwzxv plorb");
      await page.getByRole("button", { name: "Ask", exact: true }).last().click();
      await page.locator('.answer[data-phase="done"] .no-evidence').waitFor();
      await shot("5-no-evidence");
    });

    it("ingests a dropped file and pasted JSONL, shows the job, and finds both in search", async () => {
      await tab("Ingest");
      await page.locator('input[name="files"]').setInputFiles({
        name: "zebra-notes.md",
        mimeType: "text/markdown",
        buffer: Buffer.from("# Zebra notes\n\nThe xylophonist zebra practises scales at dawn.\n"),
      });
      await page
        .locator('textarea[name="jsonl"]')
        .fill(
          '{"id": "quokka-1", "title": "Quokka", "text": "Quokkas smile on Rottnest Island.", "metadata": {"lang": "en"}}',
        );
      await page.getByRole("button", { name: "Ingest", exact: true }).last().click();
      const progress = page.locator('.progress[data-status="succeeded"]');
      await progress.waitFor();
      await expect(progress.locator('tr[data-job-status="succeeded"] td').nth(2).textContent()).resolves.toBe(
        "2",
      );
      await shot("6-ingest");

      await tab("Search");
      await page.locator('input[name="query"]').fill("xylophonist");
      await page.getByRole("button", { name: "Search", exact: true }).last().click();
      await page.locator('li.hit[data-document-id="zebra-notes.md"]').first().waitFor();
      await page.locator('input[name="query"]').fill("quokkas smile");
      await page.getByRole("button", { name: "Search", exact: true }).last().click();
      await page.locator('li.hit[data-document-id="quokka-1"]').first().waitFor();
      await shot("7-ingested-search");
    });

    it("embeds the evaluation report", async () => {
      await tab("Evaluation");
      const frame = page.frameLocator('iframe[title="evaluation report"]');
      await frame.locator('svg[data-chart="ndcg@10"]').waitFor();
      await shot("8-report");
    });

    it("says a user without a profile has no feed", async () => {
      await tab("Feed");
      await page.locator('input[name="user"]').fill("nobody");
      await page.getByRole("button", { name: "Load feed" }).click();
      await page.locator('[data-feed="no-profile"]').waitFor();
    });

    it("lists a user's feed with why each item is there, and sends feedback the profile learns from", async () => {
      await direct.putUser("ana", {
        savedQueries: [{ id: "aurora", text: "aurora solar wind" }],
        collections: ["field-notes"],
      });
      await page.locator('input[name="user"]').fill("ana");
      await page.getByRole("button", { name: "Load feed" }).click();
      const item = page.locator('li.feed-item[data-item-id="field-notes/field-notes.md"]');
      await item.locator(".why li").first().waitFor();
      await shot("9-feed");
      await item.getByRole("button", { name: "Save" }).click();
      await item.locator('[data-sent="save"]').waitFor();
      const learned = (await direct.getUser("ana")).learned;
      expect(learned.saved.map((s) => s.document)).toEqual([
        { collection: "field-notes", documentId: "field-notes.md" },
      ]);
    });

    it("shows the API reference at /docs, rendered from /openapi.json by the locally served Redoc", async () => {
      await page.goto(`${front.url}/docs`);
      await page.locator("h2", { hasText: "Search a collection (BM25, dense or hybrid)" }).waitFor();
      await expect(page.locator("h1").first().textContent()).resolves.toContain("Sift");
      await page.screenshot({ path: path.join(artifacts, "10-reference.png") }); // the first screen of a long page
    });

    it("made no request outside the page's origin, threw nothing, and sent the key on every API call after it was given", () => {
      expect(external).toEqual([]);
      expect(pageErrors).toEqual([]);
      const firstKeyed = apiCalls.findIndex((c) => c.authorization !== null);
      expect(firstKeyed).toBeGreaterThan(0);
      expect(apiCalls.slice(firstKeyed).every((c) => c.authorization === `Bearer ${apiKey}`)).toBe(true);
    });
  },
);
