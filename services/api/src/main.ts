import { createJsonLogger, SiftError } from "@sift/core";
import { exampleCollection, startBanner } from "./banner";
import { parseConfig } from "./config";
import { startService } from "./service";

async function main() {
  const config = parseConfig(process.env);
  const logger = createJsonLogger(config.logLevel, (line) => process.stderr.write(line));
  const service = await startService(config, logger);
  process.stdout.write(startBanner(service, config, await exampleCollection(service)));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn("second signal: stopping at once (the store keeps every committed batch)", { signal });
      process.exit(130);
    }
    stopping = true;
    logger.info("shutting down: draining requests in flight (a second signal stops at once)", {
      signal,
      timeoutMs: config.shutdownTimeoutMs,
    });
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
