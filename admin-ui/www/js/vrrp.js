// HA (VRRP): shared VIP groups (table + add/edit form) and this node's own
// fields (interface, address, priority, router id). Per-group overrides of
// this node's fields are API-only for now; the local form keeps them as they
// are when it saves.
import { request } from './api.js';
import { $, h, clear, badge, setAlert, clearFormErrors, setFieldError, setFormError,
  describeError, intOrUndefined, notify, sentence, stripField, focusFirst } from './dom.js';
import { renderTable, rowActions, formMode, withButton, confirmDelete } from './crud.js';
import { state } from './state.js';
import { refreshStatus } from './app.js';

const enc = encodeURIComponent;
const groupForm = () => $('#vrrp-group-form');
const localForm = () => $('#vrrp-local-form');
let editing = null; // name of the group being edited, or null
let groups = [];
let local = { groups: [] };

export function init() {
  groupForm().addEventListener('submit', onGroupSubmit);
  localForm().addEventListener('submit', onLocalSubmit);
  $('#vrrp-group-cancel').addEventListener('click', () => resetForm());
}

export async function load() {
  setAlert($('#vrrp-error'), '');
  try {
    const v = await request('GET', '/vrrp');
    groups = (v && v.groups) || [];
    local = (v && v.local) || { groups: [] };
  } catch (e) {
    setAlert($('#vrrp-error'), 'Could not load the VRRP section: ' + describeError(e));
  }
  render();
  fillLocal();
  await refreshStatus();
  renderPeer();
}

/* The peer link as tandemd reports it (GET /status .tandemd.peer): state,
 * whether this node loaded the peer's state, sync lag, last error. */
function renderPeer() {
  const dl = clear($('#peer-status'));
  const p = state.status && state.status.tandemd && state.status.tandemd.peer;
  const row = (k, v, id) => dl.append(h('dt', {}, k), h('dd', { 'data-testid': id }, v));
  if (!p || p.state === 'disabled') {
    row('State', 'not configured (tandemd runs without --peer)', 'peer-state');
    return;
  }
  const lag = p.sync && p.sync.lag_p99_ms != null ? p.sync.lag_p99_ms + ' ms (p99), ' +
    p.sync.lag_max_ms + ' ms (max)' : 'no batch acknowledged yet';
  row('State', badge(p.state, p.state === 'up' ? 'ok' : 'warn'), 'peer-state');
  row('Peer', (p.peer_node || '?') + ' at ' + p.connect, 'peer-node');
  row("Peer's state", p.synced ? 'loaded' : p.gate_open ? 'not loaded (gave up waiting)' :
    'not loaded yet: VRRP priority held at 1', 'peer-synced');
  row('Sync lag', lag, 'peer-lag');
  row('Last error', p.last_error || 'none', 'peer-error');
}

/* Role of a group as tandemd reports it (GET /status .tandemd.vrrp). */
export function groupRole(name) {
  const v = state.status && state.status.tandemd && state.status.tandemd.vrrp;
  const g = v && Array.isArray(v.groups) ? v.groups.find((x) => x.name === name) : null;
  return g ? g.role : null;
}

export function roleBadge(role) {
  if (!role) return badge('not running', 'unknown');
  const kind = { MASTER: 'ok', BACKUP: 'disabled', FAULT: 'err', STOP: 'warn' }[role] || 'unknown';
  return badge(role, kind);
}

function render() {
  renderTable('#vrrp-table', [...groups].sort((a, b) => String(a.name).localeCompare(String(b.name))), {
    cols: 7, empty: 'No VIP groups: this node runs without HA. Add one with the form on the right.',
    row: (g) => h('tr', { 'data-testid': 'vrrp-row', 'data-name': g.name,
      class: editing === g.name ? 'editing' : '' },
      h('td', { class: 'mono' }, g.name),
      h('td', { class: 'num' }, g.virtual_router_id),
      h('td', { class: 'num' }, g.advert_interval_ms),
      h('td', {}, g.mode + (g.preempt ? '' : ', no preempt')),
      h('td', { class: 'mono' }, (g.vips || []).join(' ')),
      h('td', { 'data-testid': 'vrrp-role' }, roleBadge(groupRole(g.name))),
      rowActions('vrrp', () => startEdit(g), () => remove(g))),
  });
}

function fillLocal() {
  const f = localForm();
  clearFormErrors(f);
  f.elements.interface.value = local.interface ?? '';
  f.elements.address.value = local.address ?? '';
  f.elements.priority.value = local.priority ?? '';
  f.elements.router_id.value = local.router_id ?? '';
  const ov = local.groups || [];
  $('#vrrp-local-overrides').textContent = ov.length
    ? 'Per-group overrides (set through the API): ' + ov.map((o) => o.name + ' ' +
      ['interface', 'address', 'priority'].filter((k) => o[k] !== undefined).map((k) => k + '=' + o[k]).join(' ')).join('; ')
    : '';
}

function words(v) { return v.split(/[\s,]+/).filter(Boolean); }

function resetForm() {
  editing = null;
  const f = groupForm();
  f.reset();
  clearFormErrors(f);
  formMode('vrrp-group', 'Add VIP group', 'Add group', false);
  render();
}

function startEdit(g) {
  editing = g.name;
  const f = groupForm();
  clearFormErrors(f);
  f.elements.name.value = g.name;
  f.elements.virtual_router_id.value = g.virtual_router_id ?? '';
  f.elements.advert_interval_ms.value = g.advert_interval_ms ?? '';
  f.elements.mode.value = g.mode || 'unicast';
  f.elements.unicast_peers.value = (g.unicast_peers || []).join(', ');
  f.elements.vips.value = (g.vips || []).join(', ');
  f.elements.preempt.checked = g.preempt !== false;
  formMode('vrrp-group', 'Edit VIP group ' + g.name, 'Save', true);
  render();
  focusFirst(f, 'virtual_router_id');
}

/* Field errors of a 409/422 answer beside their fields; the attribute is
 * the last part of "vrrp/groups/<name>/<attr>" or "vrrp/local/<attr>". */
function showErrors(form, err, prefix) {
  const list = err.errors && err.errors.length ? err.errors : [{ field: err.field, message: err.message }];
  const rest = [];
  for (const e of list) {
    const msg = sentence(stripField(e.message || '', e.field));
    let attr = null;
    if (e.field && e.field.startsWith(prefix)) {
      const parts = e.field.slice(prefix.length).split('/');
      attr = prefix === 'vrrp/local/' ? parts[0] : parts[1];
    }
    if (err.status === 409 && err.code === 'exists') attr = 'name';
    if (!(attr && setFieldError(form, attr, msg))) rest.push(e.field ? e.field + ': ' + msg : msg || describeError(err));
  }
  if (rest.length) setFormError(form, rest.join(' '));
}

async function onGroupSubmit(ev) {
  ev.preventDefault();
  const f = groupForm();
  clearFormErrors(f);
  const mode = f.elements.mode.value;
  const body = {
    name: f.elements.name.value.trim(),
    virtual_router_id: intOrUndefined(f.elements.virtual_router_id.value),
    advert_interval_ms: intOrUndefined(f.elements.advert_interval_ms.value),
    mode,
    preempt: f.elements.preempt.checked,
    vips: words(f.elements.vips.value),
  };
  if (mode === 'unicast') body.unicast_peers = words(f.elements.unicast_peers.value);
  else if (editing) body.unicast_peers = [];
  if (body.advert_interval_ms === undefined) delete body.advert_interval_ms;
  await withButton($('#vrrp-group-submit'), async () => {
    if (editing) {
      await request('PUT', '/vrrp/groups/' + enc(editing), body);
      notify('VIP group ' + editing + ' saved to the candidate.');
    } else {
      await request('POST', '/vrrp/groups', body);
      notify('VIP group ' + body.name + ' added to the candidate.');
    }
    resetForm();
    await load();
    refreshStatus();
  }, (e) => showErrors(f, e, 'vrrp/groups/'));
}

async function onLocalSubmit(ev) {
  ev.preventDefault();
  const f = localForm();
  clearFormErrors(f);
  const body = { groups: local.groups || [] };
  for (const k of ['interface', 'address', 'router_id']) {
    const v = f.elements[k].value.trim();
    if (v) body[k] = v;
  }
  const prio = intOrUndefined(f.elements.priority.value);
  if (prio !== undefined) body.priority = prio;
  await withButton($('#vrrp-local-submit'), async () => {
    local = await request('PUT', '/vrrp/local', body);
    fillLocal();
    notify("This node's VRRP settings were saved to the candidate.");
    refreshStatus();
  }, (e) => showErrors(f, e, 'vrrp/local/'));
}

function remove(g) {
  return confirmDelete({
    what: 'VIP group', name: g.name,
    text: 'The group is removed from the candidate; this node stops announcing its VIPs once you apply.',
    errorBox: $('#vrrp-error'),
    del: () => request('DELETE', '/vrrp/groups/' + enc(g.name)),
    after: async () => { if (editing === g.name) resetForm(); await load(); refreshStatus(); },
  });
}

