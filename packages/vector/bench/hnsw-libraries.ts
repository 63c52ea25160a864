/**
 * HNSW library benchmark for Sift's dense vector index: `usearch` vs `hnswlib-node`.
 *
 * Kept in @sift/vector as the record behind ADR "usearch for the embedded HNSW index"; outside `src/`, so
 * the repo's tsconfig does not type-check it. @sift/vector depends on usearch only: to rerun the comparison,
 * add `hnswlib-node` (native build) in a scratch copy, or pass `--libs usearch`
 * (`pnpm --filter @sift/vector bench:hnsw -- --libs usearch --sizes 5000`).
 *
 * Usage (from the package that depends on both libraries):
 *
 *   npx tsx bench/hnsw-libraries.ts                          # N = 5,000 and 100,000, 1,000 queries, 1 run
 *   npx tsx bench/hnsw-libraries.ts --sizes 5000             # quick check (~1 min on 2 cores)
 *   npx tsx bench/hnsw-libraries.ts --out run1.json          # also keep the raw figures as JSON
 *   npx tsx bench/hnsw-libraries.ts --merge run1.json run2.json   # medians over several invocations
 *
 * Options: --sizes a,b  --queries Q  --runs R  --dim D  --clusters C  --seed S  --libs usearch,hnswlib
 *          --efs 32,64,128,256  --out FILE  --no-features  --one-thread-build-max N (default 5000)
 *
 * One invocation with the defaults takes about 10 minutes on a 2-core machine (the 100k builds dominate).
 * Timings are reported both as wall clock and as process CPU time: on a shared machine the CPU figures
 * are the more stable ones, the wall-clock ones are what a user would see.
 *
 * What it measures (384-d float32, inner product on L2-normalised vectors == cosine):
 *   - build time with M=16, efConstruction=200 (usearch: batch `add` on all cores, and pinned to one
 *     thread for N <= 5,000; hnswlib-node: `addPoint` one vector at a time, it has no batch API) as wall
 *     clock and CPU seconds, RSS growth, file size, save / load (and usearch's mmap `view`) times;
 *   - for each ef_search: recall@10 against exact brute-force top-10, sequential single-thread
 *     queries/s and p50/p99 latency (one query per call, as a request handler would do it);
 *   - filtered top-10 (keep ids with id % 10 === 0, 10 % of the corpus) against exact filtered top-10;
 *   - a feature matrix of the operations Sift needs (delete, upsert, filter, persistence, resize,
 *     threading, 64-bit ids), each checked by actually running it.
 *
 * Design:
 *   - The parent process generates a seeded, embedding-like data set (a mixture of Gaussian clusters
 *     with a shared offset and a decaying per-dimension spectrum, L2-normalised) and writes it to a temp
 *     dir; the exact ground truth is computed once per N by one child process per core.
 *   - Every (run, library, N) is measured in a fresh child process (forked with --expose-gc) so that
 *     RSS figures and allocator state of one library never leak into the other's numbers.
 *   - Medians over runs (--runs, or several --out files passed to --merge) are printed.
 */
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { seededRandom } from "@sift/core";

type HnswlibModule = typeof import("hnswlib-node");
type LibName = "usearch" | "hnswlib";

const K = 10; // top-k for recall@k
const M = 16; // HNSW connectivity (hnswlib "M", usearch "connectivity")
const EF_CONSTRUCTION = 200;
const WARMUP_QUERIES = 50;
const FILTER_MODULUS = 10; // filtered search keeps ids with id % 10 === 0
const USEARCH_FILTER_OVERSAMPLE = 200; // usearch has no predicate search in JS: fetch k=200, post-filter
const FILTER_EF = 256;

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

interface Options {
  sizes: number[];
  queries: number;
  runs: number;
  dim: number;
  clusters: number;
  seed: number;
  libs: LibName[];
  efs: number[];
  out?: string;
  features: boolean;
  oneThreadBuildMax: number;
}

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    sizes: [5_000, 100_000],
    queries: 1_000,
    runs: 1,
    dim: 384,
    clusters: 200,
    seed: 42,
    libs: ["usearch", "hnswlib"],
    efs: [32, 64, 128, 256],
    features: true,
    oneThreadBuildMax: 5_000,
  };
  const nums = (s: string) => s.split(",").map((x) => Number(x.replace(/_/g, "")));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${arg}`);
      return v;
    };
    switch (arg) {
      case "--sizes":
        opts.sizes = nums(next());
        break;
      case "--queries":
        opts.queries = Number(next());
        break;
      case "--runs":
        opts.runs = Number(next());
        break;
      case "--dim":
        opts.dim = Number(next());
        break;
      case "--clusters":
        opts.clusters = Number(next());
        break;
      case "--seed":
        opts.seed = Number(next());
        break;
      case "--libs":
        opts.libs = next().split(",") as LibName[];
        break;
      case "--efs":
        opts.efs = nums(next());
        break;
      case "--out":
        opts.out = next();
        break;
      case "--no-features":
        opts.features = false;
        break;
      case "--one-thread-build-max":
        opts.oneThreadBuildMax = Number(next());
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Seeded data that looks like sentence embeddings rather than uniform noise
// ---------------------------------------------------------------------------------------------

/** Standard normal sampler (Box–Muller, caching the second value). */
function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function normaliseInPlace(v: Float32Array, offset: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[offset + j] * v[offset + j];
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) v[offset + j] *= inv;
}

/**
 * A mixture of Gaussian "topics". Real embedding sets differ from uniform noise in three ways this
 * model reproduces: (1) they are clustered by topic, with uneven cluster sizes; (2) all vectors share
 * a common offset (anisotropy: random pairs have a small positive cosine, not 0); (3) the variance
 * within a topic is concentrated in a minority of directions (a decaying spectrum), so the intrinsic
 * dimension is far below 384.
 */
class EmbeddingMixture {
  private readonly centres: Float32Array;
  private readonly spread: Float64Array; // per-cluster noise scale
  private readonly cumWeights: Float64Array;
  private readonly scale: Float64Array; // per-dimension noise scale (decaying spectrum)
  private readonly offset: Float32Array; // shared direction
  private readonly rand: () => number;
  private readonly randn: () => number;

  constructor(
    readonly dim: number,
    readonly clusters: number,
    seed: number,
    { offsetWeight = 0.35, noise = 0.06, spectrumPower = 1.2, spectrumKnee = 8 } = {},
  ) {
    this.rand = seededRandom(seed);
    this.randn = gaussian(this.rand);

    // Decaying spectrum s_j^2 ∝ (1 + j/knee)^-power, normalised to mean 1 so `noise` is per-dim RMS.
    this.scale = new Float64Array(dim);
    let ms = 0;
    for (let j = 0; j < dim; j++) {
      this.scale[j] = (1 + j / spectrumKnee) ** (-spectrumPower / 2);
      ms += this.scale[j] ** 2;
    }
    ms /= dim;
    for (let j = 0; j < dim; j++) this.scale[j] /= Math.sqrt(ms);
    // Spread the decaying spectrum over random coordinates, so no axis is special.
    for (let j = dim - 1; j > 0; j--) {
      const r = Math.floor(this.rand() * (j + 1));
      [this.scale[j], this.scale[r]] = [this.scale[r], this.scale[j]];
    }

    this.offset = new Float32Array(dim);
    for (let j = 0; j < dim; j++) this.offset[j] = this.randn();
    normaliseInPlace(this.offset, 0, dim);
    for (let j = 0; j < dim; j++) this.offset[j] *= offsetWeight;

    this.centres = new Float32Array(clusters * dim);
    this.spread = new Float64Array(clusters);
    const weights = new Float64Array(clusters);
    for (let c = 0; c < clusters; c++) {
      for (let j = 0; j < dim; j++) this.centres[c * dim + j] = this.randn();
      normaliseInPlace(this.centres, c * dim, dim);
      this.spread[c] = noise * (0.7 + 0.6 * this.rand()); // some topics are tighter than others
      weights[c] = 1 / (c + 1) ** 0.6; // Zipf-like topic sizes
    }
    this.cumWeights = new Float64Array(clusters);
    let acc = 0;
    for (let c = 0; c < clusters; c++) this.cumWeights[c] = acc += weights[c];
    for (let c = 0; c < clusters; c++) this.cumWeights[c] /= acc;
  }

  /** Draws `count` L2-normalised vectors into a new flat Float32Array (row-major). */
  sample(count: number): Float32Array {
    const { dim } = this;
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const u = this.rand();
      let lo = 0;
      let hi = this.clusters - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.cumWeights[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      const c = lo;
      const base = i * dim;
      const sd = this.spread[c];
      for (let j = 0; j < dim; j++) {
        out[base + j] = this.offset[j] + this.centres[c * dim + j] + sd * this.scale[j] * this.randn();
      }
      normaliseInPlace(out, base, dim);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Exact ground truth
// ---------------------------------------------------------------------------------------------

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < dim; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** Inserts (score, id) into a descending top-k list if it qualifies. */
function pushTopK(scores: Float64Array, ids: Int32Array, score: number, id: number): void {
  const k = scores.length;
  if (score <= scores[k - 1]) return;
  let p = k - 1;
  while (p > 0 && scores[p - 1] < score) {
    scores[p] = scores[p - 1];
    ids[p] = ids[p - 1];
    p--;
  }
  scores[p] = score;
  ids[p] = id;
}

interface GroundTruth {
  ids: Int32Array; // nq × K exact top-K by inner product
  filteredIds: Int32Array; // nq × K exact top-K among ids with id % FILTER_MODULUS === 0
  stats: { top1Cos: number; top10Cos: number; randomPairCos: number };
}

interface GroundTruthSlice {
  ids: Int32Array;
  filteredIds: Int32Array;
  top1Sum: number; // sum over queries of the cosine to the 1st / 10th exact neighbour
  top10Sum: number;
}

/** Brute-force exact top-K for queries [q0, q1) (plain Float32Array dot products). */
function exactTopKSlice(
  data: Float32Array,
  queries: Float32Array,
  dim: number,
  q0: number,
  q1: number,
): GroundTruthSlice {
  const n = data.length / dim;
  const ids = new Int32Array((q1 - q0) * K);
  const filteredIds = new Int32Array((q1 - q0) * K);
  const scores = new Float64Array(K);
  const fScores = new Float64Array(K);
  const top = new Int32Array(K);
  const fTop = new Int32Array(K);
  let top1Sum = 0;
  let top10Sum = 0;
  for (let q = q0; q < q1; q++) {
    scores.fill(-Infinity);
    fScores.fill(-Infinity);
    const qo = q * dim;
    for (let i = 0; i < n; i++) {
      const s = dot(queries, qo, data, i * dim, dim);
      pushTopK(scores, top, s, i);
      if (i % FILTER_MODULUS === 0) pushTopK(fScores, fTop, s, i);
    }
    ids.set(top, (q - q0) * K);
    filteredIds.set(fTop, (q - q0) * K);
    top1Sum += scores[0];
    top10Sum += scores[K - 1];
  }
  return { ids, filteredIds, top1Sum, top10Sum };
}

/** Mean cosine of random data pairs (how "anisotropic" the data set is). */
function randomPairCos(data: Float32Array, dim: number, pairs = 2_000): number {
  const n = data.length / dim;
  const rand = seededRandom(7);
  let sum = 0;
  for (let p = 0; p < pairs; p++)
    sum += dot(data, Math.floor(rand() * n) * dim, data, Math.floor(rand() * n) * dim, dim);
  return sum / pairs;
}

interface GtTask {
  dir: string;
  n: number;
  dim: number;
  q0: number;
  q1: number;
}

/** Child side of the parallel ground truth: computes one slice and writes it next to the data. */
function gtChildMain(task: GtTask): void {
  const data = readF32(join(task.dir, `data-${task.n}.f32`));
  const queries = readF32(join(task.dir, `queries-${task.n}.f32`));
  const slice = exactTopKSlice(data, queries, task.dim, task.q0, task.q1);
  writeFileSync(join(task.dir, `gt-${task.n}-${task.q0}.i32`), new Uint8Array(slice.ids.buffer));
  writeFileSync(join(task.dir, `gtf-${task.n}-${task.q0}.i32`), new Uint8Array(slice.filteredIds.buffer));
  process.send!({ top1Sum: slice.top1Sum, top10Sum: slice.top10Sum });
}

/** Exact top-K for all queries, split over one child process per core (data/queries already on disk). */
async function exactTopK(dir: string, data: Float32Array, nq: number, dim: number): Promise<GroundTruth> {
  const n = data.length / dim;
  const workers = Math.max(1, Math.min(cpus().length, nq));
  const chunk = Math.ceil(nq / workers);
  const tasks: GtTask[] = [];
  for (let q0 = 0; q0 < nq; q0 += chunk) tasks.push({ dir, n, dim, q0, q1: Math.min(nq, q0 + chunk) });
  const sums = await Promise.all(
    tasks.map(async (task) => {
      const res = await runChild<{ top1Sum: number; top10Sum: number }>(["--gt", JSON.stringify(task)]);
      if (!res.msg) throw new Error(`ground-truth child failed (code ${res.code}):\n${res.stderr}`);
      return res.msg;
    }),
  );
  const ids = new Int32Array(nq * K);
  const filteredIds = new Int32Array(nq * K);
  for (const task of tasks) {
    ids.set(readI32(join(dir, `gt-${n}-${task.q0}.i32`)), task.q0 * K);
    filteredIds.set(readI32(join(dir, `gtf-${n}-${task.q0}.i32`)), task.q0 * K);
  }
  const top1 = sums.reduce((a, s) => a + s.top1Sum, 0);
  const top10 = sums.reduce((a, s) => a + s.top10Sum, 0);
  return {
    ids,
    filteredIds,
    stats: { top1Cos: top1 / nq, top10Cos: top10 / nq, randomPairCos: randomPairCos(data, dim) },
  };
}

function recallAtK(found: ArrayLike<number>, truth: Int32Array, q: number): number {
  let hits = 0;
  const t = truth.subarray(q * K, q * K + K);
  for (let i = 0; i < Math.min(found.length, K); i++) if (t.includes(found[i])) hits++;
  return hits / K;
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------------

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
};
const rssMB = (): number => process.memoryUsage.rss() / 2 ** 20;
const now = (): number => performance.now();
/** Process CPU time (user + system, all threads) in ms. Robust against other load on the machine. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface SearchFigures {
  ef: number;
  recall: number;
  qps: number; // wall clock: queries / elapsed seconds
  p50us: number; // wall-clock latency percentiles
  p99us: number;
  cpuQps: number; // queries / CPU seconds (insensitive to other processes competing for cores)
  cpuP50us: number;
  cpuP99us: number;
  gcMs: number; // V8 GC pause time during the timed loop
  involuntaryCtx: number; // times the process was preempted during the loop (machine contention)
}

/**
 * Runs every query sequentially, one per call, timing each call. `search` returns the result ids
 * as numbers; recall is computed after the timed loop so it never counts against the library.
 * GC pauses and preemptions during the loop are recorded to explain wall-clock vs CPU differences.
 */
async function timeQueries(
  nq: number,
  search: (q: number) => ArrayLike<number>,
  truth: Int32Array,
  ef: number,
): Promise<SearchFigures> {
  for (let q = 0; q < Math.min(WARMUP_QUERIES, nq); q++) search(q);
  await new Promise((r) => setTimeout(r, 20)); // let warm-up GC entries drain before observing
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  const ru0 = process.resourceUsage();
  const lat = new Array<number>(nq);
  const cpu = new Array<number>(nq);
  const results = new Array<ArrayLike<number>>(nq);
  const t0 = now();
  for (let q = 0; q < nq; q++) {
    const c = cpuMs();
    const s = now();
    results[q] = search(q);
    lat[q] = now() - s;
    cpu[q] = cpuMs() - c;
  }
  const total = now() - t0;
  const involuntaryCtx = process.resourceUsage().involuntaryContextSwitches - ru0.involuntaryContextSwitches;
  await new Promise((r) => setTimeout(r, 20)); // GC entries are delivered asynchronously
  gcObserver.disconnect();
  let recall = 0;
  for (let q = 0; q < nq; q++) recall += recallAtK(results[q], truth, q);
  const cpuTotal = cpu.reduce((a, b) => a + b, 0);
  lat.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    ef,
    recall: recall / nq,
    qps: nq / (total / 1000),
    p50us: percentile(lat, 50) * 1000,
    p99us: percentile(lat, 99) * 1000,
    cpuQps: nq / (cpuTotal / 1000),
    cpuP50us: percentile(cpu, 50) * 1000,
    cpuP99us: percentile(cpu, 99) * 1000,
    gcMs,
    involuntaryCtx,
  };
}

interface LibFigures {
  lib: LibName;
  version: string;
  n: number;
  buildThreads: number; // threads the build used (usearch: batch add on all cores; hnswlib: 1, no choice)
  buildS: number; // wall clock of that build
  buildCpuS: number; // CPU seconds of that build, summed over threads (= single-thread cost)
  buildOneThreadS: number | null; // usearch batch add with threads=1 (only for N <= --one-thread-build-max)
  buildConversionS: number | null; // share of buildS spent converting Float32Array -> number[]
  rssBuildMB: number;
  fileMB: number;
  saveMs: number;
  loadMs: number;
  rssLoadMB: number;
  viewMs: number | null; // memory-mapped open, null if unsupported
  search: SearchFigures[];
  filtered: SearchFigures & { method: string };
  loadAvg: number[]; // 1/5/15-minute load averages when the child finished
  features?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// usearch
// ---------------------------------------------------------------------------------------------

async function benchUsearch(
  data: Float32Array,
  queries: Float32Array,
  gt: GroundTruth,
  dim: number,
  efs: number[],
  dir: string,
  oneThreadBuildMax: number,
): Promise<LibFigures> {
  const { Index, MetricKind, ScalarKind } = await import("usearch");
  const n = data.length / dim;
  const nq = queries.length / dim;
  const make = (efSearch: number) =>
    new Index({
      dimensions: dim,
      metric: MetricKind.IP,
      quantization: ScalarKind.F32,
      connectivity: M,
      expansion_add: EF_CONSTRUCTION,
      expansion_search: efSearch,
      multi: false,
    });
  const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const path = join(dir, `usearch-${n}.usearch`);

  // Build with the batch API on all cores, as Sift would (re)build an index. Its CPU seconds are the
  // single-thread-equivalent cost, comparable with hnswlib-node's single-threaded build.
  const threads = cpus().length;
  gc();
  const rss0 = rssMB();
  let t = now();
  const c = cpuMs();
  const index = make(64);
  index.add(keys, data, threads);
  const buildS = (now() - t) / 1000;
  const buildCpuS = (cpuMs() - c) / 1000;
  gc();
  const rssBuildMB = rssMB() - rss0;

  t = now();
  index.save(path);
  const saveMs = now() - t;
  const fileMB = statSync(path).size / 2 ** 20;

  // ef_search is fixed when an Index is constructed (no setter in the JS binding), so every ef
  // gets its own Index object loaded from the saved file. The first load is timed and measured.
  gc();
  const rssL0 = rssMB();
  t = now();
  const loaded = make(efs[0]);
  loaded.load(path);
  const loadMs = now() - t;
  gc();
  const rssLoadMB = rssMB() - rssL0;

  t = now();
  const viewed = make(efs[0]);
  viewed.view(path);
  const viewMs = now() - t;

  const q = (i: number) => queries.subarray(i * dim, (i + 1) * dim);
  const search: SearchFigures[] = [];
  for (const ef of efs) {
    const idx = ef === efs[0] ? loaded : make(ef);
    if (idx !== loaded) idx.load(path);
    search.push(await timeQueries(nq, (i) => Array.from(idx.search(q(i), K, 1).keys, Number), gt.ids, ef));
  }

  // Filtered search: the JS binding exposes no predicate, so over-fetch and post-filter.
  const fIdx = make(FILTER_EF);
  fIdx.load(path);
  const fModulus = BigInt(FILTER_MODULUS);
  const filteredRaw = await timeQueries(
    nq,
    (i) => {
      const found = fIdx.search(q(i), USEARCH_FILTER_OVERSAMPLE, 1).keys;
      const keep: number[] = [];
      for (let j = 0; j < found.length && keep.length < K; j++) {
        if (found[j] % fModulus === 0n) keep.push(Number(found[j]));
      }
      return keep;
    },
    gt.filteredIds,
    FILTER_EF,
  );

  // The same batch add pinned to one thread, for reference (timing only; skipped for large N to keep
  // the run short, the CPU seconds above are the single-thread-equivalent figure).
  let buildOneThreadS: number | null = null;
  if (n <= oneThreadBuildMax) {
    t = now();
    make(64).add(keys, data, 1);
    buildOneThreadS = (now() - t) / 1000;
  }

  return {
    lib: "usearch",
    version: pkgVersion("usearch"),
    n,
    buildThreads: threads,
    buildS,
    buildCpuS,
    buildOneThreadS,
    buildConversionS: null,
    loadAvg: loadavg(),
    rssBuildMB,
    fileMB,
    saveMs,
    loadMs,
    rssLoadMB,
    viewMs,
    search,
    filtered: { ...filteredRaw, method: `post-filter of k=${USEARCH_FILTER_OVERSAMPLE}` },
  };
}

/** Exercises the operations Sift needs on a small usearch index and reports what happened. */
async function usearchFeatures(
  data: Float32Array,
  dim: number,
  dir: string,
): Promise<Record<string, string>> {
  const { Index, MetricKind, ScalarKind } = await import("usearch");
  const n = Math.min(2_000, data.length / dim);
  const vec = (i: number) => data.subarray(i * dim, (i + 1) * dim);
  const make = () =>
    new Index({
      dimensions: dim,
      metric: MetricKind.IP,
      quantization: ScalarKind.F32,
      connectivity: M,
      expansion_add: EF_CONSTRUCTION,
      expansion_search: 64,
      multi: false,
    });
  const idx = make();
  idx.add(
    BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
    data.subarray(0, n * dim),
    0,
  );
  const f: Record<string, string> = {};

  f["batch add"] =
    `yes: add(BigUint64Array keys, flat Float32Array, threads); threads=0 uses all ${cpus().length} cores`;

  // Delete + exclusion + slot reuse.
  const fileBefore = (() => {
    const p = join(dir, "f0.usearch");
    idx.save(p);
    return statSync(p).size;
  })();
  const victims = Array.from({ length: 100 }, (_, i) => i * 7);
  const removed = idx.remove(BigUint64Array.from(victims, BigInt)) as number[];
  let leaked = 0;
  for (const v of victims) {
    const keys = idx.search(vec(v), K, 1).keys;
    if (Array.from(keys, Number).some((k) => victims.includes(k))) leaked++;
  }
  const sizeAfterRemove = idx.size();
  const capBefore = idx.capacity();
  idx.add(
    BigUint64Array.from(victims, (v) => BigInt(1_000_000 + v)),
    Float32Array.from(victims.flatMap((v) => Array.from(vec(v)))),
    1,
  );
  const p1 = join(dir, "f1.usearch");
  idx.save(p1);
  f["delete by id"] =
    `yes: remove(keys) -> ${removed.slice(0, 3).join(",")}… (1 per key, 0 if absent: ` +
    `${idx.remove(424242n)}); size ${n} -> ${sizeAfterRemove}`;
  f["deleted excluded"] = `${leaked === 0 ? "yes" : "NO"}: ${leaked}/100 searches returned a removed key`;
  f["space reused"] =
    `${statSync(p1).size === fileBefore ? "yes" : "partly"}: after removing 100 and adding 100 ` +
    `new keys, capacity ${capBefore} -> ${idx.capacity()}, file ${fileBefore} -> ${statSync(p1).size} bytes ` +
    "(freed slots go to a free list that add() takes from)";

  // Upsert.
  let dup = "";
  try {
    idx.add(5n, vec(n - 1), 1);
    dup = "accepted";
  } catch (e) {
    dup = `throws "${(e as Error).message}"`;
  }
  idx.remove(5n);
  idx.add(5n, vec(n - 1), 1); // now id 5 carries the vector of id n-1
  const hit = Array.from(idx.search(vec(n - 1), 2, 1).keys, Number);
  f.upsert =
    `no native upsert: add() of an existing key ${dup}; remove()+add() works ` +
    `(top-2 for the new vector: ${hit.join(",")})`;

  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(idx)).filter((m) => m !== "constructor");
  f["filtered search"] =
    "NO predicate/filter in the JS binding (C++ core has one, not exposed). " +
    `Index methods: ${methods.join(", ")}. Workaround: over-fetch + post-filter (see filtered row)`;

  // Persistence.
  const p2 = join(dir, "f2.usearch");
  let t = now();
  idx.save(p2);
  const saveMs = now() - t;
  const reloaded = make();
  t = now();
  reloaded.load(p2);
  const loadMs = now() - t;
  const view = make();
  view.view(p2);
  let viewAdd = "";
  try {
    view.add(9_999_999n, vec(0), 1);
    viewAdd = "add accepted";
  } catch (e) {
    viewAdd = `add throws "${(e as Error).message}"`;
  }
  let viewRemove = "";
  try {
    view.remove(1n);
    viewRemove = "remove accepted";
  } catch (e) {
    viewRemove = `remove throws "${(e as Error).message}"`;
  }
  f.persistence =
    `yes: save(path)/load(path), sync (${saveMs.toFixed(1)} / ${loadMs.toFixed(1)} ms at n=${n}); ` +
    `loaded size ${reloaded.size()}`;
  f["mmap load"] =
    `yes: view(path) memory-maps the file read-only (size ${view.size()}, search ok: ` +
    `${view.search(vec(1), 1, 1).keys[0] === 1n}); ${viewAdd}; ${viewRemove}`;

  // Growth.
  const g = make();
  const caps: number[] = [];
  for (let i = 0; i < 300; i++) {
    g.add(BigInt(i), vec(i), 1);
    if (i % 100 === 99) caps.push(g.capacity());
  }
  f["grow capacity"] =
    `automatic: add() reserves more when full (capacity after 100/200/300 adds: ${caps.join("/")}); ` +
    "no explicit reserve() in the JS binding";

  f["threads / async"] =
    "all calls synchronous (block the event loop); add()/search() take a threads " +
    "argument and fan a batch out over a native thread pool; no Promise/async API";

  const big = 2n ** 63n + 12_345n;
  g.add(big, vec(500), 1);
  const back = g.search(vec(500), 1, 1).keys[0];
  f["64-bit ids"] = `yes: BigUint64Array keys; key 2^63+12345 round-trips: ${back === big}`;
  f["ef_search at query time"] =
    "no: expansion_search is fixed per Index object; to change it, construct " +
    "a new Index and load()/view() the saved file (what this benchmark does)";
  f["input vectors"] =
    "Float32Array/Float64Array/Int8Array, flat batches; storage can be quantised (f16, bf16, i8, b1)";
  return f;
}

// ---------------------------------------------------------------------------------------------
// hnswlib-node
// ---------------------------------------------------------------------------------------------

async function loadHnswlib(): Promise<HnswlibModule> {
  const mod = await import("hnswlib-node");
  // hnswlib-node is CommonJS whose exports Node cannot detect statically: use the default export.
  return ((mod as unknown as { default?: HnswlibModule }).default ?? mod) as HnswlibModule;
}

async function benchHnswlib(
  data: Float32Array,
  queries: Float32Array,
  gt: GroundTruth,
  dim: number,
  efs: number[],
  dir: string,
): Promise<LibFigures> {
  const { HierarchicalNSW } = await loadHnswlib();
  const n = data.length / dim;
  const nq = queries.length / dim;
  const path = join(dir, `hnswlib-${n}.bin`);
  // hnswlib-node only accepts plain number[] (it rejects typed arrays), so every vector is converted.
  const row = (i: number) => Array.from(data.subarray(i * dim, (i + 1) * dim));

  let t = now();
  for (let i = 0; i < n; i++) row(i);
  const buildConversionS = (now() - t) / 1000;

  gc();
  const rss0 = rssMB();
  t = now();
  const c = cpuMs();
  const index = new HierarchicalNSW("ip", dim);
  index.initIndex({ maxElements: n, m: M, efConstruction: EF_CONSTRUCTION, randomSeed: 100 });
  for (let i = 0; i < n; i++) index.addPoint(row(i), i);
  const buildS = (now() - t) / 1000;
  const buildCpuS = (cpuMs() - c) / 1000;
  gc();
  const rssBuildMB = rssMB() - rss0;

  t = now();
  index.writeIndexSync(path);
  const saveMs = now() - t;
  const fileMB = statSync(path).size / 2 ** 20;

  gc();
  const rssL0 = rssMB();
  t = now();
  const loaded = new HierarchicalNSW("ip", dim);
  loaded.readIndexSync(path);
  const loadMs = now() - t;
  gc();
  const rssLoadMB = rssMB() - rssL0;

  // Queries are converted to number[] once, outside the timed loop (a server gets them as JSON arrays).
  const qs = Array.from({ length: nq }, (_, i) => Array.from(queries.subarray(i * dim, (i + 1) * dim)));
  const search: SearchFigures[] = [];
  for (const ef of efs) {
    loaded.setEf(ef);
    search.push(await timeQueries(nq, (i) => loaded.searchKnn(qs[i], K).neighbors, gt.ids, ef));
  }

  // Filtered search: the predicate runs inside the graph walk (a JS callback per candidate label).
  loaded.setEf(FILTER_EF);
  const filter = (label: number) => label % FILTER_MODULUS === 0;
  const filteredRaw = await timeQueries(
    nq,
    (i) => loaded.searchKnn(qs[i], K, filter).neighbors,
    gt.filteredIds,
    FILTER_EF,
  );

  return {
    lib: "hnswlib",
    version: pkgVersion("hnswlib-node"),
    n,
    buildThreads: 1,
    buildS,
    buildCpuS,
    buildOneThreadS: buildS,
    buildConversionS,
    loadAvg: loadavg(),
    rssBuildMB,
    fileMB,
    saveMs,
    loadMs,
    rssLoadMB,
    viewMs: null,
    search,
    filtered: { ...filteredRaw, method: "filter callback during walk" },
  };
}

/** Exercises the operations Sift needs on a small hnswlib-node index and reports what happened. */
async function hnswlibFeatures(
  data: Float32Array,
  dim: number,
  dir: string,
): Promise<Record<string, string>> {
  const { HierarchicalNSW } = await loadHnswlib();
  const n = Math.min(2_000, data.length / dim);
  const vec = (i: number) => Array.from(data.subarray(i * dim, (i + 1) * dim));
  const build = (allowReplaceDeleted: boolean, count = n) => {
    const idx = new HierarchicalNSW("ip", dim);
    idx.initIndex({
      maxElements: count,
      m: M,
      efConstruction: EF_CONSTRUCTION,
      randomSeed: 100,
      allowReplaceDeleted,
    });
    for (let i = 0; i < count; i++) idx.addPoint(vec(i), i);
    idx.setEf(64);
    return idx;
  };
  const f: Record<string, string> = {};
  const err = (fn: () => unknown): string => {
    try {
      fn();
      return "ok";
    } catch (e) {
      return `throws "${(e as Error).message}"`;
    }
  };

  f["batch add"] =
    `no: addPoint(number[], label) one vector per call, on the calling thread only; ` +
    `Float32Array input: ${err(() => build(false, 1).addPoint(new Float32Array(dim) as unknown as number[], 1))}`;

  // Delete + exclusion + slot reuse.
  const idx = build(true);
  const victims = Array.from({ length: 100 }, (_, i) => i * 7);
  for (const v of victims) idx.markDelete(v);
  let leaked = 0;
  for (const v of victims) if (idx.searchKnn(vec(v), K).neighbors.some((l) => victims.includes(l))) leaked++;
  const countAfterDelete = idx.getCurrentCount();
  const deleteAgain = err(() => idx.markDelete(victims[1]));
  const fullAdd = err(() => build(false).addPoint(vec(0), 1_000_000));
  for (const v of victims) idx.addPoint(vec(v), 1_000_000 + v, true);
  f["delete by id"] =
    `yes (tombstone): markDelete(label); getCurrentCount stays ${countAfterDelete}; ` +
    `getIdsList still lists deleted labels; delete again: ${deleteAgain}; ` +
    `unknown label: ${err(() => idx.markDelete(424_242))}; unmarkDelete() undoes`;
  f["deleted excluded"] = `${leaked === 0 ? "yes" : "NO"}: ${leaked}/100 searches returned a deleted label`;
  f["space reused"] =
    `only if opted in: initIndex({allowReplaceDeleted:true}) + addPoint(v, label, true) ` +
    `reuses tombstoned slots (count stays ${idx.getCurrentCount()} of max ${idx.getMaxElements()}); ` +
    `otherwise tombstones keep their slots and adding to a full index ${fullAdd}`;

  // Upsert.
  const up = build(false);
  up.addPoint(vec(n - 1), 5); // label 5 now carries the vector of label n-1
  const got = up.getPoint(5);
  const same = got.every((x, j) => Math.abs(x - data[(n - 1) * dim + j]) < 1e-6);
  const hit = up.searchKnn(vec(n - 1), 2).neighbors;
  up.markDelete(6);
  const upDeleted = err(() => up.addPoint(vec(6), 6));
  f.upsert =
    `yes: addPoint() with an existing label replaces the vector in place and repairs links ` +
    `(getPoint matches new vector: ${same}; top-2 for it: ${hit.join(",")}; count ${up.getCurrentCount()}); ` +
    `addPoint on a deleted label: ${upDeleted}, label 6 searchable again: ` +
    `${up.searchKnn(vec(6), 1).neighbors[0] === 6}`;

  // Filtered search.
  const filt = build(false);
  const fr = filt.searchKnn(vec(3), K, (label) => label % 7 === 0).neighbors;
  f["filtered search"] =
    `yes: searchKnn(q, k, (label) => boolean) is applied during the walk ` +
    `(${fr.length} results, all pass: ${fr.every((l) => l % 7 === 0)}). CAUTION: a predicate that throws ` +
    "aborts the whole Node process (see probe below); the callback is a JS call per visited candidate";

  // Persistence.
  const p = join(dir, "f.hnsw");
  let t = now();
  filt.writeIndexSync(p);
  const saveMs = now() - t;
  const r = new HierarchicalNSW("ip", dim);
  t = now();
  r.readIndexSync(p);
  const loadMs = now() - t;
  const ra = new HierarchicalNSW("ip", dim);
  const asyncOk = (await filt.writeIndex(join(dir, "f2.hnsw"))) && (await ra.readIndex(join(dir, "f2.hnsw")));
  f.persistence =
    `yes: writeIndexSync/readIndexSync (${saveMs.toFixed(1)} / ${loadMs.toFixed(1)} ms at n=${n}) ` +
    `and Promise-based writeIndex/readIndex on a worker thread (ok: ${asyncOk}); loaded count ${r.getCurrentCount()}`;
  f["mmap load"] = "no: readIndex reads the whole file into heap memory";

  // Growth.
  const gi = build(false, 100);
  const over = err(() => gi.addPoint(vec(100), 100));
  gi.resizeIndex(200);
  const afterResize = err(() => gi.addPoint(vec(100), 100));
  f["grow capacity"] =
    `manual: fixed maxElements; adding beyond it ${over}; resizeIndex(200) then add: ${afterResize}`;

  f["threads / async"] =
    "addPoint/searchKnn synchronous and single-threaded (block the event loop); " +
    "only readIndex/writeIndex are async; no batch/parallel search";

  // 64-bit ids: labels go through Napi Uint32Value(), i.e. modulo 2^32.
  const wide = build(false, 100);
  wide.resizeIndex(101);
  const before7 = wide.getPoint(7);
  const wideRes = err(() => wide.addPoint(vec(50), 2 ** 32 + 7));
  const after7 = wide.getPoint(7);
  const overwritten = !after7.every((x, j) => Math.abs(x - before7[j]) < 1e-6);
  f["64-bit ids"] =
    `NO: labels are truncated to uint32; addPoint(v, 2^32+7) ${wideRes} and ` +
    `${overwritten ? "silently OVERWROTE label 7" : "did not touch label 7"} ` +
    `(ids: ${wide
      .getIdsList()
      .filter((l) => l === 7 || l > 2 ** 32)
      .join(",")}; count ${wide.getCurrentCount()})`;
  f["ef_search at query time"] = "yes: setEf(ef) at any time";
  f["input vectors"] = "number[] only (each element read through N-API); float32 storage only";
  return f;
}

// ---------------------------------------------------------------------------------------------
// Child-process plumbing
// ---------------------------------------------------------------------------------------------

function pkgVersion(name: string): string {
  // Resolve the package's own package.json next to its entry point.
  const entry = import.meta.resolve(name);
  let dir = new URL(".", entry).pathname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      /* keep walking up */
    }
    dir = join(dir, "..");
  }
  return "unknown";
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
function readI32(path: string): Int32Array {
  const buf = readFileSync(path);
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

interface ChildTask {
  lib: LibName;
  dir: string;
  n: number;
  dim: number;
  efs: number[];
  features: boolean;
  oneThreadBuildMax: number;
}

async function childMain(task: ChildTask): Promise<void> {
  const { lib, dir, n, dim, efs } = task;
  const data = readF32(join(dir, `data-${n}.f32`));
  const queries = readF32(join(dir, `queries-${n}.f32`));
  const gt: GroundTruth = {
    ids: readI32(join(dir, `gt-${n}.i32`)),
    filteredIds: readI32(join(dir, `gtf-${n}.i32`)),
    stats: { top1Cos: 0, top10Cos: 0, randomPairCos: 0 },
  };
  const result =
    lib === "usearch"
      ? await benchUsearch(data, queries, gt, dim, efs, dir, task.oneThreadBuildMax)
      : await benchHnswlib(data, queries, gt, dim, efs, dir);
  if (task.features) {
    result.features =
      lib === "usearch" ? await usearchFeatures(data, dim, dir) : await hnswlibFeatures(data, dim, dir);
  }
  process.send!(result);
}

/** Forks this script with the given arguments; resolves with the child's single message. */
function runChild<T>(
  args: string[],
): Promise<{ msg: T | undefined; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], args, {
      execArgv: [...process.execArgv, "--expose-gc"],
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let msg: T | undefined;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("message", (m) => {
      msg = m as T;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ msg, code, signal, stderr }));
  });
}

/** Separate process: does a throwing hnswlib-node filter callback surface as a JS exception? */
async function probeThrowingFilter(): Promise<void> {
  const { HierarchicalNSW } = await loadHnswlib();
  const idx = new HierarchicalNSW("ip", 4);
  idx.initIndex(10);
  for (let i = 0; i < 10; i++) idx.addPoint([i, 1, 0, 0], i);
  try {
    idx.searchKnn([1, 1, 0, 0], 3, () => {
      throw new Error("predicate failed");
    });
    process.send!("returned normally");
  } catch (e) {
    process.send!(`threw a catchable error: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Element-wise median of several runs' figures for one library and N. */
function medianFigures(runs: LibFigures[]): LibFigures {
  const first = runs[0];
  const med = (f: (r: LibFigures) => number | null) => {
    const xs = runs.map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  const medSearch = (pick: (r: LibFigures) => SearchFigures): SearchFigures => ({
    ef: pick(first).ef,
    recall: median(runs.map((r) => pick(r).recall)),
    qps: median(runs.map((r) => pick(r).qps)),
    p50us: median(runs.map((r) => pick(r).p50us)),
    p99us: median(runs.map((r) => pick(r).p99us)),
    cpuQps: median(runs.map((r) => pick(r).cpuQps)),
    cpuP50us: median(runs.map((r) => pick(r).cpuP50us)),
    cpuP99us: median(runs.map((r) => pick(r).cpuP99us)),
    gcMs: median(runs.map((r) => pick(r).gcMs)),
    involuntaryCtx: median(runs.map((r) => pick(r).involuntaryCtx)),
  });
  return {
    ...first,
    buildS: med((r) => r.buildS)!,
    buildCpuS: med((r) => r.buildCpuS)!,
    buildOneThreadS: med((r) => r.buildOneThreadS),
    buildConversionS: med((r) => r.buildConversionS),
    rssBuildMB: med((r) => r.rssBuildMB)!,
    fileMB: med((r) => r.fileMB)!,
    saveMs: med((r) => r.saveMs)!,
    loadMs: med((r) => r.loadMs)!,
    rssLoadMB: med((r) => r.rssLoadMB)!,
    viewMs: med((r) => r.viewMs),
    search: first.search.map((_, i) => medSearch((r) => r.search[i])),
    filtered: { ...medSearch((r) => r.filtered), method: first.filtered.method },
  };
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((x, c) => x.padStart(widths[c])).join(" | ")} |`;
  return [
    line(cells[0]),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

const fmt = (x: number | null, digits = 1) => (x === null ? "—" : x.toFixed(digits));

function printFigures(n: number, figs: LibFigures[], runs: number): void {
  console.log(`\n### N = ${n.toLocaleString("en-US")} (median of ${runs} run${runs > 1 ? "s" : ""})\n`);
  console.log(
    table(
      [
        "library",
        "build s (threads)",
        "build CPU s",
        "build 1 thread s",
        "RSS Δ build MB",
        "file MB",
        "save ms",
        "load ms",
        "RSS Δ load MB",
        "mmap view ms",
      ],
      figs.map((f) => [
        `${f.lib} ${f.version}`,
        `${fmt(f.buildS, 1)} (${f.buildThreads})`,
        fmt(f.buildCpuS, 1),
        fmt(f.buildOneThreadS, 1) +
          (f.buildConversionS ? ` (${fmt(f.buildConversionS, 1)} s number[] conv.)` : ""),
        fmt(f.rssBuildMB),
        fmt(f.fileMB),
        fmt(f.saveMs),
        fmt(f.loadMs),
        fmt(f.rssLoadMB),
        fmt(f.viewMs),
      ]),
    ),
  );
  console.log();
  const row = (label: string, s: SearchFigures) => [
    label,
    String(s.ef),
    s.recall.toFixed(4),
    fmt(s.qps, 0),
    fmt(s.p50us, 0),
    fmt(s.p99us, 0),
    fmt(s.cpuQps, 0),
    fmt(s.cpuP50us, 0),
    fmt(s.cpuP99us, 0),
    fmt(s.gcMs, 0),
    String(s.involuntaryCtx),
  ];
  const rows = figs.flatMap((f) => f.search.map((s) => row(f.lib, s)));
  for (const f of figs) rows.push(row(`${f.lib} filtered (${f.filtered.method})`, f.filtered));
  console.log(
    table(
      [
        "library",
        "ef",
        "recall@10",
        "QPS wall",
        "p50 µs",
        "p99 µs",
        "QPS CPU",
        "CPU p50 µs",
        "CPU p99 µs",
        "GC ms",
        "preempted",
      ],
      rows,
    ),
  );
}

interface Results {
  options: Options;
  node: string;
  cpus: number;
  sizes: Record<string, { stats: GroundTruth["stats"]; runs: LibFigures[][] }>;
  features: Record<string, Record<string, string>>;
}

function printResults(res: Results): void {
  for (const [n, v] of Object.entries(res.sizes)) {
    const s = v.stats;
    console.log(
      `\nN=${n}: mean cos(query, 1st NN)=${s.top1Cos.toFixed(3)}, (10th NN)=${s.top10Cos.toFixed(3)}, ` +
        `random pair=${s.randomPairCos.toFixed(3)}; load averages seen: ` +
        v.runs
          .flat()
          .map((f) => f.loadAvg[0].toFixed(1))
          .join(", "),
    );
    const libs = v.runs[0].map((f) => f.lib);
    printFigures(
      Number(n),
      libs.map((lib) => medianFigures(v.runs.map((r) => r.find((f) => f.lib === lib)!))),
      v.runs.length,
    );
  }
  const libs = Object.keys(res.features);
  if (libs.length === 0) return;
  console.log("\n### Feature matrix (observed)\n");
  const names = [...new Set(Object.values(res.features).flatMap((f) => Object.keys(f)))];
  for (const name of names) {
    console.log(`- **${name}**`);
    for (const lib of libs)
      if (res.features[lib]?.[name]) console.log(`  - ${lib}: ${res.features[lib][name]}`);
  }
}

/** `--merge a.json b.json …`: pools the runs of several invocations and prints the medians. */
function mergeMain(files: string[]): void {
  const all = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Results);
  const merged: Results = { ...all[0], sizes: {}, features: {} };
  for (const r of all) {
    for (const [n, v] of Object.entries(r.sizes)) {
      merged.sizes[n] ??= { stats: v.stats, runs: [] };
      merged.sizes[n].runs.push(...v.runs);
    }
    for (const [lib, f] of Object.entries(r.features)) merged.features[lib] ??= f;
  }
  console.log(`# HNSW library benchmark — medians over ${files.length} result files`);
  printResults(merged);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") return childMain(JSON.parse(argv[1]) as ChildTask);
  if (argv[0] === "--probe-throwing-filter") return probeThrowingFilter();
  if (argv[0] === "--gt") return gtChildMain(JSON.parse(argv[1]) as GtTask);
  if (argv[0] === "--merge") return mergeMain(argv.slice(1));

  const opts = parseOptions(argv);
  const dir = mkdtempSync(join(tmpdir(), "hnsw-bench-"));
  const started = now();
  console.log(
    `# HNSW library benchmark — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
      `load average ${loadavg()[0].toFixed(1)}`,
  );
  console.log(
    `dim=${opts.dim}, clusters=${opts.clusters}, queries=${opts.queries}, seed=${opts.seed}, ` +
      `M=${M}, efConstruction=${EF_CONSTRUCTION}, k=${K}, runs=${opts.runs}`,
  );

  const results: Results = {
    options: opts,
    node: process.version,
    cpus: cpus().length,
    sizes: {},
    features: {},
  };
  try {
    for (const n of opts.sizes) {
      // Data and queries come from the same mixture, so queries are near but not equal to data points.
      const mixture = new EmbeddingMixture(opts.dim, opts.clusters, opts.seed);
      let t = now();
      const data = mixture.sample(n);
      const queries = mixture.sample(opts.queries);
      const genS = (now() - t) / 1000;
      writeFileSync(join(dir, `data-${n}.f32`), new Uint8Array(data.buffer));
      writeFileSync(join(dir, `queries-${n}.f32`), new Uint8Array(queries.buffer));
      t = now();
      const gt = await exactTopK(dir, data, opts.queries, opts.dim);
      console.log(
        `\nN=${n}: data generated in ${genS.toFixed(1)} s, exact top-${K} for ${opts.queries} queries ` +
          `in ${((now() - t) / 1000).toFixed(1)} s (${cpus().length} processes)`,
      );
      writeFileSync(join(dir, `gt-${n}.i32`), new Uint8Array(gt.ids.buffer));
      writeFileSync(join(dir, `gtf-${n}.i32`), new Uint8Array(gt.filteredIds.buffer));

      results.sizes[n] = { stats: gt.stats, runs: [] };
      for (let run = 0; run < opts.runs; run++) {
        const figs: LibFigures[] = [];
        // Alternate library order between runs so neither always goes first.
        const order = run % 2 === 0 ? opts.libs : [...opts.libs].reverse();
        for (const lib of order) {
          const features = opts.features && run === 0 && n === opts.sizes[0];
          const task: ChildTask = {
            lib,
            dir,
            n,
            dim: opts.dim,
            efs: opts.efs,
            features,
            oneThreadBuildMax: opts.oneThreadBuildMax,
          };
          t = now();
          const res = await runChild<LibFigures>(["--child", JSON.stringify(task)]);
          if (!res.msg)
            throw new Error(`${lib} child failed (code ${res.code}, signal ${res.signal}):\n${res.stderr}`);
          if (res.msg.features) results.features[lib] = res.msg.features;
          figs.push(res.msg);
          const ef64 = res.msg.search.find((s) => s.ef === 64);
          console.log(
            `  run ${run + 1} ${lib}: ${((now() - t) / 1000).toFixed(1)} s ` +
              `(build ${res.msg.buildS.toFixed(2)} s, ef=64 recall@10 ${ef64?.recall.toFixed(3) ?? "—"}, ` +
              `${ef64?.qps.toFixed(0) ?? "—"} QPS)`,
          );
        }
        results.sizes[n].runs.push(figs);
      }
    }

    if (opts.features && opts.libs.includes("hnswlib")) {
      // Run in its own process: if it takes the process down, that is the finding.
      const probe = await runChild<string>(["--probe-throwing-filter"]);
      const outcome =
        probe.msg ??
        `the Node process died (exit code ${probe.code}, signal ${probe.signal}): ` +
          (probe.stderr.split("\n").find((l) => l.includes("FATAL")) ?? probe.stderr.split("\n")[0]);
      results.features.hnswlib = {
        ...results.features.hnswlib,
        "probe: filter callback that throws": outcome,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  printResults(results);
  if (opts.out) writeFileSync(opts.out, JSON.stringify(results, null, 2));
  console.log(
    `\nTotal ${((now() - started) / 1000).toFixed(0)} s, load average now ${loadavg()[0].toFixed(1)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
