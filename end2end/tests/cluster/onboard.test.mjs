// Onboarding, as a platform engineer uses it: fill the form for a new app in `dev` with a first
// key, review everything it creates, apply, watch it become live in the cluster (the VSO
// stand-in logs in with the new Vault role), and then a developer of `dev` opens and edits its
// secret. Each run onboards its own app (a unique name), so the test can run again on the same
// cluster and OpenBao.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "../lib/browser.mjs";
import { editAndSave, hydrated, login, openSecret } from "../lib/keyway.mjs";

test("a platform engineer onboards an app in one form, follows it until live, and a developer edits it", async (t) => {
  const app = `e2e-onb-${Date.now().toString(36)}`;
  const value = `first-value-${app}`;
  const { page, close } = await launch();
  t.after(close);
  await login(page, "platform", "platform-pass");
  await page.getByRole("link", { name: "Onboard an app" }).click();
  await hydrated(page);
  await page.getByRole("heading", { name: "Onboard an app" }).waitFor();
  await page.getByTestId("onboard-env").selectOption("dev");
  await page.getByTestId("onboard-app").fill(app);
  // The path's default follows the name; the mount is the environment's.
  assert.equal(await page.getByTestId("onboard-path").getAttribute("placeholder"), `${app}/config`);
  assert.equal(await page.getByTestId("onboard-mount").inputValue(), "dev");
  await page.getByTestId("onboard-key-name").fill("GREETING");
  await page.getByTestId("onboard-key-value").fill(value);

  // The GitOps way offers the folder as a download; the direct way is applied below.
  await page.getByTestId("onboard-side-gitops").check();
  await page.getByTestId("onboard-preview").click();
  await page.getByTestId("onboard-download-folder").waitFor();
  await page.getByTestId("onboard-side-keyway").check();
  // Changing a field drops the preview: what is applied is what was last shown.
  assert.equal(await page.getByTestId("onboard-preview-panel").count(), 0);
  await page.getByTestId("onboard-preview").click();
  const panel = page.getByTestId("onboard-preview-panel");
  await panel.waitFor();
  const policy = await page.getByTestId("onboard-policy").textContent();
  assert.ok(policy.includes(`path "dev/data/${app}/config"`), policy);
  assert.ok(policy.includes(`capabilities = ["read"]`), policy);
  const files = await page.getByTestId("onboard-file").evaluateAll((els) => els.map((e) => e.dataset.file));
  assert.deepEqual(files, ["serviceaccount.yaml", "vaultauth.yaml", "vaultstaticsecret.yaml", "kustomization.yaml"]);
  assert.ok(!(await page.content()).includes(value), "a value is never shown in the preview");

  await page.getByTestId("onboard-apply").click();
  const report = page.getByTestId("onboard-report");
  await report.waitFor();
  const states = await report.getByTestId("onboard-step").evaluateAll((els) => els.map((e) => e.dataset.state));
  assert.deepEqual(states, ["Done", "Done", "Done", "Done", "Done", "Done"], await report.textContent());

  // The page follows the app until the operator has copied its secret.
  await page.locator('[data-testid=onboard-live][data-state="Live"]').waitFor({ timeout: 90_000 });
  await page.getByTestId("onboard-open-secret").waitFor();

  // A developer of dev opens it and edits it.
  const dev = await launch();
  t.after(dev.close);
  await login(dev.page, "alice", "alice-pass");
  await openSecret(dev.page, "dev", `${app}/config`);
  const version = await editAndSave(dev.page, "GREETING", "edited-by-alice");
  assert.equal(version, 2);
});
