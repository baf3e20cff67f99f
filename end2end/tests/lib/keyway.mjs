// Helpers for driving Keyway the way a developer does, plus direct OpenBao calls (root token) to
// set up and check state behind the UI.
import assert from "node:assert/strict";
import { keywayUrl, vault } from "./browser.mjs";

/** Calls OpenBao's HTTP API as root. */
export async function bao(method, path, body) {
  const { addr, token } = vault();
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Writes a kv-v2 secret (no CAS) and returns its new version. */
export async function kvPut(mount, path, data) {
  const r = await bao("POST", `${mount}/data/${path}`, { data });
  return r.data.version;
}

/** The latest version's data and version number. */
export async function kvGet(mount, path) {
  const r = await bao("GET", `${mount}/data/${path}`);
  return { data: r.data.data, version: r.data.metadata.version };
}

/** A unique secret path for one test, so tests never share state. */
export function uniqueSecretPath(name) {
  return `e2e/${name}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** Waits until the page is interactive: body[data-hydrated], set by the wasm once it has hydrated
 * the page, or by the server on a plain-HTML page (the login page). The app cards hydrate later,
 * once needed (`[data-part-live=true]`); a click on one before is made again when they do. */
export async function hydrated(page) {
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 20_000 });
}

export async function login(page, user, password) {
  await page.goto(`${keywayUrl()}/login`);
  await hydrated(page);
  const form = page.getByTestId("login-form");
  await form.locator("input[name=username]").fill(user);
  await form.locator("input[name=secret]").fill(password);
  await form.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Your secrets" }).waitFor();
  await assert.doesNotReject(page.getByTestId("whoami").waitFor());
}

/** Opens one secret's page, `mount` + `path`, and waits until it is interactive. */
export async function openSecret(page, mount, path) {
  await page.goto(`${keywayUrl()}/secrets/${mount}/${path}`);
  await hydrated(page);
  await page.getByTestId("secret-title").waitFor();
}

/** The row of one key in the read view. */
export function keyRow(page, key) {
  return page.getByTestId(`key-${key}`);
}

/** The draft row of a key the secret already had. */
export function draftRow(page, key) {
  return page.locator(`[data-testid=draft-row][data-key="${key}"]`);
}

/** Edits one key through the draft editor and saves; returns the new version. */
export async function editAndSave(page, key, value) {
  await page.getByTestId("edit").click();
  const row = draftRow(page, key);
  await row.getByTestId("draft-load").click();
  await row.getByTestId("draft-value").fill(value);
  await page.getByTestId("review").click();
  await page.getByTestId("review-item").first().waitFor();
  await page.getByTestId("save").click();
  await page.getByTestId("notice").filter({ hasText: "Saved version" }).waitFor();
  const text = await page.getByTestId("notice").textContent();
  return Number(/Saved version (\d+)/.exec(text)[1]);
}
