import { defineConfig } from "drizzle-kit";

// `pnpm --filter @sift/store generate` writes a new migration under ./drizzle from src/schema.ts.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema.ts",
  out: "./drizzle",
});
