/**
 * The best `capacity` (score, chunk id) pairs: score descending, ties by ascending chunk id. A binary heap
 * whose root is the worst kept pair, so the entry threshold is read in O(1).
 */
export class TopK {
  readonly #scores: Float64Array;
  readonly #ids: Float64Array;
  readonly capacity: number;
  size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#scores = new Float64Array(capacity);
    this.#ids = new Float64Array(capacity);
  }

  /** The score a candidate must reach (ties then go by chunk id); −∞ until the heap is full. */
  get threshold(): number {
    return this.size < this.capacity ? Number.NEGATIVE_INFINITY : this.#scores[0]!;
  }

  /** Whether (score, id) would be kept, without keeping it. */
  admits(score: number, id: number): boolean {
    if (this.size < this.capacity) return true;
    const worst = this.#scores[0]!;
    return score > worst || (score === worst && id < this.#ids[0]!);
  }

  /** Keeps (score, id) when it ranks above the worst kept pair (the caller checked {@link admits}). */
  insert(score: number, id: number): void {
    if (this.size < this.capacity) {
      let child = this.size;
      this.size += 1;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (!this.#worse(score, id, this.#scores[parent]!, this.#ids[parent]!)) break;
        this.#scores[child] = this.#scores[parent]!;
        this.#ids[child] = this.#ids[parent]!;
        child = parent;
      }
      this.#scores[child] = score;
      this.#ids[child] = id;
      return;
    }
    let parent = 0;
    for (;;) {
      let child = 2 * parent + 1;
      if (child >= this.size) break;
      const right = child + 1;
      if (
        right < this.size &&
        this.#worse(this.#scores[right]!, this.#ids[right]!, this.#scores[child]!, this.#ids[child]!)
      ) {
        child = right;
      }
      if (!this.#worse(this.#scores[child]!, this.#ids[child]!, score, id)) break;
      this.#scores[parent] = this.#scores[child]!;
      this.#ids[parent] = this.#ids[child]!;
      parent = child;
    }
    this.#scores[parent] = score;
    this.#ids[parent] = id;
  }

  /** Best first. */
  sorted(): Array<{ chunkId: number; score: number }> {
    const hits: Array<{ chunkId: number; score: number }> = [];
    for (let i = 0; i < this.size; i += 1) hits.push({ chunkId: this.#ids[i]!, score: this.#scores[i]! });
    return hits.sort((left, right) => right.score - left.score || left.chunkId - right.chunkId);
  }

  #worse(score: number, id: number, otherScore: number, otherId: number): boolean {
    return score < otherScore || (score === otherScore && id > otherId);
  }
}
