// The list views' shared table and form code (listeners, routes, pools,
// certificates, VIP groups, L4 services, rate rules): a table of rows with
// Edit/Delete buttons and apply errors under a row, an add/edit form with
// its title, submit label and Cancel button, a submit button disabled while
// the request runs, and a confirmed delete.
import { $, $$, h, clear, setAlert, setFieldError, describeError, notify, confirmAction } from './dom.js';

/* Fills the tbody of the table sel: one row(item) per item, each followed
 * by a row-error-detail row (data-testid detailId) when detail(item) gives
 * text; when there are no items, one row saying empty. cols: the columns. */
export function renderTable(sel, items, { cols, empty, row, detail, detailId }) {
  const tbody = clear($(sel + ' tbody'));
  if (!items.length) {
    tbody.append(h('tr', {}, h('td', { colspan: cols, class: 'empty' }, empty)));
    return tbody;
  }
  for (const it of items) {
    tbody.append(row(it));
    const d = detail && detail(it);
    if (d)
      tbody.append(h('tr', { class: 'row-error-detail', 'data-testid': detailId }, h('td', { colspan: cols }, d)));
  }
  return tbody;
}

/* An object's apply errors as one line ("attr: message; ..."), '' if none. */
export function errorsText(errs) {
  return errs.map((e) => (e.parsed.attr ? e.parsed.attr + ': ' : '') + e.message).join('; ');
}

/* A row's class: marked when it has apply errors, or is being edited. */
export function rowClass(errs, editing) {
  return (errs.length ? 'row-error' : '') + (editing ? ' editing' : '');
}

/* The actions cell: Edit (when edit is given) and Delete buttons, with
 * data-testid "<testid>-edit" and "<testid>-delete". */
export function rowActions(testid, edit, del) {
  return h('td', { class: 'actions' },
    edit ? h('button', { type: 'button', class: 'btn-link', 'data-testid': testid + '-edit', onclick: edit }, 'Edit') : null,
    h('button', { type: 'button', class: 'btn-link danger', 'data-testid': testid + '-delete', onclick: del }, 'Delete'));
}

/* The form "#<prefix>-form" in add or edit mode: its title, its submit
 * button's label, and Cancel shown only while editing. */
export function formMode(prefix, title, submitLabel, editing) {
  $('#' + prefix + '-form-title').textContent = title;
  $('#' + prefix + '-submit').textContent = submitLabel;
  $('#' + prefix + '-cancel').hidden = !editing;
}

/* Apply errors of the object being edited: beside their fields, the rest
 * in the form's error box. */
export function showFieldErrors(form, errs) {
  for (const e of errs)
    if (!(e.parsed.attr && setFieldError(form, e.parsed.attr, e.message)))
      setAlert($('.form-error', form), e.message);
}

/* Runs the request fn with btn disabled (no double submit); an error goes
 * to onError. */
export async function withButton(btn, fn, onError) {
  btn.disabled = true;
  try {
    await fn();
  } catch (e) {
    onError(e);
  } finally {
    btn.disabled = false;
  }
}

/* Asks (title, text, okLabel), then del(); on success the notice done and
 * after() (reset, reload); on failure errorBox says failed + the reason, or
 * inUse(e) for a 409 in_use when given. With what and name (a candidate
 * object: "listener", "web") title, done and failed default to "Delete
 * listener web?", "Listener web deleted from the candidate." and "Could
 * not delete listener web". */
export async function confirmDelete(o) {
  const { what, name, text, okLabel, errorBox, del, after, inUse } = o;
  const title = o.title || 'Delete ' + what + ' ' + name + '?';
  const done = o.done || what.charAt(0).toUpperCase() + what.slice(1) + ' ' + name + ' deleted from the candidate.';
  const failed = o.failed || 'Could not delete ' + what + ' ' + name;
  if (!await confirmAction(title, text, okLabel)) return;
  setAlert(errorBox, '');
  try {
    await del();
    notify(done);
    await after();
  } catch (e) {
    setAlert(errorBox, inUse && e.status === 409 && e.code === 'in_use' ? inUse(e) : failed + ': ' + describeError(e));
  }
}

/* index.html leaves out the error line of each field of its forms: a
 * p.field-error for the field's first named control closes every .field of
 * a .form-panel form that has none (showApiError and setFieldError put the
 * messages there). */
export function addFieldErrors(root = document) {
  for (const f of $$('form.form-panel .field', root)) {
    if ($('.field-error', f)) continue;
    const c = $('input[name], select[name], textarea[name]', f);
    if (c) f.append(h('p', { class: 'field-error', 'data-error-for': c.name, hidden: true }));
  }
}

/* ----- form building: the markup of index.html's forms, for the views
 * that build theirs in JS (L4, L4 firewall) ----- */

/* A .field: label (with a hint), the input, its error line. */
export function field(id, name, label, input, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label, hint ? h('span', { class: 'hint' }, ' (' + hint + ')') : null),
    input, h('p', { class: 'field-error', 'data-error-for': name, hidden: true }));
}
export function textInput(id, name, placeholder) {
  return h('input', { id, name, autocomplete: 'off', spellcheck: 'false', placeholder, 'data-testid': id });
}
export function numInput(id, name, placeholder) {
  return h('input', { id, name, type: 'number', inputmode: 'numeric', placeholder, 'data-testid': id });
}
export function selectInput(id, name, values) {
  return h('select', { id, name, 'data-testid': id }, values.map((v) => h('option', { value: v }, v)));
}
export function areaInput(id, name, placeholder) {
  return h('textarea', { id, name, rows: 3, class: 'mono', spellcheck: 'false', placeholder, 'data-testid': id });
}
/* The form's error box and its submit and (hidden) Cancel buttons. */
export function formActions(prefix, label) {
  return [h('div', { class: 'form-error alert alert-error', role: 'alert', 'data-testid': prefix + '-form-error', hidden: true }),
    h('div', { class: 'form-actions' },
      h('button', { id: prefix + '-submit', type: 'submit', class: 'btn btn-primary', 'data-testid': prefix + '-submit' }, label),
      h('button', { id: prefix + '-cancel', type: 'button', class: 'btn btn-ghost', 'data-testid': prefix + '-cancel', hidden: true }, 'Cancel'))];
}
