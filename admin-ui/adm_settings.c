/*
 * adm_settings - the candidate's top-level settings: "metrics"
 * ({"address": "127.0.0.1:9145"}, where tandemd serves Prometheus text) and
 * "workers" (L7 threads, 1-256, taken at tandemd's next start) and "tls"
 * ({"ticket_key_lifetime": S}, applied by tandemd at reload).
 *
 *   GET /settings   {"metrics": {...} | null, "workers": N | null, "tls": {...} | null}
 *   PUT /settings   the same shape; a key left out keeps its value, null
 *                   removes it
 *
 * Validation is tandemd's own: the value is parsed by conf_parse inside an
 * otherwise empty config, so the API and tandemd --check agree. Errors name
 * the field "settings/metrics.address". Like any edit it goes to the
 * candidate and takes effect on apply.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_api.h"
#include "adm_settings.h"
#include "conf.h"
#include "db.h"
#include "errs.h"

static const char *const adm_settings_keys[] = { "metrics", "workers", "tls", NULL };

static json_t *
adm_settings_get(struct adm *a)
{
	json_t *out = json_object(), *v;
	size_t i;

	for (i = 0; out != NULL && adm_settings_keys[i] != NULL; i++) {
		if (db_setting_get(a->db, adm_settings_keys[i], &v) < 0) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, adm_settings_keys[i], v ? v : json_null());
	}
	return out;
}

/* Judges the settings in body with conf_parse. 0, or -1 with rs filled. */
static int
adm_settings_check(json_t *body, struct adm_resp *rs)
{
	json_t *cfg = json_pack("{s:i,s:[],s:[],s:[]}", "version", 1, "listeners", "pools",
				"routes");
	const char *k;
	json_t *v;
	struct errs e;
	struct conf *c;
	char *text, field[160], msg[512];
	int rc = 0;

	json_object_foreach(body, k, v) {
		size_t i;

		for (i = 0; adm_settings_keys[i] != NULL; i++)
			if (strcmp(k, adm_settings_keys[i]) == 0)
				break;
		if (adm_settings_keys[i] == NULL) {
			snprintf(field, sizeof(field), "settings/%s", k);
			adm_resp_error(rs, 422, "invalid", "unknown setting (known: metrics, workers, tls)", field);
			json_decref(cfg);
			return -1;
		}
		if (!json_is_null(v))
			json_object_set(cfg, k, v);
	}
	text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
	json_decref(cfg);
	if (text == NULL) {
		adm_resp_error(rs, 500, "internal", "out of memory", NULL);
		return -1;
	}
	errs_init(&e);
	c = conf_parse(text, strlen(text), &e);
	free(text);
	if (c == NULL) {
		const char *path = e.count ? e.items[0].path : "$";

		snprintf(field, sizeof(field), "settings/%s", path[0] == '$' && path[1] == '.' ?
			 path + 2 : path);
		snprintf(msg, sizeof(msg), "%s: %s", field, e.count ? e.items[0].message : "invalid");
		adm_resp_error(rs, 422, "invalid", msg, field);
		rc = -1;
	}
	conf_free(&c);
	errs_release(&e);
	return rc;
}

void
adm_settings_handle(struct adm *a, const struct adm_req *rq, struct adm_resp *rs)
{
	json_error_t je;
	json_t *body = NULL, *out;
	const char *k;
	json_t *v;
	int rc = 0;

	if (strcmp(rq->method, "PUT") == 0) {
		body = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(body)) {
			adm_resp_error(rs, 400, "bad_request", "the body must be a JSON object such as "
				       "{\"metrics\": {\"address\": \"127.0.0.1:9145\"}}", NULL);
			goto out;
		}
		if (adm_settings_check(body, rs) < 0)
			goto out;
		if (db_tx_begin(a->db) < 0) {
			adm_resp_error(rs, 503, "busy", "the database is busy, try again", NULL);
			goto out;
		}
		json_object_foreach(body, k, v)
			if (rc == 0)
				rc = db_setting_set(a->db, k, v);
		if (db_tx_end(a->db, rc == 0) < 0 || rc < 0) {
			adm_resp_error(rs, 500, "internal", "could not store the settings", NULL);
			goto out;
		}
	} else if (strcmp(rq->method, "GET") != 0) {
		adm_resp_error(rs, 405, "method_not_allowed", "method not allowed here", NULL);
		goto out;
	}
	out = adm_settings_get(a);
	if (out == NULL) {
		adm_resp_error(rs, 500, "internal", "could not read the settings", NULL);
		goto out;
	}
	json_decref(rs->body);
	rs->status = 200;
	rs->body = out;
out:
	json_decref(body);
}
