import type { IngestionJob, JobCounts } from "@sift/core";
import { createJsonLogger, emptyJobCounts } from "@sift/core";
import type { IngestionProgress } from "@sift/ingest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createProgressReporter, formatDuration, formatProgressLine, formatSummary } from "./progress";

const snapshot = (done: number, elapsedMs: number, extra: Partial<JobCounts> = {}): IngestionProgress => ({
  jobId: 7,
  collectionId: 1,
  phase: "ingesting",
  counts: { ...emptyJobCounts(), documentsSeen: done, created: done, chunks: done * 2, ...extra },
  batches: Math.ceil(done / 100),
  elapsedMs,
});

const job = (counts: Partial<JobCounts>, totalMs: number): IngestionJob => ({
  id: 7,
  number: 7,
  collectionId: 1,
  kind: "ingest",
  source: "/data",
  status: "succeeded",
  counts: { ...emptyJobCounts(), ...counts },
  errors: [],
  timings: { totalMs },
  startedAt: new Date(0),
  updatedAt: new Date(totalMs),
  finishedAt: new Date(totalMs),
});

afterEach(() => {
  vi.useRealTimers();
});

describe("formatting", () => {
  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(61_400)).toBe("1:01");
    expect(formatDuration(3_725_000)).toBe("1:02:05");
  });

  it("draws a bar with done/total, chunks, rate and ETA, fitted to the terminal width", () => {
    const line = formatProgressLine(snapshot(1000, 4000), 3000, 100);
    expect(line).toBe(
      "[##########--------------------]  33%  1,000/3,000 docs  2,000 chunks  250 docs/s  ETA 0:08",
    );
    expect(formatProgressLine(snapshot(1000, 4000), 3000, 40).length).toBeLessThan(40);
    expect(formatProgressLine(snapshot(1000, 4000), undefined, 100)).toBe(
      "1,000 docs  2,000 chunks  250 docs/s",
    );
  });

  it("summarises a job: every count, chunks, elapsed and rate", () => {
    const text = formatSummary(
      job(
        {
          documentsSeen: 1200,
          created: 1000,
          updated: 100,
          unchanged: 50,
          deleted: 3,
          skipped: 40,
          failed: 10,
          chunks: 4321,
        },
        2500,
      ),
      "heading",
    );
    expect(text).toBe(
      [
        "heading",
        "  created         1,000",
        "  updated           100",
        "  unchanged          50",
        "  deleted             3",
        "  skipped            40",
        "  failed             10",
        "  chunks          4,321",
        "  elapsed         2.5 s",
        "  rate       480 docs/s",
      ].join("\n"),
    );
  });
});

describe("reporter", () => {
  it("on a terminal redraws one line at most every 100 ms, then clears it", () => {
    vi.useFakeTimers();
    let clock = 0;
    const writes: string[] = [];
    const reporter = createProgressReporter({
      stream: { write: (t: string) => writes.push(t), columns: 120 },
      isTTY: true,
      logger: createJsonLogger("info", () => {
        throw new Error("no JSON on a terminal");
      }),
      now: () => clock,
    });
    reporter.start({ jobLabel: "x", total: 1000 });
    reporter.update(snapshot(100, 1000));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.startsWith("\r\x1b[2K[")).toBe(true);
    expect(writes[0]).toContain("100/1,000 docs");
    clock = 50;
    reporter.update(snapshot(200, 1050));
    reporter.update(snapshot(300, 1060));
    expect(writes).toHaveLength(1); // throttled
    clock = 100;
    vi.advanceTimersByTime(60);
    expect(writes).toHaveLength(2); // the latest state, drawn once the interval passed
    expect(writes[1]).toContain("300/1,000 docs");
    reporter.finish(job({ documentsSeen: 1000 }, 2000));
    expect(writes.at(-1)).toBe("\r\x1b[2K");
  });

  it("elsewhere logs a JSON line at most every interval and a final line", () => {
    let clock = 0;
    const lines: string[] = [];
    const reporter = createProgressReporter({
      stream: { write: () => expect.fail("no bar when not a terminal") },
      isTTY: false,
      logger: createJsonLogger("info", (l) => lines.push(l)),
      intervalMs: 2000,
      now: () => clock,
    });
    reporter.start({ jobLabel: "default/docs", total: 500 });
    reporter.update(snapshot(100, 500));
    clock = 1000;
    reporter.update(snapshot(200, 1000));
    clock = 2100;
    reporter.update(snapshot(300, 2100));
    reporter.finish(job({ documentsSeen: 500, created: 500, chunks: 900 }, 3000));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    expect(parsed.map((p) => [p.msg, p.done ?? p.documentsSeen])).toEqual([
      ["ingest progress", 100],
      ["ingest progress", 300],
      ["ingest finished", 500],
    ]);
    expect(parsed[0]).toMatchObject({
      level: "info",
      job: "default/docs",
      jobId: 7,
      total: 500,
      chunks: 200,
    });
    expect(typeof parsed[0]?.ts).toBe("string");
    expect(parsed[2]).toMatchObject({
      status: "succeeded",
      chunks: 900,
      elapsedMs: 3000,
      docsPerSecond: 166.7,
    });
  });
});
