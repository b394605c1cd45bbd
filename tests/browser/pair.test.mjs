// Browser test of the console's Pairing page and the BACKUP's read-only
// banner (doc/console.md, doc/ha.md), in headless Chromium (playwright-core)
// against two real tandem-admin consoles started by pair-stack.sh:
// console A shows a one-time token; console B joins with A's address, the
// token and A's fingerprint; both pages then show the other node. When A's
// tandemd is MASTER of a VIP group (EXPECT_BANNER=1: pair-stack.sh ran it in
// a namespace with keepalived), B (no tandemd of its own, its peer MASTER)
// shows the banner naming A with a link to A's console and hides Apply.
// Finally B unpairs and A learns it.
//
// Environment: CONSOLE_URL, ADMIN_PASSWORD (node A), CONSOLE_B_URL,
// ADMIN_B_PASSWORD (node B), EXPECT_BANNER (0 or 1), CHROMIUM (optional).
// Output: "ok N - ..." / "not ok N - ..."; exit 1 on any failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const missing = ['CONSOLE_URL', 'ADMIN_PASSWORD', 'CONSOLE_B_URL', 'ADMIN_B_PASSWORD'].filter((k) => !env[k]);
if (missing.length) {
  console.error('pair.test.mjs: missing environment: ' + missing.join(', '));
  process.exit(2);
}
const URL_A = env.CONSOLE_URL.replace(/\/?$/, '/');
const URL_B = env.CONSOLE_B_URL.replace(/\/?$/, '/');
const EXPECT_BANNER = env.EXPECT_BANNER === '1';
const TIMEOUT = 20000;

let n = 0, failed = 0;
function report(ok, desc, detail) {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${desc}`);
  if (!ok && detail) for (const l of String(detail).split('\n')) console.log('#   ' + l);
}
class Fatal extends Error {}
async function step(desc, fn) {
  try {
    const d = await fn();
    report(true, desc + (d ? ' (' + d + ')' : ''));
  } catch (e) {
    report(false, desc, e && e.stack ? e.stack.split('\n').slice(0, 4).join('\n') : e);
    throw new Fatal();
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

const jsErrors = [];
let browser;

// Each console in its own context: both are on 127.0.0.1 and cookies do
// not tell ports apart.
async function open(url, password) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => jsErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of [45]\d\d/.test(m.text())) jsErrors.push('console: ' + m.text()); });
  await page.goto(url, { waitUntil: 'load' });
  const tid = (id) => page.getByTestId(id);
  await tid('login-username').fill('admin');
  await tid('login-password').fill(password);
  await tid('login-submit').click();
  await tid('view-dashboard').waitFor({ state: 'visible' });
  return { page, tid };
}

async function main() {
  browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  let A, B, tok = {};
  await step('log in on both consoles', async () => {
    A = await open(URL_A, env.ADMIN_PASSWORD);
    B = await open(URL_B, env.ADMIN_B_PASSWORD);
  });
  await step('A: the Pairing page shows this node and its fingerprint, not paired', async () => {
    await A.tid('nav-pair').click();
    await A.tid('pair-unpaired').waitFor({ state: 'visible' });
    const fp = (await A.tid('pair-fingerprint').textContent()).trim();
    assert(/^[0-9a-f]{64}$/.test(fp), 'fingerprint: ' + fp);
    tok.fpShown = fp;
  });
  await step('A: "Show a pairing token" shows console, token and fingerprint', async () => {
    await A.tid('pair-token-button').click();
    await A.tid('pair-token-value').waitFor({ state: 'visible' });
    tok.console = (await A.tid('pair-token-console').textContent()).trim();
    tok.token = (await A.tid('pair-token-value').textContent()).trim();
    tok.fp = (await A.tid('pair-token-fingerprint').textContent()).trim();
    assert(/^[0-9a-f]{32}$/.test(tok.token), 'token: ' + tok.token);
    assert(tok.fp === tok.fpShown, 'fingerprint differs from the one on the page');
    return tok.console;
  });
  await step('B: a wrong fingerprint is refused on the page', async () => {
    await B.tid('nav-pair').click();
    await B.tid('pair-join-form').waitFor({ state: 'visible' });
    await B.tid('pair-join-console').fill(tok.console);
    await B.tid('pair-join-token').fill(tok.token);
    await B.tid('pair-join-fingerprint').fill('0'.repeat(64));
    await B.tid('pair-join-submit').click();
    await B.tid('pair-error').waitFor({ state: 'visible' });
    const t = await B.tid('pair-error').textContent();
    assert(/fingerprint/i.test(t), 'error: ' + t);
    return JSON.stringify(t.trim().slice(0, 80));
  });
  await step('B: joining with A\'s token and fingerprint pairs', async () => {
    await B.tid('pair-join-fingerprint').fill(tok.fp.toUpperCase());
    await B.tid('pair-join-submit').click();
    await B.tid('pair-paired').waitFor({ state: 'visible' });
    const peer = (await B.tid('pair-peer-node').textContent()).trim();
    assert(peer === 'lb-a', 'peer: ' + peer);
  });
  await step('A: the Pairing page shows B', async () => {
    await A.page.reload();
    await A.tid('pair-paired').waitFor({ state: 'visible' });
    const peer = (await A.tid('pair-peer-node').textContent()).trim();
    assert(peer === 'lb-b', 'peer: ' + peer);
  });
  if (EXPECT_BANNER) {
    await step('B (its peer is MASTER): the read-only banner names A and links its console', async () => {
      for (let i = 0; i < 30; i++) {
        await B.page.reload();
        await B.tid('pair-paired').waitFor({ state: 'visible' });
        if (await B.tid('pair-banner').isVisible()) break;
        await B.page.waitForTimeout(500);
      }
      const text = await B.tid('pair-banner').textContent();
      assert(/read-only/.test(text) && /lb-a/.test(text), 'banner: ' + text);
      const href = await B.tid('pair-banner-master').getAttribute('href');
      assert(href && href.startsWith(tok.console), 'link: ' + href);
      return JSON.stringify(text.trim().slice(0, 90));
    });
    await step('B: the Changes page hides Apply', async () => {
      await B.tid('nav-changes').click();
      await B.tid('view-changes').waitFor({ state: 'visible' });
      assert(!(await B.page.locator('#apply-form').isVisible()), 'Apply is visible on the BACKUP');
    });
    await step('A (MASTER): no banner', async () => {
      assert(!(await A.tid('pair-banner').isVisible()), 'banner on the MASTER');
    });
  } else {
    report(true, '# SKIP banner: A\'s tandemd is not MASTER of a VIP group here (needs root and keepalived)');
  }
  await step('B: Unpair, and A learns it', async () => {
    await B.tid('nav-pair').click();
    await B.tid('pair-unpair').click();
    await B.tid('confirm-ok').click();
    await B.tid('pair-unpaired').waitFor({ state: 'visible' });
    assert(!(await B.tid('pair-banner').isVisible()), 'banner still shown after unpairing');
    await A.page.reload();
    await A.tid('pair-unpaired').waitFor({ state: 'visible' });
  });
  await step('no JavaScript errors', async () => {
    assert(jsErrors.length === 0, jsErrors.join('\n'));
  });
}

main().catch((e) => { if (!(e instanceof Fatal)) report(false, 'unexpected error', e && e.stack); })
  .finally(async () => {
    if (browser) await browser.close().catch(() => {});
    console.log(`# pair browser test: ${n - failed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
