// Launches Debian's Chromium through playwright-core for Keyway's browser tests.
//
// playwright-core ships no browser and never downloads one (and `npx playwright install` must never
// be run here): we drive /usr/bin/chromium, headless, with a fresh temporary profile per launch.
// Environment, set by `end2end/run test`:
//   KEYWAY_URL            base URL of the Keyway under test, e.g. http://127.0.0.1:41234
//   VAULT_ADDR/VAULT_TOKEN  the seeded OpenBao behind it (root token), for setup and assertions
//   CHROMIUM_PATH         browser binary (default /usr/bin/chromium)
//   KEYWAY_E2E_ARTIFACTS  where screenshots may be written (default: a temp dir)
import { mkdtemp, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Base URL of the Keyway under test, without a trailing slash. */
export function keywayUrl() {
  const url = process.env.KEYWAY_URL;
  if (!url) throw new Error("KEYWAY_URL is not set: run the browser tests through `end2end/run test`");
  return url.replace(/\/+$/, "");
}

/** The OpenBao behind Keyway: { addr, token } (root token of the throw-away dev server). */
export function vault() {
  const addr = process.env.VAULT_ADDR;
  const token = process.env.VAULT_TOKEN;
  if (!addr || !token) throw new Error("VAULT_ADDR / VAULT_TOKEN are not set");
  return { addr: addr.replace(/\/+$/, ""), token };
}

/** Directory for screenshots and other artifacts of a failing test. */
export async function artifactsDir() {
  const dir = process.env.KEYWAY_E2E_ARTIFACTS || path.join(tmpdir(), "keyway-e2e-artifacts");
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Starts Chromium with a fresh temporary --user-data-dir and returns { context, page, close }.
 * Always call close() (e.g. in t.after / finally): it closes the browser and deletes the profile.
 *
 * @param {import("playwright-core").BrowserContextOptions} [options] extra context options
 */
export async function launch(options = {}) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "keyway-chromium-"));
  let context;
  try {
    // A persistent context is how Playwright takes a --user-data-dir of our choosing.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      ...options,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    try {
      await context.close();
    } finally {
      await rm(userDataDir, { recursive: true, force: true });
    }
  };
  return { context, page, close };
}
