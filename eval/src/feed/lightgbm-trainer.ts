import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { featureNames, type SerializedModel, serializedModelSchema, type TrainingGroup } from "@sift/feed";

const script = fileURLToPath(new URL("../../python/feed_lambdarank.py", import.meta.url));

/**
 * The gradient-boosted alternative to the TypeScript ranker: LightGBM's lambdarank (LambdaMART), trained
 * by `eval/python/feed_lambdarank.py` in the eval venv, with each item's shown position passed to
 * LightGBM's position-debiasing (Unbiased LambdaMART: position bias factors learned jointly). The script
 * converts LightGBM's `dump_model()` trees into the feed's `gbdt` model, which `@sift/feed` walks in
 * TypeScript.
 */
export function lightGbmTrainer(python: string, trainedAt: () => number) {
  return async (groups: TrainingGroup[]): Promise<SerializedModel> => {
    const dir = await mkdtemp(path.join(tmpdir(), "sift-lgbm-"));
    try {
      const input = path.join(dir, "groups.json");
      const output = path.join(dir, "model.json");
      const rows = groups
        .filter((g) => g.items.length > 1)
        .map((g) => ({
          positions: g.items.map((i) => i.position - 1),
          labels: g.items.map((i) => i.label),
          x: g.items.map((i) => featureNames.map((f) => i.features[f])),
        }));
      await writeFile(
        input,
        JSON.stringify({ features: featureNames, trainedAt: trainedAt(), groups: rows }),
      );
      await run(python, [script, input, output]);
      return serializedModelSchema.parse(JSON.parse(await readFile(output, "utf8")));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`feed_lambdarank.py exited with ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}
