// Smoke test: Keyway answers its health check and serves a login page a browser can render.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, keywayUrl } from "./lib/browser.mjs";

test("Keyway serves /healthz and a login page titled Keyway", async (t) => {
  const { page, close } = await launch();
  t.after(close);

  const health = await page.goto(`${keywayUrl()}/healthz`);
  assert.ok(health, "no response from /healthz");
  assert.equal(health.status(), 200, "/healthz status");

  const login = await page.goto(`${keywayUrl()}/login`);
  assert.ok(login, "no response from /login");
  assert.equal(login.status(), 200, "/login status");
  const title = await page.title();
  assert.match(title, /Keyway/, `page title was ${JSON.stringify(title)}`);
});
