import { describe, expect, it } from "vitest";
import { compileFilter, type Filter, filterSchema, matchesFilter } from "./filter";

const meta = {
  lang: "en",
  year: 2021,
  tags: ["a", "b"],
  published: "2021-03-01T00:00:00Z",
  nested: { score: 0.5 },
  none: null,
};

describe("matchesFilter", () => {
  it.each<[Filter, boolean]>([
    [{ field: "lang", eq: "en" }, true],
    [{ field: "lang", eq: "fr" }, false],
    [{ field: "tags", eq: "b" }, true],
    [{ field: "tags", in: ["x", "a"] }, true],
    [{ field: "year", in: [2020, 2022] }, false],
    [{ field: "year", gte: 2021, lt: 2022 }, true],
    [{ field: "year", gt: 2021 }, false],
    [{ field: "nested.score", lte: 0.5 }, true],
    [{ field: "published", gte: "2021-01-01" }, true],
    [{ field: "published", lt: "2021-03-01" }, false],
    [{ field: "lang", gte: 1 }, false],
    [{ field: "missing", eq: "x" }, false],
    [{ not: { field: "missing", eq: "x" } }, true],
    [{ field: "none", eq: null }, true],
    [
      {
        and: [
          { field: "lang", eq: "en" },
          { field: "year", eq: 2021 },
        ],
      },
      true,
    ],
    [
      {
        and: [
          { field: "lang", eq: "en" },
          { field: "year", eq: 2020 },
        ],
      },
      false,
    ],
    [
      {
        or: [
          { field: "lang", eq: "fr" },
          { field: "year", eq: 2021 },
        ],
      },
      true,
    ],
  ])("%j → %s", (filter, expected) => {
    expect(matchesFilter(filter, meta)).toBe(expected);
    expect(compileFilter(filter)(meta)).toBe(expected);
  });
});

describe("compileFilter", () => {
  // A seeded generator of random filters and metadata over a few fields, so that matches and misses both occur.
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const scalars = ["a", "b", "c", 1, 2, 3, 2.5, true, false, null] as const;
  const dates = ["2020-01-01", "2021-06-15T12:00:00Z", "2022-12-31"] as const;
  const fields = ["s", "n", "d", "tags", "deep.x"] as const;
  const metadata = () => ({
    s: pick(scalars),
    n: pick([1, 2, 3, 4.5, "2"]),
    d: pick([...dates, "not a date", 7]),
    tags: [pick(scalars), pick(scalars)],
    deep: { x: pick(scalars) },
  });
  const filter = (depth: number): Filter => {
    const roll = random();
    if (depth > 0 && roll < 0.3) {
      const parts = [filter(depth - 1), filter(depth - 1)];
      return random() < 0.5 ? { and: parts } : { or: parts };
    }
    if (depth > 0 && roll < 0.4) return { not: filter(depth - 1) };
    const field = pick(fields);
    const kind = random();
    if (kind < 0.3) return { field, eq: pick(scalars) };
    if (kind < 0.6) return { field, in: [pick(scalars), pick(scalars), pick(scalars)] };
    if (kind < 0.8) return { field, gte: pick([1, 2, 3]), lt: pick([2, 3, 5]) };
    return { field, gt: pick(dates) };
  };

  it("agrees with matchesFilter on random filters and metadata", () => {
    let matched = 0;
    for (let i = 0; i < 2000; i += 1) {
      const f = filter(3);
      const compiled = compileFilter(f);
      for (let j = 0; j < 5; j += 1) {
        const m = metadata();
        const expected = matchesFilter(f, m);
        expect(compiled(m), JSON.stringify({ f, m })).toBe(expected);
        if (expected) matched += 1;
      }
    }
    // Both outcomes were exercised.
    expect(matched).toBeGreaterThan(1000);
    expect(matched).toBeLessThan(9000);
  });
});

describe("filterSchema", () => {
  it("accepts every documented form", () => {
    for (const f of [
      { field: "a", eq: 1 },
      { field: "a", in: ["x"] },
      { field: "a", gte: 1, lt: 2 },
      { field: "d", gte: "2024-01-01" },
      { and: [{ or: [{ field: "a", eq: true }] }, { not: { field: "b", eq: null } }] },
    ]) {
      expect(filterSchema.safeParse(f).success, JSON.stringify(f)).toBe(true);
    }
  });

  it.each([
    [{ field: "a" }, "no operator"],
    [{ field: "a", eq: 1, extra: true }, "unknown key"],
    [{ field: "a", gte: "yesterday" }, "not a date"],
    [{ field: "a", gte: 1, lt: "2024-01-01" }, "mixed bound kinds"],
    [{ and: [] }, "empty and"],
    [{ field: "", eq: 1 }, "empty field"],
  ] as Array<[unknown, string]>)("rejects %j (%s)", (f) => {
    expect(filterSchema.safeParse(f).success).toBe(false);
  });
});
