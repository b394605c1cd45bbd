// Certificates: list with expiry warnings, upload form, delete; the CA
// bundles below them are ca-bundles.js's.
// The server never sends private keys back; the form clears the key field
// after every attempt so it does not linger in the page.
import { api, list } from './api.js';
import { $, h, badge, setAlert, clearFormErrors, showApiError,
  describeError, notify, sentence, focusFirst, fmtTime } from './dom.js';
import { renderTable, withButton, confirmDelete } from './crud.js';
import { fileInto, validity, day, daysLeft } from './pem.js';
import * as caBundles from './ca-bundles.js';

const form = () => $('#certificate-form');
let certs = [];

export function init() {
  form().addEventListener('submit', onSubmit);
  for (const name of ['cert_file', 'key_file'])
    form().elements[name].addEventListener('change', (ev) => fileInto(form(), ev.target, name === 'cert_file' ? 'cert_pem' : 'key_pem'));
  caBundles.init();
}

export async function load() {
  await Promise.all([loadCertificates(), caBundles.load()]);
}

async function loadCertificates() {
  setAlert($('#certificates-error'), '');
  try {
    certs = list(await api.certificates(), 'certificates');
  } catch (e) {
    setAlert($('#certificates-error'), 'Could not load certificates: ' + describeError(e));
  }
  render();
}

function render() {
  renderTable('#certificates-table', [...certs].sort((x, y) => String(x.name).localeCompare(String(y.name))), {
    cols: 7, empty: 'No certificates yet. Upload one with the form on the right.',
    detailId: 'certificate-warning',
    detail: (c) => ((c.warnings || []).length ? c.name + ': ' + c.warnings.map(sentence).join(' ') : ''),
    row: (c) => h('tr', { 'data-testid': 'certificate-row', 'data-name': c.name,
      class: (c.warnings || []).length ? 'row-error' : '' },
      h('td', { class: 'mono' }, c.name),
      h('td', {}, h('div', { class: 'mono' }, c.subject),
        h('div', { class: 'muted small' }, (c.sans || []).join(', ') || 'no SANs')),
      h('td', { class: 'mono small' }, c.issuer),
      h('td', {}, c.key_type + ' ' + c.key_bits),
      h('td', { class: 'mono' }, day(c.not_before) + ' → ' + day(c.not_after),
        h('div', { class: 'muted small', 'data-testid': 'certificate-days' }, daysLeft(c))),
      h('td', {}, validity(c), ocspState(c)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn-link', 'data-testid': 'certificate-ocsp',
          title: 'Upload a DER OCSP response to staple (doc/tls.md)', onclick: () => uploadOcsp(c) }, 'OCSP…'),
        c.ocsp ? h('button', { type: 'button', class: 'btn-link danger', 'data-testid': 'certificate-ocsp-delete',
          onclick: () => removeOcsp(c) }, 'Remove OCSP') : '',
        h('button', { type: 'button', class: 'btn-link danger', 'data-testid': 'certificate-delete',
          onclick: () => remove(c) }, 'Delete'))),
  });
}

async function onSubmit(ev) {
  ev.preventDefault();
  const f = form();
  clearFormErrors(f);
  const body = {
    name: f.elements.name.value.trim(),
    cert_pem: f.elements.cert_pem.value,
    key_pem: f.elements.key_pem.value,
  };
  await withButton($('#certificate-submit'), async () => {
    const c = await api.uploadCertificate(body);
    f.reset();
    const w = (c.warnings || []).length ? ' Warning: ' + c.warnings.map(sentence).join(' ') : '';
    notify('Certificate ' + c.name + ' uploaded.' + w, !!w);
    await load();
  }, (e) => {
    f.elements.key_pem.value = '';
    f.elements.key_file.value = '';
    showApiError(f, e, 'A certificate with this name');
    focusFirst(f, 'name');
  });
}

// The stapled OCSP response's state under the certificate's badge.
function ocspState(c) {
  if (!c.ocsp) return '';
  return h('div', { class: 'muted small', 'data-testid': 'certificate-ocsp-state' },
    c.ocsp.expired ? badge('OCSP expired', 'err') : 'OCSP stapled until ' + fmtTime(c.ocsp.next_update));
}

// Picks a .der file and uploads it; the API checks it against the
// certificate and says why when it does not fit.
function uploadOcsp(c) {
  const input = h('input', { type: 'file', accept: '.der,.ocsp,application/ocsp-response' });
  input.addEventListener('change', async () => {
    const f = input.files && input.files[0];
    if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    setAlert($('#certificates-error'), '');
    try {
      const r = await api.putOcsp(c.name, btoa(bin));
      notify('OCSP response of ' + c.name + ' stored' + (r.reloaded ? ' and stapled.' :
        r.reload_error ? '; ' + sentence(r.reload_error) : '; it is stapled once a listener uses the certificate.'), !r.reloaded && !!r.reload_error);
      await load();
    } catch (e) {
      setAlert($('#certificates-error'), 'OCSP response for ' + c.name + ' refused: ' + describeError(e));
    }
  });
  input.click();
}

async function removeOcsp(c) {
  setAlert($('#certificates-error'), '');
  try {
    await api.deleteOcsp(c.name);
    notify('OCSP response of ' + c.name + ' removed.');
    await load();
  } catch (e) {
    setAlert($('#certificates-error'), 'Could not remove the OCSP response of ' + c.name + ': ' + describeError(e));
  }
}

function remove(c) {
  return confirmDelete({
    title: 'Delete certificate ' + c.name + '?',
    text: 'The certificate and its private key are removed from this appliance.',
    errorBox: $('#certificates-error'),
    del: () => api.deleteCertificate(c.name),
    done: 'Certificate ' + c.name + ' deleted.',
    after: load,
    failed: 'Could not delete certificate ' + c.name,
    inUse: (e) => 'Cannot delete: ' + sentence(e.message),	// names the listener or pool
  });
}
