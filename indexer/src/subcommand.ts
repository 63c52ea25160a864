import { ConfigError, type IndexerConfig, parseConfig } from "./config";

/** What a store subcommand (`sift keys`, `sift feed`) gets from `main`: output, errors, environment. */
export interface SubcommandIo {
  write: (text: string) => void;
  fail: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/**
 * The configuration from the environment, or the usage exit code (2) after saying why it is wrong.
 * Errors other than a bad setting are thrown.
 */
export function subcommandConfig(io: SubcommandIo): IndexerConfig | 2 {
  try {
    return parseConfig(io.env, io.cwd);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.fail(`sift: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
