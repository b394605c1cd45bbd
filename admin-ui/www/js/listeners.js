// Listeners: table + add/edit form.
import { api, list } from './api.js';
import { $, h, setAlert, clearFormErrors, setFieldError, showApiError,
  describeError, intOrUndefined, notify, sentence, focusFirst } from './dom.js';
import { renderTable, errorsText, rowClass, rowActions, formMode, showFieldErrors,
  withButton, confirmDelete } from './crud.js';
import { l7Text, l7Parse, l7Merge, l7Errors } from './l7.js';
import { tlsLoadChoices, tlsFill, tlsRead, tlsErrors } from './listener-tls.js';
import { state, applyErrorsFor } from './state.js';
import { refreshStatus } from './app.js';
import * as ticketKeys from './ticketkeys.js';

const form = () => $('#listener-form');
let editing = null; // name of the listener being edited, or null
let metricsDirty = false; // the settings form has unsaved input: a reload must not overwrite it

export function init() {
  form().addEventListener('submit', onSubmit);
  $('#listener-cancel').addEventListener('click', () => resetForm());
  $('#metrics-form').addEventListener('submit', onMetricsSubmit);
  $('#metrics-form').addEventListener('input', () => { metricsDirty = true; });
  ticketKeys.init();
}

export async function load() {
  setAlert($('#listeners-error'), '');
  try {
    state.listeners = list(await api.listeners(), 'listeners');
  } catch (e) {
    setAlert($('#listeners-error'), 'Could not load listeners: ' + describeError(e));
  }
  render();
  tlsLoadChoices();
  loadMetrics();
  ticketKeys.load();
}

// tandemd's own settings: the metrics address, the worker count and the
// ticket key lifetime (top-level settings of the candidate, PUT /settings).
async function loadMetrics() {
  const f = $('#metrics-form');
  // the view just opened: start clean; what is typed while the settings
  // load marks the form dirty and is kept
  clearFormErrors(f);
  metricsDirty = false;
  try {
    const s = await api.settings();
    if (metricsDirty) return;
    f.elements.address.value = (s && s.metrics && s.metrics.address) || '';
    f.elements.workers.value = (s && s.workers) || '';
    const life = s && s.tls ? s.tls.ticket_key_lifetime : undefined;
    f.elements.ticket_key_lifetime.value = life ?? '';
  } catch (e) {
    setAlert($('.form-error', f), 'Could not load the metrics setting: ' + describeError(e));
  }
}

async function onMetricsSubmit(ev) {
  ev.preventDefault();
  const f = $('#metrics-form');
  clearFormErrors(f);
  const address = f.elements.address.value.trim();
  const workers = intOrUndefined(f.elements.workers.value);
  const life = intOrUndefined(f.elements.ticket_key_lifetime.value);
  await withButton($('#metrics-submit'), async () => {
    await api.saveSettings({ metrics: address ? { address } : null, workers: workers ?? null,
      tls: life === undefined ? null : { ticket_key_lifetime: life } });
    metricsDirty = false;
    notify('tandemd settings saved to the candidate.');
    refreshStatus();
  }, (e) => {
    // "settings/metrics.address", "settings/workers" and
    // "settings/tls.ticket_key_lifetime" belong to the fields
    const input = (fl) => (/^settings\/metrics/.test(fl) ? 'address'
      : /^settings\/tls/.test(fl) ? 'ticket_key_lifetime' : 'workers');
    const fix = (x) => /^settings\/(metrics|workers|tls)/.test(x.field || '')
      ? { ...x, field: 'settings//' + input(x.field),
          message: String(x.message || '').replace(/^settings\/[^:]*: /, '') } : x;
    const first = fix({ field: e.field, message: e.message });
    const err = Object.assign(Object.create(Object.getPrototypeOf(e)), e);
    err.field = first.field;
    err.message = first.message;
    if (e.errors) err.errors = e.errors.map(fix);
    showApiError(f, err, 'The setting');
  });
}

function render() {
  renderTable('#listeners-table', sorted(state.listeners), {
    cols: 5, empty: 'No listeners yet. Add one with the form on the right.',
    detailId: 'listener-row-error', detail: (l) => errorsText(applyErrorsFor('listeners', l.name)),
    row: (l) => h('tr', { 'data-testid': 'listener-row', 'data-name': l.name,
      class: rowClass(applyErrorsFor('listeners', l.name), editing === l.name) },
      h('td', { class: 'mono' }, l.name),
      h('td', { class: 'mono' }, l.address),
      h('td', { class: 'num' }, l.port),
      h('td', { 'data-testid': 'listener-tls' }, l.tls
        ? 'TLS: ' + l.tls.certificates.join(', ') + (l.tls.client_auth ? ' · client certs ' + l.tls.client_auth.mode : '')
        : 'HTTP'),
      rowActions('listener', () => startEdit(l), () => remove(l))),
  });
}

function sorted(a) { return [...a].sort((x, y) => String(x.name).localeCompare(String(y.name))); }

function resetForm() {
  editing = null;
  const f = form();
  f.reset();
  tlsFill(f, null);
  clearFormErrors(f);
  f.elements.name.readOnly = false;
  formMode('listener', 'Add listener', 'Add listener', false);
  render();
}

export function startEdit(l, fieldErrors) {
  editing = l.name;
  const f = form();
  clearFormErrors(f);
  f.elements.name.value = l.name;
  f.elements.name.readOnly = true;
  f.elements.address.value = l.address ?? '';
  f.elements.port.value = l.port ?? '';
  f.elements.l7.value = l7Text(l, 'listeners');
  tlsFill(f, l);
  formMode('listener', 'Edit listener ' + l.name, 'Save', true);
  showFieldErrors(f, fieldErrors || applyErrorsFor('listeners', l.name));
  render();
  focusFirst(f, 'address');
}

/* Open the edit form for the object an apply error names. */
export function editByName(name) {
  const l = state.listeners.find((x) => x.name === name);
  if (l) startEdit(l);
}

async function onSubmit(ev) {
  ev.preventDefault();
  const f = form();
  clearFormErrors(f);
  const body = {
    name: f.elements.name.value.trim(),
    address: f.elements.address.value.trim(),
    port: intOrUndefined(f.elements.port.value),
  };
  const opts = l7Parse(f, 'listeners', setFieldError);
  if (!opts) return;
  l7Merge(body, opts, editing && state.listeners.find((x) => x.name === editing), 'listeners');
  const tls = tlsRead(f, setFieldError);
  if (tls === undefined) return;
  body.tls = tls;	// null turns TLS off
  await withButton($('#listener-submit'), async () => {
    if (editing) {
      await api.updateListener(editing, body);
      notify('Listener ' + editing + ' saved to the candidate.');
    } else {
      await api.createListener(body);
      notify('Listener ' + body.name + ' added to the candidate.');
    }
    resetForm();
    await load();
    refreshStatus();
  }, (e) => showApiError(f, tlsErrors(l7Errors(e, 'listeners')), 'A listener with this name'));
}

function remove(l) {
  return confirmDelete({
    what: 'listener', name: l.name,
    text: 'The listener is removed from the candidate; it stops accepting traffic once you apply.',
    errorBox: $('#listeners-error'),
    del: () => api.deleteListener(l.name),
    after: async () => { if (editing === l.name) resetForm(); await load(); refreshStatus(); },
    inUse: (e) => 'Listener ' + l.name + ' is in use and cannot be deleted. ' + sentence(e.message) + ' Change or delete the route first.',
  });
}
