import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import type { ApiKeyRecord, Filter, Role, SiftStore } from "@sift/core";
import { roles, SiftError } from "@sift/core";
import { type SubcommandIo, subcommandConfig } from "./subcommand";

export const keysHelp = `Usage: sift keys <create|list|revoke> [options]

Manages API keys in the store (stop an embedded service first; with a Postgres server, run it anywhere).
A key is shown once, when it is created; the store keeps only its sha256.

  sift keys create --tenant T --role admin|writer|reader [--name N] [--expires ISO] [--filter JSON]
                   [--user U] [--json]
      --filter JSON   reader keys only: a metadata filter ANDed into every search and answer the key
                      makes, e.g. '{"field":"desk","eq":"energy"}'
      --user U        the user the key acts for (feeds)
      --json          print {"id","key","tenant","role"} (and name, filter, user, expiresAt when set)
  sift keys list [--tenant T] [--json]       keys (all tenants unless --tenant), newest first, no secrets
  sift keys revoke ID                        revoke a key at once (idempotent)

Exit codes: 0 ok, 1 failed, 2 usage error, 3 store locked by another process.`;

const options = {
  tenant: { type: "string" },
  role: { type: "string" },
  name: { type: "string" },
  expires: { type: "string" },
  filter: { type: "string" },
  user: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

class KeysUsageError extends Error {}

type Parsed = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;

/** Runs `sift keys …`; returns the exit code (0, 1, 2 or 3). */
export async function runKeys(argv: string[], io: SubcommandIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    io.fail(`sift keys: ${(error as Error).message}\nRun 'sift keys --help' for usage.`);
    return 2;
  }
  if (parsed.values.help === true) {
    io.write(keysHelp);
    return 0;
  }
  let run: (store: SiftStore) => Promise<number>;
  try {
    run = planKeys(parsed, io);
  } catch (error) {
    if (!(error instanceof KeysUsageError)) throw error;
    io.fail(`sift keys: ${error.message}\nRun 'sift keys --help' for usage.`);
    return 2;
  }
  const config = subcommandConfig(io);
  if (config === 2) return 2;
  const { openStore } = await import("@sift/store");
  let store: SiftStore | undefined;
  try {
    store = await openStore(config.store);
    await store.migrate();
    return await run(store);
  } catch (error) {
    if (SiftError.is(error) && error.code === "store_locked") {
      io.fail(`sift: ${error.message}`);
      return 3;
    }
    if (SiftError.is(error) && error.code === "invalid_request") {
      const fields = "fields" in error ? (error.fields as { path: string; message: string }[]) : [];
      io.fail(`sift keys: ${error.message}${fields.map((f) => `\n  --${f.path}: ${f.message}`).join("")}`);
      return 2;
    }
    io.fail(`sift keys: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await store?.close();
  }
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const actor = () => `cli:${safeUser()}`;

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

function planKeys(parsed: Parsed, io: SubcommandIo): (store: SiftStore) => Promise<number> {
  const [sub, ...rest] = parsed.positionals;
  const v = parsed.values;
  switch (sub) {
    case "create": {
      if (rest.length > 0) throw new KeysUsageError(`unexpected argument '${rest[0]}'`);
      const input = createInput(v);
      return async (store) => {
        const { ApiKeys } = await import("@sift/access");
        const { key, record } = await new ApiKeys({ store }).create({ ...input, createdBy: actor() });
        await store.appendAudit([
          {
            tenant: record.tenant,
            actor: actor(),
            action: "key.create",
            target: record.id,
            detail: { role: record.role },
          },
        ]);
        if (v.json === true) io.write(JSON.stringify(createdJson(record, key)));
        else {
          io.write(
            `created ${record.role} key ${record.id} for tenant '${record.tenant}' (shown once, keep it):`,
          );
          io.write(`  ${key}`);
        }
        return 0;
      };
    }
    case "list": {
      if (rest.length > 0) throw new KeysUsageError(`unexpected argument '${rest[0]}'`);
      const tenant = v.tenant === undefined ? undefined : checkedName(v.tenant, "tenant");
      return async (store) => {
        const keys = await store.listApiKeys(tenant);
        if (v.json === true) for (const k of keys) io.write(JSON.stringify(k));
        else if (keys.length === 0) io.write("no keys");
        else writeKeyTable(io.write, keys);
        return 0;
      };
    }
    case "revoke": {
      if (rest.length !== 1)
        throw new KeysUsageError(rest.length === 0 ? "missing key ID" : `unexpected argument '${rest[1]}'`);
      const id = rest[0]!;
      return async (store) => {
        const { ApiKeys } = await import("@sift/access");
        const revoked = await new ApiKeys({ store }).revoke(id);
        if (revoked === undefined) {
          io.fail(`sift keys revoke: no key '${id}'`);
          return 1;
        }
        await store.appendAudit([
          { tenant: revoked.tenant, actor: actor(), action: "key.revoke", target: id },
        ]);
        io.write(`revoked ${id} (tenant '${revoked.tenant}', ${revoked.role})`);
        return 0;
      };
    }
    default:
      throw new KeysUsageError(
        sub === undefined ? "missing subcommand (create, list or revoke)" : `unknown subcommand '${sub}'`,
      );
  }
}

function checkedName(value: string, flag: string): string {
  if (!namePattern.test(value)) {
    throw new KeysUsageError(`--${flag} '${value}' is invalid: use 1–128 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

function createInput(v: Parsed["values"]) {
  if (v.tenant === undefined) throw new KeysUsageError("--tenant is required");
  if (v.role === undefined) throw new KeysUsageError("--role is required");
  if (!(roles as readonly string[]).includes(v.role)) {
    throw new KeysUsageError(`--role '${v.role}' is invalid: expected one of ${roles.join(", ")}`);
  }
  let filter: Filter | undefined;
  if (v.filter !== undefined) {
    try {
      filter = JSON.parse(v.filter) as Filter;
    } catch (error) {
      throw new KeysUsageError(`--filter is not JSON: ${(error as Error).message}`);
    }
  }
  let expiresAt: Date | undefined;
  if (v.expires !== undefined) {
    expiresAt = new Date(v.expires);
    if (Number.isNaN(expiresAt.getTime()))
      throw new KeysUsageError(`--expires '${v.expires}' is not an ISO date`);
  }
  return {
    tenant: checkedName(v.tenant, "tenant"),
    role: v.role as Role,
    name: v.name,
    filter,
    user: v.user,
    expiresAt,
  };
}

function createdJson(record: ApiKeyRecord, key: string) {
  return {
    id: record.id,
    key,
    tenant: record.tenant,
    role: record.role,
    ...(record.name === null ? {} : { name: record.name }),
    ...(record.filter === null ? {} : { filter: record.filter }),
    ...(record.user === null ? {} : { user: record.user }),
    ...(record.expiresAt === null ? {} : { expiresAt: record.expiresAt.toISOString() }),
  };
}

function writeKeyTable(write: (text: string) => void, keys: ApiKeyRecord[]): void {
  const rows = keys.map((k) => [
    k.id,
    k.tenant,
    k.role,
    k.revokedAt !== null
      ? "revoked"
      : k.expiresAt !== null && k.expiresAt.getTime() <= Date.now()
        ? "expired"
        : "active",
    k.preview,
    k.createdAt.toISOString().slice(0, 19).replace("T", " "),
    k.lastUsedAt?.toISOString().slice(0, 19).replace("T", " ") ?? "never",
    [
      k.name,
      k.filter === null ? "" : `scope ${JSON.stringify(k.filter)}`,
      k.user === null ? "" : `user ${k.user}`,
    ]
      .filter((s) => s !== null && s !== "")
      .join("; "),
  ]);
  const header = ["id", "tenant", "role", "status", "key", "created", "last used", "notes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  write(line(header));
  for (const row of rows) write(line(row));
}
