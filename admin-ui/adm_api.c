/*
 * adm_api - the REST API (doc/api.md is the contract).
 *
 * Order of checks for every request: route -> session (401) -> for
 * mutations CSRF token (403 "csrf") and role (403 "forbidden") -> body
 * (400) -> per-object validation (422 with "field") -> database (404, 409).
 * Field names are "<kind>/<name>/<attr>"; members are named
 * "<address>:<port>" ("[v6]:port"). Validation here mirrors conf_parse's
 * per-object rules, using conf's own name/host/path validators and limits,
 * so most mistakes surface at edit time; the whole candidate is validated
 * again by conf_parse on apply.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_apply.h"
#include "adm_auth.h"
#include "adm_cert.h"
#include "adm_certfiles.h"
#include "adm_ocsp.h"
#include "adm_diff.h"
#include "adm_settings.h"
#include "adm_tlskeys.h"
#include "adm_vrrp.h"
#include "adm_l4.h"
#include "adm_limits.h"
#include "adm_pair.h"
#include "adm_sync.h"
#include "conf.h"
#include "ctlc.h"
#include "errs.h"
#include "db.h"
#include "jh.h"
#include "log.h"

#define ADM_MAX_SEGS 8
#define ADM_PRIORITY_MAX 1000000

/* Everything one request needs; lives on the stack of adm_api_handle. */
struct adm_call {
	struct adm *a;
	const struct adm_req *rq;
	struct adm_resp *rs;
	struct db_session s;
	char *segs[ADM_MAX_SEGS];
	size_t nsegs;
	json_t *body;
};

void
adm_resp_release(struct adm_resp *rs)
{
	json_decref(rs->body);
	free(rs->set_cookie);
	memset(rs, 0, sizeof(*rs));
}

void
adm_resp_error(struct adm_resp *rs, unsigned status, const char *code, const char *message,
	       const char *field)
{
	json_decref(rs->body);
	rs->status = status;
	rs->body = json_pack("{s:{s:s, s:s, s:s*}}", "error", "code", code, "message", message,
			     "field", field);
}

void
adm_ok(struct adm_resp *rs, unsigned status, json_t *body)
{
	json_decref(rs->body);
	rs->status = status;
	rs->body = body;
	if (body == NULL && status != 204)
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
}

void
adm_member_key(const char *addr, long port, char *out, size_t outlen)
{
	snprintf(out, outlen, strchr(addr, ':') ? "[%s]:%ld" : "%s:%ld", addr, port);
}

/* Maps a db error to the API's answer. */
void
adm_db_error(struct adm_resp *rs, int rc, const char *what, const char *field)
{
	char msg[256];

	switch (rc) {
	case -ENOENT:
		snprintf(msg, sizeof(msg), "%s not found", what);
		adm_resp_error(rs, 404, "not_found", msg, NULL);
		break;
	case -EEXIST:
		snprintf(msg, sizeof(msg), "%s already exists", what);
		adm_resp_error(rs, 409, "exists", msg, field);
		break;
	case -EBUSY:
		snprintf(msg, sizeof(msg), "%s is used by a route", what);
		adm_resp_error(rs, 409, "in_use", msg, NULL);
		break;
	case -EINVAL:
		snprintf(msg, sizeof(msg), "%s is invalid", what);
		adm_resp_error(rs, 422, "invalid", msg, field);
		break;
	case -EAGAIN:
		adm_resp_error(rs, 503, "busy", "the database is busy, try again", NULL);
		break;
	default:
		adm_resp_error(rs, 500, "internal", "internal error", NULL);
		break;
	}
}

/* ---- validation ---- */

/* Collects field errors; the first one becomes error.field. */
struct adm_v {
	char prefix[256];	/* "listeners/web" */
	json_t *errors;		/* [{"field","message"}] */
};

static void
adm_v_init(struct adm_v *v, const char *kind, const char *name)
{
	snprintf(v->prefix, sizeof(v->prefix), "%s/%s", kind, name ? name : "");
	v->errors = json_array();
}

static void
adm_v_add(struct adm_v *v, const char *attr, const char *msg)
{
	char field[512];

	snprintf(field, sizeof(field), "%s/%s", v->prefix, attr);
	json_array_append_new(v->errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

/* Ends validation: 0 when clean, else fills rs with 422 and returns -1. */
static int
adm_v_end(struct adm_v *v, struct adm_resp *rs)
{
	json_t *first = json_array_get(v->errors, 0);
	char msg[512];

	if (first == NULL) {
		json_decref(v->errors);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s: %s", json_string_value(json_object_get(first, "field")),
		 json_string_value(json_object_get(first, "message")));
	adm_resp_error(rs, 422, "invalid", msg, json_string_value(json_object_get(first, "field")));
	json_object_set_new(rs->body, "errors", v->errors);
	return -1;
}

/* Reports keys of obj that are not in allowed (NULL-terminated). */
static void
adm_v_keys(struct adm_v *v, const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
			;
		if (*a == NULL)
			adm_v_add(v, key, "unknown field");
	}
}

/* A string attribute; NULL (and an error when required) when absent. */
static const char *
adm_v_str(struct adm_v *v, const json_t *obj, const char *key, int required)
{
	json_t *x = json_object_get(obj, key);

	if (x == NULL || json_is_null(x)) {
		if (required)
			adm_v_add(v, key, "is required");
		return NULL;
	}
	if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
		adm_v_add(v, key, "must be a string");
		return NULL;
	}
	return json_string_value(x);
}

static long
adm_v_int(struct adm_v *v, const json_t *obj, const char *key, long lo, long hi, int required,
	  long dflt)
{
	json_t *x = json_object_get(obj, key);
	char msg[96];

	if (x == NULL || json_is_null(x)) {
		if (required)
			adm_v_add(v, key, "is required");
		return dflt;
	}
	if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
		snprintf(msg, sizeof(msg), "must be an integer between %ld and %ld", lo, hi);
		adm_v_add(v, key, msg);
		return dflt;
	}
	return (long)json_integer_value(x);
}

static void
adm_v_name(struct adm_v *v, const char *name)
{
	if (name != NULL && !conf_name_valid(name))
		adm_v_add(v, "name", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
}

/* Validates and canonicalises an address into out. */
static void
adm_v_addr(struct adm_v *v, const char *addr, char *out, size_t outlen)
{
	out[0] = '\0';
	if (addr != NULL && db_addr_canon(addr, out, outlen) < 0)
		adm_v_add(v, "address", "must be a numeric IPv4 or IPv6 address");
}

/* Overlays body on base (a copy), so PUT may send only changed attributes. */
static json_t *
adm_merge(const json_t *base, const json_t *body)
{
	json_t *m = base ? json_deep_copy(base) : json_object();

	if (m != NULL)
		json_object_update(m, (json_t *)body);
	return m;
}

/* ---- L7 options (issue 3, doc/l7.md) ----
 *
 * The L7 fields of listeners, pools, members and routes are stored per
 * object as one JSON object (db column l7) and validated here by conf
 * itself (conf_l7_validate), so the API refuses exactly what tandemd would,
 * with the field named "<kind>/<name>/<field.sub>". */

static const char *const adm_l7_listener_keys[] = { CONF_L7_LISTENER_KEYS, NULL };
static const char *const adm_l7_pool_keys[] = { CONF_L7_POOL_KEYS, NULL };
static const char *const adm_l7_route_keys[] = { CONF_L7_ROUTE_KEYS, NULL };

static int
adm_l7_is(const char *const *keys, const char *key)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, key) == 0)
			return 1;
	return 0;
}

/* Collects the L7 fields of obj (null ones dropped), validates them as kind
 * and returns them as canonical JSON text (free()), or NULL after adding
 * the errors to v. extra: fields the check also needs (route: pool and
 * path_prefix), not stored. */
static char *
adm_l7_opts(struct adm_v *v, const char *kind, const json_t *obj, const char *const *keys,
	    const json_t *extra)
{
	json_t *l7 = json_object(), *chk, *val;
	struct errs e;
	const char *key;
	char *text = NULL;
	size_t i;

	if (l7 == NULL)
		return NULL;
	json_object_foreach((json_t *)obj, key, val)
		if (adm_l7_is(keys, key) && !json_is_null(val))
			json_object_set(l7, key, val);
	chk = json_deep_copy(l7);
	if (chk != NULL && extra != NULL)
		json_object_update(chk, (json_t *)extra);
	errs_init(&e);
	if (chk == NULL || conf_l7_validate(kind, chk, &e) < 0) {
		for (i = 0; i < e.count && i < e.cap; i++) {
			const char *p = e.items[i].path;

			adm_v_add(v, strncmp(p, "$.", 2) == 0 ? p + 2 : p, e.items[i].message);
		}
		if (chk == NULL)
			adm_v_add(v, "name", "out of memory");
	} else {
		text = jh_dump_canonical(l7);
	}
	errs_release(&e);
	json_decref(chk);
	json_decref(l7);
	return text;
}

/* A member's L7 options are two flags: one of four fixed texts. */
static const char *
adm_l7_member(struct adm_v *v, const json_t *obj)
{
	static const char *const texts[4] = { "{}", "{\"backup\":true}", "{\"drain\":true}",
					       "{\"backup\":true,\"drain\":true}" };
	json_t *b = json_object_get(obj, "backup"), *d = json_object_get(obj, "drain");
	int k = 0;

	if (b != NULL && !json_is_null(b) && !json_is_boolean(b))
		adm_v_add(v, "backup", "must be true or false");
	if (d != NULL && !json_is_null(d) && !json_is_boolean(d))
		adm_v_add(v, "drain", "must be true or false");
	if (json_is_true(b))
		k |= 1;
	if (json_is_true(d))
		k |= 2;
	return texts[k];
}

/* ---- body and routing helpers ---- */

static int
adm_need_body(struct adm_call *c)
{
	json_error_t je;

	c->body = json_loadb(c->rq->body ? c->rq->body : "", c->rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (c->body == NULL || !json_is_object(c->body)) {
		char msg[256];

		if (c->body == NULL)
			snprintf(msg, sizeof(msg), "malformed JSON body: %s", je.text);
		else
			snprintf(msg, sizeof(msg), "the body must be a JSON object");
		adm_resp_error(c->rs, 400, "bad_request", msg, NULL);
		return -1;
	}
	return 0;
}

/* Like adm_need_body, but an empty body reads as {}. */
static int
adm_opt_body(struct adm_call *c)
{
	if (c->rq->body_len == 0) {
		c->body = json_object();
		return 0;
	}
	return adm_need_body(c);
}

static int
adm_is(const struct adm_call *c, const char *method)
{
	return strcmp(c->rq->method, method) == 0;
}

static void
adm_not_allowed(struct adm_call *c)
{
	adm_resp_error(c->rs, 405, "method_not_allowed", "method not allowed here", NULL);
}

int
adm_parse_key(const char *key, long min_port, char *addr, size_t alen, long *port)
{
	char tmp[128];
	const char *colon;
	char *end;
	size_t n;

	if (key[0] == '[') {
		const char *rb = strchr(key, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		n = (size_t)(rb - key - 1);
		colon = rb + 1;
		key++;
	} else {
		colon = strrchr(key, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - key);
	}
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, key, n);
	tmp[n] = '\0';
	*port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || *port < min_port || *port > 65535)
		return -1;
	return db_addr_canon(tmp, addr, alen);
}

/* Parses a member key: "addr:port" / "[v6]:port", port 1-65535. */
static int
adm_parse_member_key(const char *key, char *addr, size_t alen, long *port)
{
	return adm_parse_key(key, 1, addr, alen, port);
}

int
adm_verdict(struct adm_resp *rs, json_t *errors)
{
	json_t *first;
	char msg[512];

	if (errors == NULL) {
		adm_resp_error(rs, 500, "internal", "internal error", NULL);
		return -1;
	}
	first = json_array_get(errors, 0);
	if (first == NULL) {
		json_decref(errors);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s: %s", json_string_value(json_object_get(first, "field")),
		 json_string_value(json_object_get(first, "message")));
	adm_resp_error(rs, 422, "invalid", msg, json_string_value(json_object_get(first, "field")));
	json_object_set_new(rs->body, "errors", errors);
	return -1;
}

json_t *
adm_body_object(const struct adm_req *rq, struct adm_resp *rs)
{
	json_error_t je;
	json_t *b;
	char msg[256];

	b = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (json_is_object(b))
		return b;
	if (b == NULL)
		snprintf(msg, sizeof(msg), "malformed JSON body: %s", je.text);
	else
		snprintf(msg, sizeof(msg), "the body must be a JSON object");
	json_decref(b);
	adm_resp_error(rs, 400, "bad_request", msg, NULL);
	return NULL;
}

/* ---- session ---- */

static json_t *
adm_session_json(const struct db_session *s)
{
	return json_pack("{s:s, s:s, s:s}", "username", s->username, "role", s->role,
			 "csrf_token", s->csrf);
}

static void
adm_h_session(struct adm_call *c)
{
	struct adm *a = c->a;

	if (adm_is(c, "POST")) {
		char token[2 * ADM_TOKEN_BYTES + 1], cookie[256];
		const char *user, *pw;
		struct db_session s;
		long retry = 0;
		int rc;

		if (adm_need_body(c) < 0)
			return;
		user = json_string_value(json_object_get(c->body, "username"));
		pw = json_string_value(json_object_get(c->body, "password"));
		if (user == NULL || pw == NULL) {
			adm_resp_error(c->rs, 400, "bad_request", "username and password are required", NULL);
			return;
		}
		rc = adm_login(a->db, user, pw, c->rq->client, a->now(), token, &s, &retry);
		if (rc == -EAGAIN) {
			adm_resp_error(c->rs, 429, "throttled", "too many failed logins, try again later", NULL);
			c->rs->retry_after = retry;
			return;
		}
		if (rc == -EACCES) {
			adm_resp_error(c->rs, 401, "bad_credentials", "wrong user name or password", NULL);
			return;
		}
		if (rc < 0) {
			adm_db_error(c->rs, rc, "session", NULL);
			return;
		}
		snprintf(cookie, sizeof(cookie), ADM_COOKIE "=%s; HttpOnly; Secure; SameSite=Strict; Path=/",
			 token);
		c->rs->set_cookie = strdup(cookie);
		adm_ok(c->rs, 200, adm_session_json(&s));
		db_session_release(&s);
		return;
	}
	if (adm_is(c, "GET")) {
		struct db_session s;

		if (adm_session_check(a->db, c->rq->session_token, a->now(), &s) < 0) {
			adm_resp_error(c->rs, 401, "unauthenticated", "not logged in", NULL);
			return;
		}
		adm_ok(c->rs, 200, adm_session_json(&s));
		db_session_release(&s);
		return;
	}
	if (adm_is(c, "DELETE")) {
		struct db_session s;

		if (adm_session_check(a->db, c->rq->session_token, a->now(), &s) < 0) {
			adm_resp_error(c->rs, 401, "unauthenticated", "not logged in", NULL);
			return;
		}
		if (!adm_token_equal(s.csrf, c->rq->csrf)) {
			db_session_release(&s);
			adm_resp_error(c->rs, 403, "csrf", "missing or wrong X-CSRF-Token header", NULL);
			return;
		}
		db_session_release(&s);
		adm_logout(a->db, c->rq->session_token);
		c->rs->set_cookie = strdup(ADM_COOKIE "=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
		adm_ok(c->rs, 204, NULL);
		return;
	}
	adm_not_allowed(c);
}

/* ---- status, candidate, diff ---- */

/* Running revision number (or 0) and its content (or the empty config). */
static int
adm_running(struct adm *a, long *n, char **content)
{
	int rc = db_revision_running(a->db, n, content);

	if (rc == -ENOENT) {
		*n = 0;
		*content = adm_empty_config_text();
		return *content ? 0 : -ENOMEM;
	}
	return rc;
}

/* Candidate text rendered with the running number, so that only real
 * changes differ. */
static int
adm_candidate_vs_running(struct adm *a, long *n, char **running, char **cand)
{
	int rc = adm_running(a, n, running);

	*cand = NULL;
	if (rc == 0)
		rc = db_candidate_text(a->db, *n, cand);
	if (rc < 0) {
		free(*running);
		*running = NULL;
	}
	return rc;
}

static void
adm_h_status(struct adm_call *c)
{
	struct adm *a = c->a;
	json_t *req, *st = NULL, *td, *out;
	char *run = NULL, *cand = NULL;
	long n = 0;
	int rc;

	if (!adm_is(c, "GET")) {
		adm_not_allowed(c);
		return;
	}
	req = json_pack("{s:s}", "cmd", "status");
	rc = req ? ctlc_call(a->ctl_socket, req, &st, a->ctl_timeout_ms) : -ENOMEM;
	json_decref(req);
	if (rc == 0 && json_is_true(json_object_get(st, "ok")))
		td = json_pack("{s:b, s:O, s:O, s:O, s:O, s:O, s:o}", "reachable", 1,
			       "revision", json_object_get(st, "revision") ?: json_null(),
			       "generation", json_object_get(st, "generation") ?: json_null(),
			       "pools", json_object_get(st, "pools") ?: json_array(),
			       "vrrp", json_object_get(st, "vrrp") ?: json_null(),
			       "peer", json_object_get(st, "peer") ?: json_null(),
			       "l4", adm_l4_status_summary(json_object_get(st, "l4")));
	else
		td = json_pack("{s:b, s:n, s:n, s:[], s:n, s:n, s:n}", "reachable", 0, "revision", "generation",
			       "pools", "vrrp", "peer", "l4");
	json_decref(st);
	rc = adm_candidate_vs_running(a, &n, &run, &cand);
	if (rc < 0) {
		json_decref(td);
		adm_db_error(c->rs, rc, "status", NULL);
		return;
	}
	out = json_pack("{s:{s:s, s:s}, s:o, s:o, s:b}",
			"node", "hostname", a->hostname, "version", PACKAGE_VERSION,
			"tandemd", td,
			"running_revision", n > 0 ? json_integer(n) : json_null(),
			"candidate_changed", strcmp(run, cand) != 0);
	adm_ok(c->rs, 200, out);
	free(run);
	free(cand);
}

static void
adm_h_candidate(struct adm_call *c)
{
	json_t *cfg;
	long n = 0;
	char *run = NULL;
	int rc;

	if (!adm_is(c, "GET")) {
		adm_not_allowed(c);
		return;
	}
	rc = adm_running(c->a, &n, &run);
	free(run);
	if (rc == 0)
		rc = db_candidate_render(c->a->db, n, &cfg);
	if (rc < 0) {
		adm_db_error(c->rs, rc, "candidate", NULL);
		return;
	}
	adm_ok(c->rs, 200, cfg);
}

static void
adm_h_diff(struct adm_call *c)
{
	char *run = NULL, *cand = NULL, *diff, la[64];
	long n = 0;
	int rc;

	if (!adm_is(c, "GET")) {
		adm_not_allowed(c);
		return;
	}
	rc = adm_candidate_vs_running(c->a, &n, &run, &cand);
	if (rc < 0) {
		adm_db_error(c->rs, rc, "diff", NULL);
		return;
	}
	if (n > 0)
		snprintf(la, sizeof(la), "running (revision %ld)", n);
	else
		snprintf(la, sizeof(la), "running (none)");
	diff = adm_diff_unified(run, cand, la, "candidate");
	adm_ok(c->rs, 200, diff ? json_pack("{s:o, s:b, s:s}",
					    "running_revision", n > 0 ? json_integer(n) : json_null(),
					    "changed", strcmp(run, cand) != 0, "diff", diff) : NULL);
	free(diff);
	free(run);
	free(cand);
}

static void
adm_h_apply(struct adm_call *c)
{
	const char *comment;

	if (!adm_is(c, "POST")) {
		adm_not_allowed(c);
		return;
	}
	if (adm_opt_body(c) < 0)
		return;
	comment = json_string_value(json_object_get(c->body, "comment"));
	if (json_object_get(c->body, "comment") != NULL && !json_is_null(json_object_get(c->body, "comment")) &&
	    comment == NULL) {
		adm_resp_error(c->rs, 422, "invalid", "comment must be a string", "comment");
		return;
	}
	adm_apply(c->a, c->s.username, comment ? comment : "", c->rs);
}

/* ---- named objects: listeners, pools, routes ---- */

/* What differs between the kinds of named object under /<kind>[/<name>];
 * the request shapes (list, get, create, update, delete) are common. */
struct adm_kind {
	const char *what;	/* "listener": the noun in error messages */
	int (*list)(struct db *db, json_t **out);
	int (*get)(struct db *db, const char *name, json_t **out);
	int (*del)(struct db *db, const char *name);
	/* Validates c->body (over base, the stored object, for PUT) and writes
	 * it: an update of name, or a new object when name is NULL. Copies the
	 * object's name after the write into newname. 0, or -1 with c->rs
	 * filled (400, 422, or the database's answer). */
	int (*write)(struct adm_call *c, const char *name, const json_t *base,
		     char *newname, size_t nlen);
};

static void
adm_h_named(struct adm_call *c, const struct adm_kind *k)
{
	struct db *db = c->a->db;
	const char *name = c->nsegs > 1 ? c->segs[1] : NULL;
	char newname[CONF_NAME_MAX + 1];	/* write accepts valid names only */
	json_t *base = NULL, *out = NULL;
	unsigned status = 200;
	int rc;

	if (c->nsegs > 2) {
		adm_resp_error(c->rs, 404, "not_found", "no such resource", NULL);
		return;
	}
	if (adm_is(c, "GET")) {
		rc = name ? k->get(db, name, &out) : k->list(db, &out);
	} else if (adm_is(c, "POST") && name == NULL) {
		if (k->write(c, NULL, NULL, newname, sizeof(newname)) < 0)
			return;
		rc = k->get(db, newname, &out);
		status = 201;
	} else if (adm_is(c, "PUT") && name != NULL) {
		/* A missing object is 404 before its body is looked at. */
		rc = k->get(db, name, &base);
		if (rc == 0) {
			if (k->write(c, name, base, newname, sizeof(newname)) < 0)
				goto out;
			rc = k->get(db, newname, &out);
		}
	} else if (adm_is(c, "DELETE") && name != NULL) {
		rc = k->del(db, name);
		status = 204;
	} else {
		adm_not_allowed(c);
		return;
	}
	if (rc < 0)
		adm_db_error(c->rs, rc, k->what, NULL);
	else
		adm_ok(c->rs, status, out);
out:
	json_decref(base);
}

/* ---- listeners ---- */

/* Validates a listener body (merged over base for PUT); fills l. */
static int
adm_listener_from(struct adm_call *c, const json_t *base, const char *urlname,
		  struct db_listener *l, char *addr, size_t alen, json_t **merged)
{
	static const char *const keys[] = { "name", "address", "port", CONF_L7_LISTENER_KEYS, NULL };
	struct adm_v v;
	const char *name;

	*merged = adm_merge(base, c->body);
	name = json_string_value(json_object_get(*merged, "name"));
	adm_v_init(&v, "listeners", name ? name : urlname);
	adm_v_keys(&v, c->body, keys);
	l->name = adm_v_str(&v, *merged, "name", 1);
	adm_v_name(&v, l->name);
	adm_v_addr(&v, adm_v_str(&v, *merged, "address", 1), addr, alen);
	l->address = addr;
	l->port = adm_v_int(&v, *merged, "port", 1, 65535, 1, 0);
	l->l7 = adm_l7_opts(&v, "listener", *merged, adm_l7_listener_keys, NULL);
	return adm_v_end(&v, c->rs);
}

static int
adm_listener_write(struct adm_call *c, const char *name, const json_t *base, char *newname,
		   size_t nlen)
{
	struct db_listener l = { .l7 = NULL };
	char addr[64], field[128];
	json_t *merged = NULL;
	int rc = -1;

	if (adm_need_body(c) < 0 ||
	    adm_listener_from(c, base, name ? name : "", &l, addr, sizeof(addr), &merged) < 0)
		goto out;
	rc = name ? db_listener_update(c->a->db, name, &l) : db_listener_add(c->a->db, &l);
	if (rc < 0) {
		snprintf(field, sizeof(field), "listeners/%s/name", l.name);
		adm_db_error(c->rs, rc, "listener", field);
		rc = -1;
		goto out;
	}
	snprintf(newname, nlen, "%s", l.name);
out:
	free((char *)l.l7);
	json_decref(merged);
	return rc;
}

static const struct adm_kind adm_listeners = {
	.what = "listener", .list = db_listener_list, .get = db_listener_get,
	.del = db_listener_delete, .write = adm_listener_write,
};

/* ---- pools and members ---- */

/* Validates one member object (merged over base) into m; the member's name
 * in fields is its key, or its position when the address is unusable. */
static void
adm_member_check(struct adm_v *v, const char *pool, const json_t *obj, size_t pos,
		 struct db_member *m, char *addr, size_t alen)
{
	static const char *const keys[] = { "address", "port", "weight", "enabled",
					    CONF_L7_MEMBER_KEYS, NULL };
	const char *raw = json_string_value(json_object_get(obj, "address"));
	json_t *port = json_object_get(obj, "port");
	json_t *en = json_object_get(obj, "enabled");
	char key[128], saved[256];

	if (raw != NULL && json_is_integer(port))
		adm_member_key(raw, (long)json_integer_value(port), key, sizeof(key));
	else
		snprintf(key, sizeof(key), "%zu", pos);
	/* The prefix becomes pools/<pool>/members/<key> for this member. */
	snprintf(saved, sizeof(saved), "%s", v->prefix);
	snprintf(v->prefix, sizeof(v->prefix), "pools/%s/members/%s", pool, key);
	if (!json_is_object(obj)) {
		snprintf(v->prefix, sizeof(v->prefix), "pools/%s", pool);
		adm_v_add(v, "members", "each member must be an object");
		goto out;
	}
	adm_v_keys(v, obj, keys);
	adm_v_addr(v, adm_v_str(v, obj, "address", 1), addr, alen);
	m->address = addr;
	m->port = adm_v_int(v, obj, "port", 1, 65535, 1, 0);
	m->weight = adm_v_int(v, obj, "weight", 0, CONF_WEIGHT_MAX, 0, 1);
	m->enabled = true;
	if (en != NULL && !json_is_null(en)) {
		if (!json_is_boolean(en))
			adm_v_add(v, "enabled", "must be true or false");
		else
			m->enabled = json_is_true(en);
	}
	m->l7 = adm_l7_member(v, obj);
out:
	snprintf(v->prefix, sizeof(v->prefix), "%s", saved);
}

/* Validates a pool body into name and a member array (allocated). */
static int
adm_pool_from(struct adm_call *c, const char *urlname, const char **name,
	      struct db_member **ms, char (**addrs)[64], size_t *n, int *has_members)
{
	static const char *const keys[] = { "name", "members", CONF_L7_POOL_KEYS, NULL };
	json_t *marr = json_object_get(c->body, "members");
	const char *bname = json_string_value(json_object_get(c->body, "name"));
	struct adm_v v;
	size_t i, j;

	*ms = NULL;
	*addrs = NULL;
	*n = 0;
	*has_members = marr != NULL && !json_is_null(marr);
	adm_v_init(&v, "pools", bname ? bname : urlname);
	adm_v_keys(&v, c->body, keys);
	*name = urlname && json_object_get(c->body, "name") == NULL ? urlname :
		adm_v_str(&v, c->body, "name", 1);
	adm_v_name(&v, *name);
	if (*has_members && !json_is_array(marr)) {
		adm_v_add(&v, "members", "must be an array");
		*has_members = 0;
	}
	if (*has_members) {
		*n = json_array_size(marr);
		*ms = calloc(*n + 1, sizeof(**ms));
		*addrs = calloc(*n + 1, sizeof(**addrs));
		if (*ms == NULL || *addrs == NULL) {
			adm_v_add(&v, "members", "out of memory");
			*n = 0;
		}
		for (i = 0; i < *n; i++)
			adm_member_check(&v, *name ? *name : "", json_array_get(marr, i), i,
					 &(*ms)[i], (*addrs)[i], sizeof((*addrs)[i]));
		for (i = 0; i < *n; i++)
			for (j = 0; j < i; j++)
				if ((*ms)[i].port == (*ms)[j].port && (*ms)[i].address[0] != '\0' &&
				    strcmp((*ms)[i].address, (*ms)[j].address) == 0) {
					char attr[160];

					adm_member_key((*ms)[i].address, (*ms)[i].port, attr, sizeof(attr));
					snprintf(v.prefix, sizeof(v.prefix), "pools/%s/members", *name ? *name : "");
					adm_v_add(&v, attr, "duplicate member");
				}
	}
	return adm_v_end(&v, c->rs);
}

static void
adm_h_members(struct adm_call *c, const char *pool)
{
	struct db *db = c->a->db;
	char addr[64], oaddr[64], key[160], field[256];
	json_t *out = NULL, *base = NULL, *merged = NULL;
	struct db_member m;
	struct adm_v v;
	long oport = 0;
	int rc;

	if (c->nsegs > 4) {
		adm_resp_error(c->rs, 404, "not_found", "no such resource", NULL);
		return;
	}
	if (c->nsegs == 3) {
		if (adm_is(c, "GET")) {
			rc = db_member_list(db, pool, &out);
			if (rc < 0)
				adm_db_error(c->rs, rc, "pool", NULL);
			else
				adm_ok(c->rs, 200, out);
			return;
		}
		if (!adm_is(c, "POST")) {
			adm_not_allowed(c);
			return;
		}
		if (adm_need_body(c) < 0)
			return;
		rc = db_pool_get(db, pool, &base);
		json_decref(base);
		base = NULL;
		if (rc < 0) {
			adm_db_error(c->rs, rc, "pool", NULL);
			return;
		}
		adm_v_init(&v, "pools", pool);
		adm_member_check(&v, pool, c->body, 0, &m, addr, sizeof(addr));
		if (adm_v_end(&v, c->rs) < 0)
			return;
		adm_member_key(m.address, m.port, key, sizeof(key));
		snprintf(field, sizeof(field), "pools/%s/members/%s", pool, key);
		rc = db_member_add(db, pool, &m);
		if (rc == 0)
			rc = db_member_get(db, pool, m.address, m.port, &out);
		if (rc < 0)
			adm_db_error(c->rs, rc, rc == -ENOENT ? "pool" : "member", field);
		else
			adm_ok(c->rs, 201, out);
		return;
	}
	if (adm_parse_member_key(c->segs[3], oaddr, sizeof(oaddr), &oport) < 0) {
		adm_resp_error(c->rs, 404, "not_found", "member not found (use address:port or [v6]:port)", NULL);
		return;
	}
	if (adm_is(c, "GET")) {
		rc = db_member_get(db, pool, oaddr, oport, &out);
		if (rc < 0)
			adm_db_error(c->rs, rc, "member", NULL);
		else
			adm_ok(c->rs, 200, out);
	} else if (adm_is(c, "PUT")) {
		rc = db_member_get(db, pool, oaddr, oport, &base);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "member", NULL);
			return;
		}
		if (adm_need_body(c) < 0)
			goto out;
		merged = adm_merge(base, c->body);
		adm_v_init(&v, "pools", pool);
		adm_member_check(&v, pool, merged, 0, &m, addr, sizeof(addr));
		/* Unknown keys are judged on what the client sent. */
		{
			static const char *const keys[] = { "address", "port", "weight", "enabled",
							    CONF_L7_MEMBER_KEYS, NULL };
			char saved[256];

			snprintf(saved, sizeof(saved), "%s", v.prefix);
			adm_member_key(oaddr, oport, key, sizeof(key));
			snprintf(v.prefix, sizeof(v.prefix), "pools/%s/members/%s", pool, key);
			adm_v_keys(&v, c->body, keys);
			snprintf(v.prefix, sizeof(v.prefix), "%s", saved);
		}
		if (adm_v_end(&v, c->rs) < 0)
			goto out;
		adm_member_key(m.address, m.port, key, sizeof(key));
		snprintf(field, sizeof(field), "pools/%s/members/%s", pool, key);
		rc = db_member_update(db, pool, oaddr, oport, &m);
		if (rc == 0)
			rc = db_member_get(db, pool, m.address, m.port, &out);
		if (rc < 0)
			adm_db_error(c->rs, rc, "member", field);
		else
			adm_ok(c->rs, 200, out);
	} else if (adm_is(c, "DELETE")) {
		rc = db_member_delete(db, pool, oaddr, oport);
		if (rc < 0)
			adm_db_error(c->rs, rc, "member", NULL);
		else
			adm_ok(c->rs, 204, NULL);
	} else {
		adm_not_allowed(c);
	}
out:
	json_decref(base);
	json_decref(merged);
}

/* A pool's L7 options: the stored ones (base, the current row, or NULL)
 * overlaid with the body's; a field set to null goes back to its default.
 * 0 with *out set, or -1 after a 422. */
static int
adm_pool_l7(struct adm_call *c, const json_t *base, const char *name, char **out)
{
	json_t *merged = adm_merge(base, c->body);
	struct adm_v v;

	adm_v_init(&v, "pools", name);
	*out = merged ? adm_l7_opts(&v, "pool", merged, adm_l7_pool_keys, NULL) : NULL;
	json_decref(merged);
	if (*out == NULL && json_array_size(v.errors) == 0)
		adm_v_add(&v, "name", "out of memory");
	return adm_v_end(&v, c->rs);
}

/* A pool body replaces the pool (members only when sent); its L7 options
 * are overlaid on base's. */
static int
adm_pool_write(struct adm_call *c, const char *name, const json_t *base, char *newname,
	       size_t nlen)
{
	const char *pname;
	struct db_member *ms = NULL;
	char (*addrs)[64] = NULL;
	char field[128], *l7 = NULL;
	size_t n = 0;
	int rc = -1, has_members;

	if (adm_need_body(c) < 0 ||
	    adm_pool_from(c, name, &pname, &ms, &addrs, &n, &has_members) < 0 ||
	    adm_pool_l7(c, base, pname ? pname : "", &l7) < 0)
		goto out;
	rc = name ? db_pool_update(c->a->db, name, pname, has_members ? ms : NULL, n) :
		db_pool_add(c->a->db, pname, ms, n);
	if (rc == 0)
		rc = db_pool_set_l7(c->a->db, pname, l7);
	if (rc < 0) {
		/* A duplicate inside members was caught above, so EEXIST here
		 * is the (new) name. */
		snprintf(field, sizeof(field), "pools/%s/name", pname);
		adm_db_error(c->rs, rc, "pool", field);
		rc = -1;
		goto out;
	}
	snprintf(newname, nlen, "%s", pname);
out:
	free(l7);
	free(ms);
	free(addrs);
	return rc;
}

static const struct adm_kind adm_pools = {
	.what = "pool", .list = db_pool_list, .get = db_pool_get,
	.del = db_pool_delete, .write = adm_pool_write,
};

static void
adm_h_pools(struct adm_call *c)
{
	if (c->nsegs > 2 && strcmp(c->segs[2], "members") == 0)
		adm_h_members(c, c->segs[1]);
	else
		adm_h_named(c, &adm_pools);
}

/* ---- routes ---- */

static int
adm_route_from(struct adm_call *c, const json_t *base, const char *urlname,
	       struct db_route *r, json_t **merged)
{
	static const char *const keys[] = { "name", "listener", "host", "path_prefix", "pool",
					    "priority", CONF_L7_ROUTE_KEYS, NULL };
	struct adm_v v;
	const char *name;
	json_t *extra;

	*merged = adm_merge(base, c->body);
	name = json_string_value(json_object_get(*merged, "name"));
	adm_v_init(&v, "routes", name ? name : urlname);
	adm_v_keys(&v, c->body, keys);
	r->name = adm_v_str(&v, *merged, "name", 1);
	adm_v_name(&v, r->name);
	r->listener = adm_v_str(&v, *merged, "listener", 1);
	/* required by forward routes only: the L7 check below says so */
	r->pool = adm_v_str(&v, *merged, "pool", 0);
	r->host = adm_v_str(&v, *merged, "host", 0);
	/* As conf_parse: "*" is the any-host route, like ""; "*.example.com"
	 * a wildcard. */
	if (r->host == NULL)
		r->host = "";
	else if (strcmp(r->host, "*") != 0 &&
		 !(strncmp(r->host, "*.", 2) == 0 && r->host[2] != '\0' && conf_host_valid(r->host + 1)) &&
		 !conf_host_valid(r->host))
		adm_v_add(&v, "host", "must be a host name (letters, digits, '.', '-') or empty for any host");
	r->path_prefix = adm_v_str(&v, *merged, "path_prefix", 0);
	if (r->path_prefix == NULL)
		r->path_prefix = "/";
	else if (!conf_path_valid(r->path_prefix))
		adm_v_add(&v, "path_prefix", "must start with '/' and contain no spaces or control characters");
	r->priority = adm_v_int(&v, *merged, "priority", 0, ADM_PRIORITY_MAX, 0, 100);
	extra = json_object();
	if (extra != NULL && r->pool != NULL)
		json_object_set_new(extra, "pool", json_string(r->pool));
	if (extra != NULL && json_is_string(json_object_get(*merged, "path_prefix")))
		json_object_set(extra, "path_prefix", json_object_get(*merged, "path_prefix"));
	r->l7 = adm_l7_opts(&v, "route", *merged, adm_l7_route_keys, extra);
	json_decref(extra);
	return adm_v_end(&v, c->rs);
}

/* Answers a failed route write; missing references are 422 on their field. */
static void
adm_route_error(struct adm_call *c, int rc, const struct db_route *r)
{
	char field[160], msg[160];

	if (rc == -ENXIO || rc == -ENOLINK) {
		const char *attr = rc == -ENXIO ? "listener" : "pool";

		snprintf(field, sizeof(field), "routes/%s/%s", r->name, attr);
		snprintf(msg, sizeof(msg), "no %s named \"%s\"", attr,
			 rc == -ENXIO ? r->listener : r->pool);
		adm_resp_error(c->rs, 422, "invalid", msg, field);
		json_object_set_new(c->rs->body, "errors",
				    json_pack("[{s:s, s:s}]", "field", field, "message", msg));
		return;
	}
	snprintf(field, sizeof(field), "routes/%s/name", r->name);
	adm_db_error(c->rs, rc, "route", field);
}

static int
adm_route_write(struct adm_call *c, const char *name, const json_t *base, char *newname,
		size_t nlen)
{
	json_t *merged = NULL;
	struct db_route r = { .l7 = NULL };
	int rc = -1;

	if (adm_need_body(c) < 0 || adm_route_from(c, base, name ? name : "", &r, &merged) < 0)
		goto out;
	rc = name ? db_route_update(c->a->db, name, &r) : db_route_add(c->a->db, &r);
	if (rc < 0) {
		adm_route_error(c, rc, &r);
		rc = -1;
		goto out;
	}
	snprintf(newname, nlen, "%s", r.name);
out:
	free((char *)r.l7);
	json_decref(merged);
	return rc;
}

static const struct adm_kind adm_routes = {
	.what = "route", .list = db_route_list, .get = db_route_get,
	.del = db_route_delete, .write = adm_route_write,
};

/* ---- revisions ---- */

static void
adm_h_revisions(struct adm_call *c)
{
	json_t *out = NULL;
	char *end;
	long n;
	int rc;

	if (c->nsegs == 1) {
		if (!adm_is(c, "GET")) {
			adm_not_allowed(c);
			return;
		}
		rc = db_revision_list(c->a->db, &out);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "revisions", NULL);
		} else {
			adm_pair_revisions_annotate(c->a, out);
			adm_ok(c->rs, 200, out);
		}
		return;
	}
	if (strcmp(c->segs[1], "conflicts") == 0) {
		adm_pair_conflicts_handle(c->a, c->s.username, c->segs, c->nsegs, c->rq, c->rs);
		return;
	}
	n = strtol(c->segs[1], &end, 10);
	if (*end != '\0' || n <= 0 || c->nsegs > 3 ||
	    (c->nsegs == 3 && strcmp(c->segs[2], "restore") != 0)) {
		adm_resp_error(c->rs, 404, "not_found", "no such revision", NULL);
		return;
	}
	if (c->nsegs == 2) {
		if (!adm_is(c, "GET")) {
			adm_not_allowed(c);
			return;
		}
		rc = db_revision_get(c->a->db, n, &out);
		if (rc < 0)
			adm_db_error(c->rs, rc, "revision", NULL);
		else
			adm_ok(c->rs, 200, out);
		return;
	}
	if (!adm_is(c, "POST")) {
		adm_not_allowed(c);
		return;
	}
	rc = db_revision_restore(c->a->db, n);
	if (rc < 0) {
		adm_db_error(c->rs, rc, "revision", NULL);
		return;
	}
	log_notice("user \"%s\" restored revision %ld into the candidate", c->s.username, n);
	adm_ok(c->rs, 200, json_pack("{s:I}", "restored", (json_int_t)n));
}

/* 1 when a TLS listener or pool of config text uses certificate (ca: CA
 * bundle) name, with that object in who (adm_certfiles_user), else 0. */
static int
adm_config_uses_cert(const char *text, const char *name, int ca, char *who, size_t len)
{
	json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
	int used = cfg != NULL && adm_certfiles_user(cfg, name, ca, who, len);

	json_decref(cfg);
	return used;
}

/* 1 when a listener or pool of the candidate or of the running revision uses the
 * certificate (deleting it would break an apply or a reload), 0 when none,
 * or -errno. When 1, why says who uses it, for the 409's message. */
static int
adm_cert_in_use(struct adm *a, const char *name, int ca, char *why, size_t len)
{
	const char *what = ca ? "CA bundle" : "certificate";
	char *cand = NULL, *run = NULL, who[CONF_NAME_MAX + 32];
	long n;
	int rc = db_candidate_text(a->db, 0, &cand);

	if (rc == 0)
		rc = adm_running(a, &n, &run);
	if (rc == 0 && adm_config_uses_cert(cand, name, ca, who, sizeof(who))) {
		snprintf(why, len, "%s \"%s\" is used by %s of the candidate configuration", what, name, who);
		rc = 1;
	} else if (rc == 0 && adm_config_uses_cert(run, name, ca, who, sizeof(who))) {
		snprintf(why, len, "%s \"%s\" is used by %s of the running revision (apply a candidate "
			 "without it first)", what, name, who);
		rc = 1;
	}
	free(cand);
	free(run);
	return rc;
}

/* ---- TLS certificates (doc/api.md, doc/tls.md) ---- */

/* Adds the time-dependent fields (expiry; a certificate's OCSP response,
 * not a CA bundle's: ca) to one certificate or bundle or to each of a list. */
static void
adm_cert_annotate_all(struct adm_call *c, json_t *out, int ca)
{
	size_t i;
	json_t *o;

	if (json_is_array(out)) {
		json_array_foreach(out, i, o)
			adm_cert_annotate_all(c, o, ca);
	} else if (out != NULL) {
		adm_cert_annotate(out, c->a->now());
		if (!ca)
			adm_ocsp_annotate(c->a, out, (long long)c->a->now());
	}
}

/* Starts checking an upload to kind ("certificates", "ca-bundles"): a body
 * with only keys and a valid name (*name). -1 when already answered (no
 * body); else the caller reads its other fields into v and ends it. */
static int
adm_upload_begin(struct adm_call *c, const char *kind, const char *const *keys, struct adm_v *v,
		 const char **name)
{
	if (adm_need_body(c) < 0)
		return -1;
	*name = json_string_value(json_object_get(c->body, "name"));
	adm_v_init(v, kind, *name && conf_name_valid(*name) ? *name : "");
	adm_v_keys(v, c->body, keys);
	*name = adm_v_str(v, c->body, "name", 1);
	adm_v_name(v, *name);
	return 0;
}

/* POST /certificates: validate the upload, store it, answer with the
 * certificate as GET shows it. The key never goes back out. */
static void
adm_cert_upload(struct adm_call *c)
{
	static const char *const keys[] = { "name", "cert_pem", "key_pem", NULL };
	struct adm_cert_info info;
	struct db_cert dc;
	const char *name, *cpem, *kpem, *field = NULL;
	char err[512], fbuf[CONF_NAME_MAX + 64];
	struct adm_v v;
	json_t *out = NULL;
	int rc;

	if (adm_upload_begin(c, "certificates", keys, &v, &name) < 0)
		return;
	cpem = adm_v_str(&v, c->body, "cert_pem", 1);
	kpem = adm_v_str(&v, c->body, "key_pem", 1);
	if (adm_v_end(&v, c->rs) < 0)
		return;
	rc = adm_cert_check(cpem, kpem, &info, err, sizeof(err), &field);
	if (rc == -EINVAL) {
		adm_v_init(&v, "certificates", name);
		adm_v_add(&v, field, err);
		adm_v_end(&v, c->rs);
		return;
	}
	if (rc < 0) {
		adm_resp_error(c->rs, 500, "internal", "internal error", NULL);
		return;
	}
	dc = (struct db_cert){
		.name = name, .cert_pem = info.cert_pem, .key_pem = info.key_pem,
		.subject = info.subject, .issuer = info.issuer, .sans = info.sans,
		.key_type = info.key_type, .key_bits = info.key_bits,
		.not_before = info.not_before, .not_after = info.not_after,
		.fingerprint = info.fingerprint, .chain_length = info.chain_length,
		.created_at = (long long)c->a->now(),
	};
	rc = db_cert_add(c->a->db, &dc);
	adm_cert_info_release(&info);
	if (rc == 0)
		rc = db_cert_get(c->a->db, name, &out);
	if (rc < 0) {
		snprintf(fbuf, sizeof(fbuf), "certificates/%s/name", name);
		adm_db_error(c->rs, rc, "certificate", fbuf);
		return;
	}
	adm_cert_annotate_all(c, out, 0);
	/* Never the key or the PEM in the log: the name and the fingerprint. */
	log_notice("user \"%s\" uploaded certificate \"%s\" (sha256 %s)", c->s.username, name,
		   json_string_value(json_object_get(out, "fingerprint")));
	adm_ok(c->rs, 201, out);
}

static void
adm_h_certificates(struct adm_call *c)
{
	const char *name = c->nsegs > 1 ? c->segs[1] : NULL;
	char why[2 * CONF_NAME_MAX + 160];
	json_t *out = NULL;
	int rc;

	if (c->nsegs == 3 && strcmp(c->segs[2], "ocsp") == 0) {
		adm_ocsp_handle(c->a, name, c->rq, c->rs, c->s.username);
		return;
	}
	if (c->nsegs > 2) {
		adm_resp_error(c->rs, 404, "not_found", "no such resource", NULL);
		return;
	}
	if (adm_is(c, "POST") && name == NULL) {
		adm_cert_upload(c);
		return;
	}
	if (adm_is(c, "GET")) {
		rc = name ? db_cert_get(c->a->db, name, &out) : db_cert_list(c->a->db, &out);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "certificate", NULL);
			return;
		}
		adm_cert_annotate_all(c, out, 0);
		adm_ok(c->rs, 200, out);
		return;
	}
	if (adm_is(c, "DELETE") && name != NULL) {
		rc = adm_cert_in_use(c->a, name, 0, why, sizeof(why));
		if (rc > 0) {
			adm_resp_error(c->rs, 409, "in_use", why, NULL);
			return;
		}
		if (rc == 0)
			rc = db_cert_delete(c->a->db, name);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "certificate", NULL);
			return;
		}
		log_notice("user \"%s\" deleted certificate \"%s\"", c->s.username, name);
		adm_ok(c->rs, 204, NULL);
		return;
	}
	adm_not_allowed(c);
}

/* POST /ca-bundles {name, pem}: CA certificates for client_auth. */
static void
adm_ca_upload(struct adm_call *c)
{
	static const char *const keys[] = { "name", "pem", NULL };
	struct adm_ca_info info;
	const char *name, *pem;
	char err[512], fbuf[CONF_NAME_MAX + 64];
	struct adm_v v;
	json_t *out = NULL;
	int rc;

	if (adm_upload_begin(c, "ca-bundles", keys, &v, &name) < 0)
		return;
	pem = adm_v_str(&v, c->body, "pem", 1);
	if (adm_v_end(&v, c->rs) < 0)
		return;
	rc = adm_ca_check(pem, &info, err, sizeof(err));
	if (rc == -EINVAL) {
		adm_v_init(&v, "ca-bundles", name);
		adm_v_add(&v, "pem", err);
		adm_v_end(&v, c->rs);
		return;
	}
	if (rc == 0) {
		struct db_ca dc = { .name = name, .pem = info.pem, .subjects = info.subjects,
				    .count = info.count, .not_after = info.not_after,
				    .fingerprint = info.fingerprint, .created_at = (long long)c->a->now() };

		rc = db_ca_add(c->a->db, &dc);
		adm_ca_info_release(&info);
	}
	if (rc == 0)
		rc = db_ca_get(c->a->db, name, &out);
	if (rc < 0) {
		snprintf(fbuf, sizeof(fbuf), "ca-bundles/%s/name", name);
		adm_db_error(c->rs, rc, "CA bundle", fbuf);
		return;
	}
	log_notice("user \"%s\" uploaded CA bundle \"%s\" (%lld certificates)", c->s.username, name,
		   (long long)json_integer_value(json_object_get(out, "count")));
	adm_cert_annotate_all(c, out, 1);
	adm_ok(c->rs, 201, out);
}

static void
adm_h_ca_bundles(struct adm_call *c)
{
	const char *name = c->nsegs > 1 ? c->segs[1] : NULL;
	char why[2 * CONF_NAME_MAX + 160];
	json_t *out = NULL;
	int rc;

	if (c->nsegs > 2) {
		adm_resp_error(c->rs, 404, "not_found", "no such resource", NULL);
	} else if (adm_is(c, "POST") && name == NULL) {
		adm_ca_upload(c);
	} else if (adm_is(c, "GET")) {
		rc = name ? db_ca_get(c->a->db, name, &out) : db_ca_list(c->a->db, &out);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "CA bundle", NULL);
		} else {
			adm_cert_annotate_all(c, out, 1);
			adm_ok(c->rs, 200, out);
		}
	} else if (adm_is(c, "DELETE") && name != NULL) {
		rc = adm_cert_in_use(c->a, name, 1, why, sizeof(why));
		if (rc > 0) {
			adm_resp_error(c->rs, 409, "in_use", why, NULL);
			return;
		}
		if (rc == 0)
			rc = db_ca_delete(c->a->db, name);
		if (rc < 0) {
			adm_db_error(c->rs, rc, "CA bundle", NULL);
			return;
		}
		log_notice("user \"%s\" deleted CA bundle \"%s\"", c->s.username, name);
		adm_ok(c->rs, 204, NULL);
	} else {
		adm_not_allowed(c);
	}
}

/* ---- dispatch ---- */

static int
adm_split_path(struct adm_call *c, char *buf)
{
	char *save = NULL, *seg;

	c->nsegs = 0;
	for (seg = strtok_r(buf, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		if (c->nsegs == ADM_MAX_SEGS)
			return -1;
		c->segs[c->nsegs++] = seg;
	}
	return 0;
}

void
adm_api_handle(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	struct adm_call c = { .a = a, .rq = rq, .rs = rs };
	char *path = strdup(rq->path ? rq->path : "");
	const char *what;
	int mutating;

	memset(rs, 0, sizeof(*rs));
	if (path == NULL) {
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		return;
	}
	if (adm_split_path(&c, path) < 0)
		c.nsegs = 0;
	what = c.nsegs > 0 ? c.segs[0] : "";
	if (strcmp(what, "session") == 0 && c.nsegs == 1) {
		adm_h_session(&c);
		goto out;
	}
	/* Console-to-console calls of the pair carry their own credentials. */
	if (adm_pair_peer_handle(a, rq, c.segs, c.nsegs, rs))
		goto out;
	/* Authentication comes before routing, so without a session even the
	 * shape of the API stays hidden: everything is 401. */
	if (adm_session_check(a->db, rq->session_token, a->now(), &c.s) < 0) {
		adm_resp_error(rs, 401, "unauthenticated", "not logged in", NULL);
		goto out;
	}
	mutating = strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0;
	if (mutating && !adm_token_equal(c.s.csrf, rq->csrf)) {
		adm_resp_error(rs, 403, "csrf", "missing or wrong X-CSRF-Token header", NULL);
		goto out;
	}
	if (mutating && strcmp(c.s.role, "admin") != 0) {
		adm_resp_error(rs, 403, "forbidden", "this account may only read", NULL);
		goto out;
	}
	if (mutating && adm_sync_guard(a, rq, c.segs, c.nsegs, rs))
		goto out;	/* the pair's BACKUP is read-only */
	if (strcmp(what, "status") == 0 && c.nsegs == 1)
		adm_h_status(&c);
	else if (strcmp(what, "listeners") == 0)
		adm_h_named(&c, &adm_listeners);
	else if (strcmp(what, "pools") == 0)
		adm_h_pools(&c);
	else if (strcmp(what, "routes") == 0)
		adm_h_named(&c, &adm_routes);
	else if (strcmp(what, "candidate") == 0 && c.nsegs == 1)
		adm_h_candidate(&c);
	else if (strcmp(what, "diff") == 0 && c.nsegs == 1)
		adm_h_diff(&c);
	else if (strcmp(what, "apply") == 0 && c.nsegs == 1)
		adm_h_apply(&c);
	else if (strcmp(what, "revisions") == 0)
		adm_h_revisions(&c);
	else if (strcmp(what, "certificates") == 0)
		adm_h_certificates(&c);
	else if (strcmp(what, "ca-bundles") == 0)
		adm_h_ca_bundles(&c);
	else if (strcmp(what, "vrrp") == 0)
		adm_vrrp_handle(a, c.segs, c.nsegs, rq, rs);
	else if (strcmp(what, "settings") == 0 && c.nsegs == 1)
		adm_settings_handle(a, rq, rs);
	else if (strcmp(what, "tls") == 0)
		adm_tlskeys_handle(a, c.s.username, c.segs, c.nsegs, rq, rs);
	else if (strcmp(what, "l4") == 0)
		adm_l4_handle(a, c.segs, c.nsegs, rq, rs);
	else if (strcmp(what, "rate-rules") == 0)
		adm_limits_handle(a, c.segs, c.nsegs, rq, rs);
	else if (strcmp(what, "pair") == 0)
		adm_pair_handle(a, c.s.username, c.segs, c.nsegs, rq, rs);
	else
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
out:
	if (rs->status == 0)
		adm_resp_error(rs, 500, "internal", "no answer", NULL);
	db_session_release(&c.s);
	json_decref(c.body);
	free(path);
}
