// The HA pair: pairing two consoles (token, join, unpair) and the banner a
// BACKUP shows (its configuration is read-only; edit on the MASTER).
// REST: GET /pair, POST /pair/token, POST /pair/join, DELETE /pair (doc/api.md).
import { request } from './api.js';
import { $, h, clear, badge, setAlert, describeError, notify, confirmAction, fmtTime } from './dom.js';

let last = null;

export function init() {
  $('#pair-token-button').addEventListener('click', makeToken);
  $('#pair-join-form').addEventListener('submit', join);
  $('#pair-unpair-button').addEventListener('click', unpair);
}

export async function load() {
  setAlert($('#pair-error'), '');
  try {
    last = await request('GET', '/pair');
  } catch (e) {
    setAlert($('#pair-error'), 'Could not load the pair: ' + describeError(e));
    return;
  }
  render(last);
  banner(last);
}

function row(label, ...value) {
  return h('tr', {}, h('th', {}, label), h('td', {}, ...value));
}

function render(p) {
  const me = clear($('#pair-self tbody'));
  me.append(row('Node', p.node), row('Console', h('span', { class: 'mono' }, p.console)),
    row('Certificate fingerprint (SHA-256)', h('span', { class: 'mono', 'data-testid': 'pair-fingerprint' },
      p.fingerprint || 'none: the console runs without HTTPS')),
    row('VRRP role', badge(p.role, p.role === 'MASTER' ? 'ok' : 'unknown'), ' priority ', String(p.priority)),
    row('Configuration', p.writable ? 'editable here' : 'read-only here (edit on the MASTER)'));
  $('#pair-unpaired').hidden = !!p.paired;
  $('#pair-paired').hidden = !p.paired;
  if (!p.paired) {
    $('#pair-token-live').textContent = p.token ? 'A token is live until ' + fmtTime(p.token.expires_at) +
      '; making a new one replaces it.' : '';
    return;
  }
  const peer = p.peer;
  const t = clear($('#pair-peer tbody'));
  t.append(row('Node', h('span', { 'data-testid': 'pair-peer-node' }, peer.node)),
    row('Console', h('a', { href: peer.console + '/', class: 'mono', rel: 'noreferrer' }, peer.console)),
    row('Certificate fingerprint (pinned)', h('span', { class: 'mono' }, peer.fingerprint)),
    row('Pair', badge(peer.state, peer.state === 'paired' ? 'ok' : 'failed'),
      peer.reason ? ' ' + peer.reason : '', ' since ', fmtTime(peer.since)),
    row('Reachable', peer.up ? badge('up', 'ok') : badge('down', 'failed'),
      peer.last_contact ? ' last answer ' + fmtTime(peer.last_contact) : ''),
    row('Its role', peer.role ? badge(peer.role, peer.role === 'MASTER' ? 'ok' : 'unknown') : '—',
      peer.priority !== null && peer.priority !== undefined ? ' priority ' + peer.priority : ''),
    row('Its running revision', peer.revision === null || peer.revision === undefined ? '—' : String(peer.revision),
      ' (last in common: ' + peer.base_revision + ')'),
    row('Last sync error', peer.last_error || h('span', { class: 'muted' }, 'none')));
}

/* The BACKUP's banner: shown on every page (called with each status refresh). */
export async function refreshBanner() {
  try {
    banner(await request('GET', '/pair'));
  } catch {
    /* keep the last one */
  }
}

function banner(p) {
  const b = $('#pair-banner');
  const ro = !!(p && p.paired && !p.writable);
  document.body.classList.toggle('pair-readonly', ro);
  b.hidden = !ro;
  if (!ro) return;
  const m = p.master;
  const what = ['BACKUP', 'FAULT', 'STOP', 'UNKNOWN'].includes(p.role) ? p.role : 'not the MASTER';
  clear(b).append('This node (' + p.node + ') is ' + what + ' in the HA pair: its configuration is read-only. ',
    ...(m ? ['Edit it on the MASTER, ' + m.node + ':', h('a', { href: m.console + '/', 'data-testid': 'pair-banner-master',
      rel: 'noreferrer' }, m.console)] : ['Edit it on the MASTER.']));
}

async function makeToken() {
  setAlert($('#pair-error'), '');
  try {
    const t = await request('POST', '/pair/token');
    const box = clear($('#pair-token'));
    box.append(h('p', {}, 'On the other node, open Pairing and enter (valid until ' + fmtTime(t.expires_at) + ', once):'),
      h('table', { class: 'table' }, h('tbody', {},
        row('Console', h('code', { 'data-testid': 'pair-token-console' }, t.console)),
        row('Token', h('code', { 'data-testid': 'pair-token-value' }, t.token)),
        row('Fingerprint', h('code', { 'data-testid': 'pair-token-fingerprint' }, t.fingerprint)))));
    box.hidden = false;
  } catch (e) {
    setAlert($('#pair-error'), 'Could not make a token: ' + describeError(e));
  }
}

async function join(ev) {
  ev.preventDefault();
  setAlert($('#pair-error'), '');
  const f = ev.target;
  const btn = $('#pair-join-submit');
  btn.disabled = true;
  try {
    await request('POST', '/pair/join', {
      console: f.elements.console.value.trim(), token: f.elements.token.value.trim(),
      fingerprint: f.elements.fingerprint.value.trim(),
    });
    f.reset();
    notify('Paired. This node now takes the other node\'s configuration.');
    await load();
  } catch (e) {
    setAlert($('#pair-error'), 'Could not pair: ' + describeError(e));
  } finally {
    btn.disabled = false;
  }
}

async function unpair() {
  if (!last || !last.peer) return;
  if (!await confirmAction('Unpair from ' + last.peer.node + '?',
    'Config sync stops and the peer link\'s certificates are removed on this node. The other node is told when it can be reached.',
    'Unpair')) return;
  try {
    const r = await request('DELETE', '/pair');
    notify(r.peer_notified ? 'Unpaired; ' + r.peer + ' was told.' : 'Unpaired; ' + r.peer + ' could not be told and will show the pair as broken.');
    await load();
  } catch (e) {
    setAlert($('#pair-error'), 'Could not unpair: ' + describeError(e));
  }
}
