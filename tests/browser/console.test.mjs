// Browser test of the Tandem console in headless Chromium (playwright-core,
// Debian's /usr/bin/chromium). Drives the real pages against a running
// tandem-admin + tandemd: logs in, builds a pool of two backends and a route,
// applies, checks the verdict on screen, then checks traffic reaches both
// backends.
//
// Environment:
//   CONSOLE_URL     console base URL, e.g. https://127.0.0.1:8443/
//   ADMIN_PASSWORD  password of user admin (USERNAME overrides the user)
//   TRAFFIC_URL     URL served by the listener, e.g. http://127.0.0.1:8080/
//   BACKEND_A, BACKEND_B   "127.0.0.1:PORT" of the two backends
//   BACKEND_A_NAME, BACKEND_B_NAME   optional: text each backend's body contains
//   SCREENSHOT      optional: path of a PNG of the dashboard after apply
//   CHROMIUM        optional: browser binary (default /usr/bin/chromium)
//   NAME_SUFFIX     optional: suffix for the objects created (default: a timestamp)
//   VIEWER_USER     optional: a read-only account (password VIEWER_PASSWORD,
//                   default ADMIN_PASSWORD) the read-only check logs in as
//
// Output: "ok N - ..." / "not ok N - ..." lines, a closing
// "# browser test: N passed, N failed" comment line; exit status 1 on any failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { certificateSteps, viewerSteps } from './certificates.steps.mjs';

const env = process.env;
const need = ['CONSOLE_URL', 'ADMIN_PASSWORD', 'TRAFFIC_URL', 'BACKEND_A', 'BACKEND_B'];
const missing = need.filter((k) => !env[k]);
if (missing.length) {
  console.error('console.test.mjs: missing environment: ' + missing.join(', '));
  process.exit(2);
}

const CONSOLE_URL = env.CONSOLE_URL.replace(/\/?$/, '/');
const USERNAME = env.USERNAME_OVERRIDE || 'admin';
const TRAFFIC_URL = env.TRAFFIC_URL;
const traffic = new URL(TRAFFIC_URL);
const suffix = env.NAME_SUFFIX || String(Date.now() % 1000000);
const POOL = 'bt-pool-' + suffix;
const ROUTE = 'bt-route-' + suffix;
const TIMEOUT = 15000;

function splitHostPort(s) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new Error('bad backend address ' + s + ' (want host:port)');
  return { address: m[1], port: m[2] };
}
const backends = [splitHostPort(env.BACKEND_A), splitHostPort(env.BACKEND_B)];

let n = 0, passed = 0, failed = 0;
const results = [];
function report(ok, desc, detail) {
  n++;
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${desc}`);
  if (!ok && detail) for (const l of String(detail).split('\n')) console.log('#   ' + l);
  results.push({ ok, desc });
}

/* Run one step; a failed step is reported and, if fatal, ends the test. */
async function step(desc, fn, { fatal = true } = {}) {
  try {
    const detail = await fn();
    report(true, desc + (detail ? ' (' + detail + ')' : ''));
    return true;
  } catch (e) {
    report(false, desc, e && e.stack ? e.stack.split('\n').slice(0, 4).join('\n') : e);
    if (fatal) throw new Fatal();
    return false;
  }
}
class Fatal extends Error {}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-chromium-'));
const jsErrors = [];
let context, page;

async function main() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: { width: 1440, height: 900 },
    timeout: 60000,
  });
  context.setDefaultTimeout(TIMEOUT);
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => jsErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') jsErrors.push('console: ' + m.text()); });

  const tid = (id) => page.getByTestId(id);

  await step('console login page loads', async () => {
    await page.goto(CONSOLE_URL, { waitUntil: 'load' });
    await tid('login-form').waitFor({ state: 'visible' });
  });

  await step('wrong password shows an error', async () => {
    await tid('login-username').fill(USERNAME);
    await tid('login-password').fill('definitely-not-the-password');
    await tid('login-submit').click();
    const err = tid('login-error');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    assert(/wrong username or password|too many/i.test(text), 'unexpected error text: ' + text);
    assert(await tid('login-form').isVisible(), 'login form should stay visible');
    return JSON.stringify(text.trim());
  });

  await step('login with the admin password shows the dashboard', async () => {
    // the failed attempt above may throttle this client for a few seconds:
    // the page then says "Try again in N seconds"; wait that long and retry
    let note = '';
    for (let attempt = 0; ; attempt++) {
      await tid('login-username').fill(USERNAME);
      await tid('login-password').fill(env.ADMIN_PASSWORD);
      await tid('login-submit').click();
      await page.waitForFunction(() => !document.querySelector('#view-dashboard').hidden ||
        (!document.querySelector('#login-error').hidden && !document.querySelector('#login-submit').disabled));
      if (await tid('view-dashboard').isVisible()) break;
      const text = (await tid('login-error').textContent()).trim();
      const m = /try again in (\d+) second/i.exec(text);
      assert(m && attempt < 3, 'login refused: ' + text);
      note = 'throttled first: ' + JSON.stringify(text);
      await page.waitForTimeout(Number(m[1]) * 1000 + 200);
    }
    const user = await tid('user-name').textContent();
    assert(user.includes(USERNAME), 'user name not shown: ' + user);
    return note;
  });

  await step('dashboard shows node and tandemd status', async () => {
    await page.waitForFunction(() => document.querySelector('#dash-reachable')?.textContent.trim() !== '—');
    const host = (await tid('dash-hostname').textContent()).trim();
    const reach = (await tid('dash-reachable').textContent()).trim();
    assert(host && host !== '—', 'no hostname shown');
    assert(reach === 'reachable', 'tandemd not shown reachable: ' + reach);
    return `host ${host}, tandemd ${reach}`;
  });

  let listenerName = null;
  await step('listener for the traffic port exists or is created', async () => {
    await tid('nav-listeners').click();
    await tid('view-listeners').waitFor({ state: 'visible' });
    await page.waitForLoadState('networkidle');
    const rows = await page.$$eval('[data-testid="listener-row"]', (trs) =>
      trs.map((tr) => ({ name: tr.dataset.name, cells: [...tr.cells].map((c) => c.textContent.trim()) })));
    const hit = rows.find((r) => r.cells[2] === traffic.port);
    if (hit) { listenerName = hit.name; return 'reusing ' + hit.name; }
    listenerName = 'bt-web-' + suffix;
    await tid('listener-name').fill(listenerName);
    await tid('listener-address').fill(traffic.hostname.replace(/^\[|\]$/g, ''));
    await tid('listener-port').fill(traffic.port || (traffic.protocol === 'https:' ? '443' : '80'));
    await tid('listener-submit').click();
    await page.locator(`[data-testid="listener-row"][data-name="${listenerName}"]`).waitFor();
    return 'created ' + listenerName;
  });

  await step('invalid port is refused with the error beside the port field', async () => {
    await tid('listener-name').fill('bt-bad-' + suffix);
    await tid('listener-address').fill('127.0.0.1');
    await tid('listener-port').fill('70000');
    await tid('listener-submit').click();
    const e = page.locator('#listener-form .field-error[data-error-for="port"]');
    await e.waitFor({ state: 'visible' });
    const text = (await e.textContent()).trim();
    assert(text.length > 0, 'empty field error');
    await tid('listener-form').evaluate((f) => f.reset());
    return JSON.stringify(text);
  }, { fatal: false });

  await step('TLS fields of a listener round-trip through the form', async () => {
    const name = 'bt-tls-' + suffix;
    await tid('listener-name').fill(name);
    await tid('listener-address').fill('127.0.0.1');
    await tid('listener-port').fill('8443');
    await tid('listener-tls-certs').fill('bt-rsa, bt-ecdsa');
    await tid('listener-tls-h2').check();
    await tid('listener-tls-record').selectOption('openssl');
    await tid('listener-submit').click();
    const row = page.locator(`[data-testid="listener-row"][data-name="${name}"]`);
    await row.waitFor();
    const cell = (await row.locator('[data-testid="listener-tls"]').textContent()).trim();
    assert(cell === 'TLS: bt-rsa, bt-ecdsa', 'protocol cell: ' + cell);
    await row.locator('[data-testid="listener-edit"]').click();
    const certs = await tid('listener-tls-certs').inputValue();
    assert(certs === 'bt-rsa, bt-ecdsa', 'certificates read back: ' + certs);
    assert(await tid('listener-tls-h2').isChecked(), 'h2 not read back');
    assert(await tid('listener-tls-http11').isChecked(), 'http/1.1 not read back');
    const rl = await tid('listener-tls-record').inputValue();
    assert(rl === 'openssl', 'record layer read back: ' + rl);
    await tid('listener-cancel').click();
    // the certificates do not exist: remove it before anything is applied
    await row.locator('[data-testid="listener-delete"]').click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    return cell;
  }, { fatal: false });

  await step(`pool ${POOL} is created`, async () => {
    await tid('nav-pools').click();
    await tid('view-pools').waitFor({ state: 'visible' });
    await tid('pool-name').fill(POOL);
    await tid('pool-submit').click();
    await page.locator(`[data-testid="pool-card"][data-name="${POOL}"]`).waitFor();
  });

  await step('creating the same pool again shows a conflict', async () => {
    await tid('pool-name').fill(POOL);
    await tid('pool-submit').click();
    const e = page.locator('#pool-form .field-error[data-error-for="name"], #pool-form .form-error');
    await e.first().waitFor({ state: 'visible' });
    const text = (await e.first().textContent()).trim();
    assert(/exist/i.test(text), 'conflict not explained: ' + text);
    await tid('pool-form').evaluate((f) => f.reset());
    return JSON.stringify(text);
  }, { fatal: false });

  for (const [i, b] of backends.entries()) {
    await step(`member ${b.address}:${b.port} is added to ${POOL}`, async () => {
      await tid('member-pool').selectOption(POOL);
      await tid('member-address').fill(b.address);
      await tid('member-port').fill(b.port);
      await tid('member-weight').fill('1');
      if (!await tid('member-enabled').isChecked()) await tid('member-enabled').check();
      await tid('member-submit').click();
      await page.locator(`[data-testid="member-row"][data-pool="${POOL}"]`).nth(i).waitFor();
    });
  }

  await step(`route ${ROUTE} is created through the form`, async () => {
    await tid('nav-routes').click();
    await tid('view-routes').waitFor({ state: 'visible' });
    await page.waitForFunction((p) => [...document.querySelectorAll('#route-pool option')].some((o) => o.value === p), POOL);
    await tid('route-name').fill(ROUTE);
    await tid('route-listener').selectOption(listenerName);
    await tid('route-host').fill('');
    await tid('route-path-prefix').fill('/');
    await tid('route-pool').selectOption(POOL);
    await tid('route-priority').fill('1'); // lowest number is tried first
    await tid('route-submit').click();
    await page.locator(`[data-testid="route-row"][data-name="${ROUTE}"]`).waitFor();
  });

  await step('an invalid L7 option is refused beside the options field', async () => {
    await page.locator(`[data-testid="route-row"][data-name="${ROUTE}"] [data-testid="route-edit"]`).click();
    await tid('route-l7').fill('{"match": {"path_regex": "(["}}');
    await tid('route-submit').click();
    const err = page.locator('#route-form [data-error-for="l7"]');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    assert(text.toLowerCase().includes('match.path_regex'), 'error does not name the option: ' + text);
  });

  await step('valid L7 options are saved and shown again on edit', async () => {
    await tid('route-l7').fill('{"match": {"methods": ["GET", "HEAD"]}, "response_headers": {"set": {"X-Via": "tandem"}}}');
    await tid('route-submit').click();
    await page.waitForFunction(() => document.querySelector('#route-form-title')?.textContent === 'Add route');
    await page.locator(`[data-testid="route-row"][data-name="${ROUTE}"] [data-testid="route-edit"]`).click();
    const v = await tid('route-l7').inputValue();
    assert(JSON.parse(v).match.methods.join(',') === 'GET,HEAD', 'options not read back: ' + v);
    await tid('route-cancel').click();
  });

  await step('a non-loopback metrics address is refused beside its field', async () => {
    await tid('nav-listeners').click();
    await tid('view-listeners').waitFor({ state: 'visible' });
    await tid('metrics-address').fill('0.0.0.0:9145');
    await tid('metrics-submit').click();
    const err = page.locator('#metrics-form [data-error-for="address"]');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    assert(text.toLowerCase().includes('loopback'), 'error does not say loopback: ' + text);
  });

  await step('workers out of range are refused beside their field', async () => {
    await tid('metrics-address').fill('');
    await tid('metrics-workers').fill('0');
    await tid('metrics-submit').click();
    const err = page.locator('#metrics-form [data-error-for="workers"]');
    await err.waitFor({ state: 'visible' });
  });

  await step('a loopback metrics address and a worker count are saved and shown again', async () => {
    await tid('metrics-address').fill('127.0.0.1:' + (20000 + Number(suffix) % 10000));
    await tid('metrics-workers').fill('2');
    await tid('metrics-submit').click();
    await page.locator('#metrics-form [data-error-for="address"]').waitFor({ state: 'hidden' });
    await tid('nav-pools').click();
    await tid('nav-listeners').click();
    await page.waitForFunction(() => /^127\.0\.0\.1:\d+$/.test(document.querySelector('#metrics-address')?.value || '') &&
      document.querySelector('#metrics-workers')?.value === '2');
    await tid('metrics-address').fill('');
    await tid('metrics-workers').fill('');
    await tid('metrics-submit').click();
  });

  await step('a ticket key lifetime of 3 s is refused beside its field; 0 is saved', async () => {
    await page.locator('#metrics-form [data-error-for="address"]').waitFor({ state: 'hidden' });
    await tid('metrics-ticket-lifetime').fill('3');
    await tid('metrics-submit').click();
    const err = page.locator('#metrics-form [data-error-for="ticket_key_lifetime"]');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    assert(text.includes('5-604800'), 'error does not give the range: ' + text);
    await tid('metrics-ticket-lifetime').fill('0');
    await tid('metrics-submit').click();
    await err.waitFor({ state: 'hidden' });
    await tid('nav-pools').click();
    await tid('nav-listeners').click();
    await page.waitForFunction(() => document.querySelector('#metrics-ticket-lifetime')?.value === '0');
    await tid('metrics-ticket-lifetime').fill('');
    await tid('metrics-submit').click();
  });

  await step('"Rotate ticket keys now" shows the new current key, never key material', async () => {
    const info = tid('ticket-keys-info');
    await page.waitForFunction(() => /current key made/.test(document.querySelector('#ticket-keys-info')?.textContent || ''));
    const before = await info.textContent();
    await tid('ticket-keys-rotate').click();
    await page.waitForFunction((b) => {
      const t = document.querySelector('#ticket-keys-info')?.textContent || '';
      return t !== b && /current key made/.test(t);
    }, before);
    const after = await info.textContent();
    assert(/^[23] keys held/.test(after), 'the rotation did not add a key: ' + after);
    assert(await tid('ticket-keys-error').isHidden(), 'an error is shown');
  });

  await step('diff shows the candidate changes', async () => {
    await tid('nav-changes').click();
    await tid('view-changes').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#diff-view')?.dataset.changed === 'true');
    const text = await tid('diff-view').textContent();
    assert(text.includes(POOL), 'diff does not mention ' + POOL);
  });

  let verdict = '';
  await step('apply shows tandemd verdict: revision applied', async () => {
    await tid('apply-comment').fill('browser test ' + suffix);
    await tid('apply-button').click();
    const v = tid('apply-verdict');
    await v.waitFor({ state: 'visible', timeout: 30000 });
    verdict = (await v.textContent()).trim();
    const status = await v.getAttribute('data-status');
    assert(status === 'applied', 'apply not successful: ' + verdict);
    assert(/Revision \d+ applied, generation \d+/.test(verdict), 'verdict text: ' + verdict);
    return JSON.stringify(verdict.split('.')[0]);
  });

  await step('traffic reaches both backends', async () => {
    const want = [env.BACKEND_A_NAME, env.BACKEND_B_NAME];
    const seen = new Map();
    const deadline = Date.now() + 15000;
    let lastErr = '';
    while (Date.now() < deadline) {
      for (let i = 0; i < 10; i++) {
        try {
          const r = await fetch(TRAFFIC_URL, { signal: AbortSignal.timeout(3000) });
          const body = (await r.text()).trim();
          if (r.ok) seen.set(body, (seen.get(body) || 0) + 1);
          else lastErr = 'HTTP ' + r.status;
        } catch (e) { lastErr = e.cause ? e.cause.message : e.message; }
      }
      const bodies = [...seen.keys()];
      const okNamed = want.every((w) => !w || bodies.some((b) => b.includes(w)));
      if (bodies.length >= 2 && okNamed) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const bodies = [...seen.keys()];
    assert(bodies.length >= 2, `expected 2 distinct backend answers, got ${JSON.stringify(Object.fromEntries(seen))}` +
      (lastErr ? '; last error: ' + lastErr : ''));
    for (const w of want) if (w) assert(bodies.some((b) => b.includes(w)), 'backend ' + w + ' never answered');
    return [...seen.entries()].map(([b, c]) => `${b.slice(0, 30)}×${c}`).join(', ');
  });

  await step('dashboard lists the pool members after apply', async () => {
    await tid('nav-dashboard').click();
    await tid('view-dashboard').waitFor({ state: 'visible' });
    const rows = page.locator(`[data-testid="dash-member-row"][data-pool="${POOL}"]`);
    await rows.nth(1).waitFor();
    const states = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.state));
    assert(!states.includes('pending'), 'members shown as not applied: ' + states);
    const changed = await tid('candidate-banner').isVisible();
    assert(!changed, 'candidate still shown as having unapplied changes');
    return 'states ' + states.join(',');
  });

  if (env.SCREENSHOT) {
    await step('screenshot of the dashboard saved', async () => {
      fs.mkdirSync(path.dirname(path.resolve(env.SCREENSHOT)), { recursive: true });
      await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
      return env.SCREENSHOT;
    }, { fatal: false });
  }

  await step('revisions list shows the applied revision', async () => {
    await tid('nav-revisions').click();
    const row = page.locator('[data-testid="revision-row"]').first();
    await row.waitFor();
    const text = await row.textContent();
    assert(text.includes('applied') && text.includes('browser test ' + suffix), 'newest revision row: ' + text);
  }, { fatal: false });

  const CLASH = 'bt-clash-' + suffix;
  await step('an apply tandemd refuses shows its error beside the field', async () => {
    // a listener on backend A's port: tandemd cannot bind it and refuses
    await tid('nav-listeners').click();
    await tid('view-listeners').waitFor({ state: 'visible' });
    await tid('listener-name').fill(CLASH);
    await tid('listener-address').fill(backends[0].address);
    await tid('listener-port').fill(backends[0].port);
    await tid('listener-submit').click();
    await page.locator(`[data-testid="listener-row"][data-name="${CLASH}"]`).waitFor();
    await tid('nav-changes').click();
    await page.waitForFunction(() => document.querySelector('#diff-view')?.dataset.changed === 'true');
    await tid('apply-button').click();
    await page.waitForFunction(() => {
      const v = document.querySelector('#apply-verdict');
      return v && !v.hidden && v.dataset.status;
    }, null, { timeout: 30000 });
    const v = tid('apply-verdict');
    const status = await v.getAttribute('data-status');
    assert(status === 'refused', 'expected a refusal, got ' + status + ': ' + (await v.textContent()));
    const item = page.locator(`[data-testid="apply-error"][data-field^="listeners/${CLASH}"]`);
    await item.first().waitFor();
    // follow the error to the listener's form: the message sits beside the field
    await item.first().getByTestId('apply-error-link').click();
    await tid('view-listeners').waitFor({ state: 'visible' });
    const fe = page.locator('#listener-form .field.has-error .field-error');
    await fe.first().waitFor({ state: 'visible' });
    const attr = await fe.first().getAttribute('data-error-for');
    const text = (await fe.first().textContent()).trim();
    await page.locator(`[data-testid="listener-row-error"]`).first().waitFor();
    return `${attr}: ${JSON.stringify(text)}`;
  }, { fatal: false });

  await step('deleting the refused listener (with confirmation) leaves nothing to apply', async () => {
    await tid('nav-listeners').click();
    await page.locator(`[data-testid="listener-row"][data-name="${CLASH}"] [data-testid="listener-delete"]`).click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    await page.locator(`[data-testid="listener-row"][data-name="${CLASH}"]`).waitFor({ state: 'detached' });
    await tid('nav-changes').click();
    await page.waitForFunction(() => document.querySelector('#diff-view')?.dataset.changed === 'false');
    // traffic still follows the last good revision
    const r = await fetch(TRAFFIC_URL, { signal: AbortSignal.timeout(3000) });
    assert(r.ok, 'traffic after the refused apply: HTTP ' + r.status);
  }, { fatal: false });

  await step('HA page: invalid VIP group fields are refused beside each field', async () => {
    await tid('nav-vrrp').click();
    await tid('view-vrrp').waitFor({ state: 'visible' });
    await tid('vrrp-group-name').fill('bt-ha-' + suffix);
    await tid('vrrp-group-vrid').fill('300');
    await tid('vrrp-group-advert').fill('15');
    await tid('vrrp-group-vips').fill('192.0.2.300');
    await tid('vrrp-group-submit').click();
    const got = [];
    for (const attr of ['virtual_router_id', 'advert_interval_ms', 'vips']) {
      const e = page.locator(`#vrrp-group-form .field-error[data-error-for="${attr}"]`);
      await e.waitFor({ state: 'visible' });
      got.push(attr + ': ' + JSON.stringify((await e.textContent()).trim()));
    }
    return got.join('; ');
  }, { fatal: false });

  await step('HA page: a VIP group is added, listed and deleted again', async () => {
    const name = 'bt-ha-' + suffix;
    await tid('vrrp-group-vrid').fill('51');
    await tid('vrrp-group-advert').fill('100');
    await tid('vrrp-group-peers').fill('192.0.2.11, 192.0.2.12');
    await tid('vrrp-group-vips').fill('192.0.2.10/24');
    await tid('vrrp-group-submit').click();
    const row = page.locator(`[data-testid="vrrp-row"][data-name="${name}"]`);
    await row.waitFor();
    const role = (await row.locator('[data-testid="vrrp-role"]').textContent()).trim();
    await row.locator('[data-testid="vrrp-delete"]').click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    return 'role shown: ' + role;
  }, { fatal: false });

  await step("HA page: this node's priority out of range is refused beside the field", async () => {
    await tid('vrrp-local-interface').fill('eth0');
    await tid('vrrp-local-priority').fill('300');
    await tid('vrrp-local-submit').click();
    const e = page.locator('#vrrp-local-form .field-error[data-error-for="priority"]');
    await e.waitFor({ state: 'visible' });
    return JSON.stringify((await e.textContent()).trim());
  }, { fatal: false });

  await step('HA page: the peer link panel says the link is not configured', async () => {
    const st = tid('peer-state');
    await st.waitFor({ state: 'visible' });
    const text = (await st.textContent()).trim();
    assert(/not configured/.test(text), 'peer state: ' + text);
    return JSON.stringify(text);
  }, { fatal: false });

  await step('Rate rules page: a rule with a bad period is refused beside its JSON', async () => {
    await tid('nav-limits').click();
    await tid('view-limits').waitFor({ state: 'visible' });
    await tid('limits-rule-name').fill('bt-rl-' + suffix);
    await tid('limits-rule-body').fill('{"match": {"path": "/bt"}, "limit": {"requests": 5, "period_s": 0}}');
    await tid('limits-rule-submit').click();
    const e = page.locator('#limits-rule-form .field-error[data-error-for="body"]');
    await e.waitFor({ state: 'visible' });
    const text = (await e.textContent()).trim();
    assert(/limit\.period_s/.test(text), 'the error does not name limit.period_s: ' + text);
    return JSON.stringify(text);
  }, { fatal: false });

  await step('Rate rules page: a rule is added, listed with its limit, edited and deleted', async () => {
    const name = 'bt-rl-' + suffix;
    await tid('limits-rule-body').fill('{"match": {"path": "/bt", "methods": ["POST"]}, "key": [{"type": "header", "name": "X-API-Key"}], "limit": {"requests": 5, "period_s": 60}}');
    await tid('limits-rule-submit').click();
    const row = page.locator(`[data-testid="limits-row"][data-name="${name}"]`);
    await row.waitFor();
    const text = (await row.textContent()).replace(/\s+/g, ' ');
    assert(/5 \/ 60 s/.test(text) && /header X-API-Key/.test(text), 'row shows ' + text);
    await row.locator('[data-testid="limits-edit"]').click();
    await tid('limits-rule-body').fill('{"match": {"path": "/bt"}, "limit": {"requests": 7, "period_s": 60}, "shadow": true}');
    await tid('limits-rule-submit').click();
    await page.waitForFunction((n) => /7 \/ 60 s/.test(document.querySelector(`[data-testid="limits-row"][data-name="${n}"]`)?.textContent || ''), name);
    await row.locator('[data-testid="limits-delete"]').click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    return text.trim();
  }, { fatal: false });

  await step('Rate rules page: a CIDR with host bits in the deny list is refused beside the lists', async () => {
    await tid('limits-lists').fill('{"deny_cidrs": ["192.0.2.0/24", "10.0.0.1/8"]}');
    await tid('limits-lists-submit').click();
    const e = page.locator('#limits-lists-form .field-error[data-error-for="lists"]');
    await e.waitFor({ state: 'visible' });
    const text = (await e.textContent()).trim();
    assert(/deny_cidrs/.test(text), 'the error does not name deny_cidrs: ' + text);
    return JSON.stringify(text);
  }, { fatal: false });

  // L4: never applied here (the stack's tandemd runs on the host: no kernel
  // state is touched); the candidate is edited and cleaned up again.
  const L4SVC = 'bt-l4-' + suffix;
  await step('L4 page: the kernel state is reported (inactive with the reason when there is no IPVS)', async () => {
    await tid('nav-l4').click();
    await tid('view-l4').waitFor({ state: 'visible' });
    const st = tid('l4-status');
    await st.waitFor({ state: 'visible' });
    const t = (await st.textContent()).trim();
    assert(/^IPVS active|^L4 inactive: IPVS/.test(t), 'unexpected L4 status: ' + t);
    if (/inactive/.test(t)) assert(/L7 is not affected/.test(t), 'the inactive status should say L7 is unaffected: ' + t);
    return JSON.stringify(t);
  }, { fatal: false });

  await step('L4 page: invalid service fields are refused beside each field', async () => {
    await tid('l4-service-name').fill(L4SVC);
    await tid('l4-service-address').fill('192.0.2.300');
    await tid('l4-service-port').fill('70000');
    await tid('l4-service-scheduler').selectOption('sh');
    await tid('l4-service-flags').fill('mh-port');
    await tid('l4-service-check').fill('{"type": "icmp"}');
    await tid('l4-service-submit').click();
    const got = [];
    for (const attr of ['address', 'port', 'flags', 'check']) {
      const e = page.locator(`#l4-service-form .field-error[data-error-for="${attr}"]`);
      await e.waitFor({ state: 'visible' });
      got.push(attr + ': ' + JSON.stringify((await e.textContent()).trim()));
    }
    return got.join('; ');
  }, { fatal: false });

  await step('L4 page: a service and a real server are added and listed; a bad threshold is refused', async () => {
    await tid('l4-service-address').fill('192.0.2.10');
    await tid('l4-service-port').fill('5432');
    await tid('l4-service-flags').fill('sh-port');
    await tid('l4-service-check').fill('{"type": "http", "path": "/health", "remove_after": 30}');
    await tid('l4-service-submit').click();
    const row = page.locator(`[data-testid="l4-service-row"][data-name="${L4SVC}"]`);
    await row.waitFor();
    await tid('l4-real-service').selectOption(L4SVC);
    await tid('l4-real-address').fill('10.0.1.2');
    await tid('l4-real-port').fill('5432');
    await tid('l4-real-forward').selectOption('dr');
    await tid('l4-real-weight').fill('3');
    await tid('l4-real-upper').fill('10');
    await tid('l4-real-lower').fill('20');
    await tid('l4-real-submit').click();
    const e = page.locator('#l4-real-form .field-error[data-error-for="lower_threshold"]');
    await e.waitFor({ state: 'visible' });
    const msg = (await e.textContent()).trim();
    await tid('l4-real-lower').fill('8');
    await tid('l4-real-submit').click();
    const real = page.locator(`[data-testid="l4-real-row"][data-service="${L4SVC}"][data-real="10.0.1.2:5432"]`);
    await real.waitFor();
    const cells = (await real.textContent()).replace(/\s+/g, ' ');
    assert(/dr/.test(cells) && /weight 3/.test(cells), 'real row: ' + cells);
    return 'threshold error ' + JSON.stringify(msg) + '; row ' + JSON.stringify(cells.trim());
  }, { fatal: false });

  await step('L4 firewall: a bad deny entry is refused beside the field; the lists are saved and cleared', async () => {
    await tid('nav-l4fw').click();
    await tid('view-l4fw').waitFor({ state: 'visible' });
    await tid('l4fw-status').waitFor({ state: 'visible' });	// loaded: the form is filled
    await tid('l4fw-deny').fill('10.0.0.300');
    await tid('l4fw-submit').click();
    const e = page.locator('#l4fw-form .field-error[data-error-for="deny"]');
    await e.waitFor({ state: 'visible' });
    const msg = (await e.textContent()).trim();
    await tid('l4fw-deny').fill('198.51.100.7/24');
    await tid('l4fw-allow').fill('10.0.0.5');
    await tid('l4fw-ban-timeout').fill('60');
    await tid('l4fw-submit').click();
    await page.waitForFunction(() => /Firewall lists saved/.test(document.querySelector('#notice').textContent));
    await tid('nav-l4').click();	// away and back: the saved lists come from the server
    await tid('nav-l4fw').click();
    await page.waitForFunction(() => document.querySelector('#l4fw-deny').value === '198.51.100.7/24' &&
      document.querySelector('#l4fw-ban-timeout').value === '60');
    await tid('l4fw-deny').fill('');
    await tid('l4fw-allow').fill('');
    await tid('l4fw-ban-timeout').fill('');
    await tid('l4fw-submit').click();
    await page.waitForFunction(() => /Firewall lists saved/.test(document.querySelector('#notice').textContent) &&
      document.querySelector('#l4fw-status') !== null);
    return 'deny error ' + JSON.stringify(msg) + '; saved, shown again, cleared';
  }, { fatal: false });

  await step("L4 page: the sync daemon's settings are validated beside the field, saved and cleared", async () => {
    await tid('nav-l4').click();
    await tid('view-l4').waitFor({ state: 'visible' });
    await tid('l4-status').waitFor({ state: 'visible' });
    await tid('l4-sync-role').selectOption('backup');
    await tid('l4-sync-interface').fill('eth1');
    await tid('l4-sync-syncid').fill('300');
    await tid('l4-reconcile').fill('0');
    await tid('l4-sync-submit').click();
    const got = [];
    for (const attr of ['syncid', 'reconcile_interval']) {
      const e = page.locator(`#l4-sync-form .field-error[data-error-for="${attr}"]`);
      await e.waitFor({ state: 'visible' });
      got.push(attr + ': ' + JSON.stringify((await e.textContent()).trim()));
    }
    await tid('l4-sync-syncid').fill('7');
    await tid('l4-reconcile').fill('30');
    await tid('l4-sync-submit').click();
    await page.waitForFunction(() => /Sync daemon settings saved/.test(document.querySelector('#notice').textContent));
    await tid('l4-sync-role').selectOption('none');
    await tid('l4-sync-interface').fill('');
    await tid('l4-sync-syncid').fill('');
    await tid('l4-reconcile').fill('');
    await tid('l4-sync-submit').click();
    await page.waitForFunction(() => document.querySelector('#l4-sync-syncid').value === '' &&
      /Sync daemon settings saved/.test(document.querySelector('#notice').textContent));
    return got.join('; ');
  }, { fatal: false });

  await step('L4 page: the service is deleted again', async () => {
    await tid('nav-l4').click();
    await tid('view-l4').waitFor({ state: 'visible' });
    const row = page.locator(`[data-testid="l4-service-row"][data-name="${L4SVC}"]`);
    await row.waitFor();
    await row.locator('[data-testid="l4-service-delete"]').click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
  }, { fatal: false });

  await step('Pools page: TLS to members needs a CA bundle or an explicit "none"; saved, shown, turned off', async () => {
    await tid('nav-pools').click();
    await tid('view-pools').waitFor({ state: 'visible' });
    const card = page.locator(`[data-testid="pool-card"][data-name="${POOL}"]`);
    await card.locator('[data-testid="pool-options"]').click();
    await tid('pool-tls-on').check();
    await tid('pool-tls-verify').selectOption('full');
    await tid('pool-tls-ca').selectOption('');
    await tid('pool-submit').click();
    await tid('pool-tls-error').waitFor({ state: 'visible' });
    const err = (await tid('pool-tls-error').textContent()).trim();
    assert(/CA bundle/.test(err), 'no reason beside the TLS fields: ' + err);
    await tid('pool-tls-verify').selectOption('none');
    await tid('pool-tls-server-name').fill('app.internal');
    await tid('pool-submit').click();
    await card.locator('[data-testid="pool-tls"]').waitFor();
    const shown = (await card.locator('[data-testid="pool-tls"]').textContent()).trim();
    assert(/NOT verified/.test(shown), 'card does not say TLS is unverified: ' + shown);
    await card.locator('[data-testid="pool-options"]').click();
    assert(await tid('pool-tls-on').isChecked(), 'TLS not read back into the form');
    assert(await tid('pool-tls-server-name').inputValue() === 'app.internal', 'server name not read back');
    await tid('pool-tls-on').uncheck();
    await tid('pool-submit').click();
    await card.locator('[data-testid="pool-tls"]').waitFor({ state: 'detached' });
    return JSON.stringify(shown);
  }, { fatal: false });

  await certificateSteps({ page, step, assert, suffix });

  await step('logout returns to the login page', async () => {
    await tid('logout').click();
    await tid('login-form').waitFor({ state: 'visible' });
    await page.reload();
    await tid('login-form').waitFor({ state: 'visible' });
  }, { fatal: false });

  if (env.VIEWER_USER) {
    await viewerSteps({ page, step, assert, suffix, login: async () => {
      await tid('login-username').fill(env.VIEWER_USER);
      await tid('login-password').fill(env.VIEWER_PASSWORD || env.ADMIN_PASSWORD);
      await tid('login-submit').click();
      await tid('view-dashboard').waitFor({ state: 'visible' });
    } });
  }

  await step('no JavaScript errors or CSP violations in the page', async () => {
    // refused requests (401 on load and wrong password, 409, 422) are logged
    // by Chromium as "Failed to load resource": expected, the steps above
    // check that the page explains them
    const real = jsErrors.filter((e) => !/Failed to load resource: the server responded with a status of (401|409|422)\b/.test(e));
    assert(!real.length, real.join('\n'));
  }, { fatal: false });
}

let code = 0;
try {
  await main();
} catch (e) {
  if (!(e instanceof Fatal)) report(false, 'test harness', e && e.stack);
  if (page && env.SCREENSHOT) {
    try { await page.screenshot({ path: env.SCREENSHOT.replace(/(\.png)?$/, '-failure.png'), fullPage: true }); } catch { /* ignore */ }
  }
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (failed) code = 1;
console.log(`# browser test: ${passed} passed, ${failed} failed`);
process.exit(code);
