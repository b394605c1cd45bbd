// REST client for tandem-admin (/api/v1). Keeps the CSRF token in memory
// only; after a reload it is recovered with GET /session.

const BASE = '/api/v1';

let csrfToken = null;
let unauthorizedHandler = null;

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || defaultMessage(status));
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.field = e.field || null;
    this.errors = Array.isArray(e.errors) ? e.errors
      : (body && Array.isArray(body.errors) ? body.errors : []);
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

function defaultMessage(status) {
  switch (status) {
    case 0: return 'Cannot reach tandem-admin.';
    case 400: return 'The request was malformed.';
    case 401: return 'Not logged in.';
    case 403: return 'Forbidden.';
    case 404: return 'Not found.';
    case 409: return 'Conflict with the current configuration.';
    case 422: return 'The configuration is invalid.';
    case 429: return 'Too many requests.';
    case 503: return 'tandemd is unavailable.';
    default: return 'Unexpected response (HTTP ' + status + ').';
  }
}

export function setCsrfToken(token) { csrfToken = token || null; }

/* Called with the ApiError when any request other than login answers 401
 * (session expired or revoked). */
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

/* A mutating request refused for its CSRF token (e.g. the session was
 * renewed in another tab) is retried once with the token GET /session gives. */
export async function request(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (e) {
    if (e.status !== 403 || e.code !== 'csrf' || method === 'GET' || path === '/session') throw e;
    let s;
    try { s = await send('GET', '/session'); } catch { throw e; }
    if (!s || !s.csrf_token || s.csrf_token === csrfToken) throw e;
    csrfToken = s.csrf_token;
    return send(method, path, body);
  }
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  const opts = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken)
    headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(BASE + path, opts);
  } catch (e) {
    throw new ApiError(0, { error: { code: 'network',
      message: 'Cannot reach tandem-admin (' + e.message + ').' } }, null);
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.headers.get('Retry-After'));
    if (res.status === 401 && path !== '/session' && unauthorizedHandler)
      unauthorizedHandler(err);
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

/* "127.0.0.1:9001", "[::1]:9001" */
export function memberKey(m) {
  const a = String(m.address);
  return (a.includes(':') ? '[' + a + ']' : a) + ':' + m.port;
}

export const api = {
  login: (username, password) => request('POST', '/session', { username, password }),
  session: () => request('GET', '/session'),
  logout: () => request('DELETE', '/session'),
  status: () => request('GET', '/status'),

  listeners: () => request('GET', '/listeners'),
  createListener: (l) => request('POST', '/listeners', l),
  updateListener: (name, l) => request('PUT', '/listeners/' + enc(name), l),
  deleteListener: (name) => request('DELETE', '/listeners/' + enc(name)),

  pools: () => request('GET', '/pools'),
  createPool: (p) => request('POST', '/pools', p),
  updatePool: (name, p) => request('PUT', '/pools/' + enc(name), p),
  deletePool: (name) => request('DELETE', '/pools/' + enc(name)),
  addMember: (pool, m) => request('POST', '/pools/' + enc(pool) + '/members', m),
  updateMember: (pool, key, m) => request('PUT', '/pools/' + enc(pool) + '/members/' + enc(key), m),
  deleteMember: (pool, key) => request('DELETE', '/pools/' + enc(pool) + '/members/' + enc(key)),

  routes: () => request('GET', '/routes'),
  createRoute: (r) => request('POST', '/routes', r),
  updateRoute: (name, r) => request('PUT', '/routes/' + enc(name), r),
  deleteRoute: (name) => request('DELETE', '/routes/' + enc(name)),

  settings: () => request('GET', '/settings'),
  saveSettings: (s) => request('PUT', '/settings', s),
  ticketKeys: () => request('GET', '/tls/ticket-keys'),
  rotateTicketKeys: () => request('POST', '/tls/rotate-keys', {}),

  certificates: () => request('GET', '/certificates'),
  uploadCertificate: (c) => request('POST', '/certificates', c),
  deleteCertificate: (name) => request('DELETE', '/certificates/' + enc(name)),
  putOcsp: (name, derBase64) => request('PUT', '/certificates/' + enc(name) + '/ocsp', { der_base64: derBase64 }),
  deleteOcsp: (name) => request('DELETE', '/certificates/' + enc(name) + '/ocsp'),
  caBundles: () => request('GET', '/ca-bundles'),
  uploadCaBundle: (b) => request('POST', '/ca-bundles', b),
  deleteCaBundle: (name) => request('DELETE', '/ca-bundles/' + enc(name)),

  candidate: () => request('GET', '/candidate'),
  diff: () => request('GET', '/diff'),
  apply: (comment) => request('POST', '/apply', comment ? { comment } : {}),
  revisions: () => request('GET', '/revisions'),
  revision: (n) => request('GET', '/revisions/' + enc(n)),
  restore: (n) => request('POST', '/revisions/' + enc(n) + '/restore'),
};

/* Collections may come back as a bare array or wrapped in an object
 * ({"listeners":[...]}); accept both. */
export function list(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}
