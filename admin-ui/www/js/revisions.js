// Revisions: history, view one, restore into the candidate.
import { api, list, request } from './api.js';
import { $, h, clear, badge, setAlert, describeError, notify, confirmAction, fmtTime } from './dom.js';
import { refreshStatus } from './app.js';
import { state } from './state.js';

export function init() {
  $('#revision-detail-close').addEventListener('click', () => { $('#revision-detail').hidden = true; });
}

export async function load() {
  setAlert($('#revisions-error'), '');
  const tbody = clear($('#revisions-table tbody'));
  let revs = [];
  try {
    revs = list(await api.revisions(), 'revisions');
  } catch (e) {
    setAlert($('#revisions-error'), 'Could not load revisions: ' + describeError(e));
    return;
  }
  if (!revs.length) {
    tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' },
      'No revisions yet. Every apply creates one.')));
    return;
  }
  revs.sort((a, b) => Number(b.number) - Number(a.number));
  for (const r of revs) {
    const st = String(r.status || 'unknown');
    tbody.append(h('tr', { 'data-testid': 'revision-row', 'data-number': r.number },
      h('td', { class: 'num' },
        state.status && Number(state.status.running_revision) === Number(r.number)
          ? [badge('running', 'ok'), ' '] : null, r.number),
      h('td', {}, badge(st, ['applied', 'failed', 'conflicted', 'pending'].includes(st) ? st : 'unknown')),
      h('td', { class: 'mono' }, fmtTime(r.created_at)),
      h('td', {}, r.author || '—'),
      h('td', {}, r.comment || h('span', { class: 'muted' }, '—'),
        st === 'conflicted' ? h('div', { class: 'muted', 'data-testid': 'revision-conflict-reason' }, r.reason) : null),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn-link', 'data-testid': 'revision-view',
          onclick: () => view(r.number, r.id) }, 'View'),
        h('button', { type: 'button', class: 'btn-link', 'data-testid': 'revision-restore',
          onclick: () => restore(r.number, r.id) }, 'Restore into candidate'))));
  }
}

// A conflicted revision (it lost a split brain, doc/ha.md) has an id and
// lives under /revisions/conflicts/ID.
async function view(n, conflictId) {
  const box = $('#revision-detail');
  const body = $('#revision-detail-body');
  $('#revision-detail-title').textContent = 'Revision ' + n + (conflictId ? ' (conflicted)' : '');
  const errBox = clear($('#revision-detail-errors'));
  errBox.hidden = true;
  body.textContent = 'Loading…';
  box.hidden = false;
  try {
    const r = conflictId ? await request('GET', '/revisions/conflicts/' + conflictId) : await api.revision(n);
    const errs = r && Array.isArray(r.errors) ? r.errors : [];
    if (errs.length) {
      errBox.append(h('div', { class: 'verdict-title' }, `Revision ${n} was refused:`),
        h('ul', {}, errs.map((e) => h('li', {}, e.field || e.path ? h('code', {}, e.field || e.path) : null,
          e.field || e.path ? ': ' : '', e.message || ''))));
      errBox.hidden = false;
    }
    const content = r && (r.content ?? r.config ?? r);
    body.textContent = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  } catch (e) {
    body.textContent = 'Could not load revision ' + n + ': ' + describeError(e);
  }
  box.scrollIntoView({ block: 'nearest' });
}

async function restore(n, conflictId) {
  if (!await confirmAction('Restore revision ' + n + ' into the candidate?',
    'The candidate is replaced by revision ' + n + '. Nothing changes in traffic until you review the diff and apply.',
    'Restore', false)) return;
  try {
    if (conflictId) await request('POST', '/revisions/conflicts/' + conflictId + '/restore');
    else await api.restore(n);
    notify('Revision ' + n + ' restored into the candidate. Review the diff and apply it.');
    await refreshStatus();
    location.hash = '#changes';
  } catch (e) {
    setAlert($('#revisions-error'), 'Could not restore revision ' + n + ': ' + describeError(e));
  }
}
