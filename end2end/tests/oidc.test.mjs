// Single sign-on as a user does it, in one tab: "Sign in with Corporate SSO" on Keyway's login
// page, the identity provider's own login form (a second OpenBao dev server, `end2end/run`
// starts it: OIDC_IDP_ADDR / OIDC_IDP_TOKEN, acting as the provider through
// identity/oidc/provider), its userpass sign-in, and back on Keyway signed in with the user's own
// Vault token, whose external group (mapped from the provider's `groups` claim) edits `dev`.
// Nothing is substituted: the provider's authorize page is OpenBao's web UI, which asks the user
// to log in to the provider and then sends the browser back to Keyway.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, keywayUrl } from "./lib/browser.mjs";
import { bao, hydrated, kvGet } from "./lib/keyway.mjs";

const MOUNT = "e2e-sso";
const PROVIDER = "e2e";

function idp() {
  const addr = process.env.OIDC_IDP_ADDR;
  const token = process.env.OIDC_IDP_TOKEN;
  if (!addr || !token) throw new Error("OIDC_IDP_ADDR / OIDC_IDP_TOKEN are not set: run through `end2end/run test`");
  return { addr: addr.replace(/\/+$/, ""), token };
}

/** Calls the provider OpenBao's API as root. */
async function idpCall(method, path, body) {
  const { addr, token } = idp();
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`provider ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let groupId;

before(async () => {
  const callback = `${keywayUrl()}/auth/oidc/callback`;
  // The provider: a user in the group payments-devs, a groups scope, a client, the provider.
  // (Already there when the suite runs again against the same provider.)
  const idpAuths = await idpCall("GET", "sys/auth");
  if (!idpAuths.data["userpass/"]) await idpCall("POST", "sys/auth/userpass", { type: "userpass" });
  await idpCall("POST", "sys/auth/userpass/tune", { listing_visibility: "unauth" });
  await idpCall("POST", "auth/userpass/users/sso-dana", { password: "dana-sso-pass" });
  const login = await fetch(`${idp().addr}/v1/auth/userpass/login/sso-dana`, {
    method: "POST",
    body: JSON.stringify({ password: "dana-sso-pass" }),
  }).then((r) => r.json());
  await idpCall("POST", "identity/group/name/payments-devs", {
    member_entity_ids: [login.auth.entity_id],
  });
  await idpCall("POST", "identity/oidc/scope/groups", {
    template: '{"groups": {{identity.entity.groups.names}}}',
  });
  await idpCall("POST", "identity/oidc/key/default", { allowed_client_ids: ["*"] });
  await idpCall("POST", "identity/oidc/client/keyway-vault", {
    redirect_uris: [callback],
    assignments: ["allow_all"],
    key: "default",
    client_type: "confidential",
  });
  const client = (await idpCall("GET", "identity/oidc/client/keyway-vault")).data;
  await idpCall("POST", `identity/oidc/provider/${PROVIDER}`, {
    allowed_client_ids: ["*"],
    scopes_supported: ["groups"],
  });
  // Keyway's Vault: the oidc method listed on the login page, its role, the external group.
  await bao("POST", `sys/auth/${MOUNT}`, { type: "oidc", description: "Corporate SSO" });
  await bao("POST", `sys/auth/${MOUNT}/tune`, { listing_visibility: "unauth" });
  await bao("POST", `auth/${MOUNT}/config`, {
    oidc_discovery_url: `${idp().addr}/v1/identity/oidc/provider/${PROVIDER}`,
    oidc_client_id: client.client_id,
    oidc_client_secret: client.client_secret,
    default_role: "keyway",
  });
  await bao("POST", `auth/${MOUNT}/role/keyway`, {
    role_type: "oidc",
    user_claim: "sub",
    groups_claim: "groups",
    oidc_scopes: ["groups"],
    bound_audiences: [client.client_id],
    allowed_redirect_uris: [callback],
    token_policies: ["default"],
  });
  const group = await bao("POST", "identity/group", {
    name: "e2e-sso-payments",
    type: "external",
    policies: ["dev-editor"],
  });
  groupId = group.data.id;
  const auths = await bao("GET", "sys/auth");
  await bao("POST", "identity/group-alias", {
    name: "payments-devs",
    mount_accessor: auths.data[`${MOUNT}/`].accessor,
    canonical_id: groupId,
  });
});

// The other browser tests see the login page they expect.
after(async () => {
  await bao("DELETE", `sys/auth/${MOUNT}`);
  if (groupId) await bao("DELETE", `identity/group/id/${groupId}`);
});

test("a user signs in with single sign-on at the provider and edits dev with her group's policy", async (t) => {
  const { page, close } = await launch();
  t.after(close);
  const started = Date.now();

  await page.goto(`${keywayUrl()}/login`);
  await hydrated(page);
  await page.getByRole("button", { name: "Sign in with Corporate SSO" }).click();

  // The provider's own sign-in page (OpenBao's UI), in this tab.
  await page.waitForURL((u) => u.href.startsWith(idp().addr), { timeout: 20_000 });
  await page.locator("#username").fill("sso-dana");
  await page.locator("#password").fill("dana-sso-pass");
  await page.locator("#auth-submit").click();

  // Back on Keyway, at a clean address, signed in.
  await page.getByRole("heading", { name: "Your secrets" }).waitFor({ timeout: 30_000 });
  const here = new URL(page.url());
  assert.equal(here.origin, keywayUrl());
  assert.equal(here.search, "", "no code or state left in the address bar");
  const me = await page.evaluate(async () => {
    const r = await fetch("/api/whoami", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    return r.json();
  });
  // Vault names an OIDC token <mount>-<subject>; dev-editor comes from the external group.
  assert.ok(me.display_name.startsWith(`${MOUNT}-`), JSON.stringify(me));
  assert.ok(me.policies.includes("dev-editor"), JSON.stringify(me));

  // Her own token: the external group's dev-editor policy lets her create a secret in dev, and
  // nothing in staging.
  const path = `e2e/sso-${Date.now().toString(36)}`;
  const save = (mount) =>
    page.evaluate(
      async ([mount, path]) => {
        const r = await fetch("/api/save", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({
            secret: { mount, path },
            base_version: 0,
            changes: { set: { TOKEN_FROM: "sso" }, remove: [], rename: [] },
          }),
        });
        return r.status;
      },
      [mount, path],
    );
  assert.equal(await save("dev"), 200, "dev is hers to edit");
  assert.deepEqual((await kvGet("dev", path)).data, { TOKEN_FROM: "sso" });
  const refused = await save("staging");
  assert.ok(refused >= 400 && refused < 500, `staging is not hers: ${refused}`);
  t.diagnostic(`single sign-on round trip took ${Date.now() - started} ms`);
});
