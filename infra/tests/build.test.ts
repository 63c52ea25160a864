/**
 * `pnpm build` and what it is for. The service bundle starts under plain `node` (no TypeScript loader) as
 * `npm start` runs it, serves the API, the playground and the reference page, names no absolute path of
 * this checkout (so the tree can move, as into the image's /app), and stops gracefully on SIGTERM. The
 * library packages, packed as `pnpm pack` packs them for a registry, are installed into a folder outside
 * the workspace, where plain `node` runs @sift/engine in-process and @sift/client against the built
 * service, and `tsc` (nodenext) type-checks a consumer against the emitted declarations.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
const scratch: string[] = [];
const bundle = path.join(root, "services/api/dist/main.js");
let buildOutput = "";
let service: { child: ChildProcess; url: string; exited: Promise<number | null> } | undefined;

async function temporaryDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** The built service on a fresh data dir and a free port, ready. */
async function startBuiltService() {
  const child = spawn(process.execPath, ["--enable-source-maps", bundle], {
    cwd: tmpdir(), // paths come from the bundle's own location, not the working directory
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: "0",
      SIFT_DATA_DIR: await temporaryDir("sift-built-"),
      SIFT_AUTH: "off",
      SIFT_EMBEDDING_MODEL: "none",
      SIFT_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
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
  return { child, url, exited };
}

beforeAll(async () => {
  buildOutput = (await run("pnpm", ["--silent", "build"], { cwd: root, encoding: "utf8" })).stdout;
  service = await startBuiltService();
}, 300_000);
afterAll(async () => {
  service?.child.kill("SIGKILL");
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("pnpm build: the service", () => {
  it("bundles the service to JavaScript that node runs as npm start does", async () => {
    expect(buildOutput).toMatch(/services\/api\/dist\/main\.js: \d+ KiB from \d+ sources/);
    const code = await readFile(bundle, "utf8");
    expect(code).toContain("function startService(");
    expect(code).not.toMatch(/from "@sift\//);
    expect(await readFile(path.join(root, "infra/scripts/start.sh"), "utf8")).toContain(
      'exec node --enable-source-maps "$bundle"',
    );
    const url = service!.url;
    const search = await fetch(`${url}/v1/collections/sample/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "reciprocal rank fusion", k: 1 }),
    });
    const body = (await search.json()) as { hits: Array<{ documentId: string }> };
    expect(body.hits[0]?.documentId).toBe("hybrid-search.md");
    expect(await (await fetch(`${url}/`)).text()).toContain("./assets/index-");
    expect((await fetch(`${url}/docs/redoc.standalone.js`)).status).toBe(200);
  });

  it("is relocatable: npm imports and file paths are relative to the bundle, never this checkout's", async () => {
    const code = await readFile(bundle, "utf8");
    const map = JSON.parse(await readFile(`${bundle}.map`, "utf8")) as { sources: string[] };
    expect(code.includes(root.replace(/\/$/, ""))).toBe(false);
    expect(map.sources.filter((s) => path.isAbsolute(s))).toEqual([]);
    // npm packages by a relative path into node_modules; files found from the bundle's own URL.
    expect(code).toMatch(/from "\.\.\/\.\.\/\.\.\/node_modules\/\.pnpm\/[^"]+"/);
    expect(code).toContain('new URL("../../../infra/sample-corpus", new URL(');
  });
});

/** `pnpm pack` of every library package, unpacked into `<consumer>/node_modules/@sift/<name>`. */
async function installPacked(consumer: string): Promise<string[]> {
  const tarballs = path.join(consumer, "tarballs");
  await run("pnpm", ["--silent", "-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs], {
    cwd: root,
  });
  const names: string[] = [];
  for (const file of await readdir(tarballs)) {
    const name = /^sift-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file)?.[1];
    if (name === undefined) continue;
    const target = path.join(consumer, "node_modules/@sift", name);
    await mkdir(target, { recursive: true });
    await run("tar", ["xzf", path.join(tarballs, file), "-C", target, "--strip-components=1"]);
    await linkNpmDependencies(target, path.join(root, "packages", name));
    names.push(name);
  }
  return names;
}

/**
 * A registry install without a registry (none is reachable offline): each npm dependency the packed
 * manifest names is linked into the package's own node_modules, from the version the workspace resolved
 * for it. @sift/* dependencies resolve to the unpacked tarballs beside it.
 */
async function linkNpmDependencies(installed: string, workspacePackage: string) {
  const manifest = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith("@sift/")) continue;
    const link = path.join(installed, "node_modules", dependency);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(await realpath(path.join(workspacePackage, "node_modules", dependency)), link);
  }
}

const consumerScript = `
import { openSift } from "@sift/engine";
import { SiftClient } from "@sift/client";
const [dataDir, serviceUrl] = process.argv.slice(2);
const sift = await openSift({ dataDir, embedding: "none" });
const job = await sift.ingest("notes", [
  { id: "aurora.md", text: "The aurora glows when the solar wind meets oxygen high in the atmosphere." },
  { id: "tides.md", text: "The moon pulls the oceans into two bulges: two high tides a day." },
]);
const found = await sift.search("notes", { query: "why does the aurora glow", k: 2 });
await sift.close();
const client = new SiftClient({ baseUrl: serviceUrl });
const remote = await client.search("sample", { query: "reciprocal rank fusion", k: 1 });
console.log(JSON.stringify({ created: job.counts.created, mode: found.mode, top: found.hits[0]?.documentId,
  remoteTop: remote.hits[0]?.documentId }));
`;

const consumerTypes = `
import { openSift, type Sift } from "@sift/engine";
import { SiftClient, type SearchResponse } from "@sift/client";
const sift: Sift = await openSift({ dataDir: "/tmp/x", embedding: "none" });
const hits: SearchResponse["hits"] = (await new SiftClient({ baseUrl: "http://x" }).search("c", { query: "q" })).hits;
const top: string | undefined = (await sift.search("c", { query: "q" })).hits[0]?.documentId;
// @ts-expect-error the declarations are real types: a search needs a query
await sift.search("c", { k: 3 });
export { hits, top };
`;

describe("pnpm build: the packages, from outside the workspace", () => {
  it("plain node runs the packed @sift/engine (ingest, search) and @sift/client (against the service)", async () => {
    expect(buildOutput).toMatch(/packages\/\*\/dist: \d+ packages, \d+ files written/);
    const consumer = await temporaryDir("sift-consumer-");
    const installed = await installPacked(consumer);
    expect(installed).toEqual(expect.arrayContaining(["core", "engine", "client", "store"]));
    const engine = JSON.parse(
      await readFile(path.join(consumer, "node_modules/@sift/engine/package.json"), "utf8"),
    );
    expect(engine.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(engine.dependencies["@sift/core"]).toMatch(/^\d+\.\d+\.\d+$/); // workspace:* resolved by pack
    await writeFile(path.join(consumer, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(path.join(consumer, "main.mjs"), consumerScript);
    const { stdout } = await run(process.execPath, ["main.mjs", path.join(consumer, "data"), service!.url], {
      cwd: consumer,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(JSON.parse(stdout)).toEqual({
      created: 2,
      mode: "bm25",
      top: "aurora.md",
      remoteTop: "hybrid-search.md",
    });

    // The emitted declarations, as a TypeScript app with nodenext resolution reads them.
    await mkdir(path.join(consumer, "node_modules/@types"), { recursive: true });
    await symlink(
      await realpath(path.join(root, "node_modules/@types/node")),
      path.join(consumer, "node_modules/@types/node"),
    );
    // One program, two files: the consumer must check clean, the control (a wrong type) must not.
    await writeFile(path.join(consumer, "consumer.ts"), consumerTypes);
    await writeFile(
      path.join(consumer, "control.ts"),
      'import { openSift } from "@sift/engine";\nexport const wrong: number = (await openSift({ dataDir: "x" })).engine;\n',
    );
    await writeFile(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["consumer.ts", "control.ts"],
      }),
    );
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    const checked = await run(process.execPath, [tsc, "-p", consumer], { cwd: consumer }).catch((e) => e);
    const errors = `${checked.stdout ?? ""}${checked.stderr ?? ""}`.trim().split("\n");
    expect(errors.filter((line: string) => !line.startsWith("control.ts") && !line.startsWith(" "))).toEqual(
      [],
    );
    expect(errors[0]).toMatch(
      /^control\.ts\(2,\d+\): error TS2322: Type 'Engine' is not assignable to type 'number'/,
    );
  }, 120_000);
});

describe("the built service on SIGTERM", () => {
  it("stops gracefully (exit 0)", async () => {
    service!.child.kill("SIGTERM");
    expect(await service!.exited).toBe(0);
  });
});
