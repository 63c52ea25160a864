import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  AutoModel,
  AutoTokenizer,
  mean_pooling,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from "@huggingface/transformers";
import {
  type Embedder,
  type EmbeddingModelProfile,
  type EmbedOptions,
  type EmbedResult,
  SiftError,
} from "@sift/core";
import type { OnnxDtype } from "./model-profiles";
import type { OnnxDevice } from "./onnx-device";
import { loadExclusively } from "./transformers-env";

/** The command that builds the offline model store (see infra/models/README.md). */
export const assembleCommand = "python3 infra/models/assemble.py";

/** The model's files are not in the model store (and remote loading is off). */
export class ModelNotFoundError extends SiftError {
  override readonly code = "model_not_found";
  constructor(
    readonly modelDirectory: string,
    detail: string,
    /** What kind of model is missing, for the message: "embedding model" (default), "reranker model". */
    kind = "embedding model",
  ) {
    super(
      `${kind} not found at ${modelDirectory} (${detail}); build the offline model store with ` +
        `\`${assembleCommand}\` (or point the model store option at one)`,
    );
  }
}

export interface TransformersEmbedderOptions {
  profile: EmbeddingModelProfile;
  /** Root of the model store (Hugging Face layout): the model is read from `<modelStore>/<profile.id>`. */
  modelStore: string;
  /** ONNX weights: `onnx/model.onnx` (fp32, default: measured faster here) or `onnx/model_quantized.onnx`. */
  dtype?: OnnxDtype;
  /** ONNX Runtime intra-op threads; default `os.availableParallelism()`. */
  threads?: number;
  /** Texts per forward pass; default 32. */
  batchSize?: number;
  /** Let transformers.js fetch missing files from the Hugging Face hub; default false (offline). */
  allowRemote?: boolean;
  /**
   * ONNX Runtime execution provider: `cpu` (default) or `cuda`, which needs onnxruntime-node's CUDA provider
   * library and a GPU (see `probeOnnxCuda`; the engine decides and logs the choice).
   */
  device?: OnnxDevice;
}

/** An in-process embedder; `cacheKey` names everything that changes its vectors (for the embedding cache). */
export interface TransformersEmbedder extends Embedder {
  readonly cacheKey: string;
  readonly dtype: OnnxDtype;
  /** Loads tokenizer and weights now rather than on the first `embed` (idempotent). */
  load(): Promise<void>;
  /** Releases the ONNX session; a later `embed` loads the model again. */
  dispose(): Promise<void>;
}

const dtypeFiles: Record<OnnxDtype, string> = { fp32: "onnx/model.onnx", q8: "onnx/model_quantized.onnx" };

/** Embedder identity for caches: the same key means bit-identical vectors for the same input text. */
export function onnxCacheKey(profile: EmbeddingModelProfile, dtype: OnnxDtype): string {
  return `onnx:${profile.id}:${dtype}:${profile.pooling}${profile.normalize ? ":l2" : ""}:${profile.maxTokens}`;
}

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  /** The token that closes a sequence ([SEP], </s>), when the tokenizer adds one. */
  endToken: bigint | undefined;
}

/**
 * Sentence embeddings in-process: ONNX Runtime on the CPU through @huggingface/transformers. Pooling,
 * normalisation, prefixes and truncation come from the profile. The model loads lazily, once.
 */
export function createTransformersEmbedder(options: TransformersEmbedderOptions): TransformersEmbedder {
  const { profile, modelStore } = options;
  const dtype = options.dtype ?? "fp32";
  const batchSize = options.batchSize ?? 32;
  const threads = options.threads ?? availableParallelism();
  const allowRemote = options.allowRemote ?? false;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be >= 1");
  const modelDirectory = join(modelStore, profile.id);
  let loading: Promise<Loaded> | undefined;

  async function loadNow(): Promise<Loaded> {
    if (!allowRemote) {
      if (!existsSync(modelDirectory)) throw new ModelNotFoundError(modelDirectory, "no such directory");
      const weights = join(modelDirectory, dtypeFiles[dtype]);
      if (!existsSync(weights)) throw new ModelNotFoundError(modelDirectory, `missing ${dtypeFiles[dtype]}`);
    }
    const tokenizer = await AutoTokenizer.from_pretrained(profile.id);
    const model = await AutoModel.from_pretrained(profile.id, {
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
      const attempt = loadExclusively(modelStore, allowRemote, loadNow);
      // A failed load is not cached: assembling the store and retrying works without a restart.
      loading = attempt.catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
    }
    return loading;
  }

  async function embedBatch({ tokenizer, model, endToken }: Loaded, texts: string[]) {
    const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: profile.maxTokens });
    // transformers.js cuts after adding special tokens, dropping the closing [SEP] of a long text; put it
    // back, as Python tokenizers (and sentence-transformers) do, or long passages embed differently.
    let truncated = 0;
    const [rows, sequenceLength] = inputs.input_ids.dims as [number, number];
    if (sequenceLength === profile.maxTokens) {
      const ids = inputs.input_ids.data as BigInt64Array;
      const mask = inputs.attention_mask.data as BigInt64Array;
      for (let row = 0; row < rows; row++) {
        const last = (row + 1) * sequenceLength - 1;
        if (mask[last] === 1n && ids[last] !== endToken) {
          truncated++;
          if (endToken !== undefined) ids[last] = endToken;
        }
      }
    }
    const outputs = (await model(inputs)) as { last_hidden_state: Tensor };
    const hidden = outputs.last_hidden_state;
    let pooled =
      profile.pooling === "mean" ? mean_pooling(hidden, inputs.attention_mask) : hidden.slice(null, 0);
    if (profile.normalize) pooled = pooled.normalize(2, -1);
    const dimensions = pooled.dims[1];
    if (dimensions !== profile.dimensions) {
      throw new SiftError(
        `model ${profile.id} produced ${dimensions} dims, its profile says ${profile.dimensions}`,
      );
    }
    const data = pooled.data as Float32Array;
    const vectors = Array.from({ length: rows }, (_, row) =>
      data.slice(row * dimensions, (row + 1) * dimensions),
    );
    return { vectors, truncated };
  }

  return {
    profile,
    dtype,
    cacheKey: onnxCacheKey(profile, dtype),
    async load() {
      await load();
    },
    async dispose() {
      const loaded = loading;
      loading = undefined;
      if (loaded) await (await loaded.catch(() => undefined))?.model.dispose();
    },
    async embed({ texts, kind, signal }: EmbedOptions): Promise<EmbedResult> {
      signal?.throwIfAborted();
      if (texts.length === 0) return { embeddings: [], warnings: [] };
      const loaded = await load();
      const prefix = kind === "query" ? profile.queryPrefix : profile.passagePrefix;
      const prefixed = texts.map((text) => prefix + text);
      // Longest first, so texts of similar length share a batch and padding stays minimal.
      const order = prefixed
        .map((_, index) => index)
        .sort((a, b) => prefixed[b]!.length - prefixed[a]!.length);
      const embeddings = new Array<Float32Array>(texts.length);
      let truncated = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        signal?.throwIfAborted();
        const indexes = order.slice(start, start + batchSize);
        const batch = await embedBatch(
          loaded,
          indexes.map((index) => prefixed[index]!),
        );
        indexes.forEach((index, row) => {
          embeddings[index] = batch.vectors[row]!;
        });
        truncated += batch.truncated;
      }
      const warnings =
        truncated > 0
          ? [`${truncated} of ${texts.length} texts were truncated to ${profile.maxTokens} tokens`]
          : [];
      return { embeddings, warnings };
    },
  };
}
