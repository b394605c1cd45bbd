// The Certificates page and the TLS listener form's session resumption,
// run by console.test.mjs (real tandem-admin; certificates are not part of
// the candidate, so nothing here is applied):
//  - a certificate made with openssl that expires in 10 days: subject, SANs,
//    issuer and expiry columns, the 30-day "expires soon" warning;
//  - an upload with a key of another certificate: the API's reason on screen;
//  - CA bundles: a leaf refused beside the PEM field, a CA uploaded and
//    listed, picked in a listener's client certificate settings, its delete
//    refused with the listener's name, then deleted;
//  - session_resumption: the checkbox reaches the API and reads back, and
//    an edit of other fields keeps it.
// The CA bundle bt-ca-SUFFIX and certificate bt-soon-SUFFIX stay for the
// read-only check (viewerSteps).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/* A CA, a leaf it signed that expires in 10 days, and an unrelated key. */
function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bt-certs-'));
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '400', '-subj', '/CN=BT Test CA/O=Tandem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-new', ...ec, '-keyout', 'soon.key', '-out', 'soon.csr', '-subj', '/CN=soon.bt.test');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:soon.bt.test,DNS:www.soon.bt.test\nbasicConstraints=CA:FALSE\n');
  ssl('x509', '-req', '-in', 'soon.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '10',
    '-extfile', 'ext.cnf', '-out', 'soon.crt');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key');
  const r = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
  const out = { ca: r('ca.crt'), leaf: r('soon.crt'), key: r('soon.key'), otherKey: r('other.key') };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/* The REST API with the page's session (the CSRF token from GET /session). */
function apiCall(page, method, p, body) {
  return page.evaluate(async ({ method, p, body }) => {
    const s = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1' + p, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const t = await r.text();
    return { status: r.status, body: t ? JSON.parse(t) : null };
  }, { method, p, body });
}

export async function certificateSteps({ page, step, assert, suffix }) {
  const tid = (id) => page.getByTestId(id);
  const CERT = 'bt-soon-' + suffix, CA = 'bt-ca-' + suffix, LST = 'bt-tlsr-' + suffix;
  const pem = makeCerts();
  // fills the form's fields (data-testid PREFIX-KEY) and submits it
  const submit = async (prefix, fields) => {
    for (const [k, v] of Object.entries(fields)) await tid(prefix + '-' + k).fill(v);
    await tid(prefix + '-submit').click();
  };
  // the refusal shown beside the field attr of form
  const refusal = async (form, attr) => {
    const e = page.locator(`#${form} .field-error[data-error-for="${attr}"]`);
    await e.waitFor({ state: 'visible' });
    return (await e.textContent()).trim();
  };

  await step('Certificates page: a key of another certificate is refused with the reason beside the key', async () => {
    await tid('nav-certificates').click();
    await tid('view-certificates').waitFor({ state: 'visible' });
    await submit('certificate', { name: CERT, cert: pem.leaf + pem.ca, key: pem.otherKey });
    const text = await refusal('certificate-form', 'key_pem');
    assert(/does not match/.test(text), 'reason: ' + text);
    assert(await tid('certificate-key').inputValue() === '', 'the refused key stays in the page');
    return JSON.stringify(text);
  }, { fatal: false });

  await step('Certificates page: a certificate expiring in 10 days shows subject, SANs, issuer, expiry and the 30-day warning', async () => {
    await submit('certificate', { name: CERT, key: pem.key });
    const row = page.locator(`[data-testid="certificate-row"][data-name="${CERT}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert(/CN=soon\.bt\.test/.test(cells[1]), 'subject: ' + cells[1]);
    assert(/DNS:soon\.bt\.test, DNS:www\.soon\.bt\.test/.test(cells[1]), 'SANs: ' + cells[1]);
    assert(/CN=BT Test CA/.test(cells[2]), 'issuer: ' + cells[2]);
    const days = (await row.getByTestId('certificate-days').textContent()).trim();
    assert(/^(9|10) days left$/.test(days), 'days: ' + days);
    // the console shows local dates (the browser's and this process's zone)
    const ymd = (t) => { const d = new Date(t), p = (n) => String(n).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; };
    const end = Date.now() + 10 * 86400e3;
    assert(cells[4].includes(ymd(end)) || cells[4].includes(ymd(end - 600e3)), 'expiry date: ' + cells[4]);
    const b = row.locator('.badge');
    assert(await b.first().getAttribute('data-state') === 'warn' && /expires soon/.test(await b.first().textContent()), 'badge: ' + await b.first().textContent());
    const warn = page.locator('[data-testid="certificate-warning"]', { hasText: CERT });
    assert(/expires in (9|10) days/i.test(await warn.textContent()), 'warning row: ' + await warn.textContent());
    return cells.slice(1, 5).map((c) => c.replace(/\s+/g, ' ').trim()).join(' | ');
  }, { fatal: false });

  await step('CA bundles: a leaf is refused beside the PEM field; a CA is uploaded and listed with subject, count and expiry', async () => {
    await submit('ca-bundle', { name: CA, pem: pem.leaf });
    const reason = await refusal('ca-bundle-form', 'pem');
    assert(/not a CA/.test(reason), 'reason: ' + reason);
    await submit('ca-bundle', { pem: pem.ca });
    const row = page.locator(`[data-testid="ca-bundle-row"][data-name="${CA}"]`);
    await row.waitFor();
    await page.locator('#ca-bundle-form .field-error[data-error-for="pem"]').waitFor({ state: 'hidden' });
    const subj = (await row.getByTestId('ca-bundle-subjects').textContent()).trim();
    assert(/CN=BT Test CA/.test(subj), 'subjects: ' + subj);
    assert((await row.getByTestId('ca-bundle-count').textContent()).trim() === '1', 'count');
    const exp = (await row.getByTestId('ca-bundle-expiry').textContent()).replace(/\s+/g, ' ').trim();
    assert(/(399|400) days left/.test(exp), 'expiry: ' + exp);
    assert(await row.locator('.badge').getAttribute('data-state') === 'ok', 'badge not valid');
    return JSON.stringify(reason) + '; ' + subj + ', ' + exp;
  }, { fatal: false });

  await step('Listener TLS: session resumption off and the uploaded CA bundle reach the API; an edit keeps them; on again', async () => {
    await tid('nav-listeners').click();
    await tid('view-listeners').waitFor({ state: 'visible' });
    await page.waitForFunction((n) => [...document.querySelectorAll('#listener-tls-ca option')].some((o) => o.value === n), CA);
    await tid('listener-name').fill(LST);
    await tid('listener-address').fill('127.0.0.1');
    await tid('listener-port').fill('8444');
    await tid('listener-tls-certs').fill(CERT);
    assert(await tid('listener-tls-resumption').isChecked(), 'resumption not on by default');
    await tid('listener-tls-resumption').uncheck();
    await tid('listener-tls-client').selectOption('optional');
    await tid('listener-tls-ca').selectOption(CA);
    await tid('listener-submit').click();
    const row = page.locator(`[data-testid="listener-row"][data-name="${LST}"]`);
    await row.waitFor();
    let r = await apiCall(page, 'GET', '/listeners/' + LST);
    assert(r.body.tls.session_resumption === false, 'API after create: ' + JSON.stringify(r.body.tls));
    assert(r.body.tls.client_auth.ca === CA, 'client_auth: ' + JSON.stringify(r.body.tls.client_auth));
    await row.locator('[data-testid="listener-edit"]').click();
    assert(!await tid('listener-tls-resumption').isChecked(), 'session_resumption false not read back into the form');
    await tid('listener-tls-record').selectOption('openssl');
    await tid('listener-submit').click();
    await page.waitForFunction(() => document.querySelector('#listener-form-title')?.textContent === 'Add listener');
    r = await apiCall(page, 'GET', '/listeners/' + LST);
    assert(r.body.tls.session_resumption === false && r.body.tls.record_layer === 'openssl', 'after an edit: ' + JSON.stringify(r.body.tls));
    await row.locator('[data-testid="listener-edit"]').click();
    await tid('listener-tls-resumption').check();
    await tid('listener-submit').click();
    await page.waitForFunction(() => document.querySelector('#listener-form-title')?.textContent === 'Add listener');
    r = await apiCall(page, 'GET', '/listeners/' + LST);
    assert(r.body.tls.session_resumption !== false, 'resumption back on: ' + JSON.stringify(r.body.tls));
    return JSON.stringify(r.body.tls);
  }, { fatal: false });

  await step('CA bundles: deleting one a listener uses is refused naming the listener; an unused one is deleted', async () => {
    await tid('nav-certificates').click();
    const row = page.locator(`[data-testid="ca-bundle-row"][data-name="${CA}"]`);
    await row.locator('[data-testid="ca-bundle-delete"]').click();
    await tid('confirm-dialog').waitFor({ state: 'visible' });
    await tid('confirm-ok').click();
    const e = tid('ca-bundles-error');
    await e.waitFor({ state: 'visible' });
    const text = (await e.textContent()).trim();
    assert(text.includes(`listener "${LST}"`), 'refusal does not name the listener: ' + text);
    assert(await row.isVisible(), 'row gone after a refused delete');
    const d = await apiCall(page, 'DELETE', '/listeners/' + LST);
    assert(d.status === 204, 'listener delete: ' + d.status);
    // a second bundle of the same CA is deleted through the page
    await submit('ca-bundle', { name: CA + 'x', pem: pem.ca });
    const row2 = page.locator(`[data-testid="ca-bundle-row"][data-name="${CA}x"]`);
    await row2.locator('[data-testid="ca-bundle-delete"]').click();
    await tid('confirm-ok').click();
    await row2.waitFor({ state: 'detached' });
    const l = await apiCall(page, 'GET', '/ca-bundles');
    assert(l.body.some((b) => b.name === CA) && !l.body.some((b) => b.name === CA + 'x'), 'API list: ' + l.body.map((b) => b.name));
    return JSON.stringify(text);
  }, { fatal: false });
}

/* Logged in as a read-only account: the Certificates page lists both
 * tables but offers no upload form and no Delete or OCSP buttons. */
export async function viewerSteps({ page, step, assert, suffix, login }) {
  const tid = (id) => page.getByTestId(id);
  await step('read-only account: certificates and CA bundles are listed without upload forms or actions', async () => {
    await login();
    await tid('readonly-banner').waitFor({ state: 'visible' });
    await tid('nav-certificates').click();
    const cert = page.locator(`[data-testid="certificate-row"][data-name="bt-soon-${suffix}"]`);
    const ca = page.locator(`[data-testid="ca-bundle-row"][data-name="bt-ca-${suffix}"]`);
    await cert.waitFor();
    await ca.waitFor();
    for (const id of ['certificate-form', 'ca-bundle-form'])
      assert(!await tid(id).isVisible(), id + ' is shown to a read-only account');
    for (const l of [cert.getByTestId('certificate-delete'), cert.getByTestId('certificate-ocsp'), ca.getByTestId('ca-bundle-delete')])
      assert(!await l.isVisible(), 'an action button is shown to a read-only account');
  }, { fatal: false });
}
