// Routes: table + add/edit form with listener and pool selects.
import { api, list } from './api.js';
import { $, h, setAlert, clearFormErrors, setFieldError, showApiError,
  describeError, intOrUndefined, notify, fillSelect, focusFirst } from './dom.js';
import { renderTable, errorsText, rowClass, rowActions, formMode, showFieldErrors,
  withButton, confirmDelete } from './crud.js';
import { l7Text, l7Parse, l7Merge, l7Errors } from './l7.js';
import { state, applyErrorsFor } from './state.js';
import { refreshStatus } from './app.js';

const form = () => $('#route-form');
let editing = null;

export function init() {
  form().addEventListener('submit', onSubmit);
  $('#route-cancel').addEventListener('click', () => resetForm());
}

export async function load() {
  setAlert($('#routes-error'), '');
  try {
    const [routes, listeners, pools] = await Promise.all([api.routes(), api.listeners(), api.pools()]);
    state.routes = list(routes, 'routes');
    state.listeners = list(listeners, 'listeners');
    state.pools = list(pools, 'pools');
  } catch (e) {
    setAlert($('#routes-error'), 'Could not load routes: ' + describeError(e));
  }
  fillSelects();
  render();
}

function names(a) { return a.map((x) => x.name).sort(); }

function fillSelects(route) {
  const f = form();
  const ls = names(state.listeners), ps = names(state.pools);
  fillSelect(f.elements.listener, ls, route ? route.listener : (f.elements.listener.value || ls[0]),
    ls.length ? undefined : '— add a listener first —');
  fillSelect(f.elements.pool, ps, route ? (route.pool ?? '') : (f.elements.pool.value || ps[0]),
    ps.length ? undefined : '— add a pool first —');
  // redirect, respond and deny routes have no pool (L7 option "action")
  const none = document.createElement('option');
  none.value = '';
  none.textContent = '— none (redirect, respond or deny) —';
  f.elements.pool.append(none);
  if (route && !route.pool) f.elements.pool.value = '';
}

export function sortRoutes(a) {
  // lower priority numbers are tried first (doc/config.md)
  return [...a].sort((x, y) => (Number(x.priority ?? 100)) - (Number(y.priority ?? 100))
    || String(x.name).localeCompare(String(y.name)));
}

function render() {
  renderTable('#routes-table', sortRoutes(state.routes), {
    cols: 7, empty: 'No routes yet. A route sends requests on a listener to a pool.',
    detailId: 'route-row-error', detail: (r) => errorsText(applyErrorsFor('routes', r.name)),
    row: (r) => h('tr', { 'data-testid': 'route-row', 'data-name': r.name,
      class: rowClass(applyErrorsFor('routes', r.name), editing === r.name) },
      h('td', { class: 'num' }, r.priority ?? ''),
      h('td', { class: 'mono' }, r.name),
      h('td', { class: 'mono' }, r.listener),
      h('td', { class: 'mono' }, r.host ? r.host : h('span', { class: 'muted' }, 'any')),
      h('td', { class: 'mono' }, r.path_prefix || '/'),
      h('td', { class: 'mono' }, r.pool ?? h('span', { class: 'muted' }, r.action || '—')),
      rowActions('route', () => startEdit(r), () => remove(r))),
  });
}

function resetForm() {
  editing = null;
  const f = form();
  f.reset();
  clearFormErrors(f);
  f.elements.name.readOnly = false;
  fillSelects();
  formMode('route', 'Add route', 'Add route', false);
  render();
}

export function startEdit(r) {
  editing = r.name;
  const f = form();
  clearFormErrors(f);
  fillSelects(r);
  f.elements.name.value = r.name;
  f.elements.name.readOnly = true;
  f.elements.host.value = r.host ?? '';
  f.elements.path_prefix.value = r.path_prefix ?? '/';
  f.elements.priority.value = r.priority ?? '';
  f.elements.l7.value = l7Text(r, 'routes');
  formMode('route', 'Edit route ' + r.name, 'Save', true);
  showFieldErrors(f, applyErrorsFor('routes', r.name));
  render();
  focusFirst(f, 'host');
}

export function editByName(name) {
  const r = state.routes.find((x) => x.name === name);
  if (r) startEdit(r);
}

async function onSubmit(ev) {
  ev.preventDefault();
  const f = form();
  clearFormErrors(f);
  const body = {
    name: f.elements.name.value.trim(),
    listener: f.elements.listener.value,
    host: f.elements.host.value.trim(),
    path_prefix: f.elements.path_prefix.value.trim(),
    pool: f.elements.pool.value || (editing ? null : undefined),
    priority: intOrUndefined(f.elements.priority.value),
  };
  if (!body.listener) { setFieldError(f, 'listener', 'Add a listener first.'); return; }
  const opts = l7Parse(f, 'routes', setFieldError);
  if (!opts) return;
  l7Merge(body, opts, editing && state.routes.find((x) => x.name === editing), 'routes');
  await withButton($('#route-submit'), async () => {
    if (editing) {
      await api.updateRoute(editing, body);
      notify('Route ' + editing + ' saved to the candidate.');
    } else {
      await api.createRoute(body);
      notify('Route ' + body.name + ' added to the candidate.');
    }
    resetForm();
    await load();
    refreshStatus();
  }, (e) => showApiError(f, l7Errors(e, 'routes'), 'A route with this name'));
}

function remove(r) {
  return confirmDelete({
    what: 'route', name: r.name,
    text: 'The route is removed from the candidate; its traffic stops matching once you apply.',
    errorBox: $('#routes-error'),
    del: () => api.deleteRoute(r.name),
    after: async () => { if (editing === r.name) resetForm(); await load(); refreshStatus(); },
  });
}
