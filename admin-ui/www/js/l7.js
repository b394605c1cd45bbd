// L7 options (doc/l7.md): the fields of a listener, pool or route beyond
// the basic form, edited as one JSON object in a textarea. The API stores
// and validates them (the same parser as tandemd); errors on them are shown
// beside the textarea with the option's path ("match.path_regex: ...").

export const L7_KEYS = {
  listeners: ['timeouts', 'limits', 'forwarding', 'request_id', 'access_log', 'accept_proxy', 'http2'],
  pools: ['algorithm', 'hash', 'sticky_cookie', 'slow_start_ms', 'max_connections_per_member',
    'queue', 'retries', 'retry_budget_percent', 'passive', 'health_check', 'proxy_protocol',
    'upstream_protocol', 'max_streams_per_connection'],
  routes: ['match', 'action', 'redirect', 'respond', 'deny', 'request_headers',
    'response_headers', 'rewrite_prefix'],
};

// The L7 fields of obj as pretty JSON ("" when none).
export function l7Text(obj, kind) {
  const o = {};
  for (const k of L7_KEYS[kind]) if (obj && obj[k] !== undefined && obj[k] !== null) o[k] = obj[k];
  return Object.keys(o).length ? JSON.stringify(o, null, 2) : '';
}

// Parses the textarea: an object of L7 fields, or null after an error on it.
export function l7Parse(form, kind, setFieldError) {
  const text = form.elements.l7.value.trim();
  if (!text) return {};
  let o;
  try { o = JSON.parse(text); } catch (e) {
    setFieldError(form, 'l7', 'Not valid JSON: ' + e.message);
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    setFieldError(form, 'l7', 'Must be a JSON object such as {"algorithm": "least_connections"}.');
    return null;
  }
  const bad = Object.keys(o).filter((k) => !L7_KEYS[kind].includes(k));
  if (bad.length) {
    setFieldError(form, 'l7', 'Unknown option' + (bad.length > 1 ? 's' : '') + ': ' + bad.join(', ') +
      '. Known: ' + L7_KEYS[kind].join(', ') + '.');
    return null;
  }
  return o;
}

// Adds the options to body; options the object had before and the
// textarea no longer has are sent as null, which resets them.
export function l7Merge(body, opts, before, kind) {
  for (const k of L7_KEYS[kind]) {
    if (opts[k] !== undefined) body[k] = opts[k];
    else if (before && before[k] !== undefined) body[k] = null;
  }
  return body;
}

// Rewrites API errors on L7 fields ("routes/r/match.path_regex") onto the
// textarea field ("routes/r/l7"), keeping the option's path in the message.
export function l7Errors(err, kind) {
  const fix = (e) => {
    const m = /^([^/]+)\/([^/]*)\/([^/]+)$/.exec(e.field || '');
    if (!m || !L7_KEYS[kind].includes(m[3].split('.')[0])) return e;
    return { ...e, field: m[1] + '/' + m[2] + '/l7', message: m[3] + ': ' + String(e.message || '').replace(/^.*?: /, '') };
  };
  return mapFieldErrors(err, fix);
}

// A copy of an API error with fix({field, message}) applied to each of its
// errors and to the first one.
export function mapFieldErrors(err, fix) {
  const out = Object.assign(Object.create(Object.getPrototypeOf(err)), err);
  if (err.errors) out.errors = err.errors.map(fix);
  const first = fix({ field: err.field, message: err.message });
  out.field = first.field;
  out.message = first.message;
  return out;
}
