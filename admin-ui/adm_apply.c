/*
 * adm_apply - the apply pipeline of DESIGN.md "How a change flows":
 * validate the candidate (the daemon's own conf_parse), commit it as a
 * revision in one transaction, render it to the config file atomically, ask
 * tandemd to reload, and record the verdict on the revision.
 *
 * Invariant: after every apply, the config file holds the newest applied
 * revision's content, so a tandemd restart never picks up a refused config.
 * A revision stays 'pending' only while an apply is in flight; adm_reconcile
 * settles those left by a crash.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adm_api.h"
#include "adm_apply.h"
#include "adm_syncstore.h"
#include "adm_certfiles.h"
#include "adm_vrrp.h"
#include "adm_l4.h"
#include "adm_sync.h"
#include "conf.h"
#include "ctlc.h"
#include "db.h"
#include "db_pair.h"
#include "errs.h"
#include "jh.h"
#include "log.h"

#define ADM_CONFIG_MODE 0640

char *
adm_empty_config_text(void)
{
	json_t *cfg = json_pack("{s:i, s:i, s:[], s:[], s:[]}", "version", 1, "revision", 0,
				"listeners", "pools", "routes");
	char *t = cfg ? jh_dump_canonical(cfg) : NULL;

	json_decref(cfg);
	return t;
}

/* Reads one ".key" or "[n]" step of a JSON path. Returns 1 for a key (in
 * key), 2 for an index (in *idx), 0 at the end, -1 on garbage. */
static int
adm_path_step(const char **pp, char *key, size_t keylen, size_t *idx)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '\0')
		return 0;
	if (*p == '.') {
		p++;
		while (isalnum((unsigned char)*p) || *p == '_') {
			if (n + 1 < keylen)
				key[n++] = *p;
			p++;
		}
		key[n] = '\0';
		*pp = p;
		return n > 0 ? 1 : -1;
	}
	if (*p == '[') {
		char *end;

		*idx = strtoul(p + 1, &end, 10);
		if (end == p + 1 || *end != ']')
			return -1;
		*pp = end + 1;
		return 2;
	}
	return -1;
}

char *
adm_field_of_path(const json_t *config, const char *path)
{
	char key[64], field[512], mkey[128];
	const json_t *obj;
	const char *p = path, *name;
	size_t idx = 0;
	size_t len;
	int t;

	if (path == NULL || path[0] != '$')
		return NULL;
	p++;
	t = adm_path_step(&p, key, sizeof(key), &idx);
	if (t != 1)
		return NULL;
	if (strcmp(key, "vrrp") == 0)
		return adm_vrrp_field_of_path(config, p);
	if (strcmp(key, "l4") == 0)
		return adm_l4_field_of_path(config, p);
	if (strcmp(key, "listeners") != 0 && strcmp(key, "pools") != 0 &&
	    strcmp(key, "routes") != 0)
		return strdup(key);	/* "$.version" -> "version" */
	snprintf(field, sizeof(field), "%s", key);
	t = adm_path_step(&p, key, sizeof(key), &idx);
	if (t != 2)
		return t == 0 ? strdup(field) : NULL;
	obj = json_array_get(json_object_get(config, field), idx);
	name = json_string_value(json_object_get(obj, "name"));
	if (name == NULL)
		return NULL;
	len = strlen(field);
	snprintf(field + len, sizeof(field) - len, "/%s", name);
	t = adm_path_step(&p, key, sizeof(key), &idx);
	if (t == 1 && strcmp(key, "members") == 0 && json_object_get(obj, "members") != NULL) {
		len = strlen(field);
		snprintf(field + len, sizeof(field) - len, "/members");
		t = adm_path_step(&p, key, sizeof(key), &idx);
		if (t == 2) {
			const json_t *m = json_array_get(json_object_get(obj, "members"), idx);
			const char *addr = json_string_value(json_object_get(m, "address"));

			if (addr == NULL)
				return NULL;
			adm_member_key(addr, (long)json_integer_value(json_object_get(m, "port")),
				       mkey, sizeof(mkey));
			len = strlen(field);
			snprintf(field + len, sizeof(field) - len, "/%s", mkey);
			t = adm_path_step(&p, key, sizeof(key), &idx);
		}
	}
	if (t == 1) {
		len = strlen(field);
		snprintf(field + len, sizeof(field) - len, "/%s", key);
	}
	return strdup(field);
}

json_t *
adm_errors_translate(const json_t *config, const json_t *errors)
{
	json_t *out = json_array();
	const json_t *e;
	size_t i;

	if (out == NULL)
		return NULL;
	json_array_foreach(errors, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		char *field = adm_field_of_path(config, path);

		json_array_append_new(out, json_pack("{s:s?, s:s, s:s}", "field", field,
						     "path", path ? path : "$",
						     "message", msg ? msg : "invalid"));
		free(field);
	}
	return out;
}

/* Fills rs with a 422/503 verdict carrying translated errors. */
static void
adm_verdict_errors(struct adm_resp *rs, unsigned status, const char *code, const char *msg,
		   json_t *translated, long revision)
{
	const char *field = json_string_value(json_object_get(json_array_get(translated, 0), "field"));
	char text[512];
	const char *first = json_string_value(json_object_get(json_array_get(translated, 0), "message"));

	if (first != NULL && status == 422)
		snprintf(text, sizeof(text), "%s: %s", msg, first);
	else
		snprintf(text, sizeof(text), "%s", msg);
	adm_resp_error(rs, status, code, text, field);
	json_object_set_new(rs->body, "errors", translated);
	if (revision > 0)
		json_object_set_new(rs->body, "revision", json_integer(revision));
}

/* Puts the newest applied revision (or an empty config) back in the file. */
static int
adm_restore_file(struct adm *a)
{
	char *text = NULL;
	long n;
	int rc;

	rc = db_revision_running(a->db, &n, &text);
	if (rc == -ENOENT)
		text = adm_empty_config_text();
	else if (rc < 0)
		return rc;
	if (text == NULL)
		return -ENOMEM;
	rc = jh_write_file_atomic(a->config_file, text, ADM_CONFIG_MODE);
	if (rc < 0)
		log_err("cannot restore %s: %s", a->config_file, strerror(-rc));
	free(text);
	return rc;
}

/* 503 "busy" for a locked database, else 500 "internal", with msg. */
static void
adm_internal(struct adm_resp *rs, int rc, const char *msg)
{
	adm_resp_error(rs, rc == -EAGAIN ? 503 : 500, rc == -EAGAIN ? "busy" : "internal", msg, NULL);
}

/* A one-element error list: message prefix followed by detail. */
static json_t *
adm_one_error(const char *path, const char *prefix, const char *detail)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s%s", prefix, detail ? detail : "");
	return json_pack("[{s:s, s:s}]", "path", path, "message", msg);
}

/* Steps 3 and 4 of an apply for committed revision n (content, its parsed
 * cfg): write the file, ask tandemd, record the verdict, fill rs. */
static void
adm_apply_run(struct adm *a, long n, const char *content, json_t *cfg, const char *author,
	      struct adm_resp *rs)
{
	json_t *req = NULL, *resp = NULL, *errs_json = NULL;
	int rc;

	/* 3. Render to the file tandemd reads. */
	rc = jh_write_file_atomic(a->config_file, content, ADM_CONFIG_MODE);
	if (rc < 0) {
		errs_json = adm_one_error("$", "cannot write the config file: ", strerror(-rc));
		db_revision_set_status(a->db, n, "failed", errs_json);
		log_err("apply revision %ld: cannot write %s: %s", n, a->config_file, strerror(-rc));
		adm_resp_error(rs, 500, "write_failed", "cannot write the config file", NULL);
		json_object_set_new(rs->body, "revision", json_integer(n));
		goto out;
	}

	/* 4. Ask tandemd; its verdict decides the revision's status. */
	req = json_pack("{s:s}", "cmd", "reload");
	rc = req ? ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) : -ENOMEM;
	if (rc < 0) {
		errs_json = adm_one_error("$", "tandemd is unreachable: ", strerror(-rc));
		db_revision_set_status(a->db, n, "failed", errs_json);
		adm_restore_file(a);
		log_warn("apply revision %ld: tandemd unreachable (%s)", n, strerror(-rc));
		adm_verdict_errors(rs, 503, "daemon_unavailable", "tandemd is unreachable",
				   adm_errors_translate(cfg, errs_json), n);
		goto out;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		errs_json = json_incref(json_object_get(resp, "errors"));
		if (!json_is_array(errs_json)) {
			json_decref(errs_json);
			errs_json = adm_one_error("$", "", json_string_value(json_object_get(resp, "error")) ?
						  json_string_value(json_object_get(resp, "error")) :
						  "refused by tandemd");
		}
		db_revision_set_status(a->db, n, "failed", errs_json);
		adm_restore_file(a);
		log_notice("apply revision %ld by %s: refused by tandemd", n, author);
		adm_verdict_errors(rs, 422, "invalid", "tandemd refused the configuration",
				   adm_errors_translate(cfg, errs_json), n);
		goto out;
	}
	rc = db_revision_set_status(a->db, n, "applied", NULL);
	if (rc < 0) {
		adm_internal(rs, rc, "internal error during apply");
		goto out;
	}
	adm_certfiles_prune(a, cfg);
	log_notice("apply revision %ld by %s: applied, generation %lld", n, author,
		   (long long)json_integer_value(json_object_get(resp, "generation")));
	rs->status = 200;
	rs->body = json_pack("{s:I, s:s, s:O}", "revision", (json_int_t)n, "status", "applied",
			     "generation", json_object_get(resp, "generation") ?
			     json_object_get(resp, "generation") : json_null());
out:
	json_decref(req);
	json_decref(resp);
	json_decref(errs_json);
}

/* Step 1 for a config text: the daemon's own parser (one validator for
 * both), then the certificate files for tandemd (before the revision exists,
 * so a listener naming an unknown certificate is refused like any error).
 * *cfg is the text as JSON (NULL if it is none). Returns 0 when valid, 1
 * when the parser refused it, else adm_certfiles_write's error (-ENOENT: no
 * such certificate); *errs_json holds the errors, if any. */
static int
adm_check_text(struct adm *a, const char *text, size_t len, json_t **cfg, json_t **errs_json)
{
	struct errs errs;
	struct conf *c;
	int rc;

	*errs_json = NULL;
	*cfg = json_loads(text, 0, NULL);
	errs_init(&errs);
	c = conf_parse(text, len, &errs);
	if (c == NULL)
		*errs_json = errs_to_json(&errs);
	rc = c == NULL ? 1 : *cfg == NULL ? -ENOMEM : adm_certfiles_write(a, *cfg, errs_json);
	conf_free(&c);
	errs_release(&errs);
	return rc;
}

void
adm_apply(struct adm *a, const char *author, const char *comment, struct adm_resp *rs)
{
	json_t *cfg = NULL, *errs_json = NULL;
	char *text = NULL, *content = NULL;
	long n = 0;
	int rc;

	/* 1. Validate (the daemon's parser, the certificate files). */
	rc = db_candidate_text(a->db, 0, &text);
	if (rc < 0)
		goto internal;
	rc = adm_check_text(a, text, strlen(text), &cfg, &errs_json);
	if (rc == 1 || rc == -ENOENT) {
		adm_verdict_errors(rs, 422, "invalid", "the candidate is invalid",
				   adm_errors_translate(cfg, errs_json), 0);
		goto out;
	}
	if (rc < 0) {
		log_err("apply: cannot write the certificate files: %s", strerror(-rc));
		adm_resp_error(rs, 500, "write_failed", "cannot write the certificate files", NULL);
		goto out;
	}
	json_decref(cfg);

	/* 2. Commit the revision (number, author, time, content) at once. */
	rc = db_revision_commit(a->db, author, comment, (long long)a->now(), &n, &content);
	if (rc < 0)
		goto internal;
	cfg = json_loads(content, 0, NULL);

	adm_apply_run(a, n, content, cfg, author, rs);
	if (rs->status == 200)
		adm_sync_kick(a->sync);	/* the pair's other node gets it now */
	goto out;
internal:
	adm_internal(rs, rc, "internal error during apply");
out:
	json_decref(cfg);
	json_decref(errs_json);
	free(text);
	free(content);
}

void
adm_apply_pushed(struct adm *a, long n, const char *author, long long created_at,
		 const char *comment, const json_t *shared, const json_t *stores, struct adm_resp *rs)
{
	json_t *cfg = NULL, *errs_json = NULL;
	char *text = NULL;
	int rc;

	/* The pushed config has no per-node fields: loading it keeps ours
	 * (vrrp.local, l4.sync), and the render gives this node's content. */
	rc = db_tx_begin(a->db);
	if (rc < 0)
		goto internal;
	rc = db_candidate_load(a->db, shared);
	if (rc == 0 && stores != NULL)	/* before the files are written from the store */
		rc = adm_syncstore_save(a->db, stores);
	if (rc == 0)
		rc = db_candidate_text(a->db, n, &text);
	if (rc == 0 && adm_check_text(a, text, strlen(text), &cfg, &errs_json) == -ENOMEM)
		rc = -ENOMEM;	/* any other refusal is kept in errs_json */
	if (rc == 0)
		rc = db_revision_insert(a->db, n, author, created_at, comment,
					errs_json ? "failed" : "pending", text);
	if (rc == 0 && errs_json != NULL)
		rc = db_revision_set_status(a->db, n, "failed", errs_json);
	if (db_tx_end(a->db, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		goto internal;
	if (errs_json != NULL) {
		/* Kept under its number (the pair's numbering stays one), not run. */
		log_warn("synced revision %ld by %s: refused here: %s", n, author,
			 json_string_value(json_object_get(json_array_get(errs_json, 0), "message")));
		adm_verdict_errors(rs, 422, "invalid", "this node cannot run the revision",
				   adm_errors_translate(cfg, errs_json), n);
		errs_json = NULL;
		goto out;
	}
	adm_apply_run(a, n, text, cfg, author, rs);
	goto out;
internal:
	adm_internal(rs, rc, "internal error while storing a synced revision");
out:
	json_decref(cfg);
	json_decref(errs_json);
	free(text);
}

char *
adm_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			nb = cap <= CONF_MAX_FILE ? realloc(buf, cap) : NULL;
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Prints an error list to stderr, a line each: LEAD, SEP, path: message. */
static void
adm_print_errors(const char *lead, const char *sep, const json_t *errors)
{
	const json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
		fprintf(stderr, "%s%s%s: %s\n", lead, sep, json_string_value(json_object_get(e, "path")),
			json_string_value(json_object_get(e, "message")));
}

int
adm_import(struct adm *a, const char *file)
{
	json_t *cfg = NULL, *req = NULL, *resp = NULL, *errs_json = NULL;
	char *text, *content = NULL, comment[512];
	size_t len = 0;
	long n;
	int rc = -1, chk;

	text = adm_read_file(file, &len);
	if (text == NULL) {
		fprintf(stderr, "tandem-admin: cannot read %s: %s\n", file, strerror(errno));
		return -1;
	}
	chk = adm_check_text(a, text, len, &cfg, &errs_json);
	if (chk == 1) {
		adm_print_errors(file, ": ", errs_json);
		goto out;
	}
	if (chk < 0 && cfg != NULL) {
		fprintf(stderr, "tandem-admin: %s names certificates that cannot be written:\n", file);
		adm_print_errors("  ", "", errs_json);
		goto out;
	}
	if (cfg == NULL || db_candidate_load(a->db, cfg) < 0) {
		fprintf(stderr, "tandem-admin: cannot load %s into the candidate\n", file);
		goto out;
	}
	snprintf(comment, sizeof(comment), "imported from %s", file);
	if (db_revision_commit(a->db, "import", comment, (long long)a->now(), &n, &content) < 0 ||
	    jh_write_file_atomic(a->config_file, content, ADM_CONFIG_MODE) < 0) {
		fprintf(stderr, "tandem-admin: cannot commit or write the imported config\n");
		goto out;
	}
	req = json_pack("{s:s}", "cmd", "reload");
	if (ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) < 0) {
		/* Not running: the file is in place and tandemd loads it at
		 * start, so this revision is the one that will run. */
		db_revision_set_status(a->db, n, "applied", NULL);
		log_notice("imported %s as revision %ld (tandemd not running; it loads the file at start)",
			   file, n);
		rc = 0;
	} else if (json_is_true(json_object_get(resp, "ok"))) {
		db_revision_set_status(a->db, n, "applied", NULL);
		log_notice("imported %s as revision %ld, applied", file, n);
		rc = 0;
	} else {
		json_t *arr = json_object_get(resp, "errors");

		db_revision_set_status(a->db, n, "failed", arr);
		adm_restore_file(a);
		fprintf(stderr, "tandem-admin: tandemd refused %s:\n", file);
		adm_print_errors("  ", "", arr);
	}
out:
	json_decref(cfg);
	json_decref(errs_json);
	json_decref(req);
	json_decref(resp);
	free(text);
	free(content);
	return rc;
}

void
adm_reconcile(struct adm *a)
{
	json_t *pending = NULL, *req = NULL, *st = NULL, *v, *errs_json;
	long running_rev = -1;
	int restore = 0;
	struct stat sb;
	size_t i;

	if (db_revision_pending(a->db, &pending) == 0 && json_array_size(pending) > 0) {
		req = json_pack("{s:s}", "cmd", "status");
		if (ctlc_call(a->ctl_socket, req, &st, a->ctl_timeout_ms) == 0 &&
		    json_is_true(json_object_get(st, "ok")))
			running_rev = (long)json_integer_value(json_object_get(st, "revision"));
		errs_json = adm_one_error("$", "", "interrupted: tandem-admin stopped during the apply");
		json_array_foreach(pending, i, v) {
			long n = (long)json_integer_value(v);

			if (n == running_rev) {
				db_revision_set_status(a->db, n, "applied", NULL);
				log_notice("revision %ld was applied before a restart", n);
			} else {
				db_revision_set_status(a->db, n, "failed", errs_json);
				log_warn("revision %ld was interrupted; marked failed", n);
				restore = 1;
			}
		}
		json_decref(errs_json);
	}
	if (restore || stat(a->config_file, &sb) < 0)
		adm_restore_file(a);
	json_decref(pending);
	json_decref(req);
	json_decref(st);
}
