// "Is my change live, and do my pods use it?" as a developer sees it, against the local cluster
// (real apiserver, OpenBao, the VSO and Reloader stand-ins) and a Keyway running with its own
// Kubernetes account (deploy/base/rbac.yaml). Environment from `end2end/run test`: KEYWAY_URL is that
// Keyway, VAULT_ADDR/VAULT_TOKEN the cluster's OpenBao.
//
// The two apps the issue names: `dev/vault-kv-app` (secret `dev/webapp/config`, Deployment
// `ubuntu`, restarted by Reloader) and `staging/webapp` (secret `staging/webapp/config`,
// Deployment `webapp`, restarted by nobody but you); then the first one's timeline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "../lib/browser.mjs";
import { editAndSave, hydrated, kvGet, kvPut, login, openSecret } from "../lib/keyway.mjs";

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

  // The app's timeline: the version bob saved, live, restarted by him, its pods up to date.
  await page.getByTestId("tab-timeline").click();
  const steps = page
    .locator('[data-testid=timeline-app][data-app="staging/webapp"]')
    .locator(`[data-testid=timeline-version][data-version="${version}"]`);
  await shownAfterRefreshes(page, steps.locator('[data-testid=step-running][data-workload="webapp"]'));
  assert.match(await steps.locator("[data-testid=step-written][data-by=keyway]").textContent(), /by userpass-bob$/);
  await steps.getByTestId("step-live").waitFor();
  assert.match(
    await steps.locator('[data-testid=step-restarted][data-by=keyway][data-workload="webapp"]').textContent(),
    /by userpass-bob, /,
  );
  assert.match(
    await steps.getByTestId("timeline-summary").textContent(),
    /^Live (under 1 s|\d+ s|\d+ min( \d+ s)?) after the save, restarted .+ later, pods up to date .+ later\.$/,
  );
});

/** Waits for `locator` on the Timeline tab, pressing its Refresh while the step is not there yet. */
async function shownAfterRefreshes(page, locator, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await locator.waitFor({ timeout: 2_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await page.getByTestId("timeline-refresh").click();
  }
}

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

// The app cards come as the server rendered them, and their code (a chunk of its own) loads only
// once they are needed (app/src/pages/served_part.rs). Where a test needs the cards to stay as
// served until it reaches for them, the browser's clock stands still (`setFixedTime`): no age in
// the cards moves on, and the panel asks the cluster nothing new.
const part = (page) => page.locator("[data-lazy-part=cluster-app-cards]");
const partLive = (page) => page.locator("[data-lazy-part=cluster-app-cards][data-part-live=true]");

/** Collects the page's uncaught errors (a panic in the wasm shows up here). */
function pageErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/**
 * A fresh browser whose clock stands still at `at`, logged in as bob, on the failing app's secret
 * page as served; returns { page, card, errors, wasm } (`wasm`: the URLs of the .wasm fetched
 * since the page was opened).
 */
async function servedCards(t, at = Date.now()) {
  const { page, close } = await launch();
  t.after(close);
  const errors = pageErrors(page);
  await page.clock.setFixedTime(at);
  await login(page, "bob", "bob-pass");
  const wasm = [];
  page.on("request", (r) => r.url().endsWith(".wasm") && wasm.push(r.url()));
  await openSecret(page, "staging", "worker/queue");
  const card = app(page, "staging/worker");
  await card.waitFor();
  await page.waitForLoadState("networkidle");
  assert.equal(await part(page).getAttribute("data-part-live"), null, "the cards' code ran before they were needed");
  return { page, card, errors, wasm };
}

test("reached for by the keyboard, the app cards fetch their code and keep the focus where it was", async (t) => {
  const { page, card, errors, wasm } = await servedCards(t);
  const before = wasm.length;

  const summary = card.getByTestId("cluster-details").locator("summary");
  await summary.focus();
  await partLive(page).waitFor();
  assert.ok(wasm.length > before, "reaching for the cards fetched their code");
  assert.ok(await summary.evaluate((el) => el === document.activeElement), "the focus stayed on Details");
  await page.keyboard.press("Enter");
  await card.getByTestId("failing-detail").waitFor();
  assert.deepEqual(errors, []);
});

test("a click on the app cards while their code loads is made again once it runs", async (t) => {
  const { page, card, errors } = await servedCards(t);
  // Every wasm fetched from now on is the cards' (or their Details'): hold them until the click is in.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(/\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });

  const details = card.getByTestId("cluster-details");
  await details.locator("summary").click();
  assert.equal(await details.evaluate((el) => el.open), false, "the click acted on HTML without its code");
  assert.equal(await part(page).getAttribute("data-part-live"), null);
  release();
  await partLive(page).waitFor();
  await details.getByTestId("failing-detail").waitFor();
  assert.equal(await details.evaluate((el) => el.open), true, "the click was made once, not twice");
  assert.deepEqual(errors, []);
});

test("when an age in the app cards moves on, they load and show the new words", async (t) => {
  const start = Date.now();
  const { page, card, errors } = await servedCards(t, start);
  const line = card.getByTestId("live-line");
  const served = await line.textContent();

  // A day later, every age reads differently; nobody touched the page.
  await page.clock.setFixedTime(start + 25 * 3_600_000);
  await partLive(page).waitFor();
  await page.waitForFunction(
    (before) => {
      const el = document.querySelector('[data-app="staging/worker"] [data-testid=live-line]');
      return el !== null && el.textContent !== before;
    },
    served,
    { timeout: 20_000 },
  );
  assert.match(await line.textContent(), /^Failing since (1 day|\d+ days) ago: /);
  assert.deepEqual(errors, []);
});

test("the app cards of a page reached by a link inside Keyway come with it", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  const errors = pageErrors(page);
  await login(page, "bob", "bob-pass");
  await hydrated(page);
  await page.getByTestId("mount-staging").getByRole("link", { name: "worker/queue", exact: true }).click();
  await page.getByTestId("secret-title").filter({ hasText: "worker/queue" }).waitFor();
  const card = app(page, "staging/worker");
  await liveIs(card, "failing");
  await partLive(page).waitFor();
  await card.getByTestId("cluster-details").locator("summary").click();
  await card.getByTestId("failing-detail").waitFor();
  assert.deepEqual(errors, []);
});
