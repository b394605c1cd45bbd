// L4 firewall (nftables, table inet tandem): the allow and deny lists, the
// ban timeout, a ban at run time, the per-service limits (edited with the
// service on the L4 page) and the state tandemd reports for the table.
import { request } from './api.js';
import { $, h, clear, setAlert, clearFormErrors, setFieldError, describeError, intOrUndefined,
  notify } from './dom.js';
import { showErrors, loadData } from './l4.js';
import { field, withButton } from './crud.js';
import { refreshStatus } from './app.js';

let data = { services: [], settings: {}, status: null };

function build() {
  const sec = $('#view-l4fw');
  clear(sec);
  sec.append(
    h('div', { class: 'view-head' }, h('h2', {}, 'L4 firewall (nftables)'),
      h('p', { class: 'muted' }, "Addresses always allowed or always dropped, and how long a ban lasts, in tandemd's own nftables table. Works with or without IPVS. Per-service connection limits are set on each L4 service.")),
    h('div', { id: 'l4fw-status', class: 'alert', role: 'status', 'data-testid': 'l4fw-status', hidden: true }),
    h('div', { class: 'split' },
      h('div', {},
        h('div', { class: 'panel' },
          h('div', { class: 'panel-head' }, h('h3', {}, 'Per-service limits')),
          h('div', { id: 'l4fw-error', class: 'alert alert-error', role: 'alert', 'data-testid': 'l4fw-error', hidden: true }),
          h('table', { class: 'table', id: 'l4fw-limits', 'data-testid': 'l4fw-limits' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Service'), h('th', { class: 'num' }, 'New connections'),
              h('th', {}, 'Per'), h('th', { class: 'num' }, 'Burst'), h('th', { class: 'num' }, 'Concurrent'))),
            h('tbody')))),
      h('div', { class: 'side' },
        h('form', { id: 'l4fw-form', class: 'panel form-panel', 'data-testid': 'l4fw-form', novalidate: true },
          h('h3', {}, 'Allow and deny lists'),
          field('l4fw-allow', 'allow', 'Allow', h('textarea', { id: 'l4fw-allow', name: 'allow', rows: 3, class: 'mono',
            spellcheck: 'false', placeholder: '10.0.0.5, 2001:db8:1::/48', 'data-testid': 'l4fw-allow' }),
          'addresses or CIDRs exempt from deny, bans and limits'),
          field('l4fw-deny', 'deny', 'Deny', h('textarea', { id: 'l4fw-deny', name: 'deny', rows: 3, class: 'mono',
            spellcheck: 'false', placeholder: '198.51.100.0/24', 'data-testid': 'l4fw-deny' }), 'dropped on every service'),
          field('l4fw-ban-timeout', 'ban_timeout', 'Ban timeout (s)', h('input', { id: 'l4fw-ban-timeout', name: 'ban_timeout',
            type: 'number', inputmode: 'numeric', placeholder: '600', 'data-testid': 'l4fw-ban-timeout' })),
          h('div', { class: 'form-error alert alert-error', role: 'alert', 'data-testid': 'l4fw-form-error', hidden: true }),
          h('div', { class: 'form-actions' },
            h('button', { id: 'l4fw-submit', type: 'submit', class: 'btn btn-primary', 'data-testid': 'l4fw-submit' }, 'Save lists'))),
        h('form', { id: 'l4fw-ban-form', class: 'panel form-panel', 'data-testid': 'l4fw-ban-form', novalidate: true },
          h('h3', {}, 'Ban an address now'),
          h('p', { class: 'muted' }, 'Takes effect at once in the running tandemd (not part of the candidate); the kernel lifts it when the timeout passes.'),
          h('div', { class: 'field-row' },
            field('l4fw-ban-address', 'address', 'Address', h('input', { id: 'l4fw-ban-address', name: 'address', autocomplete: 'off',
              spellcheck: 'false', placeholder: '203.0.113.7', 'data-testid': 'l4fw-ban-address' })),
            field('l4fw-ban-seconds', 'timeout', 'Seconds', h('input', { id: 'l4fw-ban-seconds', name: 'timeout', type: 'number',
              inputmode: 'numeric', placeholder: 'ban timeout', 'data-testid': 'l4fw-ban-seconds' }))),
          h('div', { class: 'form-error alert alert-error', role: 'alert', 'data-testid': 'l4fw-ban-form-error', hidden: true }),
          h('div', { class: 'form-actions' },
            h('button', { id: 'l4fw-ban-submit', type: 'submit', class: 'btn btn-danger', 'data-testid': 'l4fw-ban-submit' }, 'Ban'))))));
}

export function init() {
  build();
  $('#l4fw-form').addEventListener('submit', onSubmit);
  $('#l4fw-ban-form').addEventListener('submit', onBan);
}

export async function load() {
  setAlert($('#l4fw-error'), '');
  try {
    data = await loadData();
  } catch (e) {
    setAlert($('#l4fw-error'), 'Could not load the L4 section: ' + describeError(e));
  }
  render();
}

function render() {
  const nft = data.status && data.status.nft;
  const st = $('#l4fw-status');
  st.className = 'alert ' + (nft && nft.last_error ? 'alert-warn' : 'alert-ok');
  st.textContent = !nft ? 'Firewall state unknown: tandemd did not answer.'
    : !nft.enabled ? 'No L4 firewall rules are active (no lists and no limits applied).'
      : 'Active in table ' + (nft.table || 'inet tandem') + ': ' + (nft.passes || 0) + ' passes, ' +
        (nft.bans || 0) + ' bans' + (nft.last_error ? '. Last error: ' + nft.last_error : '.');
  st.hidden = false;
  const f = $('#l4fw-form');
  const fl = data.settings.filter || {};
  clearFormErrors(f);
  f.elements.allow.value = (fl.allow || []).join(', ');
  f.elements.deny.value = (fl.deny || []).join(', ');
  f.elements.ban_timeout.value = fl.ban_timeout ?? '';
  const tbody = clear($('#l4fw-limits tbody'));
  const limited = data.services.filter((s) => s.limits);
  if (!limited.length)
    tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No service has limits. Set them on the L4 services page.')));
  for (const s of limited)
    tbody.append(h('tr', { 'data-testid': 'l4fw-limit-row', 'data-name': s.name },
      h('td', { class: 'mono' }, s.name),
      h('td', { class: 'num' }, s.limits.new_conns ?? '—'),
      h('td', {}, s.limits.new_conns ? s.limits.per || 'minute' : '—'),
      h('td', { class: 'num' }, s.limits.burst ?? (s.limits.new_conns ?? '—')),
      h('td', { class: 'num' }, s.limits.concurrent ?? '—')));
}

const words = (v) => v.split(/[\s,]+/).filter(Boolean);

async function onSubmit(ev) {
  ev.preventDefault();
  const f = $('#l4fw-form');
  clearFormErrors(f);
  const filter = {};
  const allow = words(f.elements.allow.value), deny = words(f.elements.deny.value);
  if (allow.length) filter.allow = allow;
  if (deny.length) filter.deny = deny;
  const bt = intOrUndefined(f.elements.ban_timeout.value);
  if (bt !== undefined) filter.ban_timeout = bt;
  await withButton($('#l4fw-submit'), async () => {
    data.settings = await request('PUT', '/l4/settings', { filter: Object.keys(filter).length ? filter : null });
    render();
    notify('Firewall lists saved to the candidate.');
    refreshStatus();
  }, (err) => showErrors(f, err, (p) => (p[1] === 'settings' && p[2] === 'filter' ? p[3] : null)));
}

async function onBan(ev) {
  ev.preventDefault();
  const f = $('#l4fw-ban-form');
  clearFormErrors(f);
  const address = f.elements.address.value.trim();
  if (!address) {
    setFieldError(f, 'address', 'Enter an address.');
    return;
  }
  const body = { address };
  const t = intOrUndefined(f.elements.timeout.value);
  if (t !== undefined) body.timeout = t;
  try {
    await request('POST', '/l4/bans', body);
    notify(address + ' is banned.');
    f.reset();
    await load();
  } catch (err) {
    showErrors(f, err, (p) => (p[0] === 'l4' && p[1] === 'bans' ? p[2] : null));
  }
}
