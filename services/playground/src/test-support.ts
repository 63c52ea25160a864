import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";

export const playgroundRoot = fileURLToPath(new URL("..", import.meta.url));

export interface BuiltSize {
  files: Array<{ file: string; bytes: number; gzipBytes: number }>;
  bytes: number;
  gzipBytes: number;
}

/** Builds the page with the package's Vite config into `outDir` and measures what a browser downloads. */
export async function buildPlayground(outDir: string): Promise<BuiltSize> {
  await build({
    configFile: path.join(playgroundRoot, "vite.config.ts"),
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
  const files: BuiltSize["files"] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      if ((await stat(full)).isDirectory()) await walk(full);
      else {
        const content = await readFile(full);
        files.push({
          file: path.relative(outDir, full),
          bytes: content.length,
          gzipBytes: gzipSync(content).length,
        });
      }
    }
  };
  await walk(outDir);
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
  };
}
