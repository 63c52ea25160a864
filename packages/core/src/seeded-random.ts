/**
 * mulberry32: a small, fast, seedable 32-bit pseudo-random generator, for anything that must replay from a
 * seed (randomized tests, synthetic benchmark corpora, the feed simulator).
 *
 * - The seed is taken as an unsigned 32-bit integer (`seed >>> 0`): seeds equal modulo 2^32 give the same
 *   sequence.
 * - Each call returns a float in [0, 1), a multiple of 2^-32.
 * - The same seed gives the same sequence on every run and platform (integer arithmetic only). Published
 *   figures were produced with specific seeds: never change the arithmetic.
 * - Not cryptographic.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
