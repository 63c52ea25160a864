import type { Filter, Scalar } from "@sift/client";

export type FilterOperator = "eq" | "in" | "gt" | "gte" | "lt" | "lte";

/** One row of the filter builder, as typed: a metadata field, an operator and the value's text. */
export interface FilterRow {
  field: string;
  op: FilterOperator;
  value: string;
  negate: boolean;
}

/** Reads a typed value: numbers, `true`/`false`, `null`, else the text itself (dates stay ISO strings). */
export function parseScalar(text: string): Scalar {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true") return true;
  if (trimmed === "false") return false;
  if (trimmed === "null") return null;
  return trimmed;
}

function condition(row: FilterRow): Filter {
  const field = row.field.trim();
  if (row.op === "eq") return { field, eq: parseScalar(row.value) };
  if (row.op === "in") return { field, in: row.value.split(",").map(parseScalar) };
  const bound = parseScalar(row.value);
  // Range bounds are numbers or ISO dates; anything else goes to the service as text and its 400 says why.
  return { field, [row.op]: typeof bound === "number" ? bound : String(bound) } as Filter;
}

/**
 * The search request's `filter` for the builder's rows: rows without a field are ignored; one row is its
 * condition, several are joined by `and` (`combine: "all"`) or `or` (`"any"`); a negated row is `not`.
 * Undefined when no row names a field.
 */
export function buildFilter(rows: FilterRow[], combine: "all" | "any"): Filter | undefined {
  const conditions = rows
    .filter((row) => row.field.trim() !== "")
    .map((row) => (row.negate ? { not: condition(row) } : condition(row)));
  if (conditions.length === 0) return undefined;
  if (conditions.length === 1) return conditions[0];
  return combine === "all" ? { and: conditions } : { or: conditions };
}
