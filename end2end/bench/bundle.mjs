// The measuring half of end2end/bench/bundle (run that script, not this file): opens pages in
// Chromium through playwright-core and prints the bytes each one transferred and its time to
// interactive. KEYWAY_URL must point at a Keyway with the demo data (alice / alice-pass).
import { readFileSync } from "node:fs";
import { launch, keywayUrl } from "../tests/lib/browser.mjs";

/** The aims in KB, shared with bench/chunks. */
const AIMS = JSON.parse(readFileSync(new URL("./aims.json", import.meta.url), "utf8"));

const KB = 1024;
const USER = process.env.KEYWAY_BENCH_USER || "alice";
const PASSWORD = process.env.KEYWAY_BENCH_PASSWORD || "alice-pass";
const DEEP_LINK = process.env.KEYWAY_BENCH_SECRET || "/secrets/dev/webapp/config";

/** Logs in through the API (as the login form does) and returns the session cookie. */
async function sessionCookie(base) {
  const res = await fetch(`${base}/api/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      Origin: base,
      Accept: "application/json",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ method: "userpass", mount: "userpass", username: USER, secret: PASSWORD }),
  });
  const cookie = res.headers.getSetCookie().find((c) => /^(__Host-)?keyway_session=/.test(c));
  if (!cookie) throw new Error(`login as ${USER} failed: ${res.status} ${await res.text()}`);
  const [name, value] = cookie.split(";")[0].split("=");
  return { name, value, url: base };
}

/** The type a response counts under. */
function kind(url, mime, resourceType) {
  const path = new URL(url).pathname;
  if (path.endsWith(".wasm") || mime === "application/wasm") return "wasm";
  if (path.endsWith(".js") || mime.includes("javascript")) return "js";
  if (path.endsWith(".css") || mime === "text/css") return "css";
  if (resourceType === "Document") return "html";
  return "other";
}

/**
 * Opens `path` in `page` (or reloads it) and returns { total, byKind, tti, count, statuses }.
 * Counts every response until the page has hydrated and the network has been idle. With
 * `reach`, it opens nothing: it points at the open page's server-rendered lazy part and counts
 * until the part's code runs (`tti` is then the time that took).
 */
async function measure(page, path, { reload = false, reach = false } = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const requests = new Map();
  const finished = [];
  cdp.on("Network.responseReceived", (e) => {
    requests.set(e.requestId, {
      url: e.response.url,
      mime: e.response.mimeType || "",
      type: e.type,
      status: e.response.status,
      cached: e.response.fromDiskCache || e.response.fromPrefetchCache || false,
    });
  });
  cdp.on("Network.loadingFinished", (e) => finished.push(e));
  let tti;
  if (reach) {
    const t0 = Date.now();
    await page.hover("[data-lazy-part]");
    await page.waitForSelector("[data-lazy-part][data-part-live=true]", { timeout: 30_000 });
    tti = Date.now() - t0;
    await page.waitForLoadState("networkidle");
  } else {
    if (reload) await page.reload({ waitUntil: "networkidle" });
    else await page.goto(`${keywayUrl()}${path}`, { waitUntil: "networkidle" });
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
    await page.waitForLoadState("networkidle");
    // A page served as plain HTML (no wasm) arrives with data-hydrated already set: it is
    // interactive once its DOM is.
    tti = await page.evaluate(
      () => window.__kwHydratedAt ?? performance.getEntriesByType("navigation")[0]?.domInteractive ?? null,
    );
  }
  await cdp.detach();
  const byKind = { wasm: 0, js: 0, css: 0, html: 0, other: 0 };
  const statuses = {};
  let total = 0;
  for (const f of finished) {
    const r = requests.get(f.requestId);
    if (!r) continue;
    const k = kind(r.url, r.mime, r.type);
    byKind[k] += f.encodedDataLength;
    total += f.encodedDataLength;
    const s = r.cached ? "cache" : String(r.status);
    statuses[s] = (statuses[s] || 0) + 1;
  }
  return { total, byKind, tti, count: finished.length, statuses };
}

/** Records when the frontend sets body[data-hydrated] (injected before any page script runs). */
const HYDRATION_PROBE = () => {
  new MutationObserver((_, obs) => {
    if (document.body?.dataset.hydrated === "true") {
      window.__kwHydratedAt = performance.now();
      obs.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
};

function report(label, m, aimKb, ttiLabel = "time to interactive") {
  const kb = (n) => `${(n / KB).toFixed(1)} KB`;
  const split = Object.entries(m.byKind)
    .map(([k, v]) => `${k} ${kb(v)}`)
    .join(", ");
  const aim = aimKb ? `   (aim <= ${aimKb} KB: ${(m.total / KB / aimKb).toFixed(2)}x)` : "";
  const tti = m.tti == null ? "n/a" : `${m.tti.toFixed(0)} ms`;
  const statuses = Object.entries(m.statuses)
    .map(([s, n]) => `${n}x ${s}`)
    .join(" ");
  console.log(`${label.padEnd(28)} ${kb(m.total).padStart(10)}${aim}`);
  console.log(`${"".padEnd(28)}   ${split}`);
  console.log(`${"".padEnd(28)}   ${ttiLabel} ${tti}; ${m.count} responses (${statuses})`);
}

async function scenario(label, path, aimKb, cookie, { warmReload = false, reach = false } = {}) {
  const b = await launch();
  try {
    if (cookie) await b.context.addCookies([cookie]);
    await b.context.addInitScript(HYDRATION_PROBE);
    const cold = await measure(b.page, path);
    report(`${label} (cold)`, cold, aimKb);
    // The app cards' code loads when the user reaches for them (pages::rendered_lazily): what
    // pointing at them adds, and how long until they act.
    if (reach) {
      if (await b.page.locator("[data-lazy-part][data-part-live=true]").count()) {
        console.log(`${"".padEnd(28)}   (the app cards' code was already running: their status changed)`);
      }
      const more = await measure(b.page, path, { reach: true });
      report("  + pointing at the app cards", more, null, "until the cards act");
      console.log(`${"".padEnd(28)}   together ${(((cold.total + more.total) / KB)).toFixed(1)} KB`);
    }
    if (warmReload) report(`${label} (warm reload)`, await measure(b.page, path, { reload: true }));
  } finally {
    await b.close();
  }
}

const base = keywayUrl();
console.log(`Keyway at ${base}; bytes are encoded bytes on the wire, headers included`);
await scenario("/login", "/login", AIMS.login, null);
const cookie = await sessionCookie(base);
await scenario("/ (secrets)", "/", AIMS.home, cookie);
// Whether an app in the cluster uses the deep link's secret decides whether its app cards load.
const apps = await fetch(`${base}/api/cluster_status`, {
  method: "POST",
  headers: { Origin: base, Accept: "application/json", "Content-Type": "application/json", Cookie: `${cookie.name}=${cookie.value}` },
  body: JSON.stringify({ secret: { mount: DEEP_LINK.split("/")[2], path: DEEP_LINK.split("/").slice(3).join("/") } }),
})
  .then((r) => (r.ok ? r.json() : { apps: [] }))
  .then((s) => s.apps?.length ?? 0);
const used = apps ? `used by ${apps} app${apps > 1 ? "s" : ""} in the cluster` : "no app in a cluster uses it";
await scenario(`${DEEP_LINK} (${used})`, DEEP_LINK, AIMS.deep_link, cookie, { warmReload: true, reach: apps > 0 });
