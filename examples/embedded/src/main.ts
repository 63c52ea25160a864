// `pnpm --filter @sift/example-embedded start [DATA_DIR]`: runs the example on DATA_DIR (default a fresh
// temporary folder, removed afterwards).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runExample } from "./example";

const given = process.argv[2];
const dataDir = given ?? (await mkdtemp(path.join(tmpdir(), "sift-example-")));
try {
  await runExample(dataDir, (line) => console.log(line));
} finally {
  if (given === undefined) await rm(dataDir, { recursive: true, force: true });
}
