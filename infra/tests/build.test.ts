/**
 * `pnpm build` and what `npm start` runs: the service bundle starts under plain `node` (no TypeScript
 * loader), serves the API, the playground and the reference page, and stops gracefully on SIGTERM.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("pnpm build", () => {
  it("bundles the service to JavaScript that node runs as npm start does", async () => {
    const { stdout } = await promisify(execFile)("pnpm", ["--silent", "build"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(stdout).toMatch(/services\/api\/dist\/main\.js: \d+ KiB from \d+ sources/);
    const bundle = path.join(root, "services/api/dist/main.js");
    const code = await readFile(bundle, "utf8");
    // The workspace's code is inside; npm packages are imported from the checkout's node_modules.
    expect(code).toContain("function startService(");
    expect(code).not.toMatch(/from "@sift\//);
    expect(await readFile(path.join(root, "infra/scripts/start.sh"), "utf8")).toContain(
      'exec node --enable-source-maps "$bundle"',
    );

    const dataDir = await mkdtemp(path.join(tmpdir(), "sift-built-"));
    scratch.push(dataDir);
    const child = spawn(process.execPath, ["--enable-source-maps", bundle], {
      cwd: tmpdir(), // paths come from the checkout, not the working directory
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: "0",
        SIFT_DATA_DIR: dataDir,
        SIFT_AUTH: "off",
        SIFT_EMBEDDING_MODEL: "none",
        SIFT_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stderr.on("data", (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        void exited.then(() => reject(new Error(`the built service exited:\n${log}`)));
      });
      for (;;) {
        if ((await fetch(`${url}/readyz`)).status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const search = await fetch(`${url}/v1/collections/sample/search`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "reciprocal rank fusion", k: 1 }),
      });
      const body = (await search.json()) as { hits: Array<{ documentId: string }> };
      expect(body.hits[0]?.documentId).toBe("hybrid-search.md");
      expect(await (await fetch(`${url}/`)).text()).toContain("./assets/index-");
      expect((await fetch(`${url}/docs/redoc.standalone.js`)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 300_000);
});
