// `pnpm build`: the service as plain JavaScript, so `npm start` runs `node` on built code instead of
// compiling TypeScript on every start; then the playground page (Vite). (The CLI still runs through tsx.)
//
// Each entrypoint becomes one ES module bundling the workspace's own code (@sift/*). Everything from npm
// stays external, resolved now from the importing package's folder to an absolute path (pnpm gives each
// package its own node_modules, so the bundle's folder could not find them). `import.meta.url` keeps the
// source file's URL, so the paths the code builds from it (the model manifest, migrations, the sample
// corpus) are the checkout's. The bundles therefore belong to this checkout, like its node_modules.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");
const entries = [{ entry: "services/api/src/main.ts", out: "services/api/dist/main.js" }];

/** npm packages: external, by the absolute path esbuild resolves them to from the importer. */
const externalNpm = {
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
      return { path: resolved.path, external: true };
    });
  },
};

/** `import.meta.url` as the source file's own URL (not the bundle's). */
const sourceUrls = {
  name: "source-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(args.path, "utf8");
      return {
        contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
        loader: "ts",
      };
    });
  },
};

const started = performance.now();
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
    plugins: [externalNpm, sourceUrls],
    banner: { js: "// Built by infra/scripts/build.mjs from this checkout; do not edit." },
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  console.log(
    `${out}: ${(statSync(path.join(root, out)).size / 1024).toFixed(0)} KiB from ${inputs} sources`,
  );
}
execFileSync("pnpm", ["--silent", "--filter", "@sift/playground", "build"], { cwd: root, stdio: "inherit" });
console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
