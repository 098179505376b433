// The Costs page in a real headless Chromium (Debian's `chromium`), against a real
// `peekr serve --demo` (issue 5).
//
// Run from the repository root (builds the binary if needed):
//
//     bash tests/browser/ci-setup.sh          # once: chromium + npm ci
//     (cd tests/browser && npm test)
//
// Environment: PEEKR_BIN (default: build and use target/debug/peekr), CHROMIUM (default
// /usr/bin/chromium). Without Chromium the test is skipped with a loud message locally; under
// CI (CI=true) a missing Chromium fails the run. Screenshots go to target/screenshots/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHOTS = path.join(ROOT, "target", "screenshots");

function findChromium() {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

function peekrBinary() {
  if (process.env.PEEKR_BIN) return process.env.PEEKR_BIN;
  const built = spawnSync("cargo", ["build", "--features", "server", "--bin", "peekr"], { cwd: ROOT, stdio: "inherit" });
  assert.equal(built.status, 0, "cargo build --features server --bin peekr failed");
  return path.join(ROOT, "target", "debug", "peekr");
}

/// Starts `peekr serve --demo` on free ports; resolves once the demo data is in and the
/// dashboard key is printed.
function startDemo(bin, dataDir) {
  const child = spawn(bin, ["serve", "--demo", "--data", dataDir, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PEEKR_LOG: "warn" },
  });
  let log = "";
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk.toString();
      const http = log.match(/Costs page on (http:\/\/[0-9.:]+)/);
      const key = log.match(/dashboard key \(read-only\):\s+(pk_[0-9a-f]{64})/);
      if (http && key) resolve({ base: http[1], key: key[1] });
      if (/demo failed/.test(log)) reject(new Error("demo failed:\n" + log));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`peekr serve exited with ${code}:\n${log}`)));
  });
  return { child, ready, log: () => log };
}

const chromiumPath = findChromium();
if (!chromiumPath) {
  const banner = "\n" + "!".repeat(78) + "\n!! SKIPPING the Costs page browser test: no Chromium at /usr/bin/chromium.\n!! Install it with `bash tests/browser/ci-setup.sh` (apt-get install chromium).\n" + "!".repeat(78) + "\n";
  console.error(banner);
  if (process.env.CI) throw new Error("Chromium is required under CI: run tests/browser/ci-setup.sh first");
}

test("costs page shows the demo's cost per query, breakdowns, insights and a trace waterfall", { skip: !chromiumPath && "no chromium" }, async (t) => {
  const { chromium } = await import("playwright-core");
  mkdirSync(SHOTS, { recursive: true });
  const bin = peekrBinary();
  const dataDir = mkdtempSync(path.join(tmpdir(), "peekr-browser-data-"));
  const profile = mkdtempSync(path.join(tmpdir(), "peekr-browser-profile-"));
  const server = startDemo(bin, dataDir);
  let context;
  t.after(async () => {
    if (context) await context.close().catch(() => {});
    server.child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });
  const { base, key } = await server.ready;

  // ----- unauthenticated access is refused -----
  const api = await fetch(base + "/api/v1/dashboard");
  assert.equal(api.status, 401, "the JSON API must refuse a request without a key");
  const wrong = await fetch(base + "/api/v1/dashboard", { headers: { authorization: "Bearer pk_" + "0".repeat(64) } });
  assert.equal(wrong.status, 401, "the JSON API must refuse an unknown key");
  const page0 = await fetch(base + "/");
  assert.equal(page0.status, 401);
  const html0 = await page0.text();
  assert.match(html0, /<form method="post" action="\/login"/, "without a key the page is the sign-in form");
  assert.doesNotMatch(html0, /Cost per query/, "no data before sign-in");

  // ----- the browser -----
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
    colorScheme: "light",
  });
  const page = context.pages()[0] || (await context.newPage());
  const foreign = [];
  const problems = [];
  // Nothing may be fetched from anywhere but the server itself (no CDN).
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== base && url.protocol !== "data:") {
      foreign.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  // The sign-in page itself answers 401 (no key yet, then a wrong one): expected, not a problem.
  page.on("console", (m) => { if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));

  await page.goto(base + "/");
  await page.waitForSelector("#login-form");
  await page.fill("#key", "pk_not_a_key");
  await Promise.all([page.waitForNavigation(), page.click("#login-form button[type=submit]")]);
  assert.match(await page.textContent("#login-error"), /unknown or revoked/);

  await page.fill("#key", key);
  await Promise.all([page.waitForNavigation(), page.click("#login-form button[type=submit]")]);
  await page.waitForSelector("body[data-loaded=true]", { timeout: 60_000 });

  assert.equal(await page.textContent("#project"), "demo");
  // (a) cost per query over 30 days: a line with a point per day that had queries, and bars.
  const dots = await page.locator("#chart-cpq circle.dot").count();
  assert.ok(dots >= 28, `expected a point per day, got ${dots}`);
  assert.equal(await page.locator("#chart-cpq path.cpq").count(), 1);
  assert.equal(await page.locator("#chart-cpq rect.qbar").count(), 30);
  // The jumps (prompt bloat 14 days ago, model switch 7 days ago) are marked on the chart.
  assert.ok((await page.locator("#chart-cpq line.jump").count()) >= 2, "jump days marked on the chart");
  const headline = await page.textContent("#headline");
  assert.match(headline, /Cost per query rose on \d{4}-\d{2}-\d{2}/);
  assert.match(headline, /gpt-4o/, "the headline names the model that drove the rise");

  // (b)-(d) breakdowns with data.
  for (const id of ["by-operation", "by-model", "by-tenant", "by-service"]) {
    const rows = await page.locator(`#${id} tbody tr`).count();
    assert.ok(rows >= 1, `${id} has rows`);
  }
  assert.ok((await page.locator("#by-tenant tbody tr").count()) >= 5, "five demo tenants");
  const ops = await page.textContent("#by-operation");
  assert.match(ops, /chat/);
  assert.match(ops, /embeddings/);
  assert.match(await page.textContent("[data-testid=embedding-share]"), /Embeddings: [0-9.]+% of spend/);
  assert.match(await page.textContent("#by-model"), /gpt-4o-mini/);

  // (f) compare, (g) errors, insights, alerts.
  assert.ok((await page.locator("#compare tbody tr").count()) >= 3);
  assert.match(await page.textContent("#compare"), /\+[0-9.]+¢/, "a cost-per-query increase is shown");
  assert.match(await page.textContent("#errors"), /failed calls/);
  const insights = await page.locator("[data-testid=insight]").allTextContents();
  const kinds = insights.join("\n");
  assert.match(kinds, /prompt bloat/i);
  assert.match(kinds, /model mismatch/i);
  assert.match(kinds, /Saves about \$[0-9.]+ per day/);
  assert.ok((await page.locator("#alerts tbody tr").count()) >= 1, "the replayed spike alerts are listed");

  await page.screenshot({ path: path.join(SHOTS, "costs-light.png"), fullPage: true });

  // (e) the top traces open a waterfall with every span's cost and tokens.
  const traces = page.locator("[data-testid=top-traces-table] tbody tr");
  assert.ok((await traces.count()) >= 5, "top traces listed");
  await traces.first().click();
  await page.waitForSelector("[data-testid=waterfall-table] tbody tr");
  const spans = page.locator("[data-testid=waterfall-span]");
  assert.ok((await spans.count()) >= 4, "root, embeddings, plan and answer spans");
  const wf = await page.textContent("#waterfall");
  assert.match(wf, /invoke_agent support-agent/);
  assert.match(wf, /chat gpt-4o/);
  assert.match(wf, /\$[0-9.]+/);
  assert.match(wf, /usual/);
  await page.locator("#waterfall").screenshot({ path: path.join(SHOTS, "waterfall-light.png") });

  // Filter to one tenant: the page reloads with that tenant only.
  await page.selectOption("#filters select[name=tenant]", "acme");
  await page.evaluate(() => { document.body.dataset.loaded = "false"; });
  await page.click("#filters button[type=submit]");
  await page.waitForSelector("body[data-loaded=true]");
  assert.equal(await page.locator("#by-tenant tbody tr").count(), 1);
  assert.match(await page.textContent("#by-tenant tbody"), /acme/);
  assert.match(page.url(), /tenant=acme/);

  // Dark mode: the same page, readable.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.selectOption("#filters select[name=tenant]", "");
  await page.evaluate(() => { document.body.dataset.loaded = "false"; });
  await page.click("#filters button[type=submit]");
  await page.waitForSelector("body[data-loaded=true]");
  await page.screenshot({ path: path.join(SHOTS, "costs-dark.png"), fullPage: true });
  await traces.nth(1).click();
  await page.waitForSelector("[data-testid=waterfall-table] tbody tr");
  await page.locator("#waterfall").screenshot({ path: path.join(SHOTS, "waterfall-dark.png") });

  assert.deepEqual(foreign, [], "the page fetched nothing from outside the server");
  assert.deepEqual(problems, [], "no console errors (CSP violations included)");
  console.log(`screenshots in ${SHOTS}`);
});
