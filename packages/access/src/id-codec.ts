import { type Cipher, createCipheriv, createHmac } from "node:crypto";

/** Ids are permuted within [0, 2^52): every value is a safe integer, and real ids never come close. */
const halfBits = 26;
const halfMask = (1 << halfBits) - 1;
const halfSize = 2 ** halfBits;
export const maxEncodableId = 2 ** (2 * halfBits) - 1;
const rounds = 4;
/** Derived keys kept per domain (one per collection or tenant); least recently made dropped first. */
const maxCachedDomains = 10_000;

/**
 * A keyed permutation of integers, one per domain (e.g. `chunk:<collection id>`), so that ids shown to a
 * tenant are stable and reversible by the service but say nothing about the global counters behind them:
 * consecutive internal ids come out unrelated, and the same internal id differs across domains.
 *
 * - `encode(domain, id)` maps [0, 2^52) onto itself, one to one; `decode` inverts it.
 * - A 4-round Feistel network over two 26-bit halves whose round function is AES-256 (ECB, one block) under
 *   a key derived per domain with HMAC-SHA-256 (Luby–Rackoff: a pseudo-random permutation for anyone
 *   without the secret). Cost: four AES blocks per id,
 *   computed for all ids of a response in four calls (`encodeMany`).
 */
export class IdCodec {
  readonly #secret: Buffer;
  readonly #domainKeys = new Map<string, Cipher>();

  constructor(secret: Uint8Array) {
    if (secret.byteLength < 16) throw new RangeError("the id secret must have at least 16 bytes");
    this.#secret = Buffer.from(secret);
  }

  encode(domain: string, id: number): number {
    return this.encodeMany(domain, [id])[0]!;
  }

  /** `encode` of each id, in order; one AES call per round for all of them. */
  encodeMany(domain: string, ids: readonly number[]): number[] {
    for (const id of ids) {
      if (!Number.isSafeInteger(id) || id < 0 || id > maxEncodableId) {
        throw new RangeError(`cannot encode id ${id}: expected an integer in [0, 2^52)`);
      }
    }
    const cipher = this.#keyOf(domain);
    const left = ids.map((id) => Math.floor(id / halfSize));
    const right = ids.map((id) => id % halfSize);
    for (let round = 0; round < rounds; round++) {
      const mixed = this.#round(cipher, round, right);
      for (let i = 0; i < ids.length; i++) {
        const next = (left[i]! ^ mixed[i]!) & halfMask;
        left[i] = right[i]!;
        right[i] = next;
      }
    }
    return ids.map((_, i) => left[i]! * halfSize + right[i]!);
  }

  /** The internal id behind `value`, or undefined when `value` is not an encodable integer. */
  decode(domain: string, value: number): number | undefined {
    if (!Number.isSafeInteger(value) || value < 0 || value > maxEncodableId) return undefined;
    const cipher = this.#keyOf(domain);
    let left = Math.floor(value / halfSize);
    let right = value % halfSize;
    for (let round = rounds - 1; round >= 0; round--) {
      const previous = (right ^ this.#round(cipher, round, [left])[0]!) & halfMask;
      right = left;
      left = previous;
    }
    return left * halfSize + right;
  }

  /** The round function of every half at once: AES of (round, half) blocks, first 26 bits of each. */
  #round(cipher: Cipher, round: number, halves: readonly number[]): number[] {
    const blocks = Buffer.alloc(16 * halves.length);
    halves.forEach((half, i) => {
      blocks.writeUInt8(round, i * 16);
      blocks.writeUInt32BE(half, i * 16 + 1);
    });
    // ECB without padding: full blocks in give their blocks out at once, so one cipher serves every call.
    const out = cipher.update(blocks);
    return halves.map((_, i) => out.readUInt32BE(i * 16) & halfMask);
  }

  #keyOf(domain: string): Cipher {
    let key = this.#domainKeys.get(domain);
    if (key === undefined) {
      const derived = createHmac("sha256", this.#secret).update(`sift.id:${domain}`).digest();
      key = createCipheriv("aes-256-ecb", derived, null).setAutoPadding(false);
      if (this.#domainKeys.size >= maxCachedDomains) {
        this.#domainKeys.delete(this.#domainKeys.keys().next().value!);
      }
      this.#domainKeys.set(domain, key);
    }
    return key;
  }
}
