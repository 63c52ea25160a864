import { z } from "zod";
import type { JsonValue, Metadata } from "./types";

/**
 * A metadata filter. Conditions name a `field` (a dotted path into the document's metadata) and one
 * operator; `and`, `or` and `not` combine them.
 *
 * - `{"field": "lang", "eq": "en"}`: equal (for an array field: any element equal)
 * - `{"field": "tag", "in": ["a", "b"]}`: equal to one of the values
 * - `{"field": "year", "gte": 2019, "lt": 2023}`: numeric range; bounds combine with AND
 * - `{"field": "published", "gte": "2024-01-01"}`: date range (ISO 8601 strings, compared as instants)
 * - `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`
 *
 * A condition on a missing field is false (so `not` of it is true).
 */
export type Filter =
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter }
  | { field: string; eq: Scalar }
  | { field: string; in: Scalar[] }
  | {
      field: string;
      gt?: number | string;
      gte?: number | string;
      lt?: number | string;
      lte?: number | string;
    };

export type Scalar = string | number | boolean | null;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** An ISO 8601 date (`2024-01-01`) or date-time (`2024-01-01T12:00:00Z`, offset optional). */
const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true, local: true })], {
  error: "not an ISO date",
});
const bound = z.union([z.number(), isoDate]);
const fieldName = z.string().min(1).max(200);

export const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([
    z.strictObject({ and: z.array(filterSchema).min(1) }),
    z.strictObject({ or: z.array(filterSchema).min(1) }),
    z.strictObject({ not: filterSchema }),
    z.strictObject({ field: fieldName, eq: scalar }),
    z.strictObject({ field: fieldName, in: z.array(scalar).min(1).max(1000) }),
    z
      .strictObject({
        field: fieldName,
        gt: bound.optional(),
        gte: bound.optional(),
        lt: bound.optional(),
        lte: bound.optional(),
      })
      // `field` plus at least one bound; said in JSON Schema too (the OpenAPI document).
      .meta({ minProperties: 2 })
      .refine((v) => v.gt !== undefined || v.gte !== undefined || v.lt !== undefined || v.lte !== undefined, {
        message: "a range condition needs at least one of gt, gte, lt, lte",
      })
      .refine(
        (v) => {
          const kinds = new Set(
            [v.gt, v.gte, v.lt, v.lte].filter((b) => b !== undefined).map((b) => typeof b),
          );
          return kinds.size <= 1;
        },
        { message: "range bounds must be all numbers or all dates" },
      ),
  ]),
) as z.ZodType<Filter>;

function lookup(metadata: Metadata, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = metadata;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = current[part];
  }
  return current;
}

function values(value: JsonValue | undefined): JsonValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function compareBound(value: JsonValue, b: number | string): number | undefined {
  if (typeof b === "number") {
    return typeof value === "number" ? value - b : undefined;
  }
  if (typeof value !== "string") return undefined;
  const left = Date.parse(value);
  if (Number.isNaN(left)) return undefined;
  return left - Date.parse(b);
}

/**
 * A (validated) filter compiled once into a predicate over document metadata, with the same semantics as
 * {@link matchesFilter}: `in` lists become Sets and date bounds are parsed once, so evaluating it over many
 * documents costs one pass over each document's fields, not one scan of every list per document.
 */
export function compileFilter(filter: Filter): (metadata: Metadata) => boolean {
  if ("and" in filter) {
    const parts = filter.and.map(compileFilter);
    return (metadata) => parts.every((part) => part(metadata));
  }
  if ("or" in filter) {
    const parts = filter.or.map(compileFilter);
    return (metadata) => parts.some((part) => part(metadata));
  }
  if ("not" in filter) {
    const inner = compileFilter(filter.not);
    return (metadata) => !inner(metadata);
  }
  const { field } = filter;
  if ("eq" in filter) {
    const wanted = filter.eq;
    return (metadata) => values(lookup(metadata, field)).some((v) => v === wanted);
  }
  if ("in" in filter) {
    const wanted = new Set<JsonValue>(filter.in);
    return (metadata) => values(lookup(metadata, field)).some((v) => wanted.has(v));
  }
  const bounds = [filter.gt, filter.gte, filter.lt, filter.lte];
  const numeric = bounds.some((b) => typeof b === "number");
  const at = bounds.map((b) => (b === undefined ? undefined : typeof b === "number" ? b : Date.parse(b)));
  const [gt, gte, lt, lte] = at;
  const inRange = (x: number) =>
    (gt === undefined || x > gt) &&
    (gte === undefined || x >= gte) &&
    (lt === undefined || x < lt) &&
    (lte === undefined || x <= lte);
  return (metadata) =>
    values(lookup(metadata, field)).some((v) => {
      if (numeric) return typeof v === "number" && inRange(v);
      if (typeof v !== "string") return false;
      const instant = Date.parse(v);
      return !Number.isNaN(instant) && inRange(instant);
    });
}

/** Evaluates a (validated) filter against a document's metadata. */
export function matchesFilter(filter: Filter, metadata: Metadata): boolean {
  if ("and" in filter) return filter.and.every((f) => matchesFilter(f, metadata));
  if ("or" in filter) return filter.or.some((f) => matchesFilter(f, metadata));
  if ("not" in filter) return !matchesFilter(filter.not, metadata);
  const found = values(lookup(metadata, filter.field));
  if ("eq" in filter) return found.some((v) => v === filter.eq);
  if ("in" in filter) return found.some((v) => filter.in.some((candidate) => candidate === v));
  return found.some((v) => {
    const checks: Array<[number | string | undefined, (d: number) => boolean]> = [
      [filter.gt, (d) => d > 0],
      [filter.gte, (d) => d >= 0],
      [filter.lt, (d) => d < 0],
      [filter.lte, (d) => d <= 0],
    ];
    return checks.every(([b, ok]) => {
      if (b === undefined) return true;
      const d = compareBound(v, b);
      return d !== undefined && ok(d);
    });
  });
}
