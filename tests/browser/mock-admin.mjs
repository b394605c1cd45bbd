// In-memory stand-in for tandem-admin + tandemd, for developing the console
// and the browser test when the real binaries are not built. It follows the
// REST contract in doc/api.md closely enough to drive every page, serves
// admin-ui/www with the same CSP, and proxies traffic round robin to the
// members of the applied config so that the browser test runs end to end.
//
//   node tests/browser/mock-admin.mjs [--listen 127.0.0.1:18080] [--traffic-port 18081]
//
// It prints "admin password: <pw>" like tandem-admin. Not a test of the
// real server: the real stack is what tests/browser/stack.sh runs.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const [host, port] = opt('--listen', '127.0.0.1:18080').split(':');
const trafficPort = Number(opt('--traffic-port', '18081'));
const www = opt('--www', path.resolve(here, '../../admin-ui/www'));
const password = opt('--password', crypto.randomBytes(9).toString('base64url'));
const lockAfter = Number(opt('--lock-after', '5'));
const role = opt('--role', 'admin'); // any other role may only read
const lockSeconds = Number(opt('--lock-seconds', '30'));

let candidate = { listeners: [], pools: [], routes: [] };
let running = null;
// tandemd's ticket key store as GET /tls/ticket-keys shows it (the lifetime
// follows the running config's tls.ticket_key_lifetime, else 43200)
const ticketKeyRing = { keys: 1, created: Math.floor(Date.now() / 1000) - 60 };
function ticketKeys() {
  const set = running && running.tls && Number.isInteger(running.tls.ticket_key_lifetime);
  const life = set ? running.tls.ticket_key_lifetime : 43200;
  return { keys: ticketKeyRing.keys, current_created: ticketKeyRing.created, lifetime_s: life,
    lifetime_from: set ? 'config' : 'command line', next_rotation: life ? ticketKeyRing.created + life : null };
}
let runningRevision = null;
let generation = 0;
const revisions = [];
const sessions = new Map();
let failures = 0, lockedUntil = 0;

const clone = (x) => JSON.parse(JSON.stringify(x));
const canon = (c) => JSON.stringify(c, null, 2);
const mkey = (m) => (m.address.includes(':') ? `[${m.address}]` : m.address) + ':' + m.port;

function send(res, status, body, headers = {}) {
  const h = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers };
  res.writeHead(status, h);
  res.end(body === undefined ? '' : JSON.stringify(body));
}
const err = (res, status, code, message, field, extra = {}) =>
  send(res, status, { error: { code, message, ...(field ? { field } : {}), ...extra } });

function validName(n) { return typeof n === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(n); }
function validPort(p) { return Number.isInteger(p) && p >= 1 && p <= 65535; }

function checkListener(b, name) {
  if (!validName(b.name)) return ['listeners/' + name + '/name', 'name must be 1-64 letters, digits, . _ -'];
  if (!/^[0-9.]+$|:/.test(b.address || '')) return [`listeners/${name}/address`, 'address must be an IP address'];
  if (!validPort(b.port)) return [`listeners/${name}/port`, 'port must be an integer between 1 and 65535'];
  return null;
}
function checkMember(b, pool) {
  const k = `pools/${pool}/members/${b.address}:${b.port}`;
  if (!/^[0-9.]+$|:/.test(b.address || '')) return [k + '/address', 'address must be an IP address'];
  if (!validPort(b.port)) return [k + '/port', 'port must be an integer between 1 and 65535'];
  if (b.weight !== undefined && !(Number.isInteger(b.weight) && b.weight >= 0 && b.weight <= 256)) return [k + '/weight', 'weight must be 0-256'];
  return null;
}
function checkRoute(b, name) {
  if (!validName(b.name)) return [`routes/${name}/name`, 'name must be 1-64 letters, digits, . _ -'];
  if (!candidate.listeners.some((l) => l.name === b.listener)) return [`routes/${name}/listener`, 'no such listener'];
  if (!candidate.pools.some((p) => p.name === b.pool)) return [`routes/${name}/pool`, 'no such pool'];
  if (b.path_prefix && !b.path_prefix.startsWith('/')) return [`routes/${name}/path_prefix`, 'path prefix must start with /'];
  if (!Number.isInteger(b.priority)) return [`routes/${name}/priority`, 'priority must be an integer'];
  return null;
}

import net from 'node:net';
function canBind(address, port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

async function validateAll(c) {
  const errors = [];
  const busy = new Set(running ? running.listeners.map((l) => l.address + ':' + l.port) : []);
  for (const [i, l] of c.listeners.entries())
    if (!busy.has(l.address + ':' + l.port) && l.port !== trafficPort && !await canBind(l.address, l.port))
      errors.push({ field: `listeners/${l.name}/port`, path: `$.listeners[${i}].port`,
        message: `cannot listen on ${l.address} port ${l.port}: Address already in use` });
  c.pools.forEach((p, i) => {
    if (!(p.members || []).some((m) => m.enabled !== false))
      errors.push({ field: `pools/${p.name}/members`, path: `$.pools[${i}].members`, message: 'pool has no enabled member' });
  });
  return errors;
}

function diffText(a, b) {
  const x = a ? canon(a).split('\n') : [], y = canon(b).split('\n');
  if (a && canon(a) === canon(b)) return '';
  // naive line diff, good enough for a mock
  const out = ['--- running', '+++ candidate', `@@ -1,${x.length} +1,${y.length} @@`];
  const n = x.length, m = y.length, L = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push(' ' + x[i]); i++; j++; }
    else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) out.push('+' + y[j++]);
    else out.push('-' + x[i++]);
  }
  return out.join('\n') + '\n';
}

function readBody(req) {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => { s += c; });
    req.on('end', () => { try { resolve(s ? JSON.parse(s) : {}); } catch { resolve(undefined); } });
  });
}

function session(req) {
  const m = /(?:^|;\s*)tandem_session=([^;]+)/.exec(req.headers.cookie || '');
  return m ? sessions.get(m[1]) : null;
}

const csp = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.svg': 'image/svg+xml' };

async function api(req, res, p) {
  const method = req.method;
  if (p === '/session') {
    if (method === 'POST') {
      const b = await readBody(req);
      if (Date.now() < lockedUntil) return send(res, 429, { error: { code: 'throttled', message: 'too many failed logins' } },
        { 'Retry-After': String(Math.ceil((lockedUntil - Date.now()) / 1000)) });
      if (!b || b.username !== 'admin' || b.password !== password) {
        if (++failures >= lockAfter) { lockedUntil = Date.now() + lockSeconds * 1000; failures = 0; }
        return err(res, 401, 'unauthorized', 'wrong username or password');
      }
      failures = 0;
      const id = crypto.randomBytes(16).toString('hex');
      const s = { username: 'admin', role, csrf_token: crypto.randomBytes(16).toString('hex') };
      sessions.set(id, s);
      return send(res, 200, s, { 'Set-Cookie': `tandem_session=${id}; HttpOnly; SameSite=Strict; Path=/` });
    }
  }
  const s = session(req);
  if (!s) return err(res, 401, 'unauthorized', 'not logged in');
  if (method !== 'GET' && req.headers['x-csrf-token'] !== s.csrf_token) return err(res, 403, 'csrf', 'missing or wrong CSRF token');
  if (method !== 'GET' && p !== '/session' && s.role !== 'admin') return err(res, 403, 'forbidden', 'this account may only read');
  if (p === '/session') {
    if (method === 'GET') return send(res, 200, s);
    if (method === 'DELETE') { sessions.delete(/tandem_session=([^;]+)/.exec(req.headers.cookie)[1]); return send(res, 204); }
  }
  if (p === '/status' && method === 'GET') {
    return send(res, 200, {
      node: { hostname: 'mock-node', version: '0.1.0-mock' },
      tandemd: { reachable: true, revision: runningRevision, generation,
        pools: (running ? running.pools : []).map((pl) => ({ name: pl.name,
          members: pl.members.map((m) => ({ ...m, state: m.enabled === false ? 'disabled' : 'up' })) })) },
      running_revision: runningRevision,
      candidate_changed: canon(candidate) !== canon(running || { listeners: [], pools: [], routes: [] }),
    });
  }
  const seg = p.split('/').filter(Boolean).map(decodeURIComponent);
  const kinds = { listeners: checkListener, pools: null, routes: checkRoute };
  if (seg[0] in kinds) {
    const kind = seg[0], arr = candidate[kind];
    if (seg.length === 1 && method === 'GET') return send(res, 200, arr);
    if (seg.length === 1 && method === 'POST') {
      const b = await readBody(req);
      if (!b) return err(res, 400, 'bad_request', 'body is not JSON');
      if (kind === 'routes') { b.host = b.host || ''; b.path_prefix = b.path_prefix || '/'; b.priority = b.priority ?? 100; }
      const bad = kind === 'pools' ? (validName(b.name) ? null : [`pools/${b.name}/name`, 'invalid name']) : kinds[kind](b, b.name);
      if (bad) return err(res, 422, 'invalid', bad[1], bad[0]);
      if (arr.some((o) => o.name === b.name)) return err(res, 409, 'exists', `${kind.slice(0, -1)} ${b.name} already exists`, `${kind}/${b.name}/name`);
      if (kind === 'pools') b.members = b.members || [];
      arr.push(b);
      return send(res, 201, b);
    }
    const obj = arr.find((o) => o.name === seg[1]);
    if (!obj) return err(res, 404, 'not_found', `no ${kind.slice(0, -1)} ${seg[1]}`);
    if (seg.length === 2) {
      if (method === 'GET') return send(res, 200, obj);
      if (method === 'DELETE') {
        if (kind === 'pools' && candidate.routes.some((r) => r.pool === obj.name))
          return err(res, 409, 'in_use', `pool ${obj.name} is used by route ${candidate.routes.find((r) => r.pool === obj.name).name}`, `pools/${obj.name}`);
        if (kind === 'listeners' && candidate.routes.some((r) => r.listener === obj.name))
          return err(res, 409, 'in_use', `listener ${obj.name} is used by a route`, `listeners/${obj.name}`);
        arr.splice(arr.indexOf(obj), 1);
        return send(res, 204);
      }
      if (method === 'PUT') {
        const b = await readBody(req);
        b.name = obj.name;
        const bad = kind === 'pools' ? null : kinds[kind](b, obj.name);
        if (bad) return err(res, 422, 'invalid', bad[1], bad[0]);
        Object.assign(obj, b);
        return send(res, 200, obj);
      }
    }
    if (kind === 'pools' && seg[2] === 'members') {
      if (seg.length === 3 && method === 'GET') return send(res, 200, obj.members);
      if (seg.length === 3 && method === 'POST') {
        const b = await readBody(req);
        b.weight = b.weight ?? 1; b.enabled = b.enabled ?? true;
        const bad = checkMember(b, obj.name);
        if (bad) return err(res, 422, 'invalid', bad[1], bad[0]);
        if (obj.members.some((m) => mkey(m) === mkey(b))) return err(res, 409, 'exists', `member ${mkey(b)} already exists`);
        obj.members.push(b);
        return send(res, 201, b);
      }
      const m = obj.members.find((x) => mkey(x) === seg[3]);
      if (!m) return err(res, 404, 'not_found', `no member ${seg[3]}`);
      if (method === 'DELETE') { obj.members.splice(obj.members.indexOf(m), 1); return send(res, 204); }
      if (method === 'PUT') {
        const b = await readBody(req);
        const bad = checkMember(b, obj.name);
        if (bad) return err(res, 422, 'invalid', bad[1], bad[0]);
        Object.assign(m, b);
        return send(res, 200, m);
      }
    }
  }
  if (p === '/settings') {
    if (method === 'PUT') {
      const b = await readBody(req);
      if (!b || typeof b !== 'object') return err(res, 400, 'bad_request', 'body is not JSON');
      const a = b.metrics && b.metrics.address;
      if (b.metrics && !/^(127\.[0-9.]+|\[::1\]):[0-9]{1,5}$/.test(String(a)))
        return err(res, 422, 'invalid', 'settings/metrics.address: must be a loopback address', 'settings/metrics.address');
      if (b.workers != null && !(Number.isInteger(b.workers) && b.workers >= 1 && b.workers <= 256))
        return err(res, 422, 'invalid', 'settings/workers: must be an integer between 1 and 256', 'settings/workers');
      if ('metrics' in b) { if (b.metrics) candidate.metrics = b.metrics; else delete candidate.metrics; }
      const life = b.tls && b.tls.ticket_key_lifetime;
      if (b.tls && !(Number.isInteger(life) && (life === 0 || (life >= 5 && life <= 604800))))
        return err(res, 422, 'invalid', 'settings/tls.ticket_key_lifetime: must be 0 (rotate only on command) or 5-604800 seconds',
          'settings/tls.ticket_key_lifetime');
      if ('metrics' in b) { if (b.metrics) candidate.metrics = b.metrics; else delete candidate.metrics; }
      if ('workers' in b) { if (b.workers) candidate.workers = b.workers; else delete candidate.workers; }
      if ('tls' in b) { if (b.tls) candidate.tls = b.tls; else delete candidate.tls; }
    } else if (method !== 'GET') return err(res, 405, 'method_not_allowed', 'method not allowed here');
    return send(res, 200, { metrics: candidate.metrics || null, workers: candidate.workers || null,
      tls: candidate.tls || null });
  }
  // the running tandemd's ticket key store (no key material; doc/api.md)
  if (p === '/tls/ticket-keys' && method === 'GET') return send(res, 200, ticketKeys());
  if (p === '/tls/rotate-keys' && method === 'POST') {
    ticketKeyRing.keys = Math.min(3, ticketKeyRing.keys + 1);
    ticketKeyRing.created = Math.max(ticketKeyRing.created + 1, Math.floor(Date.now() / 1000));
    return send(res, 200, ticketKeys());
  }
  if (seg[0] === 'rate-rules') return rateRules(req, res, method, seg);
  if (p === '/candidate' && method === 'GET') return send(res, 200, candidate);
  if (p === '/diff' && method === 'GET') {
    const d = diffText(running, candidate);
    return send(res, 200, { running_revision: runningRevision, changed: d !== '', diff: d });
  }
  if (p === '/apply' && method === 'POST') {
    const b = (await readBody(req)) || {};
    const errors = await validateAll(candidate);
    const rev = { number: revisions.length + 1, author: s.username, created_at: new Date().toISOString(),
      comment: b.comment || '', status: errors.length ? 'failed' : 'applied', content: clone(candidate) };
    revisions.push(rev);
    if (errors.length) return err(res, 422, 'invalid', `tandemd refused revision ${rev.number}`, null, { errors });
    running = clone(candidate); runningRevision = rev.number; generation++;
    return send(res, 200, { revision: rev.number, status: 'applied', generation });
  }
  if (seg[0] === 'revisions') {
    if (seg.length === 1) return send(res, 200, revisions.map(({ content, ...r }) => r));
    const r = revisions.find((x) => String(x.number) === seg[1]);
    if (!r) return err(res, 404, 'not_found', 'no such revision');
    if (seg.length === 2) return send(res, 200, r);
    if (seg[2] === 'restore' && method === 'POST') { candidate = clone(r.content); return send(res, 200, { restored: r.number }); }
  }
  return err(res, 404, 'not_found', 'no such endpoint');
}

/* /rate-rules (doc/api.md "Rate rules"), with a light check of the limit:
 * the real server runs tandemd's parser. */
function rateCheck(sec) {
  for (const k of ['allow_cidrs', 'deny_cidrs'])
    for (const [i, c] of (sec[k] || []).entries()) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(c);
      const v = m ? ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0 : 0;
      if (m && +m[5] < 32 && (v & ((2 ** (32 - +m[5])) - 1)) !== 0)
        return [`rate_rules/${k}[${i}]`, 'host bits are set'];
    }
  for (const [i, r] of (sec.rules || []).entries()) {
    const p = r.limit && r.limit.period_s;
    if (r.limit && !(Number.isInteger(p) && p >= 1 && p <= 86400))
      return [`rate_rules/rules/${r.name || i}/limit.period_s`, 'must be between 1 and 86400'];
  }
  return null;
}
async function rateRules(req, res, method, seg) {
  const sec = candidate.rate_rules || {};
  const store = (next, status, body) => {
    const bad = rateCheck(next);
    if (bad) return err(res, 422, 'invalid', bad[0] + ': ' + bad[1], bad[0], { errors: [{ field: bad[0], message: bad[1] }] });
    if (!next.rules || !next.rules.length) delete next.rules;
    if (Object.keys(next).length) candidate.rate_rules = next; else delete candidate.rate_rules;
    return send(res, status, body);
  };
  if (seg.length === 1 && method === 'GET') return send(res, 200, sec);
  if (seg.length === 1 && method === 'PUT') { const b = (await readBody(req)) || {}; return store(b, 200, b); }
  if (seg.length === 2 && seg[1] === 'live' && method === 'GET')
    return send(res, 200, { rules: (sec.rules || []).map((r) => ({ name: r.name, hits: 0, denials: 0, top_hits: [], top_denials: [] })),
      waf: [], bans: { bans_active: 0 } });
  if (seg.length === 3 && seg[1] === 'rules') {
    const rules = clone(sec.rules || []), at = rules.findIndex((r) => r.name === seg[2]);
    if (method === 'DELETE') {
      if (at < 0) return err(res, 404, 'not_found', 'no rate rule with this name');
      rules.splice(at, 1);
      return store({ ...sec, rules }, 204);
    }
    if (method === 'PUT') {
      const b = (await readBody(req)) || {};
      b.name = seg[2];
      if (at < 0) rules.push(b); else rules[at] = b;
      return store({ ...sec, rules }, 200, b);
    }
  }
  return err(res, 404, 'not_found', 'no such endpoint');
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/v1/')) {
    try { await api(req, res, url.pathname.slice(7)); } catch (e) { err(res, 500, 'internal', String(e)); }
    return;
  }
  let f = url.pathname === '/' ? '/index.html' : url.pathname;
  f = path.join(www, path.normalize(f));
  if (!f.startsWith(www) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) { res.writeHead(404); res.end('not found'); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(f)] || 'application/octet-stream',
    'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
  fs.createReadStream(f).pipe(res);
}).listen(Number(port), host, () => {
  console.log(`console: http://${host}:${port}/`);
  console.log(`traffic: http://127.0.0.1:${trafficPort}/`);
  console.log(`admin password: ${password}`);
});

// Traffic: route by host/path prefix, round robin over enabled members.
let rr = 0;
http.createServer((req, res) => {
  const cfg = running || { routes: [], pools: [] };
  const hostHdr = (req.headers.host || '').replace(/:\d+$/, '');
  const r = [...cfg.routes].sort((a, b) => b.priority - a.priority)
    .find((x) => (!x.host || x.host === hostHdr) && req.url.startsWith(x.path_prefix || '/'));
  const pool = r && cfg.pools.find((p) => p.name === r.pool);
  const ms = pool ? pool.members.filter((m) => m.enabled !== false) : [];
  if (!ms.length) { res.writeHead(503); res.end('no route\n'); return; }
  const m = ms[rr++ % ms.length];
  const up = http.request({ host: m.address, port: m.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers); ur.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end('bad gateway\n'); });
  req.pipe(up);
}).listen(trafficPort, '127.0.0.1');
