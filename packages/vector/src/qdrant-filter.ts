import type { Schemas } from "@qdrant/js-client-rest";
import type { Filter, Scalar } from "@sift/core";

type QdrantFilter = Schemas["Filter"];
type QdrantCondition = Schemas["Condition"];

/** Document metadata lives under this payload key; filter fields are paths inside it. */
export const METADATA_KEY = "metadata";

const isInteger = (value: Scalar): value is number => typeof value === "number" && Number.isInteger(value);

/**
 * One `eq` value as a Qdrant condition on `key`. Qdrant's `match` takes keywords, integers and booleans;
 * a non-integer number becomes a closed range, `null` becomes `is_null`. On an array payload, Qdrant
 * matches when any element does, as `matchesFilter` does.
 */
function equals(key: string, value: Scalar): QdrantCondition {
  if (value === null) return { is_null: { key } };
  if (typeof value === "number" && !Number.isInteger(value))
    return { key, range: { gte: value, lte: value } };
  return { key, match: { value } };
}

/** ISO 8601 strings as RFC 3339 instants (what Qdrant's datetime range parses). */
function instant(bound: string): string {
  return new Date(Date.parse(bound)).toISOString();
}

/**
 * Translates a (validated) Sift {@link Filter} into a Qdrant filter over `metadata.<field>`, with the same
 * semantics as `matchesFilter`: `and` → `must`, `or` → `should`, `not` → `must_not`; a condition on a
 * missing field is false, so its `not` is true (Qdrant's `must_not` keeps points without the field).
 */
export function toQdrantCondition(filter: Filter): QdrantCondition {
  if ("and" in filter) return { must: filter.and.map(toQdrantCondition) };
  if ("or" in filter) return { should: filter.or.map(toQdrantCondition) };
  if ("not" in filter) return { must_not: [toQdrantCondition(filter.not)] };
  const key = `${METADATA_KEY}.${filter.field}`;
  if ("eq" in filter) return equals(key, filter.eq);
  if ("in" in filter) {
    const values = filter.in;
    if (values.every((v) => typeof v === "string")) return { key, match: { any: values as string[] } };
    if (values.every(isInteger)) return { key, match: { any: values as number[] } };
    return { should: values.map((value) => equals(key, value)) };
  }
  const bounds = [filter.gt, filter.gte, filter.lt, filter.lte];
  if (bounds.some((b) => typeof b === "string")) {
    const date = (b: number | string | undefined) => (typeof b === "string" ? instant(b) : undefined);
    const range: Schemas["DatetimeRange"] = {};
    if (filter.gt !== undefined) range.gt = date(filter.gt) ?? null;
    if (filter.gte !== undefined) range.gte = date(filter.gte) ?? null;
    if (filter.lt !== undefined) range.lt = date(filter.lt) ?? null;
    if (filter.lte !== undefined) range.lte = date(filter.lte) ?? null;
    return { key, range };
  }
  const range: Schemas["Range"] = {};
  if (typeof filter.gt === "number") range.gt = filter.gt;
  if (typeof filter.gte === "number") range.gte = filter.gte;
  if (typeof filter.lt === "number") range.lt = filter.lt;
  if (typeof filter.lte === "number") range.lte = filter.lte;
  return { key, range };
}

/** The condition every request of one index carries: its tenant and its Sift collection. */
export function scopeConditions(tenant: string, collectionId: number): QdrantCondition[] {
  return [
    { key: "tenant", match: { value: tenant } },
    { key: "collection_id", match: { value: collectionId } },
  ];
}

/** The full filter of a search: the scope, plus the user's filter when there is one. */
export function toQdrantFilter(
  scope: { tenant: string; collectionId: number },
  filter: Filter | undefined,
): QdrantFilter {
  const must = scopeConditions(scope.tenant, scope.collectionId);
  if (filter !== undefined) must.push(toQdrantCondition(filter));
  return { must };
}
