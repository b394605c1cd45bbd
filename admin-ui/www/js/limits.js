// Rate rules (doc/limits.md): the rules in evaluation order (table + a JSON
// editor per rule), the section's other members (client lists, JWT
// verifiers, WAF checks) as one JSON document, and tandemd's live view
// (per-rule hits and denials, top keys, WAF hit counters).
import { request } from './api.js';
import { $, h, clear, badge, setAlert, clearFormErrors, setFieldError, setFormError,
  describeError, notify, confirmAction, sentence, focusFirst } from './dom.js';
import { rowActions, formMode, withButton } from './crud.js';
import { refreshStatus } from './app.js';

const enc = encodeURIComponent;
const ruleForm = () => $('#limits-rule-form');
const listsForm = () => $('#limits-lists-form');
const LIST_KEYS = ['allow_cidrs', 'deny_cidrs', 'allow_cidr_files', 'deny_cidr_files', 'jwt', 'waf'];
const TEMPLATE = {
  match: { path: '/login', methods: ['POST'] },
  key: [{ type: 'client_ip', ipv6_prefix: 64 }],
  limit: { requests: 5, period_s: 60 },
  action: { type: 'reject', status: 429 },
};
let editing = null; // name of the rule being edited, or null
let section = {};
let live = null;
// what the operator typed and has not saved yet: a (re)load never overwrites it
let ruleDirty = false, listsDirty = false;

export function init() {
  ruleForm().addEventListener('submit', onRuleSubmit);
  listsForm().addEventListener('submit', onListsSubmit);
  ruleForm().addEventListener('input', () => { ruleDirty = true; });
  listsForm().addEventListener('input', () => { listsDirty = true; });
  resetForm();
  $('#limits-rule-cancel').addEventListener('click', () => resetForm());
  $('#limits-refresh').addEventListener('click', () => loadLive().then(render));
}

export async function load() {
  setAlert($('#limits-error'), '');
  try {
    section = (await request('GET', '/rate-rules')) || {};
  } catch (e) {
    section = {};
    setAlert($('#limits-error'), 'Could not load the rate rules: ' + describeError(e));
  }
  await loadLive();
  if (!editing && !ruleDirty) resetForm();
  if (!listsDirty) fillLists();
  render();
}

async function loadLive() {
  try {
    live = await request('GET', '/rate-rules/live');
    $('#limits-live-note').textContent = '';
  } catch (e) {
    live = null;
    $('#limits-live-note').textContent = 'No live view: ' + describeError(e);
  }
}

const rules = () => section.rules || [];
const liveRule = (name) => (live && live.rules ? live.rules.find((r) => r.name === name) : null);

function where(r) {
  const m = r.match || {};
  const parts = [];
  if (m.listeners) parts.push('listener ' + m.listeners.join(','));
  if (m.routes) parts.push('route ' + m.routes.join(','));
  if (m.hosts) parts.push(m.hosts.join(','));
  if (m.methods) parts.push(m.methods.join(','));
  if (m.path) parts.push(m.path);
  if (m.path_prefix) parts.push(m.path_prefix + '*');
  if (m.path_regex) parts.push('~' + m.path_regex);
  if (m.headers) parts.push(m.headers.length + ' header test(s)');
  if (m.client_cidrs) parts.push(m.client_cidrs.length + ' CIDR(s)');
  return parts.join(' ') || 'every request';
}

function keyText(r) {
  return (r.key || [{ type: 'client_ip' }]).map((k) =>
    k.type === 'client_ip' ? 'IP' : k.type === 'jwt_claim' ? 'JWT ' + k.claim
      : k.type === 'path' ? 'path' : k.type + ' ' + k.name).join(' + ');
}

function limitText(r) {
  if (!r.limit) return 'access rule';
  return r.limit.requests + ' / ' + r.limit.period_s + ' s' + (r.limit.burst ? ' +' + r.limit.burst : '');
}

function actionText(r) {
  const a = r.action || { type: 'reject' };
  if (!r.limit) return 'missing key: ' + (r.missing_status || 401);
  if (a.type === 'tarpit') return 'tarpit ' + a.delay_ms + ' ms';
  if (a.type === 'ban') return 'ban ' + a.duration_s + ' s';
  if (a.type === 'log') return 'log only';
  return 'reject ' + (a.status || 429);
}

function render() {
  const tbody = clear($('#limits-table tbody'));
  if (!rules().length)
    tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'empty' },
      'No rate rules. Add one with the form on the right.')));
  for (const r of rules()) {
    const l = liveRule(r.name);
    tbody.append(h('tr', { 'data-testid': 'limits-row', 'data-name': r.name,
      class: editing === r.name ? 'editing' : '' },
      h('td', { class: 'mono' }, r.name, r.shadow ? [' ', badge('shadow', 'warn')] : null),
      h('td', { class: 'mono' }, where(r)),
      h('td', {}, keyText(r)),
      h('td', {}, limitText(r)),
      h('td', {}, actionText(r)),
      h('td', { class: 'num', 'data-testid': 'limits-hits' }, l && l.hits !== undefined ? l.hits : '–'),
      h('td', { class: 'num', 'data-testid': 'limits-denials' }, l && l.denials !== undefined ? l.denials : '–'),
      rowActions('limits', () => startEdit(r), () => remove(r))));
  }
  const top = clear($('#limits-top tbody'));
  for (const r of (live && live.rules) || [])
    for (const [by, list] of [['hits', r.top_hits], ['denials', r.top_denials]])
      for (const k of (list || []).slice(0, 5))
        top.append(h('tr', { 'data-testid': 'limits-top-row', 'data-rule': r.name, 'data-by': by },
          h('td', { class: 'mono' }, r.name), h('td', {}, by),
          h('td', { class: 'mono', 'data-testid': 'limits-top-key' }, k.key),
          h('td', { class: 'num' }, k.hits), h('td', { class: 'num' }, k.denials)));
  if (!top.firstChild)
    top.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No traffic matched a limited rule yet.')));
  const waf = clear($('#limits-waf tbody'));
  for (const w of (live && live.waf) || [])
    waf.append(h('tr', { 'data-testid': 'limits-waf-row', 'data-id': w.id },
      h('td', { class: 'mono' }, w.id, w.shadow ? [' ', badge('shadow', 'warn')] : null),
      h('td', {}, w.kind), h('td', { class: 'num' }, w.hits)));
  if (!waf.firstChild)
    waf.append(h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No WAF checks.')));
}

function fillLists() {
  listsDirty = false;
  const o = {};
  for (const k of LIST_KEYS) if (section[k] !== undefined) o[k] = section[k];
  listsForm().elements.lists.value = JSON.stringify(o, null, 2);
  clearFormErrors(listsForm());
}

function resetForm() {
  editing = null;
  ruleDirty = false;
  const f = ruleForm();
  f.reset();
  clearFormErrors(f);
  f.elements.name.readOnly = false;
  f.elements.body.value = JSON.stringify(TEMPLATE, null, 2);
  formMode('limits-rule', 'Add rule', 'Add rule', false);
  render();
}

function startEdit(r) {
  editing = r.name;
  ruleDirty = false;
  const f = ruleForm();
  clearFormErrors(f);
  const body = { ...r };
  delete body.name;
  f.elements.name.value = r.name;
  f.elements.name.readOnly = true;
  f.elements.body.value = JSON.stringify(body, null, 2);
  formMode('limits-rule', 'Edit rule ' + r.name, 'Save rule', true);
  render();
  f.elements.body.focus();
}

/* The server's errors (fields like "rate_rules/rules/<name>/limit.period_s")
 * beside the textarea, each with the part of the rule it is about. */
function showErrors(form, attr, err, prefix) {
  const list = err.errors && err.errors.length ? err.errors : [{ field: err.field, message: err.message }];
  const lines = list.map((e) => {
    const f = String(e.field || '');
    const where = f.startsWith(prefix) ? f.slice(prefix.length).replace(/^\//, '') : f;
    return (where ? where + ': ' : '') + sentence(e.message);
  });
  if (err.status === 422 || err.status === 409) {
    if (!setFieldError(form, attr, lines.join(' '))) setFormError(form, lines.join(' '));
  } else {
    setFormError(form, describeError(err));
  }
  focusFirst(form, attr);
}

function parseJson(form, attr, text) {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    setFieldError(form, attr, 'Must be a JSON object.');
  } catch (e) {
    setFieldError(form, attr, 'Not valid JSON: ' + e.message);
  }
  focusFirst(form, attr);
  return null;
}

async function onRuleSubmit(ev) {
  ev.preventDefault();
  const f = ruleForm();
  clearFormErrors(f);
  const name = f.elements.name.value.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
    setFieldError(f, 'name', 'A name is 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit.');
    focusFirst(f, 'name');
    return;
  }
  if (!editing && rules().some((r) => r.name === name)) {
    setFieldError(f, 'name', 'A rule with this name already exists.');
    focusFirst(f, 'name');
    return;
  }
  const body = parseJson(f, 'body', f.elements.body.value);
  if (!body) return;
  body.name = name;
  await withButton($('#limits-rule-submit'), async () => {
    await request('PUT', '/rate-rules/rules/' + enc(name), body);
    notify((editing ? 'Rule ' + name + ' saved' : 'Rule ' + name + ' added') + '. Apply to take effect.');
    resetForm();
    await load();
    refreshStatus();
  }, (e) => showErrors(f, 'body', e, 'rate_rules/rules/' + name));
}

async function onListsSubmit(ev) {
  ev.preventDefault();
  const f = listsForm();
  clearFormErrors(f);
  const lists = parseJson(f, 'lists', f.elements.lists.value);
  if (!lists) return;
  const bad = Object.keys(lists).filter((k) => !LIST_KEYS.includes(k));
  if (bad.length) {
    setFieldError(f, 'lists', 'Unknown member' + (bad.length > 1 ? 's ' : ' ') + bad.join(', ') +
      ' (rules are edited one by one on the right).');
    return;
  }
  const next = { ...lists };
  if (rules().length) next.rules = rules();
  await withButton($('#limits-lists-submit'), async () => {
    await request('PUT', '/rate-rules', next);
    notify('Client lists and WAF checks saved. Apply to take effect.');
    listsDirty = false;
    await load();
    refreshStatus();
  }, (e) => showErrors(f, 'lists', e, 'rate_rules'));
}

async function remove(r) {
  if (!(await confirmAction('Delete rate rule', 'Delete rule ' + r.name + '? Its counters go when the change is applied.')))
    return;
  try {
    await request('DELETE', '/rate-rules/rules/' + enc(r.name));
    notify('Rule ' + r.name + ' deleted. Apply to take effect.');
    if (editing === r.name) resetForm();
    await load();
    refreshStatus();
  } catch (e) {
    notify('Could not delete rule ' + r.name + ': ' + describeError(e), true);
  }
}
