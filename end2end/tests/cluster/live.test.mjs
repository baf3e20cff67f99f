// "Is my change live, and do my pods use it?" as a developer sees it, against the local cluster
// (real apiserver, OpenBao, the VSO and Reloader stand-ins) and a Keyway running with its own
// Kubernetes account (deploy/rbac.yaml). Environment from `end2end/run test`: KEYWAY_URL is that
// Keyway, VAULT_ADDR/VAULT_TOKEN the cluster's OpenBao.
//
// The two apps the issue names: `dev/vault-kv-app` (secret `dev/webapp/config`, Deployment
// `ubuntu`, restarted by Reloader) and `staging/webapp` (secret `staging/webapp/config`,
// Deployment `webapp`, restarted by nobody but you).
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "../lib/browser.mjs";
import { draftRow, kvGet, kvPut, login, openSecret } from "../lib/keyway.mjs";

/** Edits one key through the draft editor and saves; returns the new version. */
async function editAndSave(page, key, value) {
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

const app = (page, id) => page.locator(`[data-testid=cluster-app][data-app="${id}"]`);
const workload = (card, name) => card.locator(`[data-testid=workload][data-workload="${name}"]`);
const liveIs = (card, state, timeout = 20_000) =>
  card.and(card.page().locator(`[data-live-state=${state}]`)).waitFor({ timeout });
const podsIs = (row, state, timeout = 30_000) =>
  row.and(row.page().locator(`[data-pods-state=${state}]`)).waitFor({ timeout });

test("an app without Reloader: edit → Pending → Sync now → Live → Restart needed → Restart → Up to date", async (t) => {
  const before = await kvGet("staging", "webapp/config");
  t.after(() => kvPut("staging", "webapp/config", before.data));
  const { page, close } = await launch();
  t.after(close);
  await login(page, "bob", "bob-pass");
  await openSecret(page, "staging", "webapp/config");
  const card = app(page, "staging/webapp");
  await liveIs(card, "live");
  const rows = workload(card, "webapp");

  const version = await editAndSave(page, "username", `staging-user-${Date.now()}`);
  await liveIs(card, "pending");
  // The exact sentence (format.rs `live_line`); only the ages vary. A bare `RegExp(version)` would
  // also match the digits of "3 s ago".
  assert.match(
    await card.getByTestId("live-line").textContent(),
    new RegExp(`^Pending: the cluster has version ${version - 1}, Vault has version ${version} \\(saved [^)]+\\)\\. (Next refresh [^.]+|It refreshes only when asked)\\.$`),
  );

  await card.getByRole("button", { name: "Sync now", exact: true }).click();
  await liveIs(card, "live");
  assert.match(
    await card.getByTestId("live-line").textContent(),
    new RegExp(`^Live: version ${version}, since [^.]+\\.$`),
  );
  await podsIs(rows, "restart_needed");

  await rows.getByRole("button", { name: "Restart", exact: true }).click();
  // Progress shows without a reload, then the new pods are up to date.
  await podsIs(rows, "up_to_date", 60_000);
  const url = page.url();
  assert.ok(url.endsWith("/secrets/staging/webapp/config"), `no navigation happened: ${url}`);
});

test("the seed's ubuntu app with Reloader: edit → Pending → Sync now → Live → restarted by itself → Up to date", async (t) => {
  const before = await kvGet("dev", "webapp/config");
  t.after(() => kvPut("dev", "webapp/config", before.data));
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", "webapp/config");
  const card = app(page, "dev/vault-kv-app");
  await liveIs(card, "live");
  const rows = workload(card, "ubuntu");
  await podsIs(rows, "up_to_date");

  await editAndSave(page, "username", `static-user-${Date.now()}`);
  await liveIs(card, "pending");
  await card.getByRole("button", { name: "Sync now", exact: true }).click();
  await liveIs(card, "live");
  // Reloader restarts it: no button needed, and it ends up to date.
  await podsIs(rows, "up_to_date", 60_000);
});

test("a user without the grant sees the state but no buttons", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  await login(page, "carol", "carol-pass");
  await openSecret(page, "dev", "webapp/config");
  const card = app(page, "dev/vault-kv-app");
  await card.waitFor();
  await card.getByTestId("may-not-act").waitFor();
  assert.equal(await card.getByRole("button", { name: "Restart", exact: true }).count(), 0);
  assert.equal(await card.getByRole("button", { name: "Sync now", exact: true }).count(), 0);
});

test("the failing app says why in plain words, and its Details what the operator reports", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  await login(page, "bob", "bob-pass");
  await openSecret(page, "staging", "worker/queue");
  const card = app(page, "staging/worker");
  await liveIs(card, "failing");
  assert.match(await card.getByTestId("live-line").textContent(), /not allowed to read this secret in Vault/);

  // Its Details are not rendered until opened (their code is a chunk of its own), then show what the
  // operator reports.
  const details = card.getByTestId("cluster-details");
  assert.equal(await details.getByTestId("failing-detail").count(), 0);
  await details.locator("summary").click();
  const reported = details.getByTestId("failing-detail");
  await reported.waitFor();
  assert.match(await reported.textContent(), /What the operator reports/);
  assert.equal(await details.getByText("VaultStaticSecret", { exact: true }).count(), 1);
});
