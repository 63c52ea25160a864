import { PGlite } from "@electric-sql/pglite";
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from "@sift/core";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toStoreError } from "./database-errors";

describe("toStoreError (real driver errors, wrapped by drizzle)", () => {
  let client: PGlite;
  const failure = async (statement: string) => {
    try {
      await drizzle({ client }).execute(sql.raw(statement));
    } catch (error) {
      return { raw: error, mapped: toStoreError(error, "pglite", "test") };
    }
    throw new Error(`expected '${statement}' to fail`);
  };

  beforeAll(async () => {
    client = await PGlite.create("memory://");
    await client.exec("create table t (k text primary key, v text not null)");
    await client.exec("insert into t values ('a', 'x')");
  });
  afterAll(() => client.close());

  it("maps a unique violation to ConflictError and keeps the vendor error (not drizzle's wrapper) as cause", async () => {
    const { raw, mapped } = await failure("insert into t values ('a', 'y')");
    expect(mapped).toBeInstanceOf(ConflictError);
    expect((raw as Error).cause).toBeDefined();
    expect(mapped.cause).toBe((raw as Error).cause);
    expect(mapped.cause).toMatchObject({ code: "23505" });
    expect(mapped.message).not.toContain("params"); // drizzle's message would leak the bound values
  });

  it("maps data exceptions and NOT NULL violations to ValidationError", async () => {
    expect((await failure("insert into t values ('b', null)")).mapped).toBeInstanceOf(ValidationError);
    expect((await failure("select 1 / 0")).mapped).toBeInstanceOf(ValidationError);
  });

  it("maps other database errors to a non-retryable UpstreamError and passes Sift errors through", async () => {
    const { mapped } = await failure("select * from missing_table");
    expect(mapped).toBeInstanceOf(UpstreamError);
    expect(mapped).toMatchObject({ upstream: "pglite", isRetryable: false });
    const notFound = new NotFoundError("collection", "1");
    expect(toStoreError(notFound, "pglite", "test")).toBe(notFound);
  });

  it("passes errors that did not come from the driver through unchanged (a bug is a 500, not a 502)", () => {
    const bug = new TypeError("Cannot read properties of undefined");
    expect(toStoreError(bug, "pglite", "test")).toBe(bug);
    const node = Object.assign(new TypeError("bad argument"), { code: "ERR_INVALID_ARG_TYPE" });
    expect(toStoreError(node, "pglite", "test")).toBe(node);
    expect(toStoreError("thrown string", "pglite", "test")).toBeInstanceOf(Error);
  });

  it("gives refused input a message without the driver's text", async () => {
    const { mapped, raw } = await failure("insert into t values ('a', 'y')");
    expect(mapped.message).toBe("test: a conflicting write (a unique constraint, SQLSTATE 23505)");
    expect(JSON.stringify(mapped.message)).not.toContain(((raw as Error).cause as Error).message);
    const invalid = (await failure("select '\\u0000'::jsonb")).mapped;
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.message).toMatch(/^test: the store cannot hold this input \(SQLSTATE 22/);
  });
});
