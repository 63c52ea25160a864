import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Logger } from "@sift/core";
import { probeOnnxCuda } from "@sift/models";
import { describe, expect, it } from "vitest";
import { onnxDeviceFor, placementMessage } from "./device";
import { createGenerator } from "./generation";
import { createEmbedder, createRerankStage, defaultManifestPath, defaultModelStore } from "./models";

/** A logger that keeps what it was told, by level. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

describe("placementMessage", () => {
  it("says what runs where, what was asked, and why a stage is not on CUDA", () => {
    expect(
      placementMessage({
        stage: "generation",
        runs: "cuda",
        backend: "node-llama-cpp m.gguf",
        requested: "auto",
      }),
    ).toBe("generation on cuda (node-llama-cpp m.gguf) [SIFT_DEVICE=auto]");
    expect(
      placementMessage({
        stage: "rerank",
        runs: "cpu",
        backend: "onnxruntime-node x",
        requested: "cuda",
        reason: "no EP",
      }),
    ).toBe(
      "rerank on cpu (onnxruntime-node x) [SIFT_DEVICE=cuda: CUDA asked for, falling back to the CPU: no EP]",
    );
    expect(
      placementMessage({ stage: "rerank", runs: "cpu", backend: "x", requested: "auto", reason: "no EP" }),
    ).toBe("rerank on cpu (x) [SIFT_DEVICE=auto: no CUDA: no EP]");
    expect(
      placementMessage({ stage: "batch-embedding", runs: "none", backend: "off", requested: "cpu" }),
    ).toBe("batch-embedding off (off) [SIFT_DEVICE=cpu]");
  });
});

describe("the ONNX device decision", () => {
  it("needs onnxruntime-node's CUDA provider library and an NVIDIA driver device", () => {
    const folder = mkdtempSync(path.join(tmpdir(), "sift-ort-"));
    const driver = path.join(folder, "nvidiactl");
    expect(probeOnnxCuda({ binaryFolder: folder, driverDevice: driver })).toEqual({
      available: false,
      reason: `onnxruntime-node has no CUDA execution provider (libonnxruntime_providers_cuda.so is not in ${folder})`,
    });
    writeFileSync(path.join(folder, "libonnxruntime_providers_cuda.so"), "");
    expect(probeOnnxCuda({ binaryFolder: folder, driverDevice: driver })).toEqual({
      available: false,
      reason: `no NVIDIA driver device (${driver} is absent)`,
    });
    mkdirSync(driver);
    expect(probeOnnxCuda({ binaryFolder: folder, driverDevice: driver })).toEqual({ available: true });
    expect(probeOnnxCuda({ binaryFolder: undefined }).available).toBe(false);
  });

  it("falls back to the CPU with the reason, and never probes when the CPU is asked for", () => {
    const missing = () => ({ available: false as const, reason: "no EP" });
    expect(onnxDeviceFor("cuda", missing)).toEqual({ device: "cpu", reason: "no EP" });
    expect(onnxDeviceFor("auto", () => ({ available: true }))).toEqual({ device: "cuda" });
    expect(
      onnxDeviceFor("cpu", () => {
        throw new Error("probed");
      }),
    ).toEqual({ device: "cpu" });
  });

  it("finds that this checkout's onnxruntime-node has no CUDA provider (its install script never runs here)", () => {
    const support = probeOnnxCuda();
    expect(support.available).toBe(false);
    if (!support.available) expect(support.reason).toMatch(/no CUDA execution provider|no NVIDIA driver/);
  });
});

describe("start-up lines of the model stages", () => {
  it("reports each stage once; asked for CUDA without one, the embedder warns and runs on the CPU", async () => {
    const { logger, lines } = recordingLogger();
    const embedder = await createEmbedder(
      {
        kind: "local",
        model: undefined,
        modelStore: defaultModelStore,
        manifestPath: defaultManifestPath,
        device: "cuda",
      },
      logger,
      "batch-embedding",
    );
    expect(embedder).toBeDefined();
    await createRerankStage({ kind: "none" }, logger);
    await createGenerator({ kind: "extractive" }, logger);
    await createGenerator(
      { kind: "openai", url: "http://vllm:8000", remoteModel: "qwen", output: "structured" },
      logger,
    );
    expect(lines.map(({ level, message }) => `${level}: ${message}`)).toEqual([
      expect.stringMatching(
        /^warn: batch-embedding on cpu \(onnxruntime-node Xenova\/all-MiniLM-L6-v2 fp32\) \[SIFT_DEVICE=cuda: CUDA asked for, falling back to the CPU: .+\]$/,
      ),
      "info: rerank off (SIFT_RERANK_MODEL=none) [SIFT_DEVICE=auto]",
      "info: generation on cpu (extractive, no model (SIFT_GENERATOR=extractive)) [SIFT_DEVICE=auto]",
      "info: generation on remote (OpenAI-compatible chat completions at http://vllm:8000, claims) [SIFT_DEVICE=auto]",
    ]);
    expect(lines[0]?.fields).toMatchObject({ stage: "batch-embedding", runs: "cpu", requested: "cuda" });
  });

  const smolLm2 = path.join(
    defaultModelStore,
    "HuggingFaceTB",
    "SmolLM2-135M-Instruct-GGUF",
    "SmolLM2-135M-Instruct.Q4_1.gguf",
  );
  const smolMissing = existsSync(smolLm2)
    ? undefined
    : `${smolLm2} is absent; run \`python3 infra/models/assemble.py --only smollm2-135m-instruct\``;
  it.skipIf(smolMissing !== undefined)(
    `loads the local generator on the CPU when CUDA is asked for but absent, and says why${smolMissing ? ` [skipped: ${smolMissing}]` : ""}`,
    async () => {
      const { logger, lines } = recordingLogger();
      const generator = await createGenerator(
        {
          kind: "local",
          model: "smollm2-135m-instruct",
          modelPath: undefined,
          modelStore: defaultModelStore,
          manifestPath: defaultManifestPath,
          device: "cuda",
          output: "structured",
        },
        logger,
      );
      expect(generator.output).toBe("claims");
      const placement = lines.find(({ fields }) => fields?.stage === "generation");
      expect(placement?.level).toBe("warn");
      expect(placement?.message).toMatch(
        /^generation on cpu \(node-llama-cpp SmolLM2-135M-Instruct\.Q4_1\.gguf, claims\) \[SIFT_DEVICE=cuda: CUDA asked for, falling back to the CPU: node-llama-cpp's CUDA build did not load \(.+\)\]$/,
      );
      await (generator as unknown as { dispose(): Promise<void> }).dispose();
    },
  );
});
