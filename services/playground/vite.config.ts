import { defineConfig } from "vite";

// `pnpm --filter @sift/playground dev` serves the page with hot reload and forwards the API to a running
// service (SIFT_URL, default http://127.0.0.1:8080); `build` writes the static page to dist/.
const service = process.env.SIFT_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs: the built page works wherever the service mounts it.
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: true },
  server: {
    proxy: Object.fromEntries(
      ["/v1", "/healthz", "/readyz", "/eval", "/openapi.json"].map((p) => [p, service]),
    ),
  },
});
