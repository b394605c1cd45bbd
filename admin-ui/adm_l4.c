/*
 * adm_l4 - the REST API of the l4 section (doc/api.md "L4"):
 *
 *   GET                /l4                          {"settings": {...}, "services": [...]}
 *   GET                /l4/status                   tandemd's L4 view (kernel, counters, health)
 *   GET, PUT           /l4/settings                 reconcile_interval, filter, sync (PUT merges)
 *   GET, POST          /l4/services                 virtual services with their "reals"
 *   GET, PUT, DELETE   /l4/services/<name>          (PUT merges; "reals" replaces all when sent)
 *   GET, POST          /l4/services/<name>/reals
 *   GET, PUT, DELETE   /l4/services/<name>/reals/<address:port>   ("[v6]:port"; port 0 = none)
 *   POST               /l4/bans                     {"address", "timeout"?}: ban now (tandemd)
 *   POST               /l4/sync-role                {"role"}: the sync daemon's role now (tandemd)
 *
 * Validation is tandemd's own, as for vrrp: the prospective section is put
 * into the rendered candidate and conf_parse judges it; the problems under
 * the edited object are answered 422 with their fields
 * ("l4/services/<name>/reals/<address:port>/weight",
 * "l4/services/<name>/check/type", "l4/settings/filter/deny"). Runs on the
 * HTTP thread, which owns a->db; the caller has checked session, CSRF token
 * and role.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_judge.h"
#include "adm_l4.h"
#include "conf.h"
#include "ctlc.h"
#include "db.h"
#include "errs.h"
#include "jh.h"
#include "log.h"

/* ---- JSON path -> API field ---- */

/* Appends rest (".a[2].b") to field as "/a/b": indices are dropped. */
static void
adm_l4_tail(char *field, size_t len, const char *p)
{
	size_t used = strlen(field);

	while (*p != '\0' && used + 1 < len) {
		if (*p == '[') {
			p += strcspn(p, "]");
			if (*p == ']')
				p++;
			continue;
		}
		field[used++] = *p == '.' ? '/' : *p;
		p++;
	}
	field[used] = '\0';
}

/* "address:port" of real r ("[v6]:port"). */
static void
adm_l4_real_key(const json_t *r, char *out, size_t len)
{
	const char *a = json_string_value(json_object_get(r, "address"));

	adm_member_key(a ? a : "?", (long)json_integer_value(json_object_get(r, "port")), out, len);
}

/* Reads "[n]" at *pp into *n; -1 when absent. */
static int
adm_l4_index(const char **pp, size_t *n)
{
	char *end;
	unsigned long v;

	if (**pp != '[')
		return -1;
	v = strtoul(*pp + 1, &end, 10);
	if (end == *pp + 1 || *end != ']')
		return -1;
	*n = v;
	*pp = end + 1;
	return 0;
}

char *
adm_l4_field_of_path(const json_t *config, const char *rest)
{
	const json_t *l4 = json_object_get(config, "l4"), *svc, *r;
	const char *p = rest, *name;
	char field[512], key[128];
	size_t i, j;

	if (strncmp(p, ".services[", 10) == 0) {
		p += 9;
		if (adm_l4_index(&p, &i) < 0)
			return strdup("l4/services");
		svc = json_array_get(json_object_get(l4, "services"), i);
		name = json_string_value(json_object_get(svc, "name"));
		if (name == NULL)
			return strdup("l4/services");
		snprintf(field, sizeof(field), "l4/services/%s", name);
		if (strncmp(p, ".reals[", 7) == 0) {
			p += 6;
			if (adm_l4_index(&p, &j) == 0 &&
			    (r = json_array_get(json_object_get(svc, "reals"), j)) != NULL) {
				adm_l4_real_key(r, key, sizeof(key));
				snprintf(field + strlen(field), sizeof(field) - strlen(field), "/reals/%s", key);
			} else {
				snprintf(field + strlen(field), sizeof(field) - strlen(field), "/reals");
				return strdup(field);
			}
		}
		adm_l4_tail(field, sizeof(field), p);
		return strdup(field);
	}
	if (strncmp(p, ".filter", 7) == 0 || strncmp(p, ".sync", 5) == 0 ||
	    strncmp(p, ".reconcile_interval", 19) == 0)
		snprintf(field, sizeof(field), "l4/settings");
	else
		snprintf(field, sizeof(field), "l4");
	adm_l4_tail(field, sizeof(field), p);
	return strdup(field);
}

/* ---- answers ---- */

static int
adm_l4_is(const struct adm_req *rq, const char *m)
{
	return strcmp(rq->method, m) == 0;
}

static void
adm_l4_not_allowed(struct adm_resp *rs)
{
	adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
}

/* ---- validation ---- */

/* Keeps the paths at or below one of the prefixes arg (NULL-terminated). */
static int
adm_l4_keep_path(const char *path, void *arg)
{
	const char *const *k;

	for (k = arg; *k != NULL; k++)
		if (adm_path_under(path, *k) != NULL)
			return 1;
	return 0;
}

/* tandemd's verdict on the candidate with l4 (borrowed) as its l4 section:
 * the problems at or below the prefixes keep (NULL-terminated), on their
 * API fields. A new array; NULL on an internal error. */
static json_t *
adm_l4_judge(struct adm *a, json_t *l4, const char *const *keep)
{
	return adm_judge(a, "l4", l4, adm_l4_keep_path, (void *)keep, adm_l4_field_of_path);
}

/* The stored section with service svc (borrowed) in place of service
 * oldname (or added when oldname is NULL), put last so that a duplicate
 * key is reported on it. Validates it; 0, or -1 with rs filled. */
static int
adm_l4_service_check(struct adm *a, const char *oldname, json_t *svc, struct adm_resp *rs)
{
	json_t *svcs = NULL, *set = NULL, *o;
	char keep[64];
	const char *const kp[] = { keep, NULL };
	size_t i;
	int rc;

	rc = db_l4_service_list(a->db, &svcs);
	if (rc == 0)
		rc = db_l4_settings_get(a->db, &set);
	if (rc < 0) {
		adm_db_error(rs, rc, "l4 service", NULL);
		rc = -1;
		goto out;
	}
	json_array_foreach(svcs, i, o)
		if (oldname != NULL && strcmp(json_string_value(json_object_get(o, "name")), oldname) == 0) {
			json_array_remove(svcs, i);
			break;
		}
	json_array_append(svcs, svc);
	json_object_set(set, "services", svcs);
	snprintf(keep, sizeof(keep), "$.l4.services[%zu]", json_array_size(svcs) - 1);
	rc = adm_verdict(rs, adm_l4_judge(a, set, kp));
out:
	json_decref(svcs);
	json_decref(set);
	return rc;
}

/* ---- /l4/status ---- */

/* tandemd's status answer (new reference), or NULL when unreachable. */
static json_t *
adm_l4_tandemd_status(struct adm *a)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *st = NULL;
	int rc = req ? ctlc_call(a->ctl_socket, req, &st, a->ctl_timeout_ms) : -ENOMEM;

	json_decref(req);
	if (rc == 0 && json_is_true(json_object_get(st, "ok")))
		return st;
	json_decref(st);
	return NULL;
}

json_t *
adm_l4_status_summary(const json_t *l4)
{
	const json_t *nft = json_object_get(l4, "nft");
	json_t *o;

	if (!json_is_object(l4))
		return json_null();
	o = json_pack("{s:O, s:O, s:I, s:I, s:I}",
		      "available", json_object_get(l4, "available") ?: json_false(),
		      "reason", json_object_get(l4, "reason") ?: json_null(),
		      "configured", json_integer_value(json_object_get(l4, "configured")),
		      "services", (json_int_t)json_array_size(json_object_get(l4, "services")),
		      "missing", (json_int_t)json_array_size(json_object_get(l4, "missing")));
	if (o != NULL && json_is_object(nft))
		json_object_set_new(o, "nft", json_pack("{s:O, s:O}",
			"enabled", json_object_get(nft, "enabled") ?: json_false(),
			"last_error", json_object_get(nft, "last_error") ?: json_null()));
	return o ? o : json_null();
}

static void
adm_l4_status(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *st, *out;

	if (!adm_l4_is(rq, "GET")) {
		adm_l4_not_allowed(rs);
		return;
	}
	st = adm_l4_tandemd_status(a);
	if (st == NULL || !json_is_object(json_object_get(st, "l4"))) {
		json_decref(st);
		adm_ok(rs, 200, json_pack("{s:b, s:b, s:s}", "reachable", 0, "available", 0,
					     "reason", "tandemd is not reachable"));
		return;
	}
	out = json_deep_copy(json_object_get(st, "l4"));
	if (out != NULL)
		json_object_set_new(out, "reachable", json_true());
	json_decref(st);
	adm_ok(rs, 200, out);
}

/* ---- /l4/settings ---- */

static void
adm_l4_settings(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	static const char *const keys[] = { "reconcile_interval", "filter", "sync", NULL };
	static const char *const kp[] = { "$.l4.reconcile_interval", "$.l4.filter", "$.l4.sync", NULL };
	json_t *body = NULL, *set = NULL, *svcs = NULL, *errors, *v;
	const char *key;
	int rc;

	if (adm_l4_is(rq, "GET")) {
		rc = db_l4_settings_get(a->db, &set);
		if (rc < 0)
			adm_db_error(rs, rc, "l4 settings", NULL);
		else
			adm_ok(rs, 200, set);
		return;
	}
	if (!adm_l4_is(rq, "PUT")) {
		adm_l4_not_allowed(rs);
		return;
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		return;
	rc = db_l4_settings_get(a->db, &set);
	if (rc == 0)
		rc = db_l4_service_list(a->db, &svcs);
	if (rc < 0) {
		adm_db_error(rs, rc, "l4 settings", NULL);
		goto out;
	}
	errors = json_array();
	/* A field sent as null goes back to its default. */
	json_object_foreach(body, key, v) {
		const char *const *k;
		char field[160];

		for (k = keys; *k != NULL && strcmp(*k, key) != 0; k++)
			;
		if (*k == NULL) {
			snprintf(field, sizeof(field), "l4/settings/%s", key);
			json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
								"message", "unknown field"));
		} else if (json_is_null(v)) {
			json_object_del(set, key);
		} else {
			json_object_set(set, key, v);
		}
	}
	if (json_array_size(errors) == 0) {
		json_t *sec = json_deep_copy(set);

		json_decref(errors);
		if (sec != NULL && json_array_size(svcs) > 0)
			json_object_set(sec, "services", svcs);
		errors = sec ? adm_l4_judge(a, sec, kp) : NULL;
		json_decref(sec);
	}
	if (adm_verdict(rs, errors) < 0)
		goto out;
	rc = db_l4_settings_set(a->db, set);
	json_decref(set);
	set = NULL;
	if (rc == 0)
		rc = db_l4_settings_get(a->db, &set);
	if (rc < 0)
		adm_db_error(rs, rc, "l4 settings", NULL);
	else {
		adm_ok(rs, 200, set);
		set = NULL;
	}
out:
	json_decref(body);
	json_decref(set);
	json_decref(svcs);
}

/* ---- /l4/services[/name] ---- */

/* PUT merges: a field sent as null goes back to its default (removed). */
static void
adm_l4_drop_nulls(json_t *o)
{
	const char *key;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, key, v)
		if (json_is_null(v))
			json_object_del(o, key);
}

/* Validates svc (the whole new service) as the replacement of oldname (or
 * a new service) and writes it. Answers with the stored service (status
 * ok) or the error. */
static void
adm_l4_service_write(struct adm *a, const char *oldname, json_t *svc, unsigned ok,
		     struct adm_resp *rs)
{
	const char *nname = json_string_value(json_object_get(svc, "name"));
	json_t *taken = NULL, *out = NULL;
	char field[160];
	int rc;

	snprintf(field, sizeof(field), "l4/services/%s/name", nname ? nname : "");
	/* A taken name is a conflict (409), as for every other kind. */
	if (nname != NULL && (oldname == NULL || strcmp(oldname, nname) != 0) &&
	    db_l4_service_get(a->db, nname, &taken) == 0) {
		json_decref(taken);
		adm_db_error(rs, -EEXIST, "l4 service", field);
		return;
	}
	if (adm_l4_service_check(a, oldname, svc, rs) < 0)
		return;
	rc = db_l4_service_put(a->db, oldname, svc);
	if (rc == 0)
		rc = db_l4_service_get(a->db, nname, &out);
	if (rc < 0)
		adm_db_error(rs, rc, "l4 service", field);
	else
		adm_ok(rs, ok, out);
}

static void
adm_l4_services(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body = NULL, *base = NULL, *out = NULL, *svc;
	int rc;

	if (adm_l4_is(rq, "GET")) {
		rc = name ? db_l4_service_get(a->db, name, &out) : db_l4_service_list(a->db, &out);
		if (rc < 0)
			adm_db_error(rs, rc, "l4 service", NULL);
		else
			adm_ok(rs, 200, out);
		return;
	}
	if (adm_l4_is(rq, "DELETE") && name != NULL) {
		rc = db_l4_service_delete(a->db, name);
		if (rc < 0)
			adm_db_error(rs, rc, "l4 service", NULL);
		else
			adm_ok(rs, 204, NULL);
		return;
	}
	if (!(adm_l4_is(rq, "POST") && name == NULL) && !(adm_l4_is(rq, "PUT") && name != NULL)) {
		adm_l4_not_allowed(rs);
		return;
	}
	/* A missing service is 404 before its body is looked at. */
	if (name != NULL && (rc = db_l4_service_get(a->db, name, &base)) < 0) {
		adm_db_error(rs, rc, "l4 service", NULL);
		return;
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		goto out;
	/* PUT sends only what changes; a field sent as null is removed. */
	svc = base ? json_deep_copy(base) : json_object();
	if (svc == NULL || json_object_update(svc, body) < 0) {
		json_decref(svc);
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		goto out;
	}
	adm_l4_drop_nulls(svc);
	if (json_object_get(svc, "reals") == NULL)
		json_object_set_new(svc, "reals", json_array());
	adm_l4_service_write(a, name, svc, name ? 200 : 201, rs);
	json_decref(svc);
out:
	json_decref(body);
	json_decref(base);
}

/* ---- /l4/services/<name>/reals[/key] ---- */

/* Index of the real addr:port in reals, or -1. */
static long
adm_l4_find_real(const json_t *reals, const char *addr, long port)
{
	const json_t *r;
	char ca[64];
	size_t i;

	json_array_foreach(reals, i, r) {
		const char *ra = json_string_value(json_object_get(r, "address"));

		if (ra != NULL && db_addr_canon(ra, ca, sizeof(ca)) == 0 && strcmp(ca, addr) == 0 &&
		    json_integer_value(json_object_get(r, "port")) == port)
			return (long)i;
	}
	return -1;
}

static void
adm_l4_reals(struct adm *a, const char *name, const char *key, const struct adm_req *rq,
	     struct adm_resp *rs)
{
	json_t *svc = NULL, *body = NULL, *reals, *r = NULL, *out = NULL;
	char addr[64], naddr[64], field[256];
	long port = 0, at = -1, nport;
	int rc;

	rc = db_l4_service_get(a->db, name, &svc);
	if (rc < 0) {
		adm_db_error(rs, rc, "l4 service", NULL);
		return;
	}
	reals = json_object_get(svc, "reals");
	if (key != NULL) {
		if (adm_parse_key(key, 0, addr, sizeof(addr), &port) < 0 ||
		    (at = adm_l4_find_real(reals, addr, port)) < 0) {
			adm_resp_error(rs, 404, "not_found", "real not found (use address:port or [v6]:port)",
				       NULL);
			goto out;
		}
	}
	if (adm_l4_is(rq, "GET")) {
		adm_ok(rs, 200, json_incref(key ? json_array_get(reals, (size_t)at) : reals));
		goto out;
	}
	if (adm_l4_is(rq, "DELETE") && key != NULL) {
		json_array_remove(reals, (size_t)at);
		if (adm_l4_service_check(a, name, svc, rs) < 0)
			goto out;
		rc = db_l4_service_put(a->db, name, svc);
		if (rc < 0)
			adm_db_error(rs, rc, "real", NULL);
		else
			adm_ok(rs, 204, NULL);
		goto out;
	}
	if (!(adm_l4_is(rq, "POST") && key == NULL) && !(adm_l4_is(rq, "PUT") && key != NULL)) {
		adm_l4_not_allowed(rs);
		goto out;
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		goto out;
	r = key ? json_deep_copy(json_array_get(reals, (size_t)at)) : json_object();
	if (r == NULL || json_object_update(r, body) < 0) {
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		goto out;
	}
	adm_l4_drop_nulls(r);
	nport = (long)json_integer_value(json_object_get(r, "port"));
	adm_l4_real_key(r, naddr, sizeof(naddr));
	snprintf(field, sizeof(field), "l4/services/%s/reals/%s", name, naddr);
	/* Another real with the new key: a conflict, as for members. */
	if (json_is_string(json_object_get(r, "address")) &&
	    db_addr_canon(json_string_value(json_object_get(r, "address")), naddr, sizeof(naddr)) == 0) {
		long other = adm_l4_find_real(reals, naddr, nport);

		if (other >= 0 && other != at) {
			adm_db_error(rs, -EEXIST, "real", field);
			goto out;
		}
	}
	if (key != NULL)
		json_array_set(reals, (size_t)at, r);
	else
		json_array_append(reals, r);
	if (adm_l4_service_check(a, name, svc, rs) < 0)
		goto out;
	rc = db_l4_service_put(a->db, name, svc);
	json_decref(svc);
	svc = NULL;
	if (rc == 0)
		rc = db_l4_service_get(a->db, name, &svc);
	if (rc == 0) {
		long i = adm_l4_find_real(json_object_get(svc, "reals"), naddr, nport);

		out = i < 0 ? NULL : json_incref(json_array_get(json_object_get(svc, "reals"), (size_t)i));
	}
	if (rc < 0)
		adm_db_error(rs, rc, "real", field);
	else
		adm_ok(rs, key ? 200 : 201, out);
out:
	json_decref(r);
	json_decref(body);
	json_decref(svc);
}

/* ---- run-time commands: /l4/bans, /l4/sync-role ----
 * Forwarded to tandemd's control socket ("ban", "l4-sync"); they act on the
 * running daemon at once and are not part of the candidate. tandemd's
 * refusals come back as 422 on "l4/<what>/<attr>". */
static void
adm_l4_command(struct adm *a, const char *what, const char *cmd, const char *const *keys,
	       const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *body, *req = NULL, *resp = NULL, *errors, *e;
	const char *const *k;
	char field[128];
	size_t i;
	int rc;

	if (!adm_l4_is(rq, "POST")) {
		adm_l4_not_allowed(rs);
		return;
	}
	body = adm_body_object(rq, rs);
	if (body == NULL)
		return;
	req = json_pack("{s:s}", "cmd", cmd);
	for (k = keys; req != NULL && *k != NULL; k++)
		if (json_object_get(body, *k) != NULL)
			json_object_set(req, *k, json_object_get(body, *k));
	rc = req ? ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) : -ENOMEM;
	if (rc < 0) {
		adm_resp_error(rs, 503, "unavailable", "tandemd is not reachable", NULL);
	} else if (json_is_true(json_object_get(resp, "ok"))) {
		json_object_del(resp, "ok");
		adm_ok(rs, 200, json_incref(resp));
	} else {
		errors = json_array();
		json_array_foreach(json_object_get(resp, "errors"), i, e) {
			const char *path = json_string_value(json_object_get(e, "path"));

			snprintf(field, sizeof(field), "l4/%s/%s", what,
				 path && strncmp(path, "$.", 2) == 0 && strchr(path + 2, '.') == NULL ? path + 2 : keys[0]);
			json_array_append_new(errors, json_pack("{s:s, s:O}", "field", field, "message",
				json_object_get(e, "message") ?: json_string("refused")));
		}
		if (json_array_size(errors) == 0) {
			snprintf(field, sizeof(field), "l4/%s/%s", what, keys[0]);
			json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
								"message", "refused by tandemd"));
		}
		adm_verdict(rs, errors);
	}
	json_decref(resp);
	json_decref(req);
	json_decref(body);
}

void
adm_l4_handle(struct adm *a, char *const *segs, size_t nsegs, const struct adm_req *rq,
	      struct adm_resp *rs)
{
	json_t *set = NULL, *svcs = NULL;
	int rc;

	if (nsegs == 1) {
		if (!adm_l4_is(rq, "GET")) {
			adm_l4_not_allowed(rs);
			return;
		}
		rc = db_l4_settings_get(a->db, &set);
		if (rc == 0)
			rc = db_l4_service_list(a->db, &svcs);
		if (rc < 0) {
			json_decref(set);
			adm_db_error(rs, rc, "l4", NULL);
			return;
		}
		adm_ok(rs, 200, json_pack("{s:o, s:o}", "settings", set, "services", svcs));
	} else if (nsegs == 2 && strcmp(segs[1], "status") == 0) {
		adm_l4_status(a, rq, rs);
	} else if (nsegs == 2 && strcmp(segs[1], "bans") == 0) {
		static const char *const keys[] = { "address", "timeout", NULL };

		adm_l4_command(a, "bans", "ban", keys, rq, rs);
	} else if (nsegs == 2 && strcmp(segs[1], "sync-role") == 0) {
		static const char *const keys[] = { "role", NULL };

		adm_l4_command(a, "sync-role", "l4-sync", keys, rq, rs);
	} else if (nsegs == 2 && strcmp(segs[1], "settings") == 0) {
		adm_l4_settings(a, rq, rs);
	} else if (nsegs <= 3 && strcmp(segs[1], "services") == 0) {
		adm_l4_services(a, nsegs == 3 ? segs[2] : NULL, rq, rs);
	} else if ((nsegs == 4 || nsegs == 5) && strcmp(segs[1], "services") == 0 &&
		   strcmp(segs[3], "reals") == 0) {
		adm_l4_reals(a, segs[2], nsegs == 5 ? segs[4] : NULL, rq, rs);
	} else {
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
	}
}
