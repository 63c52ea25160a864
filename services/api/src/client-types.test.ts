/**
 * @sift/client's wire types are written by hand (packages/client/src/types.ts). This holds the feed's and
 * the access routes' shapes to the served /openapi.json: the TypeScript checker reads each client type,
 * and every property (name, optional or required, nullable, string/number/boolean/array/object, enum
 * values), recursively, must match the component schema it claims to be. A field added, dropped, renamed,
 * made nullable or optional on either side fails here.
 */
import { createRequire } from "node:module";
import path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPages } from "./pages";
import { createTestApp } from "./test-support";

type Schema = { [key: string]: unknown };

/** Client type → the component (and where inside it) that the service answers or accepts. */
const pairs: Array<{ type: string; component: string; at?: string[] }> = [
  { type: "FeedItemExplanation", component: "FeedItemExplanation", at: ["properties", "why"] },
  { type: "FeedItem", component: "FeedItem" },
  { type: "FeedPage", component: "FeedPage" },
  { type: "FeedEventsAccepted", component: "FeedEventsAccepted" },
  { type: "Profile", component: "Profile" },
  { type: "ApiKey", component: "Key" },
  { type: "CreateKeyRequest", component: "CreateKeyRequest" },
  { type: "AuditEvent", component: "AuditEvent" },
];

/** A schema's alternatives: nested anyOf/oneOf flattened, `type: [a, b]` split; one branch when none. */
function alternatives(schema: Schema): Schema[] {
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches !== undefined) return branches.flatMap(alternatives);
  if (Array.isArray(schema.type)) return (schema.type as string[]).map((type) => ({ ...schema, type }));
  return [schema];
}

class ShapeComparison {
  readonly #seen = new Set<string>();
  constructor(
    readonly checker: ts.TypeChecker,
    readonly components: Record<string, Schema>,
  ) {}

  /** Mismatches between `type` and `schema`, each as `path: what`. */
  compare(type: ts.Type, schema: Schema, at: string): string[] {
    const ref = schema.$ref as string | undefined;
    if (ref !== undefined) {
      const name = ref.replace("#/components/schemas/", "");
      const key = `${name}|${this.checker.typeToString(type)}`;
      if (this.#seen.has(key)) return []; // a recursive schema (Filter) already under comparison
      this.#seen.add(key);
      return this.compare(type, this.components[name] ?? {}, at);
    }
    const members = type.isUnion() ? type.types : [type];
    const typeNullable = members.some((t) => t.flags & ts.TypeFlags.Null);
    const nonNull = members.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
    const branches = alternatives(schema);
    const schemaNullable = branches.some((b) => b.type === "null");
    if (schemaNullable !== typeNullable)
      return [`${at}: nullable in ${schemaNullable ? "schema" : "client"} only`];
    const rest = branches.filter((b) => b.type !== "null");
    if (rest.length === 1) return this.compareKind(nonNull, rest[0]!, at);
    return this.compareUnion(nonNull, rest, at);
  }

  /**
   * A union against alternatives, as sets: every schema branch matches some member of the client's union
   * and every member some branch (a date and a date-time string branch are both `string`).
   */
  compareUnion(members: ts.Type[], branches: Schema[], at: string): string[] {
    if (members.every((m) => m.isStringLiteral()) && branches.every((b) => b.const !== undefined)) {
      return this.compareEnum(members, branches.map((b) => b.const) as string[], at);
    }
    const matches = (m: ts.Type, b: Schema) => this.compare(m, b, at).length === 0;
    const branchesLeft = branches.filter((b) => !members.some((m) => matches(m, b)));
    const membersLeft = members.filter((m) => !branches.some((b) => matches(m, b)));
    if (branchesLeft.length === 0 && membersLeft.length === 0) return [];
    return [
      `${at}: unmatched schema branches ${JSON.stringify(branchesLeft).slice(0, 200)}, client members [${membersLeft.map((m) => this.name(m))}]`,
    ];
  }

  /** The client's (non-null) members against one schema branch. */
  compareKind(members: ts.Type[], schema: Schema, at: string): string[] {
    if (Array.isArray(schema.enum)) return this.compareEnum(members, schema.enum as string[], at);
    if (schema.const !== undefined) return this.compareEnum(members, [schema.const as string], at);
    const kind = schema.type;
    const names = members.map((m) => this.name(m)).join(" | ");
    const is = (flags: ts.TypeFlags) => members.every((m) => m.flags & flags);
    if (kind === "string")
      return is(ts.TypeFlags.String) ? [] : [`${at}: string in schema, ${names} in client`];
    if (kind === "number" || kind === "integer") {
      return is(ts.TypeFlags.Number) ? [] : [`${at}: number in schema, ${names} in client`];
    }
    if (kind === "boolean")
      return is(ts.TypeFlags.BooleanLike) ? [] : [`${at}: boolean in schema, ${names} in client`];
    if (kind !== "array" && kind !== "object") return []; // any JSON value: nothing to hold the client to
    const [type] = members;
    if (members.length !== 1 || type === undefined)
      return [`${at}: one ${kind} in schema, ${names} in client`];
    if (kind === "object") return this.compareObject(type, schema, at);
    if (!this.checker.isArrayType(type)) return [`${at}: array in schema, ${names} in client`];
    const element = this.checker.getTypeArguments(type as ts.TypeReference)[0]!;
    return this.compare(element, (schema.items ?? {}) as Schema, `${at}[]`);
  }

  compareEnum(members: ts.Type[], values: string[], at: string): string[] {
    const client = members.map((m) => (m.isStringLiteral() ? m.value : this.name(m))).sort();
    const expected = [...values].sort();
    return client.join() === expected.join()
      ? []
      : [`${at}: enum [${expected}] in schema, [${client}] in client`];
  }

  compareObject(type: ts.Type, schema: Schema, at: string): string[] {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const required = new Set((schema.required ?? []) as string[]);
    const symbols = this.checker.getPropertiesOfType(type);
    if (Object.keys(properties).length === 0 && typeof schema.additionalProperties === "object") {
      const value = this.checker.getIndexTypeOfType(type, ts.IndexKind.String);
      if (value === undefined) return [`${at}: a map in schema, ${this.name(type)} in client`];
      return this.compare(value, schema.additionalProperties as Schema, `${at}[key]`);
    }
    const problems: string[] = [];
    for (const name of Object.keys(properties)) {
      if (!symbols.some((s) => s.name === name)) problems.push(`${at}.${name}: in schema only`);
    }
    for (const symbol of symbols) {
      const property = properties[symbol.name];
      const where = `${at}.${symbol.name}`;
      if (property === undefined) {
        problems.push(`${where}: in client only`);
        continue;
      }
      const optional = (symbol.flags & ts.SymbolFlags.Optional) !== 0;
      if (optional === required.has(symbol.name)) {
        problems.push(`${where}: ${optional ? "optional" : "required"} in client, not in schema`);
      }
      problems.push(...this.compare(this.checker.getTypeOfSymbol(symbol), property, where));
    }
    return problems;
  }

  name(type: ts.Type): string {
    return this.checker.typeToString(type);
  }
}

/** The client's types module, through the TypeScript checker. */
function clientTypes() {
  const entry = createRequire(import.meta.url).resolve("@sift/client");
  const file = path.join(path.dirname(entry), "types.ts");
  const program = ts.createProgram([file], { strict: true, exactOptionalPropertyTypes: true, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const exported = new Map(checker.getExportsOfModule(module).map((s) => [s.name, s]));
  const typeOf = (name: string) => checker.getDeclaredTypeOfSymbol(exported.get(name)!);
  return { checker, typeOf };
}

let components: Record<string, Schema>;
let client: ReturnType<typeof clientTypes>;
beforeAll(async () => {
  client = clientTypes();
  const pages = await loadPages({ playgroundDir: "/nonexistent", evalReport: "/nonexistent/report.html" });
  const t = await createTestApp({ pages });
  try {
    const document = (await t.call("GET", "/openapi.json")).body as {
      components: { schemas: Record<string, Schema> };
    };
    components = document.components.schemas;
  } finally {
    await t.close();
  }
});

describe("@sift/client's feed and access types against /openapi.json", () => {
  it.each(pairs)("$type is the shape of $component", ({ type, component, at = [] }) => {
    const { checker, typeOf } = client;
    let schema = components[component] as Schema;
    for (const step of at) schema = schema[step] as Schema;
    expect(schema, component).toBeDefined();
    expect(new ShapeComparison(checker, components).compare(typeOf(type), schema, type)).toEqual([]);
  });

  it("reports drift (a control: the comparison can fail)", () => {
    const { checker, typeOf } = client;
    const why = structuredClone(
      (components.FeedItemExplanation as Schema & { properties: { why: Schema } }).properties.why,
    );
    const properties = why.properties as Record<string, Schema>;
    properties.reasons = { type: "string" };
    properties.added = { type: "number" };
    properties.ranker = { anyOf: [{ type: "string" }, { type: "null" }] };
    why.required = (why.required as string[]).filter((name) => name !== "title");
    expect(
      new ShapeComparison(checker, components).compare(typeOf("FeedItemExplanation"), why, "why").sort(),
    ).toEqual([
      "why.added: in schema only",
      "why.ranker: nullable in schema only",
      "why.reasons: string in schema, string[] in client",
      "why.title: required in client, not in schema",
    ]);
  });
});
