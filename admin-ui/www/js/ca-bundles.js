// CA bundles, the second section of the Certificates page: the CA
// certificates that verify client certificates (a listener's client_auth)
// and pool members' certificates (a pool's TLS to members). List with
// subjects and expiry, upload (PEM), delete; the API says why it refuses an
// upload (not a CA, not PEM) or a delete (the listener or pool using it).
import { api, list } from './api.js';
import { $, h, setAlert, clearFormErrors, showApiError, describeError, notify, sentence, focusFirst } from './dom.js';
import { renderTable, withButton, confirmDelete } from './crud.js';
import { fileInto, validity, day, daysLeft } from './pem.js';

const form = () => $('#ca-bundle-form');
let bundles = [];

export function init() {
  form().addEventListener('submit', onSubmit);
  form().elements.pem_file.addEventListener('change', (ev) => fileInto(form(), ev.target, 'pem'));
}

export async function load() {
  setAlert($('#ca-bundles-error'), '');
  try {
    bundles = list(await api.caBundles(), 'ca_bundles');
  } catch (e) {
    setAlert($('#ca-bundles-error'), 'Could not load CA bundles: ' + describeError(e));
  }
  render();
}

function render() {
  renderTable('#ca-bundles-table', bundles, {
    cols: 6, empty: 'No CA bundles yet. Upload one with the form on the right.',
    detailId: 'ca-bundle-warning',
    detail: (b) => ((b.warnings || []).length ? b.name + ': ' + b.warnings.map(sentence).join(' ') : ''),
    row: (b) => h('tr', { 'data-testid': 'ca-bundle-row', 'data-name': b.name,
      class: (b.warnings || []).length ? 'row-error' : '' },
      h('td', {}, h('div', { class: 'mono' }, b.name),
        h('div', { class: 'muted small mono', title: 'SHA-256 of the stored PEM' }, String(b.fingerprint || '').slice(0, 16) + '…')),
      h('td', { 'data-testid': 'ca-bundle-subjects' }, (b.subjects || []).map((s) => h('div', { class: 'mono small' }, s))),
      h('td', { class: 'num', 'data-testid': 'ca-bundle-count' }, String(b.count)),
      h('td', { class: 'mono', 'data-testid': 'ca-bundle-expiry' }, day(b.not_after),
        h('div', { class: 'muted small' }, daysLeft(b))),
      h('td', {}, validity(b)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn-link danger', 'data-testid': 'ca-bundle-delete',
          onclick: () => remove(b) }, 'Delete'))),
  });
}

async function onSubmit(ev) {
  ev.preventDefault();
  const f = form();
  clearFormErrors(f);
  const body = { name: f.elements.name.value.trim(), pem: f.elements.pem.value };
  await withButton($('#ca-bundle-submit'), async () => {
    const b = await api.uploadCaBundle(body);
    f.reset();
    notify('CA bundle ' + b.name + ' uploaded (' + b.count + ' certificate' + (b.count === 1 ? '' : 's') + ').');
    await load();
  }, (e) => {
    showApiError(f, e, 'A CA bundle with this name');
    focusFirst(f, 'name');
  });
}

function remove(b) {
  return confirmDelete({
    title: 'Delete CA bundle ' + b.name + '?',
    text: 'The CA certificates are removed from this appliance.',
    errorBox: $('#ca-bundles-error'),
    del: () => api.deleteCaBundle(b.name),
    done: 'CA bundle ' + b.name + ' deleted.',
    after: load,
    failed: 'Could not delete CA bundle ' + b.name,
    inUse: (e) => 'Cannot delete: ' + sentence(e.message),	// names the listener or pool
  });
}
