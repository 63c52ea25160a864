/**
 * The patched postgres.js driver (patches/postgres@3.4.9.patch, docs/adr/0018): a transaction whose
 * backend dies under it must reject with CONNECTION_CLOSED and leave the pool healthy. Unpatched, 3.4.9
 * writes the transaction's next statement to the closed connection and the process dies with an
 * uncatchable `Cannot read properties of null (reading 'write')` (porsager/postgres#1208), or the
 * reconnected connection answers a later query with another statement's empty result.
 *
 * The scenario runs in a child process so that a crash shows here as its exit status and stderr.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const adminUrl = process.env.DATABASE_URL_ADMIN ?? "postgres://root@127.0.0.1:5432/postgres";
const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/** Kills each transaction's backend mid-transaction, then checks the pool answers correctly. */
const scenario = `
import postgres from "postgres";
const url = process.argv[1];
const sql = postgres(url, { max: 2, onnotice: () => {} });
const admin = postgres(url, { max: 1, onnotice: () => {} });
const report = { transactions: [], after: [] };
for (let i = 0; i < 4; i++) {
  try {
    await sql.begin(async (tx) => {
      const [{ pid }] = await tx\`select pg_backend_pid() as pid\`;
      await admin\`select pg_terminate_backend(\${pid})\`;
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx\`select 1\`;
    });
    report.transactions.push("committed");
  } catch (error) {
    report.transactions.push(error.code ?? String(error));
  }
  report.after.push((await sql\`select \${40 + i}::int as x\`)[0]?.x ?? null);
}
const rows = await Promise.all(Array.from({ length: 6 }, (_, i) => sql\`select \${i}::int as x\`));
report.pool = rows.map((r) => r[0]?.x ?? null);
await sql.end();
await admin.end();
console.log(JSON.stringify(report));
`;

describe("postgres.js under a backend killed mid-transaction", () => {
  it("rejects the transaction with CONNECTION_CLOSED, keeps the process alive and the pool correct", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", scenario, adminUrl],
      { cwd: packageRoot, timeout: 60_000 },
    ).catch((error: { code?: number; stderr?: string }) => {
      throw new Error(`the scenario process failed (exit ${error.code}):\n${error.stderr}`);
    });
    expect(JSON.parse(stdout)).toEqual({
      transactions: ["CONNECTION_CLOSED", "CONNECTION_CLOSED", "CONNECTION_CLOSED", "CONNECTION_CLOSED"],
      after: [40, 41, 42, 43],
      pool: [0, 1, 2, 3, 4, 5],
    });
  }, 90_000);
});
