import { percentile } from "../metrics";

export interface LatencyFigures {
  /** Client-side milliseconds over HTTP (request sent to body read). */
  p50: number;
  p99: number;
  qps: number;
  requests: number;
  /** Non-2xx answers and network errors; every one is also counted in `requests`. */
  errors: number;
  /** Responses that named a degraded leg. */
  degraded: number;
  /** The service's own `timings.totalMs` (search without HTTP), median. */
  serverP50: number;
}

export interface ClosedLoopOptions {
  url: string;
  /** Request bodies, sent in turn (request i gets bodies[i % length]). */
  bodies: readonly string[];
  concurrency: number;
  durationMs: number;
}

/** `concurrency` clients, each sending its next request when the last one answered, for `durationMs`. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LatencyFigures> {
  const latencies: number[] = [];
  const serverMs: number[] = [];
  let next = 0;
  let errors = 0;
  let degraded = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = options.bodies[next++ % options.bodies.length]!;
      const t0 = performance.now();
      try {
        const response = await fetch(options.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const text = await response.text();
        latencies.push(performance.now() - t0);
        if (!response.ok) {
          errors++;
          continue;
        }
        const parsed = JSON.parse(text) as { degraded: string[]; timings: { totalMs: number } };
        if (parsed.degraded.length > 0) degraded++;
        serverMs.push(parsed.timings.totalMs);
      } catch {
        latencies.push(performance.now() - t0);
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  return {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    qps: round(latencies.length / seconds),
    requests: latencies.length,
    errors,
    degraded,
    serverP50: round(percentile(serverMs, 50)),
  };
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
