import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/** The pages the service serves besides the API: the playground, the reference page, the eval report. */
export interface PagesDependencies {
  /** The built playground: `index.html` and its hashed assets, read once at start. Absent: not built. */
  playground: { index: string; assets: Map<string, Buffer> } | undefined;
  /** Where the playground is built to (named in the hint page when it is absent). */
  playgroundDir: string;
  /** Redoc's standalone bundle (served at `/docs/redoc.standalone.js`, no CDN). */
  redoc: Buffer;
  /** The last `pnpm eval` run's HTML report, read on each request (a new run replaces it). */
  evalReport: string;
}

/**
 * Reads the built playground (`vite build` output: `index.html` and `assets/`), Redoc's bundle from
 * node_modules, and notes where the eval report is. A missing playground is not an error: `/` then says
 * how to build it.
 */
export async function loadPages(options: {
  playgroundDir: string;
  evalReport: string;
}): Promise<PagesDependencies> {
  const redocPath = createRequire(import.meta.url).resolve("redoc/bundles/redoc.standalone.js");
  let playground: PagesDependencies["playground"];
  try {
    const index = await readFile(path.join(options.playgroundDir, "index.html"), "utf8");
    const assets = new Map<string, Buffer>();
    const assetDir = path.join(options.playgroundDir, "assets");
    for (const name of await readdir(assetDir)) assets.set(name, await readFile(path.join(assetDir, name)));
    playground = { index, assets };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return {
    playground,
    playgroundDir: options.playgroundDir,
    redoc: await readFile(redocPath),
    evalReport: options.evalReport,
  };
}
