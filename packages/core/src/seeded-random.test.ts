import { describe, expect, it } from "vitest";
import { seededRandom } from "./seeded-random";

describe("seededRandom (mulberry32)", () => {
  it("gives mulberry32's published sequence for seed 1", () => {
    const next = seededRandom(1);
    expect([next(), next(), next()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it("replays the same sequence from the same seed, and another from another seed", () => {
    const draw = (seed: number) => {
      const next = seededRandom(seed);
      return Array.from({ length: 100 }, next);
    };
    expect(draw(20261204)).toEqual(draw(20261204));
    expect(draw(20261204)).not.toEqual(draw(20261205));
  });

  it("takes the seed as an unsigned 32-bit integer", () => {
    expect(seededRandom(-1)()).toBe(seededRandom(2 ** 32 - 1)());
    expect(seededRandom(2 ** 32 + 7)()).toBe(seededRandom(7)());
  });

  it("returns floats in [0, 1)", () => {
    const next = seededRandom(42);
    for (let i = 0; i < 10_000; i += 1) {
      const value = next();
      expect(value >= 0 && value < 1).toBe(true);
    }
  });
});
