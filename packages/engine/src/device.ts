import type { Logger } from "@sift/core";
import { type OnnxCudaSupport, type OnnxDevice, probeOnnxCuda } from "@sift/models";
import { z } from "zod";

/** Where the operator wants models to run (`SIFT_DEVICE`): the GPU when there is one, the CPU, or CUDA. */
export type DeviceRequest = "auto" | "cpu" | "cuda";

/** The stages that run a model, each reported once at start-up. */
export type ModelStage = "query-embedding" | "rerank" | "generation" | "batch-embedding";

/** What runs where, as decided at start-up. */
export interface StagePlacement {
  stage: ModelStage;
  /** `remote`: a model server does the work (its own hardware); `none`: the stage is off. */
  runs: "cpu" | "cuda" | "remote" | "none";
  /** The runtime and model, e.g. `onnxruntime-node Xenova/all-MiniLM-L6-v2`, or the server URL. */
  backend: string;
  requested: DeviceRequest;
  /** Why the stage is not on CUDA although `auto` or `cuda` could have put it there. */
  reason?: string;
}

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** `SIFT_DEVICE`: shared by every entrypoint that builds a model stage. */
export const deviceEnvSchema = z.object({ SIFT_DEVICE: optional(z.enum(["auto", "cpu", "cuda"])) });

/** The one line a stage logs at start-up, e.g. `rerank on cpu (onnxruntime-node …) [SIFT_DEVICE=cuda: …]`. */
export function placementMessage(placement: StagePlacement): string {
  const where = placement.runs === "none" ? "off" : `on ${placement.runs}`;
  const asked =
    placement.reason === undefined
      ? `[SIFT_DEVICE=${placement.requested}]`
      : `[SIFT_DEVICE=${placement.requested}: ${placement.requested === "cuda" ? "CUDA asked for, falling back to the CPU" : "no CUDA"}: ${placement.reason}]`;
  return `${placement.stage} ${where} (${placement.backend}) ${asked}`;
}

/**
 * Logs the placement: a warning when CUDA was asked for and the stage runs on the CPU (a reported fallback,
 * never a silent one), info otherwise.
 */
export function logPlacement(logger: Logger, placement: StagePlacement): void {
  const fields = { ...placement };
  if (placement.requested === "cuda" && placement.runs === "cpu")
    logger.warn(placementMessage(placement), fields);
  else logger.info(placementMessage(placement), fields);
}

/** The ONNX device for a request: CUDA when asked for (or `auto`) and onnxruntime-node can use it. */
export function onnxDeviceFor(
  requested: DeviceRequest,
  probe: () => OnnxCudaSupport = probeOnnxCuda,
): { device: OnnxDevice; reason?: string } {
  if (requested === "cpu") return { device: "cpu" };
  const support = probe();
  return support.available ? { device: "cuda" } : { device: "cpu", reason: support.reason };
}

/** The llama.cpp `gpu` option for a request. */
export function llamaGpuFor(requested: DeviceRequest): false | "auto" | "cuda" {
  return requested === "cpu" ? false : requested;
}
