// Pools and their members.
import { api, list, memberKey } from './api.js';
import { $, h, clear, badge, setAlert, clearFormErrors, setFieldError, showApiError,
  describeError, intOrUndefined, notify, fillSelect, sentence, focusFirst } from './dom.js';
import { errorsText, rowClass, rowActions, formMode, showFieldErrors, withButton,
  confirmDelete } from './crud.js';
import { state, applyErrorsFor } from './state.js';
import { l7Text, l7Parse, l7Merge, l7Errors } from './l7.js';
import { poolTlsLoadChoices, poolTlsFill, poolTlsRead, poolTlsText, poolTlsErrors } from './pool-tls.js';
import { refreshStatus } from './app.js';

let editingMember = null; // {pool, key} while editing a member
let editingPool = null; // pool name while editing a pool's L7 options

export function init() {
  $('#pool-form').addEventListener('submit', onPoolSubmit);
  $('#pool-cancel').addEventListener('click', () => resetPoolForm());
  $('#member-form').addEventListener('submit', onMemberSubmit);
  $('#member-cancel').addEventListener('click', () => resetMemberForm());
}

export async function load() {
  setAlert($('#pools-error'), '');
  try {
    state.pools = list(await api.pools(), 'pools');
  } catch (e) {
    setAlert($('#pools-error'), 'Could not load pools: ' + describeError(e));
  }
  try { state.routes = list(await api.routes(), 'routes'); } catch { /* only for "used by" */ }
  poolTlsLoadChoices();
  render();
}

/* Runtime state of one member as tandemd reports it. */
export function memberState(poolName, m) {
  if (m.enabled === false) return { text: 'disabled', kind: 'disabled' };
  const td = state.status && state.status.tandemd;
  if (!td || !td.reachable) return { text: 'unknown', kind: 'unknown' };
  const rp = (td.pools || []).find((p) => p.name === poolName);
  const rm = rp && (rp.members || []).find((x) => x.address === m.address && Number(x.port) === Number(m.port));
  if (!rm) return { text: 'not applied', kind: 'pending' };
  if (rm.enabled === false) return { text: 'disabled', kind: 'disabled' };
  const s = String(rm.state || 'unknown').toLowerCase();
  // draining shows as a warning; the reason says why a member changed state
  return { text: s, kind: s === 'draining' ? 'warn' : ['up', 'down', 'disabled'].includes(s) ? s : 'unknown',
    reason: s === 'up' && /^(new member|connect succeeded)$/.test(rm.reason || '') ? '' : (rm.reason || '') };
}

function sorted(a) { return [...a].sort((x, y) => String(x.name).localeCompare(String(y.name))); }

function render() {
  const box = clear($('#pools-list'));
  const pools = sorted(state.pools);
  const current = $('#member-pool').value || (editingMember && editingMember.pool);
  fillSelect($('#member-pool'), pools.map((p) => p.name), current || (pools[0] && pools[0].name));
  if (!pools.length) {
    box.append(h('div', { class: 'empty-state' },
      'No pools yet. Add a pool, then add its members (backend address and port).'));
    return;
  }
  for (const p of pools) box.append(poolCard(p));
}

function poolCard(p) {
  const members = p.members || [];
  const usedBy = state.routes.filter((r) => r.pool === p.name).map((r) => r.name);
  const poolErrs = applyErrorsFor('pools', p.name).filter((e) => !e.parsed.member);
  const tbody = h('tbody');
  if (!members.length)
    tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No members: this pool cannot serve traffic.')));
  for (const m of members) {
    const key = memberKey(m);
    const st = memberState(p.name, m);
    const errs = applyErrorsFor('pools', p.name, key);
    const isEditing = editingMember && editingMember.pool === p.name && editingMember.key === key;
    tbody.append(h('tr', { 'data-testid': 'member-row', 'data-pool': p.name, 'data-member': key,
      class: rowClass(errs, isEditing) },
      h('td', { class: 'mono' }, m.address),
      h('td', { class: 'num' }, m.port),
      h('td', { class: 'num' }, m.weight ?? 1),
      h('td', {}, m.enabled === false ? 'no' : 'yes'),
      h('td', {}, badge(st.text, st.kind),
        m.backup ? [' ', badge('backup', 'pending')] : '',
        st.reason ? h('div', { class: 'muted small', 'data-testid': 'member-reason' }, st.reason) : ''),
      rowActions('member', () => startEditMember(p.name, m), () => removeMember(p.name, m))));
    if (errs.length)
      tbody.append(h('tr', { class: 'row-error-detail', 'data-testid': 'member-row-error' },
        h('td', { colspan: 6 }, errorsText(errs))));
  }
  const up = members.filter((m) => memberState(p.name, m).kind === 'up').length;
  const anyErr = applyErrorsFor('pools', p.name).length > 0;
  return h('div', { class: 'pool-card' + (anyErr ? ' has-error' : ''), 'data-testid': 'pool-card', 'data-name': p.name },
    h('div', { class: 'pool-card-head' },
      h('h3', {}, p.name),
      h('span', { class: 'muted' }, `${members.length} member${members.length === 1 ? '' : 's'}, ${up} up`),
      h('span', { class: 'muted' }, usedBy.length ? '· used by ' + usedBy.join(', ') : '· not used by any route'),
      h('span', { class: 'muted' }, '· ' + (p.algorithm || 'round_robin').replace(/_/g, ' ') +
        (p.health_check ? ', ' + (p.health_check.type || 'tcp') + ' health check' : '')),
      p.tls ? h('span', { class: 'muted', 'data-testid': 'pool-tls' }, '· ' + poolTlsText(p)) : '',
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'pool-options',
        onclick: () => startEditPool(p) }, 'Options'),
      h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'pool-add-member',
        onclick: () => { resetMemberForm(); $('#member-pool').value = p.name; $('#member-address').focus(); } }, 'Add member'),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'pool-delete',
        onclick: () => removePool(p) }, 'Delete pool')),
    h('div', { class: 'inline-error', role: 'alert', 'data-testid': 'pool-card-error',
      hidden: !poolErrs.length }, errorsText(poolErrs)),
    h('table', { class: 'table members' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Address'), h('th', { class: 'num' }, 'Port'), h('th', { class: 'num' }, 'Weight'),
        h('th', {}, 'Enabled'), h('th', {}, 'State'), h('th', { class: 'actions' }, 'Actions'))),
      tbody));
}

function resetPoolForm() {
  editingPool = null;
  const f = $('#pool-form');
  f.reset();
  clearFormErrors(f);
  f.elements.name.readOnly = false;
  poolTlsFill(f, null);
  formMode('pool', 'Add pool', 'Add pool', false);
}

function startEditPool(p) {
  editingPool = p.name;
  const f = $('#pool-form');
  clearFormErrors(f);
  f.elements.name.value = p.name;
  f.elements.name.readOnly = true;
  f.elements.l7.value = l7Text(p, 'pools');
  poolTlsFill(f, p);
  formMode('pool', 'Options of pool ' + p.name, 'Save', true);
  focusFirst(f, 'l7');
}

async function onPoolSubmit(ev) {
  ev.preventDefault();
  const f = $('#pool-form');
  clearFormErrors(f);
  const name = f.elements.name.value.trim();
  const opts = l7Parse(f, 'pools', setFieldError);
  if (!opts) return;
  const tls = poolTlsRead(f, setFieldError);
  if (tls === undefined) return;
  await withButton($('#pool-submit'), async () => {
    if (editingPool) {
      await api.updatePool(editingPool,
        l7Merge({ tls }, opts, state.pools.find((x) => x.name === editingPool), 'pools'));
      notify('Options of pool ' + editingPool + ' saved to the candidate.');
      resetPoolForm();
      await load();
    } else {
      await api.createPool(l7Merge(tls ? { name, members: [], tls } : { name, members: [] }, opts, null, 'pools'));
      f.reset();
      notify('Pool ' + name + ' added to the candidate. Add its members next.');
      await load();
      $('#member-pool').value = name;
    }
    refreshStatus();
  }, (e) => showApiError(f, poolTlsErrors(l7Errors(e, 'pools')), 'A pool with this name'));
}

function resetMemberForm() {
  editingMember = null;
  const f = $('#member-form');
  const pool = f.elements.pool.value;
  f.reset();
  f.elements.pool.value = pool;
  f.elements.pool.disabled = false;
  clearFormErrors(f);
  formMode('member', 'Add member', 'Add member', false);
  render();
}

export function startEditMember(poolName, m) {
  const key = memberKey(m);
  editingMember = { pool: poolName, key };
  const f = $('#member-form');
  clearFormErrors(f);
  f.elements.pool.value = poolName;
  f.elements.pool.disabled = true;
  f.elements.address.value = m.address ?? '';
  f.elements.port.value = m.port ?? '';
  f.elements.weight.value = m.weight ?? 1;
  f.elements.enabled.checked = m.enabled !== false;
  f.elements.backup.checked = m.backup === true;
  f.elements.drain.checked = m.drain === true;
  formMode('member', 'Edit member ' + key + ' of ' + poolName, 'Save', true);
  showFieldErrors(f, applyErrorsFor('pools', poolName, key));
  render();
  focusFirst(f, 'address');
}

/* Open what an apply error names: a member's edit form, or the pool card. */
export function focusError(parsed) {
  const p = state.pools.find((x) => x.name === parsed.name);
  if (!p) return;
  if (parsed.member) {
    const m = (p.members || []).find((x) => memberKey(x) === parsed.member);
    if (m) { startEditMember(p.name, m); return; }
  }
  const card = document.querySelector(`.pool-card[data-name="${CSS.escape(p.name)}"]`);
  if (card) card.scrollIntoView({ block: 'center' });
}

async function onMemberSubmit(ev) {
  ev.preventDefault();
  const f = $('#member-form');
  clearFormErrors(f);
  const pool = f.elements.pool.value;
  if (!pool) { setFieldError(f, 'pool', 'Add a pool first.'); return; }
  const body = {
    address: f.elements.address.value.trim(),
    port: intOrUndefined(f.elements.port.value),
    weight: intOrUndefined(f.elements.weight.value),
    enabled: f.elements.enabled.checked,
    backup: f.elements.backup.checked,
    drain: f.elements.drain.checked,
  };
  await withButton($('#member-submit'), async () => {
    if (editingMember) {
      await api.updateMember(editingMember.pool, editingMember.key, body);
      notify('Member ' + editingMember.key + ' of ' + pool + ' saved to the candidate.');
    } else {
      await api.addMember(pool, body);
      notify('Member ' + memberKey(body) + ' added to pool ' + pool + '.');
    }
    resetMemberForm();
    await load();
    refreshStatus();
  }, (e) => showApiError(f, e, 'This member'));
}

function removeMember(poolName, m) {
  const key = memberKey(m);
  return confirmDelete({
    title: 'Remove member ' + key + '?',
    text: 'It is removed from pool ' + poolName + ' in the candidate and stops receiving traffic once you apply.',
    okLabel: 'Remove',
    errorBox: $('#pools-error'),
    del: () => api.deleteMember(poolName, key),
    done: 'Member ' + key + ' removed from ' + poolName + '.',
    after: async () => {
      if (editingMember && editingMember.key === key && editingMember.pool === poolName) resetMemberForm();
      await load();
      refreshStatus();
    },
    failed: 'Could not remove member ' + key,
  });
}

function removePool(p) {
  return confirmDelete({
    what: 'pool', name: p.name,
    text: 'The pool and its members are removed from the candidate. A pool that a route uses cannot be deleted.',
    errorBox: $('#pools-error'),
    del: () => api.deletePool(p.name),
    after: async () => { await load(); refreshStatus(); },
    inUse: (e) => 'Pool ' + p.name + ' is in use and cannot be deleted. ' + sentence(e.message) +
      ' Change or delete the route first.',
  });
}
