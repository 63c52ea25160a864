import { describe, expect, it } from "vitest";
import { buildFilter, type FilterRow, parseScalar } from "./filters";

const row = (field: string, op: FilterRow["op"], value: string, negate = false): FilterRow => ({
  field,
  op,
  value,
  negate,
});

describe("the filter builder", () => {
  it("reads numbers, booleans and null, and keeps other text (ISO dates too) as strings", () => {
    expect([parseScalar("2019"), parseScalar("-1.5"), parseScalar("1e3")]).toEqual([2019, -1.5, 1000]);
    expect([parseScalar("true"), parseScalar("false"), parseScalar("null")]).toEqual([true, false, null]);
    expect([parseScalar(" en "), parseScalar("2024-01-01"), parseScalar("12a")]).toEqual([
      "en",
      "2024-01-01",
      "12a",
    ]);
  });

  it("gives no filter without a named field, one condition for one row, and/or for several", () => {
    expect(buildFilter([], "all")).toBeUndefined();
    expect(buildFilter([row(" ", "eq", "x")], "all")).toBeUndefined();
    expect(buildFilter([row("lang", "eq", "en")], "all")).toEqual({ field: "lang", eq: "en" });
    const rows = [
      row("tags", "in", "a, b,3"),
      row("year", "gte", "2019"),
      row("published", "lt", "2024-01-01"),
    ];
    expect(buildFilter(rows, "all")).toEqual({
      and: [
        { field: "tags", in: ["a", "b", 3] },
        { field: "year", gte: 2019 },
        { field: "published", lt: "2024-01-01" },
      ],
    });
    expect(buildFilter(rows.slice(0, 2), "any")).toEqual({
      or: [
        { field: "tags", in: ["a", "b", 3] },
        { field: "year", gte: 2019 },
      ],
    });
  });

  it("wraps a negated row in not", () => {
    expect(buildFilter([row("lang", "eq", "de", true)], "all")).toEqual({ not: { field: "lang", eq: "de" } });
  });
});
