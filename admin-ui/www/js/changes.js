// Changes: candidate-vs-running diff, Apply with comment, tandemd's verdict.
import { api } from './api.js';
import { $, h, clear, setAlert, describeError, parseField, sentence } from './dom.js';
import { state, setApplyErrors } from './state.js';
import { refreshStatus, go } from './app.js';
import * as listeners from './listeners.js';
import * as pools from './pools.js';
import * as routes from './routes.js';

export function init() {
  $('#apply-form').addEventListener('submit', onApply);
  $('#diff-refresh').addEventListener('click', () => load());
}

export async function load() {
  setAlert($('#diff-error'), '');
  const pre = clear($('#diff-view'));
  try {
    const d = await api.diff();
    const rev = d.running_revision;
    $('#diff-title').textContent = rev
      ? 'Candidate compared with running revision ' + rev
      : 'Candidate compared with an empty configuration (nothing applied yet)';
    renderDiff(pre, d);
  } catch (e) {
    setAlert($('#diff-error'), 'Could not load the diff: ' + describeError(e));
  }
}

function renderDiff(pre, d) {
  const text = d.diff || '';
  pre.dataset.changed = d.changed ? 'true' : 'false';
  if (!d.changed || !text.trim()) {
    pre.append(h('span', { class: 'none' },
      'No changes: the candidate is the same as the running configuration.'));
    return;
  }
  for (const line of text.replace(/\n$/, '').split('\n')) {
    let cls = '';
    if (line.startsWith('+++') || line.startsWith('---')) cls = 'meta';
    else if (line.startsWith('@@')) cls = 'hunk';
    else if (line.startsWith('+')) cls = 'add';
    else if (line.startsWith('-')) cls = 'del';
    pre.append(h('span', { class: cls }, line === '' ? ' ' : line));
  }
}

async function onApply(ev) {
  ev.preventDefault();
  const btn = $('#apply-button');
  const verdict = $('#apply-verdict');
  const comment = $('#apply-comment').value.trim();
  btn.disabled = true;
  btn.textContent = 'Applying…';
  clear(verdict);
  verdict.hidden = true;
  try {
    const r = await api.apply(comment);
    setApplyErrors([]);
    verdict.className = 'verdict ok';
    verdict.dataset.status = 'applied';
    verdict.append(h('div', { class: 'verdict-title', 'data-testid': 'apply-verdict-title' },
      `Revision ${r.revision} applied, generation ${r.generation ?? '?'}.`),
    h('div', {}, 'tandemd loaded the new configuration; traffic now follows it.'));
    $('#apply-comment').value = '';
  } catch (e) {
    verdict.className = 'verdict err';
    verdict.dataset.status = e.status === 503 ? 'unavailable' : 'refused';
    let errors = e.errors || [];
    if (!errors.length && e.field) errors = [{ field: e.field, message: e.message }];
    setApplyErrors(errors);
    // the server's message repeats the first error ("tandemd refused the
    // configuration: <error>"); the list below shows each error once
    let msg = e.message || '';
    const first = errors[0] && errors[0].message;
    if (first && msg.includes(first)) msg = msg.slice(0, msg.indexOf(first)).replace(/[\s:]+$/, '');
    let title;
    if (e.status === 503) title = 'Not applied: tandemd is unavailable. ' + sentence(msg);
    else if (e.status === 422) title = 'Not applied: ' + (msg ? sentence(msg) : 'the configuration was refused.') +
      (errors.length ? ` ${errors.length} error${errors.length === 1 ? '' : 's'}:` : '');
    else title = 'Not applied: ' + describeError(e);
    verdict.append(h('div', { class: 'verdict-title', 'data-testid': 'apply-verdict-title' }, title));
    if (errors.length) {
      verdict.append(h('ul', { 'data-testid': 'apply-errors' }, errors.map(errorItem)));
    }
    const failedRev = e.body && e.body.revision;
    verdict.append(h('div', { class: 'hint', 'data-testid': 'apply-verdict-note' },
      (failedRev ? `Revision ${failedRev} was recorded as failed. ` : '') +
      'The running configuration is unchanged' +
      (errors.length ? '; fix the fields listed and apply again.' : '.')));
  } finally {
    verdict.hidden = false;
    btn.disabled = false;
    btn.textContent = 'Apply';
    await refreshStatus();
    load();
  }
}

const KIND_LABEL = { listeners: 'listener', pools: 'pool', routes: 'route' };

function errorItem(e) {
  const p = parseField(e.field);
  const onScreen = p && KIND_LABEL[p.kind] && p.name &&
    (p.kind === 'listeners' ? state.listeners : p.kind === 'pools' ? state.pools : state.routes)
      .some((x) => x.name === p.name);
  let link = null;
  if (p && KIND_LABEL[p.kind] && p.name) {
    const label = p.member ? `member ${p.member} of pool ${p.name}` : `${KIND_LABEL[p.kind]} ${p.name}`;
    link = h('a', { href: '#' + p.kind, class: 'err-link', 'data-testid': 'apply-error-link',
      onclick: (ev) => { ev.preventDefault(); openObject(p); } }, (onScreen ? 'Edit ' : 'Show ') + label);
  }
  return h('li', { 'data-testid': 'apply-error', 'data-field': e.field || '' },
    e.field ? h('span', { class: 'err-field' }, e.field) : null,
    e.field ? ': ' : '', e.message || 'invalid',
    e.path ? h('span', { class: 'err-path' }, e.path) : null,
    link ? ' — ' : null, link);
}

async function openObject(p) {
  await go(p.kind);
  if (p.kind === 'listeners') listeners.editByName(p.name);
  else if (p.kind === 'routes') routes.editByName(p.name);
  else if (p.kind === 'pools') pools.focusError(p);
}
