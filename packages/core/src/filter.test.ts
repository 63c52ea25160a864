import { describe, expect, it } from "vitest";
import { type Filter, filterSchema, matchesFilter } from "./filter";

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
