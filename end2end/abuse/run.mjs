// Keyway under a hostile client, against the real stack (issue 9): the release binary on the
// local cluster's OpenBao and kube-apiserver, its SQLite file, plain HTTP as a script would send
// it. One line per case, with the figure it measured; a case whose rule does not hold fails the
// run (exit 1).
//
// Environment (set by `end2end/run test`, step "abuse suite"):
//   KEYWAY_URL            the Keyway under attack, started with default limits
//   KEYWAY_DB             its SQLite file, to count audit rows as an auditor would
//   KEYWAY_PID            its process id, to read its memory from /proc
//   VAULT_ADDR/VAULT_TOKEN  its OpenBao (root), for setup
//   KEYWAY_SA_KUBECONFIG, KEYWAY_K8S_BIN  Keyway's own Kubernetes account and kubectl
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const URL_ = (process.env.KEYWAY_URL || "").replace(/\/+$/, "");
const DB = process.env.KEYWAY_DB;
const PID = process.env.KEYWAY_PID;
if (!URL_ || !DB || !PID) throw new Error("KEYWAY_URL, KEYWAY_DB and KEYWAY_PID must be set: run through `end2end/run test`");

const say = (name, text) => console.log(`[abuse] ${name.padEnd(44)} ${text}`);
const fmt = (n) => n.toLocaleString("en-US");

/** One HTTP client with its own session cookie, coming from `addr`: this Keyway trusts
 * 127.0.0.1 as its proxy (KEYWAY_TRUSTED_PROXIES), as it would an Ingress, so X-Forwarded-For
 * names the client, and each case acts from addresses of its own. */
class Client {
  constructor(addr = "10.1.0.1") {
    this.cookie = null;
    this.addr = addr;
  }
  async post(path, body, { form = false, raw = false, headers = {} } = {}) {
    const h = { Origin: URL_, Accept: "application/json", "X-Forwarded-For": this.addr, ...headers };
    if (this.cookie) h.Cookie = this.cookie;
    let payload = body;
    if (!raw) {
      h["Content-Type"] = form ? "application/x-www-form-urlencoded" : "application/json";
      payload = form ? new URLSearchParams(body).toString() : JSON.stringify(body);
    } else {
      h["Content-Type"] = "application/json";
    }
    const res = await fetch(`${URL_}${path}`, { method: "POST", headers: h, body: payload, redirect: "manual" });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, text, json, headers: res.headers };
  }
  async login(username, password) {
    return this.post("/api/login", { method: "userpass", mount: "userpass", username, secret: password }, { form: true });
  }
  api(endpoint, args) {
    return this.post(`/api/${endpoint}`, args);
  }
}

/** A logged-in client; each case logs in from an address of its own, so no case spends
 * another's per-address login budget (KEYWAY_LOGIN_LIMIT_PER_ADDRESS, 20 a minute here). */
async function loggedIn(user, password, addr) {
  const c = new Client(addr);
  const r = await c.login(user, password);
  assert.ok(r.status < 400, `login ${user}: ${r.status} ${r.text}`);
  return c;
}

/** Audit rows, counted by SQLite itself (python3's sqlite3 module: no extra package). */
function auditRows() {
  const out = execFileSync("python3", [
    "-c",
    "import sqlite3,sys; c=sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); print(c.execute('select count(*) from audit_log').fetchone()[0])",
    DB,
  ]);
  return Number(String(out).trim());
}

function rssKiB() {
  const status = readFileSync(`/proc/${PID}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** A call to the cluster's OpenBao as root (setting a case up); fails the case on an error. */
async function vaultRoot(path, body, method = "POST") {
  const r = await fetch(`${process.env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": process.env.VAULT_TOKEN },
    body: body === null ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.text()}`);
}

const secret = (mount, path) => ({ mount, path });
const reveal = (mount, path) => ({ secret: secret(mount, path), version: 1, keys: [], purpose: "Show" });

const cases = [];
const kase = (name, run) => cases.push({ name, run });

kase("largest request accepted", async () => {
  const alice = await loggedIn("alice", "alice-pass", "10.1.0.1");
  const LIMIT = 1024 * 1024;
  // A reveal whose padding (an unknown key name list entry) brings the body to exactly n bytes.
  const body = (n) => {
    const base = JSON.stringify({ ...reveal("dev", "webapp/config"), keys: [""] });
    return base.replace('[""]', `["${"k".repeat(n - base.length)}"]`);
  };
  const at = await alice.post("/api/reveal", body(LIMIT), { raw: true });
  const over = await alice.post("/api/reveal", body(LIMIT + 1), { raw: true });
  assert.notEqual(at.status, 413, `a body of exactly 1 MiB is read: ${at.status}`);
  assert.equal(at.status, 422, `…and refused by its field rules: ${at.text}`);
  assert.equal(over.status, 413, `one byte more is refused unread: ${over.status}`);
  return `${fmt(LIMIT)} bytes read (then refused by its field rules: ${at.json?.Invalid}); ${fmt(LIMIT + 1)} → 413`;
});

kase("malformed request", async () => {
  const alice = await loggedIn("alice", "alice-pass", "10.1.0.2");
  const r = await alice.post("/api/reveal", "{", { raw: true });
  assert.equal(r.status, 400, r.text);
  assert.ok(!/deserializ|line \d/.test(r.text), r.text);
  assert.match(r.json?.Malformed ?? "", /^Keyway could not read this request/);
  return `400 "${r.json.Malformed}"`;
});

kase("audit rows for 1,000 refused requests", async () => {
  const alice = await loggedIn("alice", "alice-pass", "10.1.0.3"); // policy dev-editor: nothing in staging
  const before = auditRows();
  const counts = {};
  const t0 = performance.now();
  for (let i = 0; i < 1000; i += 50) {
    const batch = Array.from({ length: 50 }, (_, j) => alice.api("reveal", reveal("staging", `webapp/${(i + j) % 50}`)));
    for (const r of await Promise.all(batch)) counts[r.status] = (counts[r.status] || 0) + 1;
  }
  const secs = (performance.now() - t0) / 1000;
  const rows = auditRows() - before;
  assert.deepEqual(Object.keys(counts).sort(), ["403", "429"], JSON.stringify(counts));
  // At most: the 30 refusals the per-user burst lets through to Vault, each of its own kind
  // (50 paths) and so written at once, plus one row for the 429s; 60 leaves room for a refill.
  assert.ok(rows <= 60, `${rows} rows`);
  return `${fmt(rows)} rows now (${counts[403]} answered 403, ${counts[429]} 429, in ${secs.toFixed(1)} s; the repeats' counts follow when the minute ends)`;
});

kase("login attempts before 429 (one username)", async () => {
  let n = 0;
  for (; n < 10; n++) {
    const r = await new Client(`10.2.0.${n + 1}`).login("bob", "not-bobs-password");
    if (r.status === 429) break;
    assert.equal(r.status, 401, r.text);
  }
  assert.ok(n > 0 && n < 5, `${n} attempts: Vault locks a user after 5`);
  const vault = await fetch(`${process.env.VAULT_ADDR}/v1/auth/userpass/login/bob`, {
    method: "POST",
    body: JSON.stringify({ password: "bob-pass" }),
  });
  assert.equal(vault.status, 200, "bob is not locked out of Vault");
  return `${n} failed attempts (each from another address), then 429; bob can still log in to Vault`;
});

kase("login attempts before 429 (one address)", async () => {
  let n = 0;
  for (; n < 100; n++) {
    const r = await new Client("10.3.0.1").login(`sprayed-${n}`, "x");
    if (r.status === 429) break;
  }
  assert.ok(n > 0 && n < 100, `${n}`);
  return `${n} attempts with ${n} usernames, then 429`;
});

/** The 99th percentile of at least 100 samples. */
const p99 = (ms) => {
  assert.ok(ms.length >= 100, "a p99 needs 100 samples or more");
  return ms.sort((a, b) => a - b)[Math.ceil(ms.length * 0.99) - 1];
};

/** Times `n` sequential GETs of a page (a server render with Vault calls), in ms. */
async function pageTimes(client, path, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${URL_}${path}`, { headers: { Cookie: client.cookie, "X-Forwarded-For": client.addr } });
    await res.text();
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    times.push(performance.now() - t0);
  }
  return times;
}

kase("a page while 200 refused restarts run", async () => {
  // mallory (dev only) restarts staging's webapp, 200 at once, again and again;
  // carol (who reads staging) opens its secret page meanwhile.
  // mallory is made for this case (alice's policies), so her refusal budget is whole whatever
  // ran before: her first refusals go the whole way (Vault asked, then refused), the rest 429.
  await vaultRoot("auth/userpass/users/mallory", { password: "mallory-pass", token_policies: "dev-editor" });
  const mallory = await loggedIn("mallory", "mallory-pass", "10.4.0.1");
  const carol = await loggedIn("carol", "carol-pass", "10.4.0.2");
  const page = "/secrets/staging/webapp/config";
  const quiet = await pageTimes(carol, page, 100);
  const rssBefore = rssKiB();
  let stop = false;
  let sent = 0;
  const statuses = {};
  const storm = (async () => {
    while (!stop) {
      const batch = Array.from({ length: 200 }, () =>
        mallory.api("restart", {
          secret: secret("staging", "webapp/config"),
          app: { namespace: "staging", name: "webapp" },
          workload: null,
          sync_first: false,
        }),
      );
      for (const r of await Promise.all(batch)) statuses[r.status] = (statuses[r.status] || 0) + 1;
      sent += batch.length;
    }
  })();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB())), 50);
  const busy = await pageTimes(carol, page, 100);
  stop = true;
  await storm;
  clearInterval(sampler);
  assert.ok(!statuses[200], `no refused restart went through: ${JSON.stringify(statuses)}`);
  return `page p99 ${p99(quiet).toFixed(0)} ms quiet, ${p99(busy).toFixed(0)} ms during ${fmt(sent)} refused restarts (${JSON.stringify(statuses)}); memory ${fmt(rssBefore)} → peak ${fmt(peak)} KiB`;
});

kase("admission policy", () => {
  // Keyway's own token, stolen: it tries to change what deploy/base/admission-policy.yaml guards.
  // `kubectl patch` GETs the object first, which the account may not (RBAC: no get), so the
  // patches go as a thief would send them: the kubeconfig's token and CA (read with kubectl),
  // one HTTP PATCH each (curl), as server-side dry runs (admitted like real ones, nothing changes).
  const kcfg = process.env.KEYWAY_SA_KUBECONFIG;
  const bin = process.env.KEYWAY_K8S_BIN;
  assert.ok(kcfg && bin, "KEYWAY_SA_KUBECONFIG and KEYWAY_K8S_BIN must be set (end2end/cluster/up)");
  const kubectl = (...args) => String(execFileSync(`${bin}/kubectl`, ["--kubeconfig", kcfg, ...args], { stdio: ["ignore", "pipe", "pipe"] }));
  const field = (path) => kubectl("config", "view", "--raw", "--minify", "-o", `jsonpath={${path}}`);
  const server = field(".clusters[0].cluster.server");
  const token = field(".users[0].user.token");
  const caFile = join(mkdtempSync(join(tmpdir(), "keyway-abuse-")), "ca.crt");
  writeFileSync(caFile, Buffer.from(field(".clusters[0].cluster.certificate-authority-data"), "base64"));
  let getRefused = false;
  try {
    kubectl("-n", "dev", "patch", "deployment/ubuntu", "-p", "{}", "--dry-run=server");
  } catch (e) {
    getRefused = /cannot get resource/.test(String(e.stderr));
  }
  assert.ok(getRefused, "kubectl patch is refused its GET (the account has no get)");
  const patch = (path, type, body) => {
    const out = String(
      execFileSync("curl", ["-sS", "--cacert", caFile, "-X", "PATCH", "-H", `Authorization: Bearer ${token}`, "-H", `Content-Type: application/${type}-patch+json`,
        "--data-binary", JSON.stringify(body), "-w", "\n%{http_code}", `${server}${path}?dryRun=All&fieldManager=keyway`]),
    );
    const code = Number(out.slice(out.lastIndexOf("\n") + 1));
    return { code, body: out.slice(0, out.lastIndexOf("\n")) };
  };
  const ubuntu = "/apis/apps/v1/namespaces/dev/deployments/ubuntu";
  const vss = "/apis/secrets.hashicorp.com/v1beta1/namespaces/dev/vaultstaticsecrets/vault-kv-app";
  const tries = [
    ["image", ubuntu, "strategic-merge", { spec: { template: { spec: { containers: [{ name: "ubuntu", image: "evil:latest" }] } } } }],
    ["command", ubuntu, "strategic-merge", { spec: { template: { spec: { containers: [{ name: "ubuntu", command: ["sh", "-c", "env"] }] } } } }],
    ["VSS spec.path", vss, "merge", { spec: { path: "payments/api" } }],
  ];
  const refused = [];
  for (const [name, path, type, body] of tries) {
    const r = patch(path, type, body);
    assert.ok(r.code >= 400, `${name}: the patch went through (${r.code})`);
    assert.match(r.body, /ValidatingAdmissionPolicy .* Keyway's account may/, `${name}: refused, but not by the policy: ${r.code} ${r.body}`);
    refused.push(`${name} (${r.code})`);
  }
  const restart = { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } } } };
  const r = patch(ubuntu, "strategic-merge", restart);
  assert.equal(r.code, 200, `a restart-annotation-only patch is allowed: ${r.body}`);
  return `refused by the policy: ${refused.join(", ")}; restart annotation only: 200; kubectl patch: its GET refused by RBAC`;
});

kase("environments page with 2,000 app folders", async () => {
  // 2,000 apps in alice's `dev` mount (fleet-0000/config …), written as root over Vault's HTTP
  // API, 50 at a time, and deleted again at the end. The page must answer, stop listing at its
  // cap and say so.
  const APPS = 2000;
  const fleet = (i) => `fleet-${String(i).padStart(4, "0")}/config`;
  const each = async (f) => {
    for (let i = 0; i < APPS; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => f(fleet(i + j))));
  };
  await each((p) => vaultRoot(`dev/data/${p}`, { data: { token: "x" } }));
  try {
    return await environmentsPage(APPS);
  } finally {
    await each((p) => vaultRoot(`dev/metadata/${p}`, null, "DELETE"));
  }
});

async function environmentsPage(APPS) {
  const alice = await loggedIn("alice", "alice-pass", "10.5.0.1");
  const times = await pageTimes(alice, "/", 5);
  const page = await fetch(`${URL_}/`, { headers: { Cookie: alice.cookie, "X-Forwarded-For": alice.addr } }).then((r) => r.text());
  assert.match(page, /data-testid="list-cut"/, "the page says the list is cut");
  assert.match(page, /Search to find the others/);
  const found = await fetch(`${URL_}/?q=fleet-1999`, { headers: { Cookie: alice.cookie, "X-Forwarded-For": alice.addr } }).then((r) => r.text());
  assert.match(found, /fleet-1999/, "search finds an app past the cap");
  times.sort((a, b) => a - b);
  return `${fmt(APPS)} folders in dev: page in ${times[2].toFixed(0)} ms (median of 5, slowest ${times[4].toFixed(0)} ms), list cut and said; search finds fleet-1999`;
}

let failed = 0;
// ABUSE_ONLY=<text>: only the cases whose name contains it (when working on one).
const only = process.env.ABUSE_ONLY;
const chosen = cases.filter((c) => !only || c.name.includes(only));
for (const { name, run } of chosen) {
  try {
    say(name, await run());
  } catch (e) {
    failed += 1;
    say(name, `FAILED: ${e.message}`);
  }
}
say("memory after the run", `${fmt(rssKiB())} KiB resident`);
if (failed) {
  console.error(`[abuse] ${failed} of ${chosen.length} cases failed`);
  process.exit(1);
}
console.log(`[abuse] all ${chosen.length} cases hold`);
