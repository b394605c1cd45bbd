// L4 (IPVS): virtual services with their real servers, the sync daemon, and
// the kernel's view (availability, counters, health) from GET /l4/status.
// The page's DOM is built here (index.html holds only the section), so the
// L4 console lives in this file and l4fw.js.
import { request } from './api.js';
import { $, h, clear, badge, setAlert, clearFormErrors, setFieldError, setFormError,
  describeError, intOrUndefined, notify, sentence, stripField, focusFirst,
  fillSelect } from './dom.js';
import { rowActions, formMode, withButton, confirmDelete, field, textInput as text, numInput as num,
  selectInput as select, areaInput as area, formActions as actions } from './crud.js';
import { refreshStatus } from './app.js';

const enc = encodeURIComponent;
const SCHEDULERS = ['wlc', 'rr', 'wrr', 'lc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];
let services = [];
let settings = {};
let status = null;
let editing = null;      // service being edited
let editingReal = null;  // {service, key}

export const realKey = (r) => {
  const a = String(r.address);
  return (a.includes(':') ? '[' + a + ']' : a) + ':' + (r.port || 0);
};

function build() {
  const sec = $('#view-l4');
  clear(sec);
  sec.append(
    h('div', { class: 'view-head' }, h('h2', {}, 'L4 services (IPVS)'),
      h('p', { class: 'muted' }, 'Virtual services balanced by the kernel (TCP, UDP or firewall mark; IPv4 or IPv6) and their real servers. Changes go to the candidate until applied; counters and health come from the running tandemd.')),
    h('div', { id: 'l4-status', class: 'alert', role: 'status', 'data-testid': 'l4-status', hidden: true }),
    // the table gets the page's width (counters); the forms sit below it
    h('div', { class: 'panel' },
      h('div', { id: 'l4-error', class: 'alert alert-error', role: 'alert', 'data-testid': 'l4-error', hidden: true }),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'table', id: 'l4-table', 'data-testid': 'l4-table' },
          h('thead', {}, h('tr', {}, ['Service / real', 'Virtual / forwarding', 'Scheduler / weight', 'Health',
            'Conns (/s)', 'In pkts / bytes', 'Out pkts / bytes'].map((t, i) => h('th', { class: i >= 4 ? 'num' : '' }, t)),
          h('th', { class: 'actions' }, 'Actions'))),
          h('tbody')))),
    h('div', { class: 'form-grid' }, serviceForm(), realForm(), syncForm()));
}

function serviceForm() {
  return h('form', { id: 'l4-service-form', class: 'panel form-panel', 'data-testid': 'l4-service-form', novalidate: true },
    h('h3', { id: 'l4-service-form-title' }, 'Add L4 service'),
    field('l4-service-name', 'name', 'Name', text('l4-service-name', 'name', 'pg')),
    field('l4-service-protocol', 'protocol', 'Protocol', select('l4-service-protocol', 'protocol', ['tcp', 'udp', 'fwmark'])),
    h('div', { class: 'field-row' },
      field('l4-service-address', 'address', 'Address', text('l4-service-address', 'address', '192.0.2.10')),
      field('l4-service-port', 'port', 'Port', num('l4-service-port', 'port', '5432'))),
    h('div', { class: 'field-row' },
      field('l4-service-fwmark', 'fwmark', 'Firewall mark', num('l4-service-fwmark', 'fwmark', '7'), 'fwmark only'),
      field('l4-service-family', 'family', 'Family', select('l4-service-family', 'family', ['ipv4', 'ipv6']))),
    h('div', { class: 'field-row' },
      field('l4-service-scheduler', 'scheduler', 'Scheduler', select('l4-service-scheduler', 'scheduler', SCHEDULERS)),
      field('l4-service-flags', 'flags', 'Flags', text('l4-service-flags', 'flags', 'sh-port, sh-fallback'))),
    h('div', { class: 'field-row' },
      field('l4-service-ptimeout', 'persistence_timeout', 'Persistence (s)', num('l4-service-ptimeout', 'persistence_timeout', '0')),
      field('l4-service-pnetmask', 'persistence_netmask', 'Persistence netmask', num('l4-service-pnetmask', 'persistence_netmask', '32'))),
    field('l4-service-check', 'check', 'Health check', area('l4-service-check', 'check',
      '{"type": "http", "path": "/health", "expect_status": 200, "interval": 2, "fall": 3, "rise": 2, "remove_after": 60}'),
    'JSON: tcp, http or send_expect; see doc/l4.md'),
    field('l4-service-limits', 'limits', 'Rate limits', area('l4-service-limits', 'limits',
      '{"new_conns": 100, "per": "minute", "concurrent": 50}'), 'JSON, per source address; nftables'),
    actions('l4-service', 'Add service'));
}

function realForm() {
  return h('form', { id: 'l4-real-form', class: 'panel form-panel', 'data-testid': 'l4-real-form', novalidate: true },
    h('h3', { id: 'l4-real-form-title' }, 'Add real server'),
    field('l4-real-service', 'service', 'Service', h('select', { id: 'l4-real-service', name: 'service', 'data-testid': 'l4-real-service' })),
    h('div', { class: 'field-row' },
      field('l4-real-address', 'address', 'Address', text('l4-real-address', 'address', '10.0.1.2')),
      field('l4-real-port', 'port', 'Port', num('l4-real-port', 'port', '5432'))),
    h('div', { class: 'field-row' },
      field('l4-real-forward', 'forward', 'Forwarding', select('l4-real-forward', 'forward', ['nat', 'dr', 'tunnel'])),
      field('l4-real-weight', 'weight', 'Weight', num('l4-real-weight', 'weight', '1'))),
    h('div', { class: 'field-row' },
      field('l4-real-tunnel-type', 'tunnel_type', 'Tunnel type', select('l4-real-tunnel-type', 'tunnel_type', ['ipip', 'gue', 'gre']), 'tunnel only'),
      field('l4-real-tunnel-port', 'tunnel_port', 'Tunnel port', num('l4-real-tunnel-port', 'tunnel_port', '6080'), 'gue')),
    h('div', { class: 'field-row' },
      field('l4-real-upper', 'upper_threshold', 'Upper threshold', num('l4-real-upper', 'upper_threshold', '0')),
      field('l4-real-lower', 'lower_threshold', 'Lower threshold', num('l4-real-lower', 'lower_threshold', '0'))),
    actions('l4-real', 'Add real'));
}

function syncForm() {
  return h('form', { id: 'l4-sync-form', class: 'panel form-panel', 'data-testid': 'l4-sync-form', novalidate: true },
    h('h3', {}, 'Connection sync daemon (this node)'),
    h('p', { class: 'muted', id: 'l4-sync-state', 'data-testid': 'l4-sync-state' }),
    h('div', { class: 'field-row' },
      field('l4-sync-role', 'role', 'Role', select('l4-sync-role', 'role', ['none', 'master', 'backup', 'both', 'vrrp']),
        'vrrp: follows this node\'s VRRP role'),
      field('l4-sync-interface', 'interface', 'Interface', text('l4-sync-interface', 'interface', 'eth1')),
      field('l4-sync-syncid', 'syncid', 'Sync id', num('l4-sync-syncid', 'syncid', '0'))),
    h('div', { class: 'field-row' },
      field('l4-sync-group', 'mcast_group', 'Multicast group', text('l4-sync-group', 'mcast_group', '224.0.0.81')),
      field('l4-sync-port', 'mcast_port', 'Port', num('l4-sync-port', 'mcast_port', '8848')),
      field('l4-sync-ttl', 'ttl', 'TTL', num('l4-sync-ttl', 'ttl', '1'))),
    h('div', { class: 'field-row' },
      field('l4-sync-vrrp-group', 'vrrp_group', 'VRRP group', text('l4-sync-vrrp-group', 'vrrp_group', 'every group'),
        'role vrrp: the group that counts'),
      field('l4-sync-on-master', 'on_master', 'On MASTER run', select('l4-sync-on-master', 'on_master', ['master', 'both']),
        'role vrrp: both = master and backup daemon')),
    field('l4-reconcile', 'reconcile_interval', 'Reconcile every (s)', num('l4-reconcile', 'reconcile_interval', '10'),
      'timer pass that repairs drift; whole L4 section'),
    h('div', { class: 'form-error alert alert-error', role: 'alert', 'data-testid': 'l4-sync-form-error', hidden: true }),
    h('div', { class: 'form-actions' },
      h('button', { id: 'l4-sync-submit', type: 'submit', class: 'btn btn-primary', 'data-testid': 'l4-sync-submit' }, 'Save to candidate')),
    // the run-time switch (what VRRP will drive): the running tandemd at once
    h('div', { class: 'form-actions' }, h('span', { class: 'muted' }, 'Switch the running role now:'),
      ['master', 'backup', 'both', 'none', 'config'].map((r) => h('button', { type: 'button', class: 'btn btn-small',
        'data-testid': 'l4-sync-switch-' + r, onclick: () => switchRole(r) }, r))));
}

/* ---- data ---- */

export function init() {
  build();
  $('#l4-service-form').addEventListener('submit', onServiceSubmit);
  $('#l4-real-form').addEventListener('submit', onRealSubmit);
  $('#l4-sync-form').addEventListener('submit', onSyncSubmit);
  $('#l4-service-cancel').addEventListener('click', () => resetService());
  $('#l4-real-cancel').addEventListener('click', () => resetReal());
}

export async function loadData() {
  const [cfg, st] = await Promise.all([request('GET', '/l4'),
    request('GET', '/l4/status').catch(() => null)]);
  services = (cfg && cfg.services) || [];
  settings = (cfg && cfg.settings) || {};
  status = st;
  return { services, settings, status };
}

export async function load() {
  setAlert($('#l4-error'), '');
  try {
    await loadData();
  } catch (e) {
    setAlert($('#l4-error'), 'Could not load the L4 section: ' + describeError(e));
  }
  renderStatus();
  render();
  fillSync();
  fillSelect($('#l4-real-service'), services.map((s) => s.name), editingReal ? editingReal.service : undefined);
}

/* "L4 inactive: <reason>" or "IPVS active": the kernel's word, not ours. */
export function statusLine(st) {
  if (!st) return { ok: false, text: 'L4 status unknown: tandemd did not answer.' };
  if (st.available) return { ok: true, text: 'IPVS active: ' + (st.services || []).length + ' services in the kernel' +
    ((st.missing || []).length ? ', not yet programmed: ' + st.missing.join(', ') : '') + '.' };
  const why = String(st.reason || 'unknown reason');
  return { ok: false, text: 'L4 inactive: ' + why + (/[.!?]$/.test(why) ? ' ' : '. ') + 'L7 is not affected.' };
}

function renderStatus() {
  const el = $('#l4-status');
  const s = statusLine(status);
  el.className = 'alert ' + (s.ok ? 'alert-ok' : 'alert-warn');
  el.textContent = s.text;
  el.hidden = false;
}

function kernelService(s) {
  return status && (status.services || []).find((k) => k.name === s.name) || null;
}
function health(s, r) {
  const id = s.name + '/' + realKey(r);
  return status && (status.health || []).find((x) => x.id === id) || null;
}
/* 5300 -> "5.3 kB": the table stays narrow; exact numbers are in the API. */
function bytes(n) {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  for (n = Number(n) || 0; n >= 1000 && i < u.length - 1; i++) n /= 1000;
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}
function counters(st) {
  if (!st) return [h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—')];
  return [h('td', { class: 'num', 'data-testid': 'l4-conns' }, st.conns + (st.cps ? ' (' + st.cps + ')' : '')),
    h('td', { class: 'num' }, st.inpkts + ' / ' + bytes(st.inbytes)),
    h('td', { class: 'num' }, st.outpkts + ' / ' + bytes(st.outbytes))];
}
function virt(s) {
  if (s.protocol === 'fwmark') return 'fwmark ' + s.fwmark + ' ' + (s.family || 'ipv4');
  const a = String(s.address || '');
  return s.protocol + ' ' + (a.includes(':') ? '[' + a + ']' : a) + ':' + s.port;
}

function render() {
  const tbody = clear($('#l4-table tbody'));
  if (!services.length) {
    tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'empty' },
      'No L4 services. Add one with the form on the right, then its real servers.')));
    return;
  }
  for (const s of services) {
    const k = kernelService(s);
    const sched = (s.scheduler || 'wlc') + ((s.flags || []).length ? ' (' + s.flags.join(', ') + ')' : '') +
      (s.persistence_timeout ? ', persistent ' + s.persistence_timeout + ' s' : '');
    tbody.append(h('tr', { class: 'pool-first' + (editing === s.name ? ' editing' : ''), 'data-testid': 'l4-service-row', 'data-name': s.name },
      h('td', { class: 'mono' }, h('strong', {}, s.name)),
      h('td', { class: 'mono' }, virt(s)),
      h('td', {}, sched),
      h('td', {}, s.check ? badge(s.check.type, 'unknown') : '—'),
      counters(k && k.stats),
      rowActions('l4-service', () => startEdit(s), () => removeService(s))));
    for (const r of s.reals || []) {
      const kr = k && (k.reals || []).find((x) => x.address === r.address && Number(x.port) === Number(r.port || 0));
      const hc = health(s, r);
      const hb = !hc ? (k ? badge(kr ? 'in kernel' : 'not in kernel', kr ? 'ok' : 'warn') : badge('unknown', 'unknown'))
        : hc.up ? badge('up', 'up') : badge(hc.removed ? 'down, removed' : 'down', 'down');
      const fwd = (r.forward || 'nat') + (r.forward === 'tunnel' ? ' ' + (r.tunnel_type || 'ipip') : '');
      const th = r.upper_threshold || r.lower_threshold ? ' [' + (r.lower_threshold || 0) + '-' + (r.upper_threshold || 0) + ']' : '';
      tbody.append(h('tr', { 'data-testid': 'l4-real-row', 'data-service': s.name, 'data-real': realKey(r) },
        h('td', { class: 'mono' }, '  → ' + realKey(r)),
        h('td', {}, fwd),
        h('td', {}, 'weight ' + (r.weight ?? 1) + (kr && kr.weight !== (r.weight ?? 1) ? ' (kernel ' + kr.weight + ')' : '') + th),
        h('td', { 'data-testid': 'l4-real-health', title: hc && hc.last_error ? hc.last_error : '' }, hb),
        counters(kr && kr.stats),
        rowActions('l4-real', () => startEditReal(s, r), () => removeReal(s, r))));
    }
  }
}

/* ---- errors: "l4/services/<name>/<attr>[/...]", "l4/services/<name>/reals/<key>/<attr>",
 * "l4/settings/<section>/<attr>" ---- */

export function showErrors(form, err, attrOf) {
  const list = err.errors && err.errors.length ? err.errors : [{ field: err.field, message: err.message }];
  const rest = [];
  for (const e of list) {
    const msg = sentence(stripField(e.message || '', e.field));
    let attr = e.field ? attrOf(e.field.split('/')) : null;
    if (err.status === 409 && err.code === 'exists' && !attr) attr = 'name';
    if (!(attr && setFieldError(form, attr, msg))) rest.push(e.field ? e.field + ': ' + msg : msg || describeError(err));
  }
  if (rest.length) setFormError(form, rest.join(' '));
}

/* ---- services ---- */

function jsonOrError(form, name, value) {
  const v = value.trim();
  if (!v) return null;
  try {
    const o = JSON.parse(v);
    if (o && typeof o === 'object' && !Array.isArray(o)) return o;
  } catch { /* below */ }
  setFieldError(form, name, 'Must be a JSON object.');
  throw new Error('json');
}

function resetService() {
  editing = null;
  const f = $('#l4-service-form');
  f.reset();
  clearFormErrors(f);
  formMode('l4-service', 'Add L4 service', 'Add service', false);
  render();
}

function startEdit(s) {
  editing = s.name;
  const f = $('#l4-service-form');
  clearFormErrors(f);
  const e = f.elements;
  e.name.value = s.name;
  e.protocol.value = s.protocol || 'tcp';
  e.address.value = s.address ?? '';
  e.port.value = s.port ?? '';
  e.fwmark.value = s.fwmark ?? '';
  e.family.value = s.family || 'ipv4';
  e.scheduler.value = s.scheduler || 'wlc';
  e.flags.value = (s.flags || []).join(', ');
  e.persistence_timeout.value = s.persistence_timeout ?? '';
  e.persistence_netmask.value = s.persistence_netmask ?? '';
  e.check.value = s.check ? JSON.stringify(s.check) : '';
  e.limits.value = s.limits ? JSON.stringify(s.limits) : '';
  formMode('l4-service', 'Edit L4 service ' + s.name, 'Save', true);
  render();
  focusFirst(f, 'address');
}

async function onServiceSubmit(ev) {
  ev.preventDefault();
  const f = $('#l4-service-form');
  clearFormErrors(f);
  const e = f.elements;
  const fw = e.protocol.value === 'fwmark';
  let body;
  try {
    body = {
      name: e.name.value.trim(),
      protocol: e.protocol.value,
      address: fw ? null : e.address.value.trim(),
      port: fw ? null : intOrUndefined(e.port.value) ?? null,
      fwmark: fw ? intOrUndefined(e.fwmark.value) ?? null : null,
      family: fw ? e.family.value : null,
      scheduler: e.scheduler.value,
      flags: e.flags.value.split(/[\s,]+/).filter(Boolean),
      persistence_timeout: intOrUndefined(e.persistence_timeout.value) ?? null,
      persistence_netmask: intOrUndefined(e.persistence_netmask.value) ?? null,
      check: jsonOrError(f, 'check', e.check.value),
      limits: jsonOrError(f, 'limits', e.limits.value),
    };
  } catch { return; }
  if (!body.flags.length) body.flags = null;
  if (!editing) for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  await withButton($('#l4-service-submit'), async () => {
    if (editing) {
      await request('PUT', '/l4/services/' + enc(editing), body);
      notify('L4 service ' + editing + ' saved to the candidate.');
    } else {
      await request('POST', '/l4/services', body);
      notify('L4 service ' + body.name + ' added to the candidate. Add its real servers next.');
    }
    resetService();
    await load();
    refreshStatus();
  }, (err) => {
    // l4/services/<name>/<attr>/...: the attribute is the fourth part; a
    // real's field (reals/<key>/...) belongs to the real form
    showErrors(f, err, (p) => (p[0] === 'l4' && p[1] === 'services' && p[3] && p[3] !== 'reals' ? p[3] : null));
  });
}

function removeService(s) {
  return confirmDelete({
    what: 'L4 service', name: s.name,
    text: 'The service and its real servers are removed from the candidate; the kernel drops it once you apply.',
    errorBox: $('#l4-error'),
    del: () => request('DELETE', '/l4/services/' + enc(s.name)),
    after: async () => { if (editing === s.name) resetService(); await load(); refreshStatus(); },
  });
}

/* ---- reals ---- */

function resetReal() {
  editingReal = null;
  const f = $('#l4-real-form');
  const svc = f.elements.service.value;
  f.reset();
  f.elements.service.value = svc;
  f.elements.service.disabled = false;
  clearFormErrors(f);
  formMode('l4-real', 'Add real server', 'Add real', false);
}

function startEditReal(s, r) {
  editingReal = { service: s.name, key: realKey(r) };
  const f = $('#l4-real-form');
  clearFormErrors(f);
  const e = f.elements;
  fillSelect(e.service, services.map((x) => x.name), s.name);
  e.service.disabled = true;
  e.address.value = r.address;
  e.port.value = r.port ?? '';
  e.forward.value = r.forward || 'nat';
  e.weight.value = r.weight ?? '';
  e.tunnel_type.value = r.tunnel_type || 'ipip';
  e.tunnel_port.value = r.tunnel_port ?? '';
  e.upper_threshold.value = r.upper_threshold ?? '';
  e.lower_threshold.value = r.lower_threshold ?? '';
  formMode('l4-real', 'Edit real ' + realKey(r) + ' of ' + s.name, 'Save', true);
  focusFirst(f, 'weight');
}

async function onRealSubmit(ev) {
  ev.preventDefault();
  const f = $('#l4-real-form');
  clearFormErrors(f);
  const e = f.elements;
  const svc = editingReal ? editingReal.service : e.service.value;
  if (!svc) {
    setFieldError(f, 'service', 'Add a service first.');
    return;
  }
  const tun = e.forward.value === 'tunnel';
  const body = {
    address: e.address.value.trim(),
    port: intOrUndefined(e.port.value) ?? null,
    forward: e.forward.value,
    weight: intOrUndefined(e.weight.value) ?? null,
    tunnel_type: tun ? e.tunnel_type.value : null,
    tunnel_port: tun ? intOrUndefined(e.tunnel_port.value) ?? null : null,
    upper_threshold: intOrUndefined(e.upper_threshold.value) ?? null,
    lower_threshold: intOrUndefined(e.lower_threshold.value) ?? null,
  };
  if (!editingReal) for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  await withButton($('#l4-real-submit'), async () => {
    if (editingReal) {
      await request('PUT', '/l4/services/' + enc(svc) + '/reals/' + enc(editingReal.key), body);
      notify('Real ' + editingReal.key + ' of ' + svc + ' saved to the candidate.');
    } else {
      await request('POST', '/l4/services/' + enc(svc) + '/reals', body);
      notify('Real server added to ' + svc + ' in the candidate.');
    }
    resetReal();
    await load();
    refreshStatus();
  }, (err) => showErrors(f, err, (p) => (p[3] === 'reals' && p[5] ? p[5] : null)));
}

function removeReal(s, r) {
  const key = realKey(r);
  return confirmDelete({
    title: 'Delete real ' + key + ' of ' + s.name + '?',
    text: 'The real server is removed from the candidate; IPVS drops it once you apply.',
    errorBox: $('#l4-error'),
    del: () => request('DELETE', '/l4/services/' + enc(s.name) + '/reals/' + enc(key)),
    done: 'Real ' + key + ' deleted from the candidate.',
    after: async () => { await load(); refreshStatus(); },
    failed: 'Could not delete real ' + key,
  });
}

/* ---- sync daemon ---- */

function fillSync() {
  const f = $('#l4-sync-form');
  const y = settings.sync || {};
  clearFormErrors(f);
  f.elements.role.value = y.role || 'none';
  f.elements.interface.value = y.interface ?? '';
  f.elements.syncid.value = y.syncid ?? '';
  f.elements.mcast_group.value = y.mcast_group ?? '';
  f.elements.mcast_port.value = y.mcast_port ?? '';
  f.elements.ttl.value = y.ttl ?? '';
  f.elements.vrrp_group.value = y.vrrp_group ?? '';
  f.elements.on_master.value = y.on_master || 'master';
  f.elements.reconcile_interval.value = settings.reconcile_interval ?? '';
  const r = status && status.sync;
  $('#l4-sync-state').textContent = r ? 'Running: role ' + r.role + (r.overridden ? ' (set at run time)' : '') +
    (r.source === 'vrrp' ? ' (follows VRRP: ' + r.vrrp_role + ')' : '') +
    (r.master_running ? ', master daemon up' : '') + (r.backup_running ? ', backup daemon up' : '') +
    (r.error ? ' — ' + r.error : '') : '';
}

async function onSyncSubmit(ev) {
  ev.preventDefault();
  const f = $('#l4-sync-form');
  clearFormErrors(f);
  const e = f.elements;
  const sync = { role: e.role.value };
  for (const k of ['interface', 'mcast_group']) if (e[k].value.trim()) sync[k] = e[k].value.trim();
  if (sync.role === 'vrrp') {   // only with role vrrp (tandemd refuses them otherwise)
    if (e.vrrp_group.value.trim()) sync.vrrp_group = e.vrrp_group.value.trim();
    if (e.on_master.value !== 'master') sync.on_master = e.on_master.value;
  }
  for (const k of ['syncid', 'mcast_port', 'ttl']) {
    const v = intOrUndefined(e[k].value);
    if (v !== undefined) sync[k] = v;
  }
  const none = sync.role === 'none' && Object.keys(sync).length === 1;
  const ri = intOrUndefined(e.reconcile_interval.value);
  await withButton($('#l4-sync-submit'), async () => {
    settings = await request('PUT', '/l4/settings', { sync: none ? null : sync, reconcile_interval: ri ?? null });
    fillSync();
    notify('Sync daemon settings saved to the candidate.');
    refreshStatus();
  }, (err) => showErrors(f, err, (p) => (p[1] === 'settings' && p[2] === 'sync' ? p[3] :
    p[1] === 'settings' ? p[2] : null)));
}

async function switchRole(role) {
  const f = $('#l4-sync-form');
  clearFormErrors(f);
  try {
    const r = await request('POST', '/l4/sync-role', { role });
    notify('Sync daemon role now ' + ((r && r.role) || role) + '.');
    await load();
  } catch (err) {
    setFormError(f, 'Role switch refused: ' + describeError(err));
  }
}
