// Listeners: table + add/edit form.
import { api, list } from './api.js';
import { $, h, clear, setAlert, clearFormErrors, setFieldError, showApiError,
  describeError, intOrUndefined, notify, confirmAction, sentence, focusFirst } from './dom.js';
import { l7Text, l7Parse, l7Merge, l7Errors } from './l7.js';
import { tlsLoadChoices, tlsFill, tlsRead, tlsErrors } from './listener-tls.js';
import { state, applyErrorsFor } from './state.js';
import { refreshStatus } from './app.js';

const form = () => $('#listener-form');
let editing = null; // name of the listener being edited, or null
let metricsDirty = false; // the settings form has unsaved input: a reload must not overwrite it

export function init() {
  form().addEventListener('submit', onSubmit);
  $('#listener-cancel').addEventListener('click', () => resetForm());
  $('#metrics-form').addEventListener('submit', onMetricsSubmit);
  $('#metrics-form').addEventListener('input', () => { metricsDirty = true; });
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
}

// tandemd's own settings: the metrics address and the worker count
// (top-level settings of the candidate, PUT /settings).
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
  const btn = $('#metrics-submit');
  btn.disabled = true;
  try {
    await api.saveSettings({ metrics: address ? { address } : null, workers: workers ?? null });
    metricsDirty = false;
    notify('tandemd settings saved to the candidate.');
    refreshStatus();
  } catch (e) {
    // "settings/metrics.address" and "settings/workers" belong to the fields
    const fix = (x) => /^settings\/(metrics|workers)/.test(x.field || '')
      ? { ...x, field: 'settings//' + (/^settings\/metrics/.test(x.field) ? 'address' : 'workers'),
          message: String(x.message || '').replace(/^settings\/[^:]*: /, '') } : x;
    const first = fix({ field: e.field, message: e.message });
    const err = Object.assign(Object.create(Object.getPrototypeOf(e)), e);
    err.field = first.field;
    err.message = first.message;
    if (e.errors) err.errors = e.errors.map(fix);
    showApiError(f, err, 'The setting');
  } finally {
    btn.disabled = false;
  }
}

function render() {
  const tbody = clear($('#listeners-table tbody'));
  if (!state.listeners.length) {
    tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' },
      'No listeners yet. Add one with the form on the right.')));
    return;
  }
  for (const l of sorted(state.listeners)) {
    const errs = applyErrorsFor('listeners', l.name);
    const tr = h('tr', { 'data-testid': 'listener-row', 'data-name': l.name,
      class: (errs.length ? 'row-error' : '') + (editing === l.name ? ' editing' : '') },
      h('td', { class: 'mono' }, l.name),
      h('td', { class: 'mono' }, l.address),
      h('td', { class: 'num' }, l.port),
      h('td', { 'data-testid': 'listener-tls' }, l.tls
        ? 'TLS: ' + l.tls.certificates.join(', ') + (l.tls.client_auth ? ' · client certs ' + l.tls.client_auth.mode : '')
        : 'HTTP'),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn-link', 'data-testid': 'listener-edit',
          onclick: () => startEdit(l) }, 'Edit'),
        h('button', { type: 'button', class: 'btn-link danger', 'data-testid': 'listener-delete',
          onclick: () => remove(l) }, 'Delete')));
    tbody.append(tr);
    if (errs.length)
      tbody.append(h('tr', { class: 'row-error-detail', 'data-testid': 'listener-row-error' },
        h('td', { colspan: 5 }, errs.map((e) => (e.parsed.attr ? e.parsed.attr + ': ' : '') + e.message).join('; '))));
  }
}

function sorted(a) { return [...a].sort((x, y) => String(x.name).localeCompare(String(y.name))); }

function resetForm() {
  editing = null;
  const f = form();
  f.reset();
  tlsFill(f, null);
  clearFormErrors(f);
  f.elements.name.readOnly = false;
  $('#listener-form-title').textContent = 'Add listener';
  $('#listener-submit').textContent = 'Add listener';
  $('#listener-cancel').hidden = true;
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
  $('#listener-form-title').textContent = 'Edit listener ' + l.name;
  $('#listener-submit').textContent = 'Save';
  $('#listener-cancel').hidden = false;
  for (const e of fieldErrors || applyErrorsFor('listeners', l.name))
    if (!(e.parsed.attr && setFieldError(f, e.parsed.attr, e.message)))
      setAlert($('.form-error', f), e.message);
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
  const btn = $('#listener-submit');
  btn.disabled = true;
  try {
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
  } catch (e) {
    showApiError(f, tlsErrors(l7Errors(e, 'listeners')), 'A listener with this name');
  } finally {
    btn.disabled = false;
  }
}

async function remove(l) {
  if (!await confirmAction('Delete listener ' + l.name + '?',
    'The listener is removed from the candidate; it stops accepting traffic once you apply.')) return;
  setAlert($('#listeners-error'), '');
  try {
    await api.deleteListener(l.name);
    if (editing === l.name) resetForm();
    notify('Listener ' + l.name + ' deleted from the candidate.');
    await load();
    refreshStatus();
  } catch (e) {
    const msg = e.status === 409 && e.code === 'in_use'
      ? 'Listener ' + l.name + ' is in use and cannot be deleted. ' + sentence(e.message) + ' Change or delete the route first.'
      : 'Could not delete listener ' + l.name + ': ' + describeError(e);
    setAlert($('#listeners-error'), msg);
  }
}
