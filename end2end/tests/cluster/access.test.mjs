// The platform team's access page, as a platform engineer uses it: create a group with a new
// person in it, grant it edit on `staging`, review the policy diff and the effective access,
// apply; that person can then edit a `staging` secret. Against the cluster's OpenBao (seeded by
// end2end/demo/seed.sh: the `platform` user) and the Keyway on the local cluster.
//
// Each run makes its own person and group (random names), so the test can run again on the
// same OpenBao: the first thing it checks is that this person cannot touch staging yet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "../lib/browser.mjs";
import { bao, editAndSave, hydrated, kvPut, login, openSecret, uniqueSecretPath } from "../lib/keyway.mjs";

/** A userpass user with no policy, and its entity (as Vault makes one at the first login). */
async function newPerson() {
  const name = `e2e-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  await bao("POST", `auth/userpass/users/${name}`, { password: `${name}-pass`, token_policies: "" });
  const auth = await bao("GET", "sys/auth");
  const accessor = auth.data["userpass/"].accessor;
  const entity = await bao("POST", "identity/entity", { name });
  await bao("POST", "identity/entity-alias", { name, canonical_id: entity.data.id, mount_accessor: accessor });
  return name;
}

test("a platform engineer grants a new group edit on staging after reviewing it, and its member can then edit", async (t) => {
  const person = await newPerson();
  const groupName = `${person}-team`;

  // Before: the person sees no staging secret.
  {
    const { page, close } = await launch();
    t.after(close);
    await login(page, person, `${person}-pass`);
    await page.getByText("Your Vault policies give you no secrets yet").waitFor();
    assert.equal(await page.getByRole("link", { name: "Access" }).count(), 0, "a developer sees no platform link");
  }

  const { page, close } = await launch();
  t.after(close);
  await login(page, "platform", "platform-pass");
  await page.getByRole("link", { name: "Access" }).click();
  await page.getByTestId("access-environments").getByRole("link", { name: "staging" }).click();
  await hydrated(page);
  await page.getByRole("heading", { name: "Access to staging" }).waitFor();
  // What hand-written policies give here is shown, read-only.
  await page.getByTestId("outside-staging-editor").waitFor();

  await page.getByTestId("new-group-name").fill(groupName);
  await page.getByTestId("create-group").click();
  const row = page.getByTestId(`group-${groupName}`);
  await row.waitFor();
  await row.getByTestId(`member-search-${groupName}`).fill(person);
  await row.getByRole("button", { name: "Find" }).click();
  await row.getByRole("button", { name: `Add ${person}` }).first().click();
  await row.getByText(`${person} (userpass: ${person})`).waitFor();
  await row.getByTestId(`level-${groupName}-edit`).check();
  await page.getByTestId("probe-user").fill(person);
  assert.ok(await page.getByTestId("apply").isDisabled(), "no apply before a preview");
  await page.getByTestId("preview").click();

  const preview = page.getByTestId("access-preview");
  await preview.waitFor();
  // The group change, and (on a fresh OpenBao) the new policy's text as added lines.
  // Edit brings view (editing reads the secret), so the group gets both policies.
  const groupLine = preview.getByTestId("group-diffs").getByText(`${groupName}:`);
  await groupLine.waitFor();
  const said = await preview.getByTestId("group-diffs").textContent();
  assert.match(said, /gets [^;]*keyway-staging-edit/, said);
  assert.match(said, /gets [^;]*keyway-staging-view/, said);
  const diffs = await preview.locator("[data-testid^=policy-diff-]").count();
  const stateOfEdit = await page.getByTestId("policy-keyway-staging-edit").textContent();
  assert.ok(diffs > 0 || stateOfEdit.includes("up to date"), `the edit policy is new (diff shown) or already Keyway's: ${stateOfEdit}`);
  if (diffs > 0) {
    await preview.getByTestId("policy-diff-keyway-staging-edit").getByText("# Managed by Keyway").first().waitFor();
  }
  // Effective access: the person goes from no edit in staging to edit on every app.
  const effective = preview.getByTestId(`effective-${person}-staging`);
  assert.equal((await effective.getByTestId("reach-edit").textContent()).trim(), "no → yes");
  assert.equal((await effective.getByTestId("reach-restart").textContent()).trim(), "no");

  await page.getByTestId("apply").click();
  await page.getByTestId("access-applied").waitFor();
  // The page reads Vault again: the group is listed with edit ticked.
  await page.getByTestId(`group-${groupName}`).waitFor();
  assert.ok(await page.getByTestId(`level-${groupName}-edit`).isChecked());
  const group = await bao("GET", `identity/group/name/${groupName}`);
  assert.deepEqual([...group.data.policies].sort(), ["keyway-staging-edit", "keyway-staging-view"], "edit brings view");
  assert.ok(await page.getByTestId(`level-${groupName}-view`).isChecked(), "view is ticked with edit");

  // The member, logging in now, edits a staging secret (one of its own, so the apps the other
  // cluster tests watch keep their secrets).
  const path = uniqueSecretPath("access");
  await kvPut("staging", path, { GREETING: "hello" });
  const member = await launch();
  t.after(member.close);
  await login(member.page, person, `${person}-pass`);
  await member.page.getByTestId("mount-staging").waitFor();
  await openSecret(member.page, "staging", path);
  const version = await editAndSave(member.page, "GREETING", `edited-by-${person}`);
  assert.equal(version, 2);
});
