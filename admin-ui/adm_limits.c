/*
 * adm_limits - the REST API of the rate_rules section (doc/api.md):
 *
 *   GET, PUT        /rate-rules               the whole section (PUT replaces it)
 *   PUT, DELETE     /rate-rules/rules/<name>  one rule (PUT adds it at the end
 *                                             or replaces it in place)
 *   GET             /rate-rules/live          tandemd's live view: per-rule
 *                                             counters, top keys, WAF hits, bans
 *
 * Validation is tandemd's own: the prospective section is put into the
 * rendered candidate and conf_parse judges it (so route and listener names
 * are checked too); its errors under $.rate_rules come back as 422 with a
 * "field" such as "rate_rules/rules/login-ip/limit.period_s".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_judge.h"
#include "adm_limits.h"
#include "conf.h"
#include "ctlc.h"
#include "db.h"
#include "errs.h"
#include "jh.h"

/* The API field of a validator path below "$.rate_rules" (rest, e.g.
 * ".rules[2].limit.period_s"), in the style of the other objects:
 * "rate_rules/rules/<name>/limit.period_s" for a rule (by name, when it has
 * one), "rate_rules/waf.deny_patterns[0].regex" for the rest. New string. */
static char *
adm_limits_field(const json_t *config, const char *rest)
{
	const json_t *section = json_object_get(config, "rate_rules");
	const char *name, *end;
	char out[512];
	long i;

	if (strncmp(rest, ".rules[", 7) == 0 && (i = strtol(rest + 7, (char **)&end, 10)) >= 0 &&
	    *end == ']' &&
	    (name = json_string_value(json_object_get(json_array_get(json_object_get(section, "rules"),
								    (size_t)i), "name"))) != NULL) {
		end++;
		snprintf(out, sizeof(out), "rate_rules/rules/%s%s%s", name, *end ? "/" : "",
			 *end == '.' ? end + 1 : end);
	} else {
		snprintf(out, sizeof(out), "rate_rules%s%s", *rest ? "/" : "", *rest == '.' ? rest + 1 : rest);
	}
	return strdup(out);
}

/* Only the section's own problems (other objects' are apply's to report). */
static int
adm_limits_keep(const char *path, void *arg)
{
	(void)arg;
	return adm_path_under(path, "$.rate_rules") != NULL;
}

/* conf_parse on the candidate with section (borrowed; NULL = none) as its
 * rate_rules: a new array of {field, message}, or NULL (internal error). */
static json_t *
adm_limits_judge(struct adm *a, json_t *section)
{
	json_t *empty = section ? NULL : json_object(), *r;

	r = adm_judge(a, "rate_rules", section ? section : empty, adm_limits_keep, NULL,
		      adm_limits_field);
	json_decref(empty);
	return r;
}

static void
adm_limits_db_error(struct adm_resp *rs, int rc)
{
	if (rc == -EAGAIN)
		adm_resp_error(rs, 503, "busy", "the database is busy, try again", NULL);
	else if (rc == -EEXIST)
		adm_resp_error(rs, 409, "exists", "two rules have the same name", "rate_rules/rules");
	else
		adm_resp_error(rs, 500, "internal", "internal error", NULL);
}

/* Validates section (borrowed) and stores it; fills rs either way. */
static void
adm_limits_store(struct adm *a, json_t *section, struct adm_resp *rs, unsigned status)
{
	int rc;

	if (adm_verdict(rs, adm_limits_judge(a, section)) < 0)
		return;
	rc = db_rate_load(a->db, section);
	if (rc < 0) {
		adm_limits_db_error(rs, rc);
		return;
	}
	adm_ok(rs, status, status == 204 ? NULL : section ? json_deep_copy(section) : json_object());
}

/* The stored section, {} when there is none (new reference or NULL). */
static json_t *
adm_limits_section(struct adm *a, struct adm_resp *rs)
{
	json_t *s = NULL;
	int rc = db_rate_render(a->db, &s);

	if (rc < 0) {
		adm_limits_db_error(rs, rc);
		return NULL;
	}
	if (s == NULL && (s = json_object()) == NULL)
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
	return s;
}

/* PUT or DELETE /rate-rules/rules/<name>. */
static void
adm_limits_rule(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs)
{
	json_t *s, *rules, *r, *body = NULL;
	size_t i, at;
	int put = strcmp(rq->method, "PUT") == 0;

	if (!put && strcmp(rq->method, "DELETE") != 0) {
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
		return;
	}
	if (put) {
		body = adm_body_object(rq, rs);
		if (body == NULL)
			return;
		r = json_object_get(body, "name");
		if (r != NULL && (!json_is_string(r) || strcmp(json_string_value(r), name) != 0)) {
			adm_resp_error(rs, 422, "invalid", "the body's name differs from the URL's",
				       "rate_rules/rules/name");
			json_decref(body);
			return;
		}
		json_object_set_new(body, "name", json_string(name));
	}
	s = adm_limits_section(a, rs);
	if (s == NULL) {
		json_decref(body);
		return;
	}
	rules = json_object_get(s, "rules");
	if (rules == NULL) {
		rules = json_array();
		json_object_set_new(s, "rules", rules);
	}
	at = json_array_size(rules);
	json_array_foreach(rules, i, r)
		if (json_is_string(json_object_get(r, "name")) &&
		    strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
			at = i;
	if (!put && at == json_array_size(rules)) {
		adm_resp_error(rs, 404, "not_found", "no rate rule with this name", NULL);
		json_decref(s);
		return;
	}
	if (!put)
		json_array_remove(rules, at);
	else if (at == json_array_size(rules))
		json_array_append(rules, body);
	else
		json_array_set(rules, at, body);
	if (json_array_size(rules) == 0)
		json_object_del(s, "rules");
	adm_limits_store(a, json_object_size(s) ? s : NULL, rs, put ? 200 : 204);
	if (put && rs->status == 200) {	/* answer the rule, not the section */
		json_decref(rs->body);
		rs->body = json_incref(body);
	}
	json_decref(body);
	json_decref(s);
}

/* GET /rate-rules/live: tandemd's "limits" command, as it answers. */
static void
adm_limits_live(struct adm *a, struct adm_resp *rs)
{
	json_t *req = json_pack("{s:s, s:i}", "cmd", "limits", "top", 10), *resp = NULL;
	int rc = req ? ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) : -ENOMEM;

	json_decref(req);
	if (rc < 0 || !json_is_true(json_object_get(resp, "ok"))) {
		json_decref(resp);
		adm_resp_error(rs, 502, "tandemd_unreachable",
			       "tandemd did not answer the limits command", NULL);
		return;
	}
	json_object_del(resp, "ok");
	adm_ok(rs, 200, resp);
}

void
adm_limits_handle(struct adm *a, char *const *segs, size_t nsegs, const struct adm_req *rq,
		  struct adm_resp *rs)
{
	json_t *s;

	if (nsegs == 1 && strcmp(rq->method, "GET") == 0) {
		s = adm_limits_section(a, rs);
		if (s != NULL)
			adm_ok(rs, 200, s);
	} else if (nsegs == 1 && strcmp(rq->method, "PUT") == 0) {
		s = adm_body_object(rq, rs);
		if (s != NULL) {
			adm_limits_store(a, json_object_size(s) ? s : NULL, rs, 200);
			json_decref(s);
		}
	} else if (nsegs == 1) {
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
	} else if (nsegs == 2 && strcmp(segs[1], "live") == 0) {
		if (strcmp(rq->method, "GET") != 0)
			adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
		else
			adm_limits_live(a, rs);
	} else if (nsegs == 3 && strcmp(segs[1], "rules") == 0) {
		adm_limits_rule(a, segs[2], rq, rs);
	} else {
		adm_resp_error(rs, 404, "not_found", "no such resource", NULL);
	}
}
