// The TLS part of the pool form (doc/tls.md "TLS towards pool members",
// doc/console.md): TLS on/off, verification against a CA bundle (or an
// explicit "none"), the server name (SNI and the name checked), a client
// certificate for mTLS, and session reuse.
import { api, list } from './api.js';
import { $, h, clear } from './dom.js';
import { mapFieldErrors } from './l7.js';

// Fills the CA bundle and certificate choices; a failure leaves them empty.
export async function poolTlsLoadChoices() {
  const [certs, cas] = await Promise.all([
    api.certificates().then((d) => list(d, 'certificates')).catch(() => []),
    api.caBundles().then((d) => list(d, 'ca_bundles')).catch(() => []),
  ]);
  for (const [sel, items] of [[$('#pool-tls-ca'), cas], [$('#pool-tls-cert'), certs]]) {
    const keep = sel.value;
    clear(sel).append(h('option', { value: '' }, '—'));
    for (const c of items) sel.append(h('option', { value: c.name }, c.name));
    sel.value = keep;
  }
}

export function poolTlsFill(form, p) {
  const t = p && p.tls;
  form.elements.tls_on.checked = !!t;
  form.elements.tls_verify.value = (t && t.verify) || 'full';
  form.elements.tls_ca.value = (t && t.ca) || '';
  form.elements.tls_server_name.value = (t && t.server_name) || '';
  form.elements.tls_cert.value = (t && t.client_certificate) || '';
  form.elements.tls_reuse.checked = !t || t.session_reuse !== false;
}

// The "tls" object for the API, or null (plain TCP to the members);
// problems go to the TLS field error and return undefined.
export function poolTlsRead(form, setFieldError) {
  if (!form.elements.tls_on.checked) return null;
  const t = {};
  const verify = form.elements.tls_verify.value;
  if (verify === 'none') t.verify = 'none';
  else if (!form.elements.tls_ca.value) {
    setFieldError(form, 'tls', 'Verification needs a CA bundle (or choose "none", which anyone on the path can exploit).');
    return undefined;
  }
  if (form.elements.tls_ca.value) t.ca = form.elements.tls_ca.value;
  const sn = form.elements.tls_server_name.value.trim();
  if (sn) t.server_name = sn;
  if (form.elements.tls_cert.value) t.client_certificate = form.elements.tls_cert.value;
  if (!form.elements.tls_reuse.checked) t.session_reuse = false;
  return t;
}

// A short description for the pool card.
export function poolTlsText(p) {
  const t = p.tls;
  if (!t) return '';
  if (t.verify === 'none') return 'TLS, NOT verified';
  return 'TLS (CA ' + t.ca + (t.server_name ? ', name ' + t.server_name : '') +
    (t.client_certificate ? ', client cert ' + t.client_certificate : '') + ')';
}

// API errors on "pools/NAME/tls.x" go beside the TLS fieldset.
export function poolTlsErrors(err) {
  const fix = (e) => (/^pools\/[^/]*\/tls([.[]|$)/.test(e.field || '')
    ? { ...e, field: e.field.replace(/\/(tls([.[].*)?)$/, '/tls'), message: e.field.replace(/^.*\/tls/, 'tls') + ': ' + String(e.message || '') }
    : e);
  return mapFieldErrors(err, fix);
}
