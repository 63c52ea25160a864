import type { IngestionJob, JobCounts, Logger } from "@sift/core";
import type { IngestionProgress } from "@sift/ingest";

/**
 * Shows an ingestion's progress: a one-line bar on a terminal, JSON log lines elsewhere. Written here
 * rather than taken from a progress-bar package: it is one line of text redrawn with `\r` and a
 * clear-line escape, and the non-terminal half has to be our JSON log format anyway.
 */
export interface ProgressReporter {
  /** `total`: the number of source items when known (for the percentage and the ETA). */
  start(info: { jobLabel: string; total?: number | undefined }): void;
  update(progress: IngestionProgress): void;
  /** Clears the bar (terminal) or logs the final line (JSON); idempotent. */
  finish(job?: IngestionJob): void;
  /**
   * Writes other output (a log line) without mangling the bar: on a terminal the bar is cleared, the
   * text written, and the bar drawn again below it.
   */
  interject(text: string): void;
}

export interface ProgressOptions {
  /** Where the bar is drawn (a terminal). */
  stream: { write(text: string): unknown; columns?: number | undefined };
  isTTY: boolean;
  /** Where JSON lines go when not a terminal. */
  logger: Logger;
  /** Minimum time between two JSON progress lines. Default 2000. */
  intervalMs?: number | undefined;
  /** Minimum time between two redraws of the bar. Default 100 (10 per second). */
  redrawMs?: number | undefined;
  now?: (() => number) | undefined;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
export const formatInteger = (value: number): string => integer.format(value);

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Source items per second (0 before any time has passed). */
export const itemsPerSecond = (counts: JobCounts, elapsedMs: number): number =>
  elapsedMs <= 0 ? 0 : counts.documentsSeen / (elapsedMs / 1000);

/** Remaining milliseconds at the current rate, when the total is known and something has been done. */
export function etaMs(done: number, total: number | undefined, elapsedMs: number): number | undefined {
  if (total === undefined || done <= 0 || elapsedMs <= 0) return undefined;
  return Math.max(0, total - done) * (elapsedMs / done);
}

/** The bar's text, fitted to `columns`. */
export function formatProgressLine(
  progress: IngestionProgress,
  total: number | undefined,
  columns = 80,
): string {
  const { counts, elapsedMs } = progress;
  const done = counts.documentsSeen;
  const rate = itemsPerSecond(counts, elapsedMs);
  const eta = etaMs(done, total, elapsedMs);
  const parts = [
    total === undefined
      ? `${formatInteger(done)} docs`
      : `${formatInteger(done)}/${formatInteger(total)} docs`,
    `${formatInteger(counts.chunks)} chunks`,
    `${formatInteger(rate)} docs/s`,
  ];
  if (progress.phase === "pruning") parts.push("pruning");
  else if (progress.phase === "syncing") parts.push("updating the lexical index");
  else if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  const text = parts.join("  ");
  if (total === undefined || total <= 0) return text.slice(0, columns - 1);
  const fraction = Math.min(1, done / total);
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const barWidth = Math.max(0, Math.min(30, columns - 1 - text.length - percent.length - 4));
  if (barWidth < 5) return `${percent}  ${text}`.slice(0, columns - 1);
  const filled = Math.round(fraction * barWidth);
  return `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${percent}  ${text}`.slice(0, columns - 1);
}

/** The end-of-run block: one count per line, then chunks, elapsed time and rate. */
export function formatSummary(job: IngestionJob, heading: string): string {
  const elapsedMs =
    job.timings.totalMs ?? (job.finishedAt ?? job.updatedAt).getTime() - job.startedAt.getTime();
  const rows: [string, string][] = [
    ["created", formatInteger(job.counts.created)],
    ["updated", formatInteger(job.counts.updated)],
    ["unchanged", formatInteger(job.counts.unchanged)],
    ["deleted", formatInteger(job.counts.deleted)],
    ["skipped", formatInteger(job.counts.skipped)],
    ["failed", formatInteger(job.counts.failed)],
    ["chunks", formatInteger(job.counts.chunks)],
    ["elapsed", `${(elapsedMs / 1000).toFixed(1)} s`],
    ["rate", `${formatInteger(itemsPerSecond(job.counts, elapsedMs))} docs/s`],
  ];
  const width = Math.max(...rows.map(([, value]) => value.length));
  return [heading, ...rows.map(([label, value]) => `  ${label.padEnd(10)} ${value.padStart(width)}`)].join(
    "\n",
  );
}

export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 2000;
  const redrawMs = options.redrawMs ?? 100;
  let total: number | undefined;
  let jobLabel = "";
  let latest: IngestionProgress | undefined;
  let lastOutput = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let drawn = false;
  let finished = false;

  const clearLine = "\r\x1b[2K";
  // A pseudo-terminal without a size reports 0 columns.
  const columns = () => ((options.stream.columns ?? 0) > 0 ? options.stream.columns! : 80);
  let lastLine = "";
  const draw = (force = false) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (latest === undefined || finished) return;
    const line = formatProgressLine(latest, total, columns());
    if (line === lastLine && !force) return;
    lastOutput = now();
    lastLine = line;
    options.stream.write(`${clearLine}${line}`);
    drawn = true;
  };
  const log = (progress: IngestionProgress) => {
    lastOutput = now();
    const rate = itemsPerSecond(progress.counts, progress.elapsedMs);
    const eta = etaMs(progress.counts.documentsSeen, total, progress.elapsedMs);
    options.logger.info("ingest progress", {
      job: jobLabel,
      jobId: progress.jobId,
      phase: progress.phase,
      done: progress.counts.documentsSeen,
      total,
      ...progress.counts,
      batches: progress.batches,
      elapsedMs: Math.round(progress.elapsedMs),
      docsPerSecond: Math.round(rate * 10) / 10,
      etaMs: eta === undefined ? undefined : Math.round(eta),
    });
  };

  return {
    start(info) {
      total = info.total;
      jobLabel = info.jobLabel;
    },
    update(progress) {
      if (finished) return;
      latest = progress;
      if (progress.phase === "finished") return;
      const due = now() - lastOutput >= (options.isTTY ? redrawMs : intervalMs);
      if (!options.isTTY) {
        if (due) log(progress);
        return;
      }
      if (due) draw();
      else if (timer === undefined) {
        // Draw the latest state once the redraw interval has passed, so the bar never lags behind.
        timer = setTimeout(draw, Math.max(0, redrawMs - (now() - lastOutput)));
        timer.unref();
      }
    },
    interject(text) {
      if (!options.isTTY || !drawn || finished) {
        options.stream.write(text);
        return;
      }
      options.stream.write(`${clearLine}${text}`);
      draw(true);
    },
    finish(job) {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      if (options.isTTY) {
        if (drawn) options.stream.write(clearLine);
        return;
      }
      if (job !== undefined) {
        const elapsedMs = job.timings.totalMs ?? 0;
        options.logger.info("ingest finished", {
          job: jobLabel,
          jobId: job.id,
          status: job.status,
          ...job.counts,
          elapsedMs: Math.round(elapsedMs),
          docsPerSecond: Math.round(itemsPerSecond(job.counts, elapsedMs) * 10) / 10,
        });
      }
    },
  };
}

/** Progress of a counted step other than reading the source (embedding chunks): a bar or JSON lines. */
export interface StepProgress {
  update(done: number, total: number): void;
  /** Clears the bar (terminal) or logs the final line; idempotent. */
  finish(): void;
}

export function createStepProgress(
  options: Pick<ProgressOptions, "stream" | "isTTY" | "logger" | "intervalMs" | "now"> & { label: string },
): StepProgress {
  const now = options.now ?? (() => performance.now());
  const started = now();
  let last = Number.NEGATIVE_INFINITY;
  let latest: { done: number; total: number } | undefined;
  let finished = false;
  const line = ({ done, total }: { done: number; total: number }) => {
    const elapsed = now() - started;
    const rate = elapsed > 0 ? done / (elapsed / 1000) : 0;
    const eta = etaMs(done, total, elapsed);
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    return `${options.label} ${formatInteger(done)}/${formatInteger(total)} (${percent}%) ${rate.toFixed(1)}/s${eta === undefined ? "" : ` ETA ${formatDuration(eta)}`}`;
  };
  return {
    update(done, total) {
      latest = { done, total };
      const t = now();
      if (options.isTTY) {
        if (t - last < 100 && done < total) return;
        last = t;
        const columns = options.stream.columns ?? 80;
        options.stream.write(`\r\u001b[2K${line(latest).slice(0, Math.max(10, columns - 1))}`);
        return;
      }
      if (t - last < (options.intervalMs ?? 2000) && done < total) return;
      last = t;
      const elapsed = t - started;
      options.logger.info("progress", {
        step: options.label,
        done,
        total,
        perSecond: elapsed > 0 ? Math.round((done / (elapsed / 1000)) * 10) / 10 : 0,
      });
    },
    finish() {
      if (finished) return;
      finished = true;
      if (options.isTTY && latest !== undefined) options.stream.write(`\r\u001b[2K${line(latest)}\n`);
    },
  };
}
