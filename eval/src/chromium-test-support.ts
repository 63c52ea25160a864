// Headless Chromium for the browser tests (the HTML report here, the playground in services/playground):
// `import { haveChromium, launchChromium } from "@sift/eval/chromium-test-support"`. Not part of the runtime API.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium (infra/scripts/test.sh installs it when missing, through eval/scripts/ensure-chromium.sh). */
export const chromiumPath = "/usr/bin/chromium";

/**
 * Whether Chromium is installed. When it is not, warns that `what` is skipped, and throws under CI
 * (`CI=true`), which must provide it.
 */
export function haveChromium(what: string): boolean {
  if (existsSync(chromiumPath)) return true;
  console.warn(`skipping ${what}: no Chromium at ${chromiumPath}`);
  if (process.env.CI === "true") throw new Error(`CI must provide ${chromiumPath}`);
  return false;
}

/** Launches headless Chromium with nothing running in the background (no sync, updates or GPU). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
