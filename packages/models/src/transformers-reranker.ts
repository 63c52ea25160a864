import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  AutoModelForSequenceClassification,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from "@huggingface/transformers";
import { type Reranker, type RerankerModelProfile, SiftError } from "@sift/core";
import type { OnnxDtype } from "./model-profiles";
import type { OnnxDevice } from "./onnx-device";
import { ModelNotFoundError } from "./transformers-embedder";
import { loadExclusively } from "./transformers-env";

export interface TransformersRerankerOptions {
  /** Root of the model store (Hugging Face layout): the model is read from `<modelStore>/<id>`. */
  modelStore: string;
  /** The model's profile (from `resolveRerankerProfile`); or give `id` (and `maxTokens`) instead. */
  profile?: RerankerModelProfile;
  /** Model id under the store, when no profile is given. */
  id?: string;
  /** Overrides the profile's token limit for (query, passage) together; default the profile's, else 512. */
  maxTokens?: number;
  /** ONNX weights: `onnx/model.onnx` (fp32, default) or `onnx/model_quantized.onnx` (q8). */
  dtype?: OnnxDtype;
  /** Pairs per forward pass; default 16. */
  batchSize?: number;
  /** ONNX Runtime intra-op threads; default `os.availableParallelism()`. */
  threads?: number;
  /** Let transformers.js fetch missing files from the Hugging Face hub; default false (offline). */
  allowRemote?: boolean;
  /**
   * ONNX Runtime execution provider: `cpu` (default) or `cuda`, which needs onnxruntime-node's CUDA provider
   * library and a GPU (see `probeOnnxCuda`; the engine decides and logs the choice).
   */
  device?: OnnxDevice;
}

export interface TransformersReranker extends Reranker {
  readonly profile: RerankerModelProfile;
  readonly dtype: OnnxDtype;
  /** Loads tokenizer and weights now rather than on the first `score` (idempotent). */
  load(): Promise<void>;
  close(): Promise<void>;
}

const dtypeFiles: Record<OnnxDtype, string> = { fp32: "onnx/model.onnx", q8: "onnx/model_quantized.onnx" };

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  endToken: bigint | undefined;
}

/**
 * Tokenises (query, passage) pairs as the model's tokenizer template says ([CLS] q [SEP] p [SEP] for BERT,
 * with token types), padded to the longest pair and cut to `maxTokens`. transformers.js cuts the end of the
 * sequence, closing [SEP] included; like Python's `longest_first` truncation (for a passage longer than the
 * query, which is the reranking case) the passage loses its tail and the closing token is put back.
 * Returns the encoded batch and how many pairs were cut.
 */
export function encodePairs(
  tokenizer: PreTrainedTokenizer,
  endToken: bigint | undefined,
  query: string,
  passages: readonly string[],
  maxTokens: number,
): { inputs: Record<string, Tensor>; truncated: number } {
  const inputs = tokenizer(
    passages.map(() => query),
    { text_pair: [...passages], padding: true, truncation: true, max_length: maxTokens },
  ) as unknown as Record<string, Tensor>;
  const ids = inputs.input_ids!;
  const mask = inputs.attention_mask!;
  const [rows, length] = ids.dims as [number, number];
  let truncated = 0;
  if (length === maxTokens) {
    const idData = ids.data as BigInt64Array;
    const maskData = mask.data as BigInt64Array;
    for (let row = 0; row < rows; row++) {
      const last = (row + 1) * length - 1;
      if (maskData[last] === 1n && idData[last] !== endToken) {
        truncated++;
        if (endToken !== undefined) idData[last] = endToken;
      }
    }
  }
  return { inputs, truncated };
}

/**
 * One relevance score per row of a sequence-classification output: the logit when the head has one label
 * (ms-marco and bge cross-encoders), the log-odds of label 1 over label 0 when it has two.
 */
export function logitsToScores(logits: Tensor): number[] {
  const [rows, labels] = logits.dims as [number, number];
  const data = logits.data as Float32Array;
  if (labels !== 1 && labels !== 2) {
    throw new SiftError(`a reranker needs 1 or 2 output labels; this model has ${labels}`);
  }
  return Array.from({ length: rows }, (_, row) =>
    labels === 1 ? data[row]! : data[row * 2 + 1]! - data[row * 2]!,
  );
}

/**
 * A cross-encoder in-process: ONNX Runtime on the CPU through @huggingface/transformers, reading the model
 * from the offline store only (unless `allowRemote`). Scores are raw logits, higher is more relevant.
 */
export function createTransformersReranker(options: TransformersRerankerOptions): TransformersReranker {
  const given = options.profile?.id ?? options.id;
  if (given === undefined) throw new TypeError("createTransformersReranker needs a profile or an id");
  const id: string = given;
  const maxTokens = options.maxTokens ?? options.profile?.maxTokens ?? 512;
  const profile: RerankerModelProfile = { id, maxTokens };
  const { modelStore } = options;
  const dtype = options.dtype ?? "fp32";
  const batchSize = options.batchSize ?? 16;
  const threads = options.threads ?? availableParallelism();
  const allowRemote = options.allowRemote ?? false;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be >= 1");
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 8) throw new RangeError("maxTokens must be >= 8");
  const modelDirectory = join(modelStore, id);
  let loading: Promise<Loaded> | undefined;

  async function loadNow(): Promise<Loaded> {
    if (!allowRemote) {
      if (!existsSync(modelDirectory)) {
        throw new ModelNotFoundError(modelDirectory, "no such directory", "reranker model");
      }
      if (!existsSync(join(modelDirectory, dtypeFiles[dtype]))) {
        throw new ModelNotFoundError(modelDirectory, `missing ${dtypeFiles[dtype]}`, "reranker model");
      }
    }
    const tokenizer = await AutoTokenizer.from_pretrained(id);
    const model = await AutoModelForSequenceClassification.from_pretrained(id, {
      dtype,
      device: options.device ?? "cpu",
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    const special = tokenizer.encode("");
    const endToken = special.length >= 2 ? BigInt(special[special.length - 1]!) : undefined;
    return { tokenizer, model, endToken };
  }

  function load(): Promise<Loaded> {
    if (!loading) {
      // A failed load is not cached: assembling the store and retrying works without a restart.
      loading = loadExclusively(modelStore, allowRemote, loadNow).catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
    }
    return loading;
  }

  return {
    id: `onnx:${id}:${dtype}:${maxTokens}`,
    profile,
    dtype,
    async load() {
      await load();
    },
    async close() {
      const loaded = loading;
      loading = undefined;
      if (loaded) await (await loaded.catch(() => undefined))?.model.dispose();
    },
    async score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]> {
      signal?.throwIfAborted();
      if (passages.length === 0) return [];
      const loaded = await load();
      // Longest first, so pairs of similar length share a batch and padding stays small.
      const order = passages
        .map((_, index) => index)
        .sort((a, b) => passages[b]!.length - passages[a]!.length);
      const scores = new Array<number>(passages.length);
      for (let start = 0; start < order.length; start += batchSize) {
        signal?.throwIfAborted();
        const indexes = order.slice(start, start + batchSize);
        const { inputs } = encodePairs(
          loaded.tokenizer,
          loaded.endToken,
          query,
          indexes.map((index) => passages[index]!),
          maxTokens,
        );
        const { logits } = (await loaded.model(inputs)) as { logits: Tensor };
        logitsToScores(logits).forEach((score, row) => {
          scores[indexes[row]!] = score;
        });
      }
      return scores;
    },
  };
}
