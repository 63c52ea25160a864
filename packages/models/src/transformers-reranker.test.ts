import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AutoTokenizer, type PreTrainedTokenizer, Tensor } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeWithModels,
  describeWithReranker,
  layOutPairProbe,
  modelStore,
  rerankerContract,
} from "./test-support";
import { ModelNotFoundError } from "./transformers-embedder";
import { loadExclusively } from "./transformers-env";
import {
  createTransformersReranker,
  encodePairs,
  logitsToScores,
  type TransformersReranker,
} from "./transformers-reranker";

describe("logitsToScores", () => {
  it("takes the logit of a one-label head and the log-odds of a two-label head", () => {
    expect(logitsToScores(new Tensor("float32", Float32Array.from([2.5, -1]), [2, 1]))).toEqual([2.5, -1]);
    expect(logitsToScores(new Tensor("float32", Float32Array.from([1, 3, 2, 0.5]), [2, 2]))).toEqual([
      2, -1.5,
    ]);
    expect(() => logitsToScores(new Tensor("float32", new Float32Array(3), [1, 3]))).toThrow(
      /1 or 2 output labels/,
    );
  });
});

describe("TransformersReranker without its model", () => {
  const empty = mkdtempSync(join(tmpdir(), "sift-rerank-empty-"));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it("fails with the missing path and the assemble command", async () => {
    const reranker = createTransformersReranker({ modelStore: empty, id: "Xenova/ms-marco-MiniLM-L-6-v2" });
    const failure = await reranker.score("q", ["p"]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as Error).message).toMatch(/^reranker model not found at /);
    expect((failure as Error).message).toContain(join(empty, "Xenova/ms-marco-MiniLM-L-6-v2"));
    expect((failure as Error).message).toContain("python3 infra/models/assemble.py");
    // No passages: nothing to load, nothing to fail.
    expect(await reranker.score("q", [])).toEqual([]);
    expect(() => createTransformersReranker({ modelStore: empty })).toThrow(/profile or an id/);
  });
});

describeWithModels("TransformersReranker plumbing (real BERT tokenizer, pair-probe ONNX graph)", () => {
  const store = mkdtempSync(join(tmpdir(), "sift-rerank-probe-"));
  let id: string;
  let tokenizer: PreTrainedTokenizer;
  let reranker: TransformersReranker;
  // Word pieces of a text without [CLS]/[SEP].
  const pieces = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length;

  beforeAll(async () => {
    id = layOutPairProbe(store);
    tokenizer = await loadExclusively(store, false, () => AutoTokenizer.from_pretrained(id));
    reranker = createTransformersReranker({ modelStore: store, id, maxTokens: 32, batchSize: 2 });
    await reranker.load();
  });
  afterAll(async () => {
    await reranker.close();
    rmSync(store, { recursive: true, force: true });
  });

  rerankerContract(() => reranker);

  it("feeds each (query, passage) pair with its token types and maps scores back to input order", async () => {
    const query = "do vaccines work";
    const passages = [
      "short",
      "vaccines train the immune system against infection",
      "a somewhat longer passage about immunity and vaccination campaigns",
      "two words",
      "mid length passage here",
    ];
    const scores = await reranker.score(query, passages);
    // The probe scores 1000 per [SEP] plus one per token of the second segment (passage + closing [SEP]).
    expect(scores).toEqual(passages.map((p) => 2000 + pieces(p) + 1));
    expect(reranker.id).toBe(`onnx:${id}:fp32:32`);
  });

  it("cuts a long passage to maxTokens and puts the closing [SEP] back", async () => {
    const query = "what causes scurvy";
    const long = "vitamin c deficiency ".repeat(30);
    const [score] = await reranker.score(query, [long]);
    // [CLS] query [SEP] take pieces(query) + 2 of the 32 tokens; the passage segment gets the rest.
    expect(score).toBe(2000 + (32 - pieces(query) - 2));
  });

  it("encodes pairs with padding, and reports how many were cut", () => {
    const endToken = BigInt(tokenizer.encode("").at(-1)!);
    const { inputs, truncated } = encodePairs(tokenizer, endToken, "q", ["a b", "c ".repeat(50)], 16);
    expect(truncated).toBe(1);
    expect(inputs.input_ids!.dims).toEqual([2, 16]);
    const types = Array.from(inputs.token_type_ids!.data as BigInt64Array, Number);
    const mask = Array.from(inputs.attention_mask!.data as BigInt64Array, Number);
    // Row 0: [CLS] q [SEP] a b [SEP] then padding.
    expect(types.slice(0, 6)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(mask.slice(0, 16)).toEqual([...Array(6).fill(1), ...Array(10).fill(0)]);
    expect((inputs.input_ids!.data as BigInt64Array)[31]).toBe(endToken);
  });

  it("honours an abort signal", async () => {
    await expect(reranker.score("q", ["p"], AbortSignal.abort(new Error("stop")))).rejects.toThrow("stop");
  });

  it("fails cleanly for a dtype the store lacks", async () => {
    const q8 = createTransformersReranker({ modelStore: store, id, dtype: "q8" });
    await expect(q8.score("q", ["p"])).rejects.toThrow(/missing onnx\/model_quantized\.onnx/);
  });
});

describeWithReranker("TransformersReranker with the manifest's cross-encoder (real model)", (entry) => {
  let reranker: TransformersReranker;
  beforeAll(async () => {
    reranker = createTransformersReranker({ modelStore, profile: entry });
    await reranker.load();
  });
  afterAll(() => reranker?.close());

  rerankerContract(() => reranker);

  it("ranks the passage that answers the query above unrelated ones", async () => {
    const query = "How many people live in Berlin?";
    const passages = [
      "Berlin is well known for its museums.",
      "Berlin had a population of 3,520,031 registered inhabitants in an area of 891.82 square kilometers.",
      "The stock market closed lower on Friday.",
      "New York City is famous for the Metropolitan Museum of Art.",
    ];
    const scores = await reranker.score(query, passages);
    expect(scores).toHaveLength(4);
    const best = scores.indexOf(Math.max(...scores));
    expect(best).toBe(1);
    expect(scores[1]! - Math.max(scores[0]!, scores[2]!, scores[3]!)).toBeGreaterThan(1);
  });
});
