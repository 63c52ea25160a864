import { describe, expect, it } from "vitest";
import { createProgress, formatBar } from "./progress";

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 200, write: (t: string) => out.push(t) } };
}

describe("progress display", () => {
  it("formats a bar with count, percentage, rate and ETA, cut to the terminal width", () => {
    const line = formatBar("bm25", 150, 300, 10_000, "p50 20 ms", 200);
    expect(line).toBe("bm25 [############------------] 150/300 50% 15.0/s ETA 10s p50 20 ms");
    expect(formatBar("bm25", 150, 300, 10_000, "", 20)).toHaveLength(19);
  });

  it("redraws one line in place on a terminal and keeps notes above the bar", () => {
    const { out, stream } = sink(true);
    let t = 0;
    const progress = createProgress(stream, () => t);
    const step = progress.step("dense", 10);
    t = 1000;
    step.update(5);
    progress.note("a log line");
    t = 2000;
    step.update(10);
    step.done("nDCG@10 0.65");
    const text = out.join("");
    expect(text).toContain("\r\x1b[2Kdense [############------------] 5/10 50% 5.0/s ETA 1s");
    expect(text).toContain("\r\x1b[2Ka log line\ndense [############");
    expect(text.endsWith("dense: nDCG@10 0.65 (2s)\n")).toBe(true);
  });

  it("writes plain lines (start, quarters, end) when not a terminal", () => {
    const { out, stream } = sink(false);
    const progress = createProgress(stream, () => 0);
    const step = progress.step("bm25", 8);
    for (let i = 1; i <= 8; i++) step.update(i);
    step.done("done");
    expect(out).toEqual(["bm25: 0/8\n", "bm25: 2/8\n", "bm25: 4/8\n", "bm25: 6/8\n", "bm25: done (0s)\n"]);
    expect(out.join("")).not.toContain("\r");
  });
});
