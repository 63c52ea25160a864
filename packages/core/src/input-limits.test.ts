import { describe, expect, it } from "vitest";
import { maxFieldIssues, ValidationError } from "./errors";
import type { Filter } from "./filter";
import { andFilters, checkFilterLimits, defaultFilterLimits, inspectJson } from "./input-limits";

const condition = (i: number): Filter => ({ field: `f${i}`, eq: i });

describe("checkFilterLimits", () => {
  it("accepts a filter within every cap", () => {
    const filter = {
      and: [
        { field: "desk", in: Array.from({ length: 500 }, (_, i) => `d${i}`) },
        { not: { or: [condition(1), condition(2)] } },
        { field: "year", gte: 2019, lt: 2023 },
      ],
    };
    expect(checkFilterLimits(filter, "filter")).toBeUndefined();
  });

  it("refuses too many nodes, naming the filter", () => {
    const filter = { or: Array.from({ length: 64 }, (_, i) => condition(i)) };
    expect(checkFilterLimits(filter, "filter")).toEqual({
      path: "filter",
      message: expect.stringContaining(`at most ${defaultFilterLimits.maxNodes} conditions`),
    });
  });

  it("refuses a huge operand list without walking it", () => {
    const filter = { and: Array.from({ length: 1_000_000 }, (_, i) => condition(i)) };
    expect(checkFilterLimits(filter, "filter")?.message).toContain("conditions");
  });

  it("refuses nesting past the depth cap at the deepest path, even 1,000 deep", () => {
    let deep: Filter = condition(0);
    for (let i = 0; i < 1000; i++) deep = { and: [deep] };
    const issue = checkFilterLimits(deep, "filter");
    expect(issue?.message).toContain(`at most ${defaultFilterLimits.maxDepth} levels`);
    expect(issue?.path).toBe(`filter${".and.0".repeat(defaultFilterLimits.maxDepth)}`);
    let notChain: Filter = condition(0);
    for (let i = 0; i < 1000; i++) notChain = { not: notChain };
    expect(checkFilterLimits(notChain, "filter")?.message).toContain("levels");
  });

  it("refuses more values in all than the cap (60 `in` lists of 1,000)", () => {
    const filter = {
      and: Array.from({ length: 60 }, (_, i) => ({
        field: `f${i}`,
        in: Array.from({ length: 1000 }, (_, j) => j),
      })),
    };
    expect(checkFilterLimits(filter, "filter")?.message).toContain(
      `at most ${defaultFilterLimits.maxValues} values`,
    );
    const justOver = {
      and: [
        { field: "a", in: Array.from({ length: 1000 }, (_, j) => j) },
        { field: "b", gte: 1, lte: 2 },
        ...Array.from({ length: 23 }, (_, i) => condition(i)),
      ],
    };
    expect(checkFilterLimits(justOver, "filter")?.message).toContain("values");
  });

  it("leaves shapes it does not know to the schema", () => {
    expect(checkFilterLimits("not a filter", "filter")).toBeUndefined();
    expect(checkFilterLimits({ and: "x" }, "filter")).toBeUndefined();
  });
});

describe("andFilters", () => {
  it("ANDs two filters and keeps either alone", () => {
    expect(andFilters(undefined, undefined)).toBeUndefined();
    expect(andFilters(condition(1), undefined)).toEqual(condition(1));
    expect(andFilters(undefined, condition(2))).toEqual(condition(2));
    expect(andFilters(condition(1), condition(2))).toEqual({ and: [condition(1), condition(2)] });
  });
});

describe("inspectJson", () => {
  const options = { maxDepth: 8, maxIssues: 20 };

  it("passes well-formed JSON, astral characters included", () => {
    expect(inspectJson({ a: ["😀", { b: "é" }], n: 1, z: null }, options)).toEqual([]);
  });

  it("names each lone surrogate by path, in values and in keys", () => {
    const body = { documents: [{ id: "ok" }, { id: "bad\ud800", metadata: { "k\udc00": 1 } }] };
    expect(inspectJson(body, options)).toEqual([
      { path: "documents.1.id", message: expect.stringContaining("lone surrogate") },
      { path: "documents.1.metadata.k\udc00", message: expect.stringContaining("lone surrogate") },
    ]);
  });

  it("refuses nesting 2,000 deep without overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 2000; i++) deep = { x: deep };
    const issues = inspectJson(deep, { ...options, path: "metadata" });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(`metadata${".x".repeat(8)}`);
    expect(issues[0]?.message).toContain("deeper than 8");
  });

  it("stops at maxIssues", () => {
    const body = Array.from({ length: 100 }, () => "\ud800");
    expect(inspectJson(body, { maxDepth: 4, maxIssues: 3 })).toHaveLength(3);
  });
});

describe("ValidationError", () => {
  it("keeps at most 20 field issues and says how many there were", () => {
    const fields = Array.from({ length: 55 }, (_, i) => ({ path: `f${i}`, message: "bad" }));
    const error = new ValidationError("invalid request body", fields);
    expect(error.fields).toHaveLength(maxFieldIssues);
    expect(error.message).toBe("invalid request body (the first 20 of 55 field errors are listed)");
  });
});
