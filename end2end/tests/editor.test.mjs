// The secrets editor as a developer uses it: log in, reveal, edit via the draft and its diff,
// conflicts from a second browser, rollback, .env import, log out. Against the release build,
// a real OpenBao and Debian's Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, keywayUrl } from "./lib/browser.mjs";
import { bao, draftRow, hydrated, keyRow, kvGet, kvPut, login, openSecret, uniqueSecretPath } from "./lib/keyway.mjs";

const MASK = "••••••••";

test("the login page is plain HTML: no wasm, a wrong password gets one plain message, a right one shows the mounts", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  const wasm = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasm.push(r.url());
  });
  await page.goto(`${keywayUrl()}/login`);
  await hydrated(page);
  const form = page.getByTestId("login-form");
  await form.locator("input[name=username]").fill("alice");
  await form.locator("input[name=secret]").fill("wrong");
  await form.getByRole("button", { name: "Log in" }).click();
  await assert.doesNotReject(page.getByTestId("error").filter({ hasText: "Those credentials were not accepted" }).waitFor());
  assert.deepEqual(wasm, [], "a direct load of /login fetches no wasm, not even after a failed attempt");
  assert.ok(!/alice|wrong/.test(page.url()), `the URL after a failed login names no credential: ${page.url()}`);
  await login(page, "alice", "alice-pass");
  await page.getByTestId("mount-dev").waitFor();
  assert.equal(await page.getByTestId("mount-staging").count(), 0, "alice must not see staging");
  assert.equal(await page.getByTestId("whoami").textContent(), "userpass-alice");
});

test("values stay masked until revealed, and a reveal shows the real value", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", "webapp/config");
  const row = keyRow(page, "password");
  assert.equal(await row.getByTestId("value").textContent(), MASK);
  assert.ok(!(await page.content()).includes("static-password"), "the value is in the page before any reveal");
  await row.getByRole("button", { name: "Reveal" }).click();
  await assert.doesNotReject(row.getByTestId("value").filter({ hasText: "static-password" }).waitFor());
  await row.getByRole("button", { name: "Hide" }).click();
  await assert.doesNotReject(row.getByTestId("value").filter({ hasText: MASK }).waitFor());
});

test("revealed values hide again after three minutes without input, counted from the last key or click", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  // The page's clock is Playwright's: minutes pass in fastForward, not in waiting.
  await page.clock.install();
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", "webapp/config");
  const row = keyRow(page, "password");
  await row.getByRole("button", { name: "Reveal" }).click();
  await assert.doesNotReject(row.getByTestId("value").filter({ hasText: "static-password" }).waitFor());
  await assert.doesNotReject(page.getByTestId("hide-note").filter({ hasText: "3 minutes" }).waitFor());
  await page.clock.fastForward("02:00");
  await page.keyboard.press("Shift");
  await page.clock.fastForward("02:00");
  assert.equal(await row.getByTestId("value").textContent(), "static-password", "a key pressed two minutes in keeps it shown");
  await page.clock.fastForward("01:05");
  await assert.doesNotReject(row.getByTestId("value").filter({ hasText: MASK }).waitFor());
  assert.equal(await page.getByTestId("hide-note").count(), 0);
});

test("a draft is reviewed as a diff by key and saved as one new version", async (t) => {
  const path = uniqueSecretPath("draft");
  await kvPut("dev", path, { A: "1", B: "2" });
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", path);
  await page.getByTestId("edit").click();
  const a = draftRow(page, "A");
  await a.getByTestId("draft-load").click();
  const value = a.getByTestId("draft-value");
  await assert.doesNotReject(async () => assert.equal(await value.inputValue(), "1"));
  await value.fill("one");
  await draftRow(page, "B").getByTestId("draft-remove").click();
  await page.getByTestId("add-key").click();
  const fresh = page.getByTestId("draft-row").last();
  await fresh.getByTestId("draft-key").fill("C");
  await fresh.getByTestId("draft-value").fill("three\nlines\nhere");
  await page.getByTestId("review").click();
  const items = page.getByTestId("review-item");
  await items.first().waitFor();
  const texts = await items.allTextContents();
  assert.equal(texts.length, 3, texts.join(" | "));
  assert.ok(texts.some((x) => x.startsWith("changed A") && x.includes(MASK)), texts.join(" | "));
  assert.ok(texts.some((x) => x.startsWith("removed B")), texts.join(" | "));
  assert.ok(texts.some((x) => x.startsWith("added C") && !x.includes("three")), texts.join(" | "));
  await items.filter({ hasText: "added C" }).getByRole("button", { name: "Show" }).click();
  await assert.doesNotReject(items.filter({ hasText: "three" }).waitFor());
  await page.getByTestId("save").click();
  await assert.doesNotReject(page.getByTestId("notice").filter({ hasText: "Saved version 2" }).waitFor());
  const stored = await kvGet("dev", path);
  assert.equal(stored.version, 2);
  assert.deepEqual(stored.data, { A: "one", C: "three\nlines\nhere" });
  await assert.doesNotReject(page.getByTestId("version").filter({ hasText: "Version 2" }).waitFor());
});

test("a save from a stale draft shows the conflict and merges onto the newer version", async (t) => {
  const path = uniqueSecretPath("conflict");
  await kvPut("dev", path, { SHARED: "base", OTHER: "o" });
  const alice = await launch();
  const bob = await launch();
  t.after(alice.close);
  t.after(bob.close);
  await login(alice.page, "alice", "alice-pass");
  await login(bob.page, "bob", "bob-pass");
  await openSecret(alice.page, "dev", path);
  await openSecret(bob.page, "dev", path);

  // Alice starts editing version 1 ...
  await alice.page.getByTestId("edit").click();
  const mine = draftRow(alice.page, "SHARED");
  await mine.getByTestId("draft-load").click();
  await mine.getByTestId("draft-value").fill("alice");
  await alice.page.getByTestId("add-key").click();
  const added = alice.page.getByTestId("draft-row").last();
  await added.getByTestId("draft-key").fill("ALICE_ONLY");
  await added.getByTestId("draft-value").fill("a");

  // ... while Bob saves version 2 in another browser.
  await bob.page.getByTestId("edit").click();
  const his = draftRow(bob.page, "SHARED");
  await his.getByTestId("draft-load").click();
  await his.getByTestId("draft-value").fill("bob");
  await bob.page.getByTestId("review").click();
  await bob.page.getByTestId("save").click();
  await bob.page.getByTestId("notice").filter({ hasText: "Saved version 2" }).waitFor();

  await alice.page.getByTestId("review").click();
  await alice.page.getByTestId("save").click();
  const conflict = alice.page.getByTestId("conflict");
  await assert.doesNotReject(conflict.waitFor());
  const text = await conflict.textContent();
  assert.match(text, /saved version 2 while you were editing version 1/);
  assert.match(text, /changed SHARED/);
  assert.equal(await conflict.getByTestId("conflict-key").count(), 1);
  assert.equal((await kvGet("dev", path)).data.SHARED, "bob", "nothing was overwritten");

  // Alice keeps her value for SHARED and applies her draft onto version 2.
  await conflict.getByTestId("merge").click();
  await assert.doesNotReject(alice.page.getByTestId("notice").filter({ hasText: "Saved version 3" }).waitFor());
  assert.deepEqual((await kvGet("dev", path)).data, { SHARED: "alice", OTHER: "o", ALICE_ONLY: "a" });
});

test("rolling back writes an old version's data as a new version", async (t) => {
  const path = uniqueSecretPath("rollback");
  await kvPut("dev", path, { TOKEN: "first" });
  await kvPut("dev", path, { TOKEN: "second" });
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", path);
  await page.getByTestId("tab-history").click();
  const v1 = page.getByTestId("version-1");
  await v1.waitFor();
  assert.match(await v1.textContent(), /changed outside Keyway/);
  await v1.getByTestId("rollback").click();
  await assert.doesNotReject(page.getByTestId("notice").filter({ hasText: "version 3 has the data of version 1" }).waitFor());
  const stored = await kvGet("dev", path);
  assert.equal(stored.version, 3);
  assert.deepEqual(stored.data, { TOKEN: "first" });
  await page.getByTestId("tab-history").click();
  await assert.doesNotReject(page.getByTestId("version-3").filter({ hasText: "userpass-alice" }).waitFor());
});

test("a pasted .env file is imported into the draft and saved", async (t) => {
  const path = uniqueSecretPath("import");
  await kvPut("dev", path, { KEEP: "k", FOO: "old" });
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await openSecret(page, "dev", path);
  await page.getByTestId("edit").click();
  await page.getByText("Import a .env file").click();
  await page.getByTestId("import-text").fill('# from my laptop\nFOO=new\nexport MULTI="line1\\nline2"\nQUOTED=\'a b # c\'\n');
  await page.getByTestId("import-apply").click();
  await page.getByTestId("review").click();
  await page.getByTestId("review-item").first().waitFor();
  const texts = await page.getByTestId("review-item").allTextContents();
  assert.equal(texts.length, 3, texts.join(" | "));
  await page.getByTestId("save").click();
  await page.getByTestId("notice").filter({ hasText: "Saved version 2" }).waitFor();
  assert.deepEqual((await kvGet("dev", path)).data, { KEEP: "k", FOO: "new", MULTI: "line1\nline2", QUOTED: "a b # c" });
});

test("logging out ends the session: the secrets page sends you to log in", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  await login(page, "bob", "bob-pass");
  await page.getByTestId("logout").click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${keywayUrl()}/`);
  await page.waitForURL(/\/login$/);
  assert.equal(await page.getByTestId("whoami").count(), 0);
});

test("a session that ends while a page is open leads to the login form, and it logs in", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  await login(page, "alice", "alice-pass");
  await hydrated(page);
  await page.context().clearCookies();
  await page.evaluate(() => (window.__kwSamePage = true));
  // A link followed in the page: the router finds the session ended and goes to /login, whose
  // route in the browser loads the plain page from the server.
  await page.getByRole("link", { name: "webapp/config" }).click();
  await page.waitForURL(/\/login$/);
  const form = page.getByTestId("login-form");
  await form.waitFor();
  assert.equal(await page.evaluate(() => window.__kwSamePage), undefined, "the login page came from the server");
  assert.equal(await page.locator("script[type=module]").count(), 0, "and without wasm");
  await form.locator("input[name=username]").fill("alice");
  await form.locator("input[name=secret]").fill("alice-pass");
  await form.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("mount-dev").waitFor();
  assert.equal(await page.getByTestId("whoami").textContent(), "userpass-alice");
});

test("a Vault token logs in, and a secret whose mount has a slash opens", async (t) => {
  const mount = `teams${Date.now().toString(36)}/payments`;
  await bao("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } });
  await kvPut(mount, "svc/api", { API_TOKEN: "t" });
  await bao("POST", "sys/policies/acl/e2e-teams", {
    policy: `path "${mount}/*" { capabilities = ["create", "read", "update", "list"] }`,
  });
  const token = (await bao("POST", "auth/token/create", { policies: ["e2e-teams"], ttl: "10m" })).auth.client_token;
  const { page, close } = await launch();
  t.after(close);
  await page.goto(`${keywayUrl()}/login`);
  await hydrated(page);
  // Each method is a link: the plain login page needs no wasm to switch.
  await page.getByRole("link", { name: "Token" }).click();
  await page.waitForURL(/\/login\?method=token&mount=token$/);
  assert.equal(await page.getByRole("link", { name: "Token" }).getAttribute("aria-current"), "page");
  const form = page.getByTestId("login-form");
  await form.locator("input[name=secret]").fill(token);
  await form.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId(`mount-${mount}`).waitFor();
  await page.getByRole("link", { name: "svc/api" }).click();
  await assert.doesNotReject(keyRow(page, "API_TOKEN").waitFor());
  assert.equal(await page.getByTestId("secret-title").textContent(), "svc/api");
});
