// `pnpm build`: the library packages as JavaScript with declarations (build-packages.mjs), the service as
// plain JavaScript, so `npm start` runs `node` on built code instead of compiling TypeScript on every start,
// and the playground page (Vite). `--service` builds the last two only (what `npm start` needs). The CLI
// still runs through tsx.
//
// The service becomes one ES module bundling the workspace's own code (@sift/*). Everything from npm stays
// external, resolved now from the importing package's folder (pnpm gives each package its own
// node_modules, so the bundle's folder could not find them) and written as a path relative to the bundle.
// `import.meta.url` becomes the source file's URL, computed from the bundle's own URL, so the paths the code
// builds from it (the model manifest, migrations, the sample corpus) are the checkout's. No absolute path is
// written into the bundle: the checkout, with its node_modules, can be moved (the image builds it in /app).
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { buildPackages } from "./build-packages.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const entries = [{ entry: "services/api/src/main.ts", out: "services/api/dist/main.js" }];
const serviceOnly = process.argv.includes("--service");

/** A module specifier for `file`, relative to the folder of the bundle `out`. */
function relativeTo(out, file) {
  const relative = path
    .relative(path.dirname(path.join(root, out)), file)
    .split(path.sep)
    .join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}

/** npm packages: external, by the path (relative to the bundle) esbuild resolves them to from the importer. */
const externalNpm = (out) => ({
  name: "external-npm",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (
        args.pluginData === "resolving" ||
        args.path.startsWith("@sift/") ||
        args.path.startsWith("node:")
      ) {
        return undefined;
      }
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "resolving",
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: relativeTo(out, resolved.path), external: true };
    });
  },
});

/** `import.meta.url` as the source file's own URL (not the bundle's), found from the bundle's URL. */
const sourceUrls = (out) => ({
  name: "source-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(args.path, "utf8");
      return {
        contents: text.replaceAll(
          "import.meta.url",
          `new URL(${JSON.stringify(relativeTo(out, args.path))}, import.meta.url).href`,
        ),
        loader: "ts",
      };
    });
  },
});

const started = performance.now();
if (!serviceOnly) buildPackages();
for (const { entry, out } of entries) {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(root, out),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    metafile: true,
    plugins: [externalNpm(out), sourceUrls(out)],
    banner: { js: "// Built by infra/scripts/build.mjs from this checkout; do not edit." },
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  console.log(
    `${out}: ${(statSync(path.join(root, out)).size / 1024).toFixed(0)} KiB from ${inputs} sources`,
  );
}
execFileSync("pnpm", ["--silent", "--filter", "@sift/playground", "build"], { cwd: root, stdio: "inherit" });
console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
