import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  compileFilter,
  type Filter,
  type Logger,
  type Metadata,
  silentLogger,
  UnavailableError,
  ValidationError,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
  type VectorSearchOptions,
  writeFileDurably,
} from "@sift/core";
import type { Index } from "usearch";
import { loadUsearch } from "./usearch-loader";
import {
  InvalidVectorIndexError,
  type PayloadContents,
  readPayload,
  removeQuietly,
  renameAll,
  serializePayload,
  sha256Hex,
  syncFile,
} from "./vector-file";
import {
  compareHits,
  exactTopK,
  prepareVector,
  similarityFromDistance,
  type VectorMetric,
  validateChunkId,
  validateVector,
} from "./vector-math";

export const USEARCH_INDEX_FILE = "index.usearch";
export const PAYLOAD_FILE = "payload.bin";

export interface UsearchIndexOptions {
  /** Directory holding `index.usearch` and `payload.bin`; created on the first flush. */
  path: string;
  dimensions: number;
  /** `cos`: vectors are L2-normalised on the way in and scores are cosine similarities. `ip`: raw dot products. */
  metric: VectorMetric;
  /** HNSW M: links per node. Default 16. */
  connectivity?: number;
  /** HNSW efConstruction. Default 128. */
  expansionAdd?: number;
  /** HNSW ef at query time (fixed per usearch Index object). Default 64. */
  expansionSearch?: number;
  /**
   * Indexes, and filtered candidate sets, of at most this many vectors are searched exactly (dot products
   * over every vector) rather than through the graph. Default 2000.
   */
  exactScanThreshold?: number;
  /** A filter matching at most this fraction of the index is answered by an exact scan of its matches. Default 0.1. */
  selectiveFilterRatio?: number;
  /** Native threads for batch adds (0 = all cores). Searches always run on the calling thread. Default 0. */
  addThreads?: number;
  logger?: Logger;
}

/** Counters of the strategies searches took (for tests, metrics and tuning). */
export interface UsearchSearchStats {
  /** Searches answered by an exact scan (small index, selective filter, or a fallback). */
  exactScans: number;
  /** Searches answered from the HNSW graph (with or without post-filtering). */
  graphSearches: number;
  /** Graph queries issued by filtered searches, counting every over-fetch round. */
  overFetchRounds: number;
  /** Searches where the graph returned fewer than `limit` usable hits and an exact scan filled them. */
  exactFallbacks: number;
}

interface Entry {
  /** As stored: normalised for `cos`. */
  vector: Float32Array;
  metadata: Metadata;
}

/**
 * The embedded {@link VectorIndex}: an in-process usearch HNSW graph plus, in JavaScript memory, every
 * chunk's metadata (for filters) and vector (for exact scans and for rebuilding the graph). Memory is
 * therefore about twice `count × dimensions × 4` bytes (usearch's copy and ours): ~300 MB at 100k 384-d
 * chunks.
 *
 * Filters never collapse recall: a filtered search counts the matching chunks first; a selective filter
 * (matches ≤ `exactScanThreshold`, or ≤ `selectiveFilterRatio` of the index) is answered exactly over just
 * the matches; a broad one over-fetches from the graph (limit × 4, doubling up to the index size) and
 * post-filters; if the graph still yields fewer than `limit` matches an exact scan fills the answer. So
 * `limit` hits come back whenever `limit` chunks match.
 *
 * All operations but `flush` are synchronous native calls on the event loop (usearch has no async API);
 * writes are visible to the next search. Scores are cosine similarities (`cos`) or dot products (`ip`),
 * higher is better; hits are ordered by score, then chunk id.
 */
export class UsearchVectorIndex implements VectorIndex {
  readonly dimensions: number;
  readonly metric: VectorMetric;
  readonly path: string;
  readonly #options: Required<Omit<UsearchIndexOptions, "logger" | "path" | "dimensions" | "metric">>;
  readonly #logger: Logger;
  readonly #entries = new Map<number, Entry>();
  #index: Index;
  readonly #stats: UsearchSearchStats = {
    exactScans: 0,
    graphSearches: 0,
    overFetchRounds: 0,
    exactFallbacks: 0,
  };
  /** Bumped by every write; compared with `#flushedVersion` to skip needless flushes. */
  #version = 0;
  #flushedVersion = -1;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  /** Use {@link openUsearchIndex}. */
  constructor(options: UsearchIndexOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new ValidationError("dimensions must be a positive integer", [
        { path: "dimensions", message: "must be a positive integer" },
      ]);
    }
    this.dimensions = options.dimensions;
    this.metric = options.metric;
    this.path = options.path;
    this.#logger = options.logger ?? silentLogger;
    this.#options = {
      connectivity: options.connectivity ?? 16,
      expansionAdd: options.expansionAdd ?? 128,
      expansionSearch: options.expansionSearch ?? 64,
      exactScanThreshold: options.exactScanThreshold ?? 2000,
      selectiveFilterRatio: options.selectiveFilterRatio ?? 0.1,
      addThreads: options.addThreads ?? 0,
    };
    this.#index = this.#newGraph();
  }

  get #indexPath(): string {
    return join(this.path, USEARCH_INDEX_FILE);
  }

  get #payloadPath(): string {
    return join(this.path, PAYLOAD_FILE);
  }

  #newGraph(): Index {
    const { Index: UsearchIndex, MetricKind, ScalarKind } = loadUsearch();
    return new UsearchIndex({
      dimensions: this.dimensions,
      metric: this.metric === "cos" ? MetricKind.Cos : MetricKind.IP,
      quantization: ScalarKind.F32,
      connectivity: this.#options.connectivity,
      expansion_add: this.#options.expansionAdd,
      expansion_search: this.#options.expansionSearch,
      multi: false,
    });
  }

  /** Loads the persisted state, if any. Called once by {@link openUsearchIndex}. */
  async load(): Promise<void> {
    await this.#removeStaleTemporaries();
    const hasPayload = existsSync(this.#payloadPath);
    const hasIndex = existsSync(this.#indexPath);
    if (!hasPayload) {
      if (hasIndex) {
        throw new InvalidVectorIndexError(
          `${this.#indexPath} exists but its payload ${this.#payloadPath} is missing; rebuild the index from the store`,
          this.#payloadPath,
        );
      }
      return;
    }
    const { header, contents } = await readPayload(this.#payloadPath, {
      dimensions: this.dimensions,
      metric: this.metric,
    });
    contents.chunkIds.forEach((chunkId, i) => {
      const vector = contents.vectors.subarray(i * this.dimensions, (i + 1) * this.dimensions);
      this.#entries.set(chunkId, { vector, metadata: contents.metadata[i] ?? {} });
    });
    const problem = await this.#loadGraph(header.indexChecksum);
    if (problem === undefined) {
      this.#flushedVersion = this.#version;
      return;
    }
    // The payload holds every vector, so a torn or damaged graph file is rebuilt without the store.
    this.#logger.warn("vector: rebuilding the HNSW graph from the payload", { path: this.path, problem });
    this.#index = this.#newGraph();
    this.#addToGraph(
      [...this.#entries.keys()],
      [...this.#entries.values()].map((e) => e.vector),
    );
  }

  async #loadGraph(expectedChecksum: string): Promise<string | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.#indexPath);
    } catch (error) {
      return `cannot read ${USEARCH_INDEX_FILE}: ${String(error)}`;
    }
    if (sha256Hex(data) !== expectedChecksum) return `${USEARCH_INDEX_FILE} does not match the payload`;
    try {
      this.#index.load(this.#indexPath);
    } catch (error) {
      this.#index = this.#newGraph();
      return `usearch cannot load ${USEARCH_INDEX_FILE}: ${String(error)}`;
    }
    const size = this.#index.size();
    if (size !== this.#entries.size) {
      this.#index = this.#newGraph();
      return `${USEARCH_INDEX_FILE} holds ${size} vectors, the payload ${this.#entries.size}`;
    }
    return undefined;
  }

  async #removeStaleTemporaries(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch {
      return;
    }
    await removeQuietly(names.filter((name) => name.endsWith(".tmp")).map((name) => join(this.path, name)));
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError(`the vector index at ${this.path} is closed`);
  }

  #addToGraph(chunkIds: number[], vectors: Float32Array[]): void {
    if (chunkIds.length === 0) return;
    const flat = new Float32Array(chunkIds.length * this.dimensions);
    for (const [i, vector] of vectors.entries()) flat.set(vector, i * this.dimensions);
    this.#index.add(BigUint64Array.from(chunkIds, BigInt), flat, this.#options.addThreads);
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    this.#assertOpen();
    // Validate everything first, so that a bad record leaves the index untouched.
    const latest = new Map<number, VectorRecord>();
    records.forEach((record, i) => {
      validateChunkId(record.chunkId, `records.${i}.chunkId`);
      validateVector(record.vector, this.dimensions, this.metric, `records.${i}.vector`);
      latest.set(record.chunkId, record);
    });
    if (latest.size === 0) return;
    const chunkIds = [...latest.keys()];
    const existing = chunkIds.filter((id) => this.#entries.has(id));
    // usearch refuses duplicate keys and has no in-place update: remove, then add.
    if (existing.length > 0) this.#index.remove(BigUint64Array.from(existing, BigInt));
    const vectors: Float32Array[] = [];
    for (const [chunkId, record] of latest) {
      const vector = prepareVector(record.vector, this.metric);
      vectors.push(vector);
      this.#entries.set(chunkId, { vector, metadata: record.metadata });
    }
    this.#addToGraph(chunkIds, vectors);
    this.#version += 1;
  }

  async delete(chunkIds: readonly number[]): Promise<void> {
    this.#assertOpen();
    const present = [...new Set(chunkIds)].filter((id) => this.#entries.has(id));
    if (present.length === 0) return;
    this.#index.remove(BigUint64Array.from(present, BigInt));
    for (const id of present) this.#entries.delete(id);
    this.#version += 1;
  }

  async count(): Promise<number> {
    this.#assertOpen();
    return this.#entries.size;
  }

  /** A copy of the strategy counters since open. */
  stats(): UsearchSearchStats {
    return { ...this.#stats };
  }

  async search(options: VectorSearchOptions): Promise<{ hits: VectorHit[]; warnings: string[] }> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    validateVector(options.vector, this.dimensions, this.metric, "vector");
    const limit = Math.floor(options.limit);
    if (!(limit >= 1) || this.#entries.size === 0) return { hits: [], warnings: [] };
    const query = prepareVector(options.vector, this.metric);
    const { filter, allowed } = options;
    const size = this.#entries.size;
    const { exactScanThreshold, selectiveFilterRatio } = this.#options;

    if (filter === undefined && allowed === undefined) {
      if (size <= exactScanThreshold || size <= limit) return this.#exact(query, this.#entries.keys(), limit);
      this.#stats.graphSearches += 1;
      const hits = this.#graphSearch(query, limit);
      if (hits.length >= limit) return { hits: hits.slice(0, limit), warnings: [] };
      this.#stats.exactFallbacks += 1;
      return this.#exact(query, this.#entries.keys(), limit);
    }

    const matching = this.#matching(filter, allowed);
    if (matching.size === 0) return { hits: [], warnings: [] };
    if (
      matching.size <= limit ||
      matching.size <= exactScanThreshold ||
      matching.size <= selectiveFilterRatio * size
    ) {
      return this.#exact(query, matching, limit);
    }
    this.#stats.graphSearches += 1;
    let hits: VectorHit[] = [];
    for (let fetch = Math.min(size, limit * 4); ; fetch = Math.min(size, fetch * 2)) {
      this.#stats.overFetchRounds += 1;
      hits = this.#graphSearch(query, fetch).filter((hit) => matching.has(hit.chunkId));
      if (hits.length >= limit || fetch >= size) break;
    }
    if (hits.length >= limit) return { hits: hits.slice(0, limit), warnings: [] };
    this.#stats.exactFallbacks += 1;
    return this.#exact(query, matching, limit);
  }

  /** The indexed chunks a search may return: those of `allowed` (filter already applied), else the filter's matches. */
  #matching(filter: Filter | undefined, allowed: ReadonlySet<number> | undefined): Set<number> {
    const matching = new Set<number>();
    if (allowed !== undefined) {
      for (const chunkId of allowed) if (this.#entries.has(chunkId)) matching.add(chunkId);
      return matching;
    }
    const matches = compileFilter(filter!);
    for (const [chunkId, entry] of this.#entries) {
      if (matches(entry.metadata)) matching.add(chunkId);
    }
    return matching;
  }

  #exact(query: Float32Array, chunkIds: Iterable<number>, limit: number) {
    this.#stats.exactScans += 1;
    const entries = this.#entries;
    function* candidates(): Generator<[number, Float32Array]> {
      for (const chunkId of chunkIds) {
        const entry = entries.get(chunkId);
        if (entry !== undefined) yield [chunkId, entry.vector];
      }
    }
    return { hits: exactTopK(query, candidates(), limit), warnings: [] };
  }

  /** The graph's top `k` (at most the index size), as hits in hit order. */
  #graphSearch(query: Float32Array, k: number): VectorHit[] {
    const matches = this.#index.search(query, Math.min(k, this.#index.size()), 1);
    const hits: VectorHit[] = [];
    for (let i = 0; i < matches.keys.length; i += 1) {
      hits.push({ chunkId: Number(matches.keys[i]), score: similarityFromDistance(matches.distances[i]!) });
    }
    return hits.sort(compareHits);
  }

  /**
   * Writes `index.usearch` and `payload.bin` so that each is either its old or its new version: both are
   * written to temporary files and fsynced, then renamed, index first. The payload records the index file's
   * checksum, so a crash between the two renames is detected on open (and the graph rebuilt from the
   * payload's vectors). Concurrent flushes run one after another; writes made while a flush is in progress
   * are left for the next one.
   */
  flush(): Promise<void> {
    this.#assertOpen();
    const run = this.#flushing.then(() => this.#flushNow());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushNow(): Promise<void> {
    if (this.#flushedVersion === this.#version) return;
    const version = this.#version;
    const suffix = `${process.pid}.${Date.now()}.tmp`;
    const indexTemporary = `${this.#indexPath}.${suffix}`;
    const payloadTemporary = `${this.#payloadPath}.${suffix}`;
    await mkdir(this.path, { recursive: true });
    try {
      // Snapshot synchronously: no write can interleave between the graph save and the payload copy.
      this.#index.save(indexTemporary);
      const contents = this.#payloadContents();
      await syncFile(indexTemporary);
      const indexChecksum = sha256Hex(await readFile(indexTemporary));
      await writeFileDurably(payloadTemporary, serializePayload(contents, indexChecksum));
      await renameAll(
        [
          [indexTemporary, this.#indexPath],
          [payloadTemporary, this.#payloadPath],
        ],
        this.path,
      );
    } catch (error) {
      await removeQuietly([indexTemporary, payloadTemporary]);
      throw error;
    }
    this.#flushedVersion = version;
  }

  #payloadContents(): PayloadContents {
    const chunkIds: number[] = [];
    const metadata: Metadata[] = [];
    const vectors = new Float32Array(this.#entries.size * this.dimensions);
    for (const [chunkId, entry] of this.#entries) {
      vectors.set(entry.vector, chunkIds.length * this.dimensions);
      chunkIds.push(chunkId);
      metadata.push(entry.metadata);
    }
    return { dimensions: this.dimensions, metric: this.metric, chunkIds, metadata, vectors };
  }

  /** Flushes unflushed writes, then releases the index; later calls throw `UnavailableError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#entries.clear();
    this.#index = this.#newGraph();
  }
}

/**
 * Opens the embedded index at `options.path`: loads it when the directory holds one, else starts empty
 * (nothing is written until the first flush). Throws {@link InvalidVectorIndexError} (a `SiftError`) when
 * the payload is missing or corrupt, or was made for other dimensions or another metric: the caller then
 * deletes the directory and rebuilds from the store.
 */
export async function openUsearchIndex(options: UsearchIndexOptions): Promise<UsearchVectorIndex> {
  const index = new UsearchVectorIndex(options);
  await index.load();
  return index;
}
