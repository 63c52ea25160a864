import path from "node:path";
import { ApiKeys } from "@sift/access";
import { openStore } from "@sift/store";
import { describe, expect, it } from "vitest";
import { exitCodes } from "./cli";
import { useCliScratch } from "./cli-test-support";

const scratch = useCliScratch("sift-keys-");
const run = scratch.run;

describe("sift keys", () => {
  it("creates a key shown once as JSON, lists it without the secret, and revokes it", async () => {
    const created = await run(["keys", "create", "--tenant", "acme", "--role", "admin", "--json"]);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const printed = JSON.parse(created.stdout) as Record<string, string>;
    expect(Object.keys(printed)).toEqual(["id", "key", "tenant", "role"]);
    expect(printed).toMatchObject({ tenant: "acme", role: "admin", id: expect.stringMatching(/^key_/) });
    expect(printed.key).toMatch(/^sift_[0-9A-Za-z]{49}$/);

    const scopedRun = await run([
      "keys",
      "create",
      "--tenant",
      "acme",
      "--role",
      "reader",
      "--filter",
      '{"field":"desk","eq":"energy"}',
      "--user",
      "ana",
      "--expires",
      "2099-01-01T00:00:00Z",
      "--json",
    ]);
    expect(JSON.parse(scopedRun.stdout)).toMatchObject({
      filter: { field: "desk", eq: "energy" },
      user: "ana",
      expiresAt: "2099-01-01T00:00:00.000Z",
    });

    const listed = await run(["keys", "list", "--tenant", "acme"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(printed.id);
    expect(listed.stdout).toContain("scope {");
    expect(listed.stdout).not.toContain(printed.key!.slice(12));
    const json = (await run(["keys", "list", "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json.map((k: { id: string }) => k.id)).toContain(printed.id);

    // The key works against the store the CLI wrote to, until it is revoked.
    const store = await openStore({ driver: "pglite", dataDir: path.join(scratch.dataDir, "pglite") });
    try {
      await expect(new ApiKeys({ store }).verify(printed.key!)).resolves.toMatchObject({ role: "admin" });
    } finally {
      await store.close();
    }
    expect((await run(["keys", "revoke", printed.id!])).stdout).toContain(`revoked ${printed.id}`);
    const again = await openStore({ driver: "pglite", dataDir: path.join(scratch.dataDir, "pglite") });
    try {
      await expect(new ApiKeys({ store: again }).verify(printed.key!)).rejects.toThrow(/revoked/);
      const trail = await again.listAudit("acme", { limit: 10 });
      expect(trail.map((e) => e.action)).toEqual(["key.revoke", "key.create", "key.create"]);
      expect(trail[0]?.actor).toMatch(/^cli:/);
    } finally {
      await again.close();
    }
    expect((await run(["keys", "revoke", "key_missing"])).code).toBe(exitCodes.failed);
    // Seven store opens (PGlite migrations each): over 60 s on a loaded 2-core machine (CI failed so once).
  }, 240_000);

  it.each([
    [["keys"], /missing subcommand/],
    [["keys", "make"], /unknown subcommand 'make'/],
    [["keys", "create", "--role", "admin"], /--tenant is required/],
    [["keys", "create", "--tenant", "t", "--role", "owner"], /--role 'owner' is invalid/],
    [["keys", "create", "--tenant", "t", "--role", "reader", "--filter", "{"], /--filter is not JSON/],
    [["keys", "create", "--tenant", "t", "--role", "reader", "--expires", "soon"], /not an ISO date/],
    [
      ["keys", "create", "--tenant", "t", "--role", "writer", "--filter", '{"field":"a","eq":1}'],
      /only reader keys/,
    ],
    [["keys", "revoke"], /missing key ID/],
  ])("sift %j is a usage error", async (argv, message) => {
    const result = await run(argv as string[]);
    expect(result.code).toBe(exitCodes.usage);
    expect(result.stderr).toMatch(message);
  });

  it("prints its help", async () => {
    const result = await run(["keys", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: sift keys/);
  });
});
