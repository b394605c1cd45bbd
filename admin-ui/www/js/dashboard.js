// Dashboard: node and tandemd status, listeners, pools with member state, routes.
import { api, list, memberKey } from './api.js';
import { $, h, clear, badge } from './dom.js';
import { state } from './state.js';
import { refreshStatus } from './app.js';
import { memberState } from './pools.js';
import { sortRoutes } from './routes.js';
import { roleBadge } from './vrrp.js';

export function init() {
  $('#dashboard-refresh').addEventListener('click', () => load());
}

export async function load() {
  await refreshStatus();
  try {
    const [l, p, r] = await Promise.all([api.listeners(), api.pools(), api.routes()]);
    state.listeners = list(l, 'listeners');
    state.pools = list(p, 'pools');
    state.routes = list(r, 'routes');
  } catch { /* tables show what we have; the banner shows reachability */ }
  render();
}

function text(id, v) { $(id).textContent = v === null || v === undefined || v === '' ? '—' : String(v); }

export function renderStatus() {
  const s = state.status || {};
  const node = s.node || {};
  const td = s.tandemd || {};
  text('#dash-hostname', node.hostname);
  text('#dash-version', node.version);
  const reach = clear($('#dash-reachable'));
  if (!s.tandemd) reach.append(badge('unknown', 'unknown'));
  else reach.append(td.reachable ? badge('reachable', 'up') : badge('unreachable', 'down'));
  const drev = clear($('#dash-daemon-revision'));
  if (!td.reachable) drev.append('—');
  else {
    drev.append(String(td.revision ?? '—'));
    if (s.running_revision && td.revision !== undefined && Number(td.revision) !== Number(s.running_revision))
      drev.append(' ', badge('expected ' + s.running_revision, 'warn'));
  }
  text('#dash-generation', td.reachable ? (td.generation ?? '—') : '—');
  // L4 inactive (no IPVS in this kernel) is said with the kernel's reason
  text('#dash-l4', !td.reachable || !td.l4 ? '—' : td.l4.available
    ? 'active, ' + (td.l4.configured ?? 0) + ' services configured'
    : 'inactive: ' + (td.l4.reason || 'unknown') + ' (L7 unaffected)');
  text('#dash-running-revision', s.running_revision ?? 'none applied yet');
  const cand = clear($('#dash-candidate'));
  cand.append(s.candidate_changed
    ? h('a', { href: '#changes' }, badge('unapplied changes', 'warn'))
    : badge('same as running', 'ok'));
  renderVrrp();
}

/* VRRP groups as tandemd runs them, each with its role on this node. */
function renderVrrp() {
  const td = (state.status && state.status.tandemd) || {};
  const groups = (td.vrrp && Array.isArray(td.vrrp.groups)) ? td.vrrp.groups : [];
  const vb = clear($('#dash-vrrp tbody'));
  if (!groups.length)
    vb.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' },
      td.reachable ? 'No VRRP groups running: this node runs without HA.' : 'tandemd is not reachable.')));
  for (const g of groups)
    vb.append(h('tr', { 'data-testid': 'dash-vrrp-row', 'data-group': g.name, 'data-role': g.role },
      h('td', { class: 'mono' }, g.name), h('td', {}, roleBadge(g.role)),
      h('td', { class: 'num' }, g.reported_priority ?? g.priority ?? ''),
      h('td', { class: 'mono' }, g.interface || ''),
      h('td', { class: 'mono' }, (g.vips || []).join(' '))));
}

function render() {
  renderStatus();
  const lb = clear($('#dash-listeners tbody'));
  if (!state.listeners.length) lb.append(h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No listeners.')));
  for (const l of [...state.listeners].sort((a, b) => String(a.name).localeCompare(String(b.name))))
    lb.append(h('tr', {}, h('td', { class: 'mono' }, l.name), h('td', { class: 'mono' }, l.address), h('td', {}, l.port)));

  const pb = clear($('#dash-pools tbody'));
  const pools = [...state.pools];
  // pools still running but removed from the candidate
  const running = (state.status && state.status.tandemd && state.status.tandemd.pools) || [];
  for (const rp of running)
    if (!pools.some((p) => p.name === rp.name)) pools.push({ ...rp, removed: true });
  pools.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  if (!pools.length) pb.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No pools.')));
  for (const p of pools) {
    const members = p.members || [];
    const label = p.removed ? [h('span', { class: 'mono' }, p.name), ' ', badge('removed in candidate', 'warn')]
      : h('span', { class: 'mono' }, p.name);
    if (!members.length)
      pb.append(h('tr', { class: 'pool-first', 'data-testid': 'dash-pool-row', 'data-pool': p.name },
        h('td', {}, label), h('td', { colspan: 4, class: 'muted' }, 'no members')));
    members.forEach((m, i) => {
      const st = p.removed ? { text: m.state || 'unknown', kind: m.state || 'unknown' } : memberState(p.name, m);
      pb.append(h('tr', { class: i === 0 ? 'pool-first' : '', 'data-testid': 'dash-member-row',
        'data-pool': p.name, 'data-member': memberKey(m), 'data-state': st.kind },
        h('td', {}, i === 0 ? label : ''),
        h('td', { class: 'mono' }, memberKey(m)),
        h('td', { class: 'num' }, m.weight ?? 1),
        h('td', {}, m.enabled === false ? 'no' : 'yes'),
        h('td', {}, badge(st.text, st.kind),
          st.reason ? h('div', { class: 'muted small', 'data-testid': 'dash-member-reason' }, st.reason) : '')));
    });
  }

  const rb = clear($('#dash-routes tbody'));
  if (!state.routes.length) rb.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No routes.')));
  for (const r of sortRoutes(state.routes))
    rb.append(h('tr', {},
      h('td', { class: 'num' }, r.priority ?? ''), h('td', { class: 'mono' }, r.name),
      h('td', { class: 'mono' }, r.listener),
      h('td', { class: 'mono' }, r.host || h('span', { class: 'muted' }, 'any')),
      h('td', { class: 'mono' }, r.path_prefix || '/'),
      h('td', { class: 'mono' }, r.pool ?? h('span', { class: 'muted' }, r.action || '—'))));
}
