/**
 * The harness's progress display: on a terminal, a bar redrawn in place (`\r` + clear line) per step;
 * elsewhere (CI logs, pipes) plain lines: the step's start, every 25 %, and its end.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface ProgressStep {
  /** Sets the completed count (monotonic) and an optional short detail. */
  update(done: number, detail?: string): void;
  /** Ends the step with a summary line. */
  done(summary: string): void;
}

export interface Progress {
  /** A line of text (a heading or a log line), printed above any bar. */
  note(text: string): void;
  step(label: string, total: number): ProgressStep;
}

export function formatBar(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
  detail: string,
  columns: number,
): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const width = 24;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const eta = rate > 0 && total > done ? `ETA ${formatSeconds((total - done) / rate)}` : "";
  const line = `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${Math.floor(
    fraction * 100,
  )}% ${rate.toFixed(1)}/s ${eta} ${detail}`.trimEnd();
  return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function createProgress(
  stream: ProgressStream,
  now: () => number = () => performance.now(),
): Progress {
  const tty = stream.isTTY === true;
  let barLine: string | undefined;
  const clear = () => {
    if (tty && barLine !== undefined) stream.write("\r\x1b[2K");
  };
  return {
    note(text) {
      clear();
      stream.write(`${text}\n`);
      if (tty && barLine !== undefined) stream.write(barLine);
    },
    step(label, total) {
      const started = now();
      let lastDrawn = -Infinity;
      let lastQuarter = 0;
      if (!tty) stream.write(`${label}: 0/${total}\n`);
      return {
        update(done, detail = "") {
          if (tty) {
            const t = now();
            if (t - lastDrawn < 100 && done < total) return;
            lastDrawn = t;
            barLine = formatBar(label, done, total, t - started, detail, stream.columns ?? 100);
            stream.write(`\r\x1b[2K${barLine}`);
          } else {
            const quarter = total <= 0 ? 4 : Math.floor((4 * done) / total);
            if (quarter > lastQuarter && quarter < 4) {
              lastQuarter = quarter;
              stream.write(`${label}: ${done}/${total} ${detail}`.trimEnd().concat("\n"));
            }
          }
        },
        done(summary) {
          clear();
          barLine = undefined;
          stream.write(`${label}: ${summary} (${formatSeconds((now() - started) / 1000)})\n`);
        },
      };
    },
  };
}
