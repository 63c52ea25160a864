import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** Where an in-process ONNX model runs (onnxruntime-node's execution provider). */
export type OnnxDevice = "cpu" | "cuda";

/** Whether onnxruntime-node can run on CUDA here, and if not, why. */
export type OnnxCudaSupport = { available: true } | { available: false; reason: string };

/** The CUDA provider library onnxruntime-node loads for `device: "cuda"` (its install script fetches it). */
const cudaProviderLibrary = "libonnxruntime_providers_cuda.so";

/** onnxruntime-node's native folder for this platform, as transformers.js resolves the package. */
function onnxBinaryFolder(): string | undefined {
  try {
    const fromTransformers = createRequire(
      createRequire(import.meta.url).resolve("@huggingface/transformers"),
    );
    const root = path.dirname(fromTransformers.resolve("onnxruntime-node/package.json"));
    const bin = path.join(root, "bin");
    for (const napi of existsSync(bin) ? readdirSync(bin) : []) {
      const folder = path.join(bin, napi, process.platform, process.arch);
      if (existsSync(folder)) return folder;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Checks, without loading anything, whether `device: "cuda"` can work: onnxruntime-node's CUDA provider
 * library must be installed beside its runtime (the npm package ships CPU only on Linux until its install
 * script downloads the CUDA provider) and an NVIDIA driver must expose a device (`/dev/nvidiactl`).
 * `paths` overrides where it looks (tests).
 */
export function probeOnnxCuda(
  paths: { binaryFolder?: string | undefined; driverDevice?: string } = {},
): OnnxCudaSupport {
  const folder = "binaryFolder" in paths ? paths.binaryFolder : onnxBinaryFolder();
  if (folder === undefined)
    return { available: false, reason: "onnxruntime-node's native folder was not found" };
  if (!existsSync(path.join(folder, cudaProviderLibrary))) {
    return {
      available: false,
      reason: `onnxruntime-node has no CUDA execution provider (${cudaProviderLibrary} is not in ${folder})`,
    };
  }
  const driver = paths.driverDevice ?? "/dev/nvidiactl";
  if (!existsSync(driver))
    return { available: false, reason: `no NVIDIA driver device (${driver} is absent)` };
  return { available: true };
}
