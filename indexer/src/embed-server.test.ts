// infra/gpu/embed_server.py, the OpenAI-compatible embeddings server that stands in for TEI in the GPU
// benchmark, run here with its onnx backend (no PyTorch on this machine) on the store's MiniLM: our own
// OpenAI-compatible embedder reads it, and its vectors match the in-process ONNX embedder's.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createOpenAICompatibleEmbedder, createTransformersEmbedder, loadModelProfiles } from "@sift/models";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repository = fileURLToPath(new URL("../..", import.meta.url));
const requirements = path.join(repository, "infra", "gpu", "requirements-onnx.txt");
const modelStore = process.env.SIFT_MODEL_STORE ?? path.join(homedir(), ".cache", "sift", "models");
const model = path.join(modelStore, "Xenova", "all-MiniLM-L6-v2");

/** A venv with the onnx backend's packages, built once per requirements file (PyPI when cold). */
function pythonWithOnnx(): string {
  const hash = createHash("sha256").update(readFileSync(requirements)).digest("hex").slice(0, 12);
  const venv = path.join(homedir(), ".cache", "sift", "py", `gpu-onnx-${hash}`);
  const python = path.join(venv, "bin", "python");
  if (existsSync(path.join(venv, ".complete"))) return python;
  const steps: string[][] = [
    ["python3", "-m", "venv", venv],
    [python, "-m", "pip", "install", "--quiet", "-r", requirements],
  ];
  for (const [command, ...args] of steps) {
    const result = spawnSync(command!, args, { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with ${result.status}`);
  }
  writeFileSync(path.join(venv, ".complete"), "");
  return python;
}

describe("infra/gpu/embed_server.py (onnx backend)", () => {
  let server: ChildProcess;
  let baseUrl: string;
  let stderr = "";
  beforeAll(async () => {
    const python = pythonWithOnnx();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(python, [
      path.join(repository, "infra", "gpu", "embed_server.py"),
      "--model",
      model,
      "--backend",
      "onnx",
      "--device",
      "cuda",
      "--port",
      String(port),
    ]);
    server.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    for (let attempt = 0; attempt < 240; attempt++) {
      if (server.exitCode !== null) throw new Error(`embed_server.py exited: ${stderr}`);
      const health = await fetch(`${baseUrl}/health`).catch(() => undefined);
      if (health?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`embed_server.py did not start: ${stderr}`);
  }, 600_000);
  afterAll(() => {
    server?.kill();
  });

  it("says it runs on the CPU when CUDA is asked for and onnxruntime has none", async () => {
    expect(await (await fetch(`${baseUrl}/health`)).json()).toEqual({
      status: "ok",
      backend: "onnxruntime on cpu",
      device: "cpu",
    });
    expect(stderr).toContain("embed_server: onnxruntime has no CUDA provider: running on the CPU");
  });

  it("answers our OpenAI-compatible embedder with the vectors the in-process ONNX model computes", async () => {
    const { profile } = (
      await loadModelProfiles(path.join(repository, "infra", "models", "manifest.json"))
    ).resolveEmbeddingProfile();
    const texts = [
      "Aspirin lowers the risk of heart attacks.",
      "Vitamin D and hip fractures in older women.",
      "x",
    ];
    const remote = createOpenAICompatibleEmbedder({
      profile,
      baseUrl,
      model: "all-MiniLM-L6-v2",
      batchSize: 2,
    });
    const local = createTransformersEmbedder({ profile, modelStore, threads: 1 });
    const [served, inProcess] = await Promise.all([
      remote.embed({ texts, kind: "passage" }),
      local.embed({ texts, kind: "passage" }),
    ]);
    await local.dispose();
    expect(served.embeddings).toHaveLength(3);
    for (const [i, vector] of served.embeddings.entries()) {
      expect(vector).toHaveLength(profile.dimensions);
      const cosine = vector.reduce((sum, value, d) => sum + value * inProcess.embeddings[i]![d]!, 0);
      expect(cosine).toBeGreaterThan(0.999);
    }
  });

  it("refuses input that is not text with an OpenAI-style 400", async () => {
    const response = await fetch(`${baseUrl}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", input: [1, 2] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: "input must be a string or a list of strings", type: "invalid_request_error" },
    });
  });
});
