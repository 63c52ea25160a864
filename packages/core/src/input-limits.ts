import type { FieldIssue } from "./errors";
import type { Filter } from "./filter";

/**
 * Caps on a metadata filter, checked on the raw JSON before schema validation (so neither validation nor
 * evaluation can be made to do unbounded work):
 * - `maxNodes`: conditions plus `and`/`or`/`not` nodes, counted over the whole filter;
 * - `maxDepth`: nesting levels (a single condition is depth 1; `{"not": {...}}` around it is 2);
 * - `maxValues`: values compared against, over the whole filter (`in` counts its list, `eq` one, each
 *   range bound one). Evaluation costs about (chunks × values), so this bounds it.
 */
export interface FilterLimits {
  maxNodes: number;
  maxDepth: number;
  maxValues: number;
}

/**
 * Room for a real analyst filter (a few dozen conditions, a few hundred allowed values) with the ANDed key
 * scope on top; refuses the 60 × 1,000-value filters that held the event loop for seconds.
 */
export const defaultFilterLimits: FilterLimits = { maxNodes: 64, maxDepth: 8, maxValues: 1024 };

type Frame = { value: unknown; depth: number; path: string };

/**
 * Walks a raw (unvalidated) filter iteratively, with no recursion, and returns the first cap it exceeds as
 * a field issue under `path`, or undefined. Shapes it does not recognise are left for the schema to name;
 * the walk stops as soon as a cap is passed, so its cost is bounded by the caps, not by the input.
 */
export function checkFilterLimits(
  raw: unknown,
  path: string,
  limits: FilterLimits = defaultFilterLimits,
): FieldIssue | undefined {
  const stack: Frame[] = [{ value: raw, depth: 1, path }];
  let nodes = 0;
  let values = 0;
  while (stack.length > 0) {
    const { value, depth, path: at } = stack.pop()!;
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
    nodes += 1;
    if (nodes > limits.maxNodes) {
      return { path, message: `a filter may hold at most ${limits.maxNodes} conditions and operators` };
    }
    if (depth > limits.maxDepth) {
      return { path: at, message: `a filter may nest at most ${limits.maxDepth} levels deep` };
    }
    const node = value as Record<string, unknown>;
    for (const operator of ["and", "or"] as const) {
      const children = node[operator];
      if (!Array.isArray(children)) continue;
      // More children than nodes allowed is refused without looking at them.
      if (children.length > limits.maxNodes) {
        return { path, message: `a filter may hold at most ${limits.maxNodes} conditions and operators` };
      }
      children.forEach((child, i) => {
        stack.push({ value: child, depth: depth + 1, path: `${at}.${operator}.${i}` });
      });
    }
    if ("not" in node) stack.push({ value: node.not, depth: depth + 1, path: `${at}.not` });
    if (Array.isArray(node.in)) values += node.in.length;
    for (const operator of ["eq", "gt", "gte", "lt", "lte"]) if (operator in node) values += 1;
    if (values > limits.maxValues) {
      return { path, message: `a filter may compare against at most ${limits.maxValues} values in all` };
    }
  }
  return undefined;
}

/** `a AND b`, either side optional (a key's scope ANDed into a request's own filter). */
export function andFilters(a: Filter | undefined, b: Filter | undefined): Filter | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { and: [a, b] };
}

export interface JsonInspectionOptions {
  /** Deepest nesting of arrays and objects allowed (the top-level value is depth 1). */
  maxDepth: number;
  /** Stop after this many issues. */
  maxIssues: number;
  /** Path prefix of `value` in the request (e.g. `documents.3.metadata`); empty for the whole body. */
  path?: string;
}

/** `String.prototype.isWellFormed` (Node 20; typed here because the project's lib is ES2023). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

type Walk = { value: unknown; depth: number; parent: Walk | undefined; key: string };

function pathOf(walk: Walk, prefix: string): string {
  const parts: string[] = [];
  for (let at: Walk | undefined = walk; at !== undefined && at.parent !== undefined; at = at.parent) {
    parts.push(at.key);
  }
  if (prefix !== "") parts.push(prefix);
  return parts.reverse().join(".");
}

/**
 * Checks parsed JSON iteratively (no recursion, so no stack overflow whatever the nesting):
 * - every string, object keys included, is well-formed UTF-16 (no lone surrogate: Postgres, JSON
 *   encoders and UTF-8 on the wire cannot carry one);
 * - arrays and objects nest at most `maxDepth` deep (nothing deeper is walked).
 * Returns the offending fields by dotted path (at most `maxIssues`), in document order.
 */
export function inspectJson(value: unknown, options: JsonInspectionOptions): FieldIssue[] {
  const prefix = options.path ?? "";
  const issues: FieldIssue[] = [];
  const stack: Walk[] = [{ value, depth: 1, parent: undefined, key: "" }];
  while (stack.length > 0 && issues.length < options.maxIssues) {
    const walk = stack.pop()!;
    const current = walk.value;
    if (typeof current === "string") {
      if (!isWellFormed(current)) {
        issues.push({ path: pathOf(walk, prefix), message: "not well-formed Unicode (a lone surrogate)" });
      }
      continue;
    }
    if (typeof current !== "object" || current === null) continue;
    if (walk.depth > options.maxDepth) {
      issues.push({ path: pathOf(walk, prefix), message: `nested deeper than ${options.maxDepth} levels` });
      continue;
    }
    const children: Walk[] = [];
    if (Array.isArray(current)) {
      current.forEach((item, i) => {
        children.push({ value: item, depth: walk.depth + 1, parent: walk, key: String(i) });
      });
    } else {
      for (const [key, item] of Object.entries(current)) {
        if (!isWellFormed(key)) {
          const at = { value: item, depth: walk.depth + 1, parent: walk, key };
          issues.push({
            path: pathOf(at, prefix),
            message: "key is not well-formed Unicode (a lone surrogate)",
          });
          if (issues.length >= options.maxIssues) break;
          continue;
        }
        children.push({ value: item, depth: walk.depth + 1, parent: walk, key });
      }
    }
    // Reversed, so the stack pops children in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return issues;
}
