// Test and benchmark helpers: where the offline model store keeps the local generation model.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type GenerateRequest, GenerationClock, type Generator, type GeneratorEvent } from "./generator";

export const modelStore = process.env.SIFT_MODEL_STORE ?? join(homedir(), ".cache", "sift", "models");

/** The store's instruct GGUF, `smollm2-135m-instruct` (chat template); assembled by default, not the default generator. */
export const smolLm2ModelPath = join(
  modelStore,
  "HuggingFaceTB",
  "SmolLM2-135M-Instruct-GGUF",
  "SmolLM2-135M-Instruct.Q4_1.gguf",
);

export const assembleSmolLm2Command = "python3 infra/models/assemble.py --only smollm2-135m-instruct";

/** Why the SmolLM2 tests cannot run, or undefined when the model file is there. */
export function smolLm2MissingReason(): string | undefined {
  if (existsSync(smolLm2ModelPath)) return undefined;
  return `the default generation model ${smolLm2ModelPath} is absent; run \`${assembleSmolLm2Command}\``;
}

/** The GGUF the manifest lists as `gemma3-270m-q4km` (a base model: no chat template). */
export const localGenerationModelPath = join(
  modelStore,
  "hugginllam",
  "gemma-3-270m-Q4_K_M-GGUF",
  "gemma-3-270m-q4_k_m.gguf",
);

export const assembleGenerationModelCommand = "python3 infra/models/assemble.py --only gemma3-270m-q4km";

/** Why the local model tests cannot run, or undefined when the model file is there. */
export function localModelMissingReason(): string | undefined {
  if (existsSync(localGenerationModelPath)) return undefined;
  return `the local generation model ${localGenerationModelPath} is absent; run \`${assembleGenerationModelCommand}\``;
}

/**
 * A stand-in for a maximally gullible model, for the prompt-injection tests. It reads its prompt the way a
 * naive instruction follower would:
 * - Data regions are what lies between an opening `<source…>` tag (any suffix, any attributes) and the
 *   first closing tag after it, spelled `</source…>`, `&lt;/source…&gt;` or `＜/source…＞` (it does not
 *   check nonces). Everything else is the instruction region.
 *   (The outer `<sources…>` wrapper is not a data region of its own.)
 * - It obeys every command it finds in the instruction region: a line with `say X`, `reply with X`,
 *   `respond with X`, `answer with X` or `output X`.
 * - Inside data it also obeys such a command on any line that opens with a role marker (`System:`,
 *   `<|im_start|>system`, `[INST]`) or that says to ignore/disregard previous instructions, unless the line
 *   starts with the prompt's `[quoted document text]` marker, which the system prompt declares to be data.
 * Obeying means answering with X alone. Otherwise it answers with the first unquoted sentence of the first
 * source and cites it as [1]. It streams word by word and honours `maxTokens` in words and the signal.
 */
export function createObedientGenerator(): Generator & { prompts: GenerateRequest[] } {
  const prompts: GenerateRequest[] = [];
  const open = /<source(?!s)[^>\n]*>/gi;
  const close = /(?:<|&lt;|＜)\s*\/\s*source(?!s)[^>\n]*?(?:>|&gt;|＞)/i;
  const command =
    /\b(?:say|reply with|respond with|answer with|output)\s*:?\s*["“']?([^"”'\n]+?)["”']?\s*[.!]?\s*$/i;
  const roleMarker =
    /^\s*(?:(?:system|assistant|developer)\s*:|<\|im_start\|>|<\|start_header_id\|>|\[INST\]|<start_of_turn>)/i;
  const takeover = /\b(?:ignore|disregard|forget)\b.{0,40}\binstructions?\b/i;

  const withoutControlTokens = (line: string) => line.replace(/<\|[^|>]*\|>|\[\/?INST\]/g, " ");

  function regions(prompt: string): { instructions: string[]; data: string[] } {
    const instructions: string[] = [];
    const data: string[] = [];
    let rest = prompt;
    for (;;) {
      open.lastIndex = 0;
      const opening = open.exec(rest);
      if (!opening) {
        instructions.push(rest);
        break;
      }
      instructions.push(rest.slice(0, opening.index));
      rest = rest.slice(opening.index + opening[0].length);
      const closing = close.exec(rest);
      if (!closing) {
        data.push(rest);
        break;
      }
      data.push(rest.slice(0, closing.index));
      rest = rest.slice(closing.index + closing[0].length);
    }
    return { instructions, data };
  }

  function decide(request: GenerateRequest): string {
    const { instructions, data } = regions(request.prompt);
    for (const region of instructions) {
      for (const line of region.split("\n")) {
        const found = command.exec(line);
        if (found) return found[1]!.trim();
      }
    }
    for (const region of data) {
      for (const line of region.split("\n")) {
        if (line.trimStart().startsWith("[quoted document text]")) continue;
        if (!roleMarker.test(line) && !takeover.test(line)) continue;
        const found = command.exec(withoutControlTokens(line));
        if (found) return found[1]!.trim();
      }
    }
    const firstData = (data[0] ?? "")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("[quoted document text]"))
      .join(" ");
    const sentence = /^.*?[.!?](?=\s|$)/.exec(firstData.trim())?.[0] ?? firstData.trim();
    return `${sentence} [1]`;
  }

  return {
    id: "fake:obedient",
    kind: "local",
    prompts,
    async *generate(request: GenerateRequest): AsyncGenerator<GeneratorEvent> {
      prompts.push(request);
      const clock = new GenerationClock();
      const words = decide(request).split(/(?<=\s)/);
      let emitted = 0;
      for (const word of words) {
        if (request.signal?.aborted) break;
        if (emitted >= request.maxTokens) break;
        await new Promise((resolve) => setImmediate(resolve));
        clock.token();
        emitted++;
        yield { type: "delta", text: word };
      }
      yield {
        type: "done",
        finishReason: request.signal?.aborted ? "cancelled" : emitted < words.length ? "length" : "stop",
        usage: { promptTokens: request.prompt.length, completionTokens: emitted },
        timings: clock.timings(),
      };
    },
  };
}
