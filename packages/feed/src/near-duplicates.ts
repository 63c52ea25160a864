import { getOrCreate } from "./maps";

/**
 * Near-duplicate detection: MinHash signatures over word shingles, banded locality-sensitive hashing to find
 * candidates, and the estimated Jaccard similarity to confirm them. A document joins the cluster of its most
 * similar confirmed neighbour (single link), else starts its own cluster named by its key.
 */
export interface NearDuplicateOptions {
  /** Words per shingle. Default 3. */
  shingleWords?: number;
  /** LSH bands; signature length is `bands × rows`. Default 16. */
  bands?: number;
  /** Rows per band. Default 4 (with 16 bands: a pair with Jaccard 0.5 shares a band with probability 0.64). */
  rows?: number;
  /** Estimated Jaccard similarity at or above which two documents are the same story. Default 0.5. */
  threshold?: number;
}

export interface DuplicateAssignment {
  clusterId: string;
  /** The member it was matched to and the estimated Jaccard; `null` when it starts a cluster. */
  matched: { key: string; similarity: number } | null;
}

interface Entry {
  signature: Uint32Array;
  clusterId: string;
}

/** murmur3's 32-bit finaliser: a cheap bijective mixer. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class NearDuplicateIndex {
  readonly shingleWords: number;
  readonly bands: number;
  readonly rows: number;
  readonly threshold: number;
  readonly #seeds: Uint32Array;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, Set<string>>();
  readonly #clusters = new Map<string, Set<string>>();

  constructor(options: NearDuplicateOptions = {}) {
    this.shingleWords = options.shingleWords ?? 3;
    this.bands = options.bands ?? 16;
    this.rows = options.rows ?? 4;
    this.threshold = options.threshold ?? 0.5;
    for (const [name, value] of Object.entries({
      shingleWords: this.shingleWords,
      bands: this.bands,
      rows: this.rows,
    })) {
      if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be an integer >= 1`);
    }
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new RangeError("threshold must be in (0, 1]");
    this.#seeds = new Uint32Array(this.bands * this.rows);
    for (let i = 0; i < this.#seeds.length; i += 1) this.#seeds[i] = mix32(0x9e3779b9 + i * 0x7f4a7c15);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The MinHash signature of a text (lower-cased letter-and-digit words, `shingleWords` at a time). */
  signature(text: string): Uint32Array {
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const span = Math.min(this.shingleWords, Math.max(1, words.length));
    const signature = new Uint32Array(this.#seeds.length).fill(0xffffffff);
    for (let i = 0; i + span <= Math.max(span, words.length); i += 1) {
      const shingle = hashString(words.slice(i, i + span).join(" "));
      for (let j = 0; j < this.#seeds.length; j += 1) {
        const h = mix32(shingle ^ this.#seeds[j]!);
        if (h < signature[j]!) signature[j] = h;
      }
    }
    return signature;
  }

  /** Estimated Jaccard similarity of two signatures (share of equal minima). */
  static similarity(left: Uint32Array, right: Uint32Array): number {
    let equal = 0;
    for (let i = 0; i < left.length; i += 1) if (left[i] === right[i]) equal += 1;
    return left.length === 0 ? 0 : equal / left.length;
  }

  /**
   * Adds (or re-adds, after a change) a document and returns its cluster. `clusterId` restores a stored
   * assignment without matching (rebuilding the index from the store).
   */
  add(key: string, signature: Uint32Array, clusterId?: string): DuplicateAssignment {
    if (signature.length !== this.#seeds.length) {
      throw new RangeError(`signature has ${signature.length} values, expected ${this.#seeds.length}`);
    }
    this.remove(key);
    let assignment: DuplicateAssignment;
    if (clusterId !== undefined) {
      assignment = { clusterId, matched: null };
    } else {
      const best = this.#bestMatch(signature);
      assignment =
        best === null
          ? { clusterId: key, matched: null }
          : { clusterId: this.#entries.get(best.key)!.clusterId, matched: best };
    }
    this.#entries.set(key, { signature, clusterId: assignment.clusterId });
    for (const band of this.#bandKeys(signature)) {
      getOrCreate(this.#buckets, band, () => new Set<string>()).add(key);
    }
    getOrCreate(this.#clusters, assignment.clusterId, () => new Set<string>()).add(key);
    return assignment;
  }

  /** Removes a document; its cluster keeps its id while other members remain. */
  remove(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    for (const band of this.#bandKeys(entry.signature)) {
      const bucket = this.#buckets.get(band);
      bucket?.delete(key);
      if (bucket?.size === 0) this.#buckets.delete(band);
    }
    const members = this.#clusters.get(entry.clusterId);
    members?.delete(key);
    if (members?.size === 0) this.#clusters.delete(entry.clusterId);
    return true;
  }

  clusterOf(key: string): string | undefined {
    return this.#entries.get(key)?.clusterId;
  }

  /** Current members of a cluster (document keys, insertion order). */
  members(clusterId: string): string[] {
    return [...(this.#clusters.get(clusterId) ?? [])];
  }

  #bestMatch(signature: Uint32Array): { key: string; similarity: number } | null {
    const seen = new Set<string>();
    let best: { key: string; similarity: number } | null = null;
    for (const band of this.#bandKeys(signature)) {
      for (const key of this.#buckets.get(band) ?? []) {
        if (seen.has(key)) continue;
        seen.add(key);
        const similarity = NearDuplicateIndex.similarity(signature, this.#entries.get(key)!.signature);
        const better =
          best === null || similarity > best.similarity || (similarity === best.similarity && key < best.key);
        if (similarity >= this.threshold && better) best = { key, similarity };
      }
    }
    return best;
  }

  #bandKeys(signature: Uint32Array): string[] {
    const keys: string[] = [];
    for (let band = 0; band < this.bands; band += 1) {
      const start = band * this.rows;
      keys.push(`${band}:${Array.from(signature.subarray(start, start + this.rows)).join(",")}`);
    }
    return keys;
  }
}
