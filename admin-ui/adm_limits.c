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
#include "adm_limits.h"
#include "conf.h"
#include "ctlc.h"
#include "db.h"
#include "errs.h"
#include "jh.h"

/* The API field of a validator path under "$.rate_rules", in the style of
 * the other objects: "rate_rules/rules/<name>/limit.period_s" for a rule
 * (by name, when it has one), "rate_rules/waf.deny_patterns[0].regex" for
 * the rest. New string or NULL. */
static char *
adm_limits_field(const json_t *section, const char *path)
{
	const char *rest = path + strlen("$.rate_rules"), *name, *end;
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

/* conf_parse on the candidate with section (borrowed; NULL = none) as its
 * rate_rules. Returns a new array of {field, message} for the problems under
 * $.rate_rules (empty when clean), or NULL on an internal error. */
static json_t *
adm_limits_judge(struct adm *a, json_t *section)
{
	json_t *cfg = NULL, *raw = NULL, *out = NULL, *e;
	struct errs errs;
	struct conf *c;
	char *text = NULL;
	size_t i;

	errs_init(&errs);
	if (db_candidate_render(a->db, 0, &cfg) < 0)
		goto out;
	if (section != NULL ? json_object_set(cfg, "rate_rules", section) < 0
			    : (json_object_del(cfg, "rate_rules"), 0))
		goto out;
	if ((text = jh_dump_canonical(cfg)) == NULL)
		goto out;
	out = json_array();
	c = conf_parse(text, strlen(text), &errs);
	if (c != NULL) {
		conf_free(&c);
		goto out;
	}
	raw = errs_to_json(&errs);
	json_array_foreach(raw, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		char *field;

		/* other objects' problems are apply's to report, not this edit's */
		if (path == NULL || strncmp(path, "$.rate_rules", 12) != 0)
			continue;
		field = adm_limits_field(section, path);
		json_array_append_new(out, json_pack("{s:s, s:O}", "field", field ? field : "rate_rules",
						     "message", json_object_get(e, "message")));
		free(field);
	}
out:
	errs_release(&errs);
	json_decref(raw);
	json_decref(cfg);
	free(text);
	return out;
}

static void
adm_limits_ok(struct adm_resp *rs, unsigned status, json_t *body)
{
	json_decref(rs->body);
	rs->status = status;
	rs->body = body;
	if (body == NULL && status != 204)
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
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
	json_t *errors = adm_limits_judge(a, section), *first;
	char msg[512];
	int rc;

	if (errors == NULL) {
		adm_resp_error(rs, 500, "internal", "internal error", NULL);
		return;
	}
	first = json_array_get(errors, 0);
	if (first != NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", json_string_value(json_object_get(first, "field")),
			 json_string_value(json_object_get(first, "message")));
		adm_resp_error(rs, 422, "invalid", msg, json_string_value(json_object_get(first, "field")));
		json_object_set_new(rs->body, "errors", errors);
		return;
	}
	json_decref(errors);
	rc = db_rate_load(a->db, section);
	if (rc < 0) {
		adm_limits_db_error(rs, rc);
		return;
	}
	adm_limits_ok(rs, status, status == 204 ? NULL : section ? json_deep_copy(section) : json_object());
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

static json_t *
adm_limits_body(const struct adm_req *rq, struct adm_resp *rs)
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
		body = adm_limits_body(rq, rs);
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
	adm_limits_ok(rs, 200, resp);
}

void
adm_limits_handle(struct adm *a, char *const *segs, size_t nsegs, const struct adm_req *rq,
		  struct adm_resp *rs)
{
	json_t *s;

	if (nsegs == 1 && strcmp(rq->method, "GET") == 0) {
		s = adm_limits_section(a, rs);
		if (s != NULL)
			adm_limits_ok(rs, 200, s);
	} else if (nsegs == 1 && strcmp(rq->method, "PUT") == 0) {
		s = adm_limits_body(rq, rs);
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
