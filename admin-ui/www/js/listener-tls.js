// The TLS part of the listener form (doc/tls.md, doc/console.md): the
// certificates by name (first = default for clients without SNI), the ALPN
// protocols, client certificate authentication with a CA bundle, who
// protects records after the handshake (record_layer) and whether sessions
// resume (session_resumption). An empty certificate list means a plain
// HTTP listener.
import { api, list } from './api.js';
import { $, h, clear } from './dom.js';
import { mapFieldErrors } from './l7.js';

// Fills the certificate suggestions and the CA bundle choices; a failure
// leaves them empty (the names can still be typed; the API checks them).
export async function tlsLoadChoices() {
  const [certs, cas] = await Promise.all([
    api.certificates().then((d) => list(d, 'certificates')).catch(() => []),
    api.caBundles().then((d) => list(d, 'ca_bundles')).catch(() => []),
  ]);
  const dl = clear($('#listener-tls-cert-names'));
  for (const c of certs) dl.append(h('option', { value: c.name }, c.subject || ''));
  $('#listener-tls-known').textContent = certs.length
    ? 'Uploaded: ' + certs.map((c) => c.name + ' (' + c.key_type + ')').join(', ')
    : 'No certificates uploaded yet (Certificates page).';
  const sel = $('#listener-tls-ca');
  const keep = sel.value;
  clear(sel).append(h('option', { value: '' }, '—'));
  for (const c of cas) sel.append(h('option', { value: c.name }, c.name));
  sel.value = keep;
}

// The edited listener's tls fields the form has no input for (fields a
// newer API adds): tlsRead sends them back unchanged, since a PUT replaces
// the whole "tls" object.
let kept = {};

export function tlsFill(form, l) {
  const t = (l && l.tls) || {};
  kept = {};
  for (const [k, v] of Object.entries(t))
    if (!['certificates', 'alpn', 'client_auth', 'record_layer', 'session_resumption'].includes(k)) kept[k] = v;
  const ca = t.client_auth || {};
  form.elements.tls_certs.value = (t.certificates || []).join(', ');
  const alpn = t.alpn || ['http/1.1'];
  form.elements.tls_h2.checked = alpn.includes('h2');
  form.elements.tls_http11.checked = alpn.includes('http/1.1');
  form.elements.tls_client.value = ca.mode || 'off';
  form.elements.tls_ca.value = ca.ca || '';
  form.elements.tls_subject.value = ca.subject_header ?? '';
  form.elements.tls_record.value = t.record_layer || 'tandem';
  form.elements.tls_resumption.checked = t.session_resumption !== false;
}

// The "tls" object for the API, or null (plain listener); problems go to
// the TLS field errors and return undefined.
export function tlsRead(form, setFieldError) {
  const certs = form.elements.tls_certs.value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!certs.length) return null;
  const t = { ...kept, certificates: certs, alpn: [] };
  if (form.elements.tls_h2.checked) t.alpn.push('h2');
  if (form.elements.tls_http11.checked) t.alpn.push('http/1.1');
  if (form.elements.tls_record.value === 'openssl') t.record_layer = 'openssl';
  if (!form.elements.tls_resumption.checked) t.session_resumption = false;	// true is the default
  const mode = form.elements.tls_client.value;
  if (mode !== 'off') {
    if (!form.elements.tls_ca.value) {
      setFieldError(form, 'tls', 'Client certificate authentication needs a CA bundle.');
      return undefined;
    }
    t.client_auth = { mode, ca: form.elements.tls_ca.value };
    const hdr = form.elements.tls_subject.value.trim();
    if (hdr) t.client_auth.subject_header = hdr;
  }
  return t;
}

// API errors on "listeners/NAME/tls.x" go beside the TLS fieldset.
export function tlsErrors(err) {
  const fix = (e) => (/^listeners\/[^/]*\/tls[.[]/.test(e.field || '')
    ? { ...e, field: e.field.replace(/\/(tls[.[].*)$/, '/tls'), message: e.field.replace(/^.*\/tls/, 'tls') + ': ' + String(e.message || '') }
    : e);
  return mapFieldErrors(err, fix);
}
