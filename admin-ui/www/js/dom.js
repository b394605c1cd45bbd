// Small DOM helpers. Everything is built with createElement/textContent:
// no innerHTML with data, no inline handlers or styles (CSP).

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function badge(text, kind) {
  return h('span', { class: 'badge badge-' + (kind || text), 'data-state': kind || text }, text);
}

export function show(el, on = true) { el.hidden = !on; return el; }

export function setAlert(el, message) {
  if (!el) return;
  el.textContent = message || '';
  el.hidden = !message;
}

/* ----- forms ----------------------------------------------------------- */

export function clearFormErrors(form) {
  for (const p of $$('.field-error', form)) { p.textContent = ''; p.hidden = true; }
  for (const f of $$('.field.has-error', form)) f.classList.remove('has-error');
  for (const i of $$('[aria-invalid]', form)) i.removeAttribute('aria-invalid');
  setAlert($('.form-error', form), '');
}

/* Show message beside the input named attr; returns false if the form has
 * no such field (the caller then shows it at form level). */
export function setFieldError(form, attr, message) {
  const p = $(`.field-error[data-error-for="${CSS.escape(attr)}"]`, form);
  if (!p) return false;
  p.textContent = message;
  p.hidden = false;
  const field = p.closest('.field');
  if (field) field.classList.add('has-error');
  const input = form.elements.namedItem(attr);
  if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
  return true;
}

/* Focus the first field showing an error, else the named one. */
export function focusFirst(form, fallback) {
  const bad = $('.field.has-error input:not([readonly]), .field.has-error select:not(:disabled)', form);
  const el = bad || form.elements.namedItem(fallback);
  if (el && el.focus) el.focus();
}

export function setFormError(form, message) {
  setAlert($('.form-error', form), message);
}

/* "<kind>/<name>/<attr>" or "pools/<pool>/members/<addr:port>/<attr>". */
export function parseField(field) {
  if (!field || typeof field !== 'string') return null;
  const p = field.split('/');
  const out = { kind: p[0], name: p[1] || null, member: null, attr: null };
  if (p[0] === 'pools' && p[2] === 'members') {
    out.member = p[3] || null;
    out.attr = p[4] || null;
  } else {
    out.attr = p.slice(2).join('/') || null;
  }
  return out;
}

/* Put an ApiError on a form: beside its field when the server named one,
 * otherwise in the form's error box. 409s get an explicit sentence. */
export function showApiError(form, err, what) {
  const f = parseField(err.field);
  if (err.status === 409) {
    let msg = err.message;
    if (err.code === 'exists')
      msg = err.message ? sentence(stripField(err.message, err.field)) : (what ? what + ' already exists.' : 'Already exists.');
    else if (err.code === 'in_use')
      msg = 'In use: ' + sentence(err.message);
    if (!(f && f.attr && setFieldError(form, f.attr, msg)) &&
        !(err.code === 'exists' && setFieldError(form, 'name', msg)))
      setFormError(form, msg);
    return;
  }
  // 422: every field error beside its field ("errors" lists them all;
  // "error.field" names the first); what has no field on this form goes above
  // the buttons
  const list = err.errors && err.errors.length ? err.errors
    : [{ field: err.field, message: err.message }];
  const rest = [];
  for (const e of list) {
    const pf = parseField(e.field);
    const msg = sentence(stripField(e.message, e.field));
    if (!(pf && pf.attr && setFieldError(form, pf.attr, msg))) rest.push(e.field ? e.field + ': ' + msg : msg);
  }
  if (rest.length) setFormError(form, err.errors && err.errors.length ? rest.join(' ') : describeError(err));
}

/* The server may prefix a message with its field ("listeners/web/port: must
 * be ..."); beside the field that prefix is noise. */
export function stripField(message, field) {
  const m = String(message || '');
  return field && m.startsWith(field + ': ') ? m.slice(field.length + 2) : m;
}

// program names (tandemd, tandem-admin) keep their lower case
const cap = (s) => (/^tandem/.test(s) ? s : s.charAt(0).toUpperCase() + s.slice(1));

/* Capitalised, ending with a full stop: server messages are bare clauses. */
export function sentence(s) {
  s = String(s || '').trim();
  if (!s) return '';
  s = cap(s);
  return /[.!?:]$/.test(s) ? s : s + '.';
}

export function describeError(err) {
  if (!err) return '';
  let msg = sentence(err.message || String(err));
  if (err.status === 403 && err.code === 'csrf')
    msg = 'The request was refused (missing or stale CSRF token). Reload the page and try again.';
  if (err.field && !msg.includes(err.field)) msg += ' (field ' + err.field + ')';
  return msg;
}

export function fillSelect(select, values, current, placeholder) {
  clear(select);
  if (placeholder !== undefined)
    select.append(h('option', { value: '' }, placeholder));
  for (const v of values) select.append(h('option', { value: v }, v));
  if (current !== undefined && current !== null && values.includes(current)) select.value = current;
  else if (current && !values.includes(current)) {
    // keep a dangling reference visible so the operator sees what is wrong
    select.append(h('option', { value: current }, current + ' (missing)'));
    select.value = current;
  }
}

export function intOrUndefined(v) {
  const s = String(v ?? '').trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s; // let the server reject a non-number with a field error
}

/* ----- notices and confirmation --------------------------------------- */

let noticeTimer = null;
export function notify(message, isError = false) {
  const el = $('#notice');
  el.textContent = message;
  el.classList.toggle('notice-error', !!isError);
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 3500);
}

export function hideNotice() { clearTimeout(noticeTimer); $('#notice').hidden = true; }

export function confirmAction(title, message, okLabel = 'Delete', danger = true) {
  const dlg = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  $('#confirm-ok').textContent = okLabel;
  $('#confirm-ok').className = 'btn ' + (danger ? 'btn-danger' : 'btn-primary');
  return new Promise((resolve) => {
    const done = () => { dlg.removeEventListener('close', done); resolve(dlg.returnValue === 'ok'); };
    dlg.returnValue = '';
    dlg.addEventListener('close', done);
    dlg.showModal();
  });
}

export function fmtTime(t) {
  if (t === null || t === undefined || t === '') return '—';
  const d = typeof t === 'number' ? new Date(t < 1e12 ? t * 1000 : t) : new Date(t);
  if (isNaN(d.getTime())) return String(t);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
