import { createJsonLogger, SiftError } from "@sift/core";
import { parseConfig } from "./config";
import { sampleCollection, startService } from "./service";

async function main() {
  const config = parseConfig(process.env);
  const logger = createJsonLogger(config.logLevel, (line) => process.stderr.write(line));
  const service = await startService(config, logger);
  const collections = await service.store.listCollections("default");
  const example = collections.find((c) => c.name === sampleCollection)?.name ?? collections[0]?.name;
  const lines = [
    "",
    `Sift is listening on ${service.url}  (store: ${config.store.driver === "pglite" ? `embedded, ${config.dataDir}` : "Postgres server"})`,
  ];
  if (example !== undefined) {
    const query =
      example === sampleCollection ? "how does hybrid search combine bm25 and vectors" : "your query";
    lines.push(
      "Try a search:",
      `  curl -s -X POST ${service.url}/v1/collections/${example}/search -H 'content-type: application/json' \\`,
      `    -d '${JSON.stringify({ query, k: 3 })}'`,
    );
  } else {
    lines.push("The store is empty. Ingest a folder with: pnpm sift ingest <path> --collection docs");
  }
  lines.push("Stop with Ctrl-C.", "");
  process.stdout.write(lines.join("\n"));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    await service.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (SiftError.is(error) || (error instanceof Error && error.message.startsWith("invalid configuration"))) {
    process.stderr.write(`sift: ${error.message}\n`);
  } else {
    process.stderr.write(
      `sift: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
