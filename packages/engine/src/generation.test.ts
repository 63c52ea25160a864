import { silentLogger as silent } from "@sift/core";
import { describe, expect, it } from "vitest";
import { createGenerator, generatorEnvSchema, generatorSettingsFromEnv } from "./generation";

describe("generator output mode from the environment", () => {
  it("parses SIFT_GENERATOR_OUTPUT and SIFT_GENERATOR_STRUCTURED_API into an OpenAI-compatible claims generator", async () => {
    const env = generatorEnvSchema.parse({
      SIFT_GENERATOR: "openai",
      SIFT_GENERATOR_URL: "http://vllm:8000",
      SIFT_GENERATOR_MODEL: "qwen",
      SIFT_GENERATOR_OUTPUT: "structured",
      SIFT_GENERATOR_STRUCTURED_API: "guided_json",
    });
    const settings = generatorSettingsFromEnv(env, "/");
    expect(settings).toMatchObject({ kind: "openai", output: "structured", structuredApi: "guided_json" });
    expect((await createGenerator(settings, silent)).output).toBe("claims");
  });

  it("defaults to free text and refuses an unknown mode", async () => {
    const env = generatorEnvSchema.parse({
      SIFT_GENERATOR_URL: "http://vllm:8000",
      SIFT_GENERATOR_MODEL: "qwen",
    });
    expect((await createGenerator(generatorSettingsFromEnv(env, "/"), silent)).output).toBe("text");
    expect(generatorEnvSchema.safeParse({ SIFT_GENERATOR_OUTPUT: "json" }).success).toBe(false);
  });
});
