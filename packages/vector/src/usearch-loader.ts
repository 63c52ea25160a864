import { createRequire } from "node:module";

export type UsearchModule = typeof import("usearch");

let loaded: UsearchModule | undefined;

/**
 * Loads usearch's CommonJS build, which finds its native binary from its own `__dirname`. The ESM entry
 * instead derives its directory from a stack trace (`bindings.getFileName`), so the result depends on who
 * imported it: `import("usearch")` from a CommonJS context (`node -e`) recursed until the stack overflowed
 * (usearch 2.25.3, Node 20, pnpm layout). The prebuilt N-API binaries (linux-x64, linux-arm64, darwin) ship
 * in the npm tarball, so usearch's install script (`node-gyp-build`) does not need to run.
 */
export function loadUsearch(): UsearchModule {
  loaded ??= createRequire(import.meta.url)("usearch") as UsearchModule;
  return loaded;
}
