// The audit log as the platform team and a developer use it: a save shows up with its key
// names, the filters (key name, who) narrow it and live in the URL, the export downloads the same
// rows as CSV without a value, the chain says it is verified, and a developer sees only the rows
// of what Vault lets them read. Against the release build, a real OpenBao and Debian's Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launch, keywayUrl } from "./lib/browser.mjs";
import { bao, hydrated, login, openSecret } from "./lib/keyway.mjs";

/** Adds `key` = `value` to dev/webapp/config through the draft editor and saves. */
async function addKeyAndSave(page, key, value) {
  await openSecret(page, "dev", "webapp/config");
  await page.getByTestId("edit").click();
  await page.getByTestId("add-key").click();
  const row = page.locator("[data-testid=draft-row]").last();
  await row.getByTestId("draft-key").fill(key);
  await row.getByTestId("draft-value").fill(value);
  await page.getByTestId("review").click();
  await page.getByTestId("review-item").first().waitFor();
  await page.getByTestId("save").click();
  await page.getByTestId("notice").filter({ hasText: "Saved version" }).waitFor();
}

test("a save is on the audit log: filtered by key name and by who, exported as CSV, the chain verified", async (t) => {
  const key = `AUDIT_PROBE_${Date.now().toString(36).toUpperCase()}`;
  const value = `probe-value-${Math.random().toString(36).slice(2)}`;
  const dev = await launch();
  t.after(dev.close);
  await login(dev.page, "alice", "alice-pass");
  await addKeyAndSave(dev.page, key, value);

  const { page, close } = await launch();
  t.after(close);
  await login(page, "platform", "platform-pass");
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByTestId("audit-rows").waitFor();
  await hydrated(page);
  await assert.doesNotReject(page.getByTestId("audit-verified").filter({ hasText: "verified" }).waitFor());
  assert.equal(await page.getByTestId("audit-verified").getAttribute("data-whole"), "true");

  // By key name: exactly alice's save, with the key listed as added.
  await page.getByTestId("audit-key").fill(key);
  await page.getByTestId("audit-filter").click();
  await page.waitForURL((u) => u.searchParams.get("key") === key);
  const rows = page.getByTestId("audit-row");
  await assert.doesNotReject(rows.first().filter({ hasText: key }).waitFor());
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute("data-action"), "secret.save");
  assert.equal(await rows.first().getAttribute("data-actor"), "userpass-alice");
  assert.ok(!(await page.content()).includes(value), "no value on the audit page");
  assert.ok(!page.url().includes(value));

  // The URL reproduces the view in another tab.
  const link = page.url();
  const again = await page.context().newPage();
  await again.goto(link);
  await again.getByTestId("audit-row").first().waitFor();
  assert.equal(await again.getByTestId("audit-row").count(), 1);
  await again.close();

  // By who, on top of the key: still that row; another person: none.
  await page.getByTestId("audit-actor").fill("userpass-bob");
  await page.getByTestId("audit-filter").click();
  await page.waitForURL((u) => u.searchParams.get("actor") === "userpass-bob");
  await page.getByTestId("audit-empty").waitFor();
  await page.getByTestId("audit-actor").fill("userpass-alice");
  await page.getByTestId("audit-filter").click();
  await page.waitForURL((u) => u.searchParams.get("actor") === "userpass-alice");
  await rows.first().filter({ hasText: key }).waitFor();

  // The CSV export of this view: the header and this one row, key names only.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export-csv").click()]);
  const csv = await readFile(await download.path(), "utf8");
  const lines = csv.trim().split("\r\n");
  assert.ok(lines[0].startsWith('"seq","time","actor"'), lines[0]);
  assert.equal(lines.length, 2, csv);
  assert.ok(lines[1].includes(`"${key}"`) && lines[1].includes('"userpass-alice"'), lines[1]);
  assert.ok(!csv.includes(value), "no value in the export");

  // The export and the views are themselves on the log.
  await page.goto(`${keywayUrl()}/audit?action=audit.export&actor=userpass-platform`);
  await page.getByTestId("audit-row").first().waitFor();
  assert.ok((await page.getByTestId("audit-row").first().textContent()).includes(`key=${key}`));
});

test("a developer sees the rows of the secrets they may read, not another environment's", async (t) => {
  const key = `STAGING_ONLY_${Date.now().toString(36).toUpperCase()}`;
  await bao("POST", "staging/data/webapp/config", { data: { username: "staging-user", password: "staging-password" } });
  const bob = await launch();
  t.after(bob.close);
  await login(bob.page, "bob", "bob-pass");
  await openSecret(bob.page, "staging", "webapp/config");
  await bob.page.getByTestId("edit").click();
  await bob.page.getByTestId("add-key").click();
  const row = bob.page.locator("[data-testid=draft-row]").last();
  await row.getByTestId("draft-key").fill(key);
  await row.getByTestId("draft-value").fill("x");
  await bob.page.getByTestId("review").click();
  await bob.page.getByTestId("review-item").first().waitFor();
  await bob.page.getByTestId("save").click();
  await bob.page.getByTestId("notice").filter({ hasText: "Saved version" }).waitFor();
  // bob reads staging: he finds his save.
  await bob.page.goto(`${keywayUrl()}/audit?key=${key}`);
  await bob.page.getByTestId("audit-row").first().waitFor();

  // alice reads dev only: the same filter shows her nothing, and the page says why.
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await page.goto(`${keywayUrl()}/audit?key=${key}`);
  await page.getByTestId("audit-empty").waitFor();
  assert.ok((await page.getByTestId("audit-reach").textContent()).includes("secrets your Vault policies let you read"));
});
