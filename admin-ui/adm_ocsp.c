/*
 * adm_ocsp - the OCSP response stapled with a certificate (see adm_ocsp.h,
 * doc/tls.md "OCSP stapling"). Checked against the stored certificate with
 * tandemd's own checker (l7_ocsp_check_pem) before it is stored; when the
 * certificate is in use, its file is written at once and tandemd reloads,
 * so a fetcher job that uploads a fresh response every few hours needs no
 * apply.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "adm_api.h"
#include "adm_certfiles.h"
#include "adm_ocsp.h"
#include "conf.h"
#include "ctlc.h"
#include "db.h"
#include "jh.h"
#include "l7_ocsp.h"
#include "log.h"

#define ADM_OCSP_MAX_B64 (96 * 1024)

int
adm_ocsp_b64(const char *in, unsigned char **out, size_t *len)
{
	size_t n = strlen(in), i, m = 0, pad = 0;
	char *clean;
	int got;

	*out = NULL;
	*len = 0;
	if (n > ADM_OCSP_MAX_B64 || (clean = malloc(n + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)in[i]))
			clean[m++] = in[i];
	clean[m] = '\0';
	if (m == 0 || m % 4 != 0 || (*out = malloc(m / 4 * 3 + 1)) == NULL) {
		free(clean);
		return -1;
	}
	got = EVP_DecodeBlock(*out, (const unsigned char *)clean, (int)m);
	pad = (clean[m - 1] == '=') + (m > 1 && clean[m - 2] == '=');
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = (size_t)got - pad;
	return 0;
}

/* STATE/certs/NAME + ext into out. 0 or -1. */
static int
adm_ocsp_path(struct adm *a, const char *name, const char *ext, char *out, size_t len)
{
	char dir[900];

	return adm_certfiles_dir(a, dir, sizeof(dir)) == 0 && conf_tls_file(dir, name, ext, out, len) == 0
	       ? 0 : -1;
}

/* When tandemd uses the certificate (its files are written), brings the
 * .ocsp file in line with the store and asks tandemd to reload. Adds
 * "reloaded" (true/false) and, on failure, "reload_error" to out. */
static void
adm_ocsp_push(struct adm *a, const char *name, const void *der, size_t len, json_t *out)
{
	char crt[1200], file[1200];
	json_t *req = NULL, *resp = NULL;
	const char *err = NULL;
	int rc;

	if (adm_ocsp_path(a, name, ".crt", crt, sizeof(crt)) < 0 ||
	    adm_ocsp_path(a, name, ".ocsp", file, sizeof(file)) < 0 || access(crt, F_OK) != 0) {
		json_object_set_new(out, "reloaded", json_false());	/* not in use: at the next apply */
		return;
	}
	rc = der != NULL ? jh_write_buf_atomic(file, der, len, 0640) : (unlink(file) < 0 && errno != ENOENT ?
									  -errno : 0);
	if (rc < 0) {
		err = "cannot write the OCSP response file";
		log_err("cannot update %s: %s", file, strerror(-rc));
	} else {
		req = json_pack("{s:s}", "cmd", "reload");
		rc = req ? ctlc_call(a->ctl_socket, req, &resp, a->ctl_timeout_ms) : -ENOMEM;
		if (rc < 0)
			err = "tandemd is unreachable; it loads the response at its next reload";
		else if (!json_is_true(json_object_get(resp, "ok")))
			err = "tandemd refused the reload (see its errors; the apply page shows them)";
	}
	json_object_set_new(out, "reloaded", json_boolean(err == NULL));
	if (err != NULL)
		json_object_set_new(out, "reload_error", json_string(err));
	json_decref(req);
	json_decref(resp);
}

static void
adm_ocsp_put(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs,
	     const char *user)
{
	json_t *body = adm_body_object(rq, rs), *cert = NULL, *out = NULL;
	const char *b64, *pem;
	unsigned char *der = NULL;
	struct l7_ocsp_info info;
	char why[400], field[CONF_NAME_MAX + 64];
	size_t len = 0;
	int rc;

	if (body == NULL)
		return;
	snprintf(field, sizeof(field), "certificates/%s/ocsp", name);
	rc = db_cert_get(a->db, name, &cert);
	if (rc < 0) {
		adm_db_error(rs, rc, "certificate", NULL);
		goto out;
	}
	b64 = json_string_value(json_object_get(body, "der_base64"));
	if (json_object_size(body) != 1 || b64 == NULL || adm_ocsp_b64(b64, &der, &len) < 0) {
		adm_resp_error(rs, 422, "invalid", "send {\"der_base64\": \"...\"}: the DER OCSP response, "
			       "base64-encoded", field);
		goto out;
	}
	pem = json_string_value(json_object_get(cert, "cert_pem"));
	if (pem == NULL || l7_ocsp_check_pem(der, len, pem, a->now(), &info, why, sizeof(why)) < 0) {
		adm_resp_error(rs, 422, "invalid", pem ? why : "the certificate has no PEM", field);
		goto out;
	}
	rc = db_ocsp_set(a->db, name, der, len, (long long)info.this_update, (long long)info.next_update,
			 (long long)a->now());
	if (rc == 0)
		rc = db_ocsp_get(a->db, name, NULL, NULL, &out);
	if (rc < 0) {
		adm_db_error(rs, rc, "certificate", NULL);
		goto out;
	}
	log_notice("user \"%s\" uploaded an OCSP response for certificate \"%s\" (next update %lld)", user,
		   name, (long long)info.next_update);
	adm_ocsp_push(a, name, der, len, out);
	adm_ok(rs, 200, out);
out:
	free(der);
	json_decref(cert);
	json_decref(body);
}

void
adm_ocsp_handle(struct adm *a, const char *name, const struct adm_req *rq, struct adm_resp *rs,
		const char *user)
{
	json_t *out = NULL;
	int rc;

	if (strcmp(rq->method, "PUT") == 0) {
		adm_ocsp_put(a, name, rq, rs, user);
	} else if (strcmp(rq->method, "GET") == 0) {
		rc = db_ocsp_get(a->db, name, NULL, NULL, &out);
		if (rc < 0)
			adm_db_error(rs, rc, "OCSP response", NULL);
		else
			adm_ok(rs, 200, out);
	} else if (strcmp(rq->method, "DELETE") == 0) {
		rc = db_ocsp_delete(a->db, name);
		if (rc < 0) {
			adm_db_error(rs, rc, "OCSP response", NULL);
			return;
		}
		log_notice("user \"%s\" removed the OCSP response of certificate \"%s\"", user, name);
		out = json_object();
		if (out != NULL)
			adm_ocsp_push(a, name, NULL, 0, out);
		adm_ok(rs, 200, out);
	} else {
		adm_resp_error(rs, 405, "method_not_allowed", "use GET, PUT or DELETE", NULL);
	}
}

void
adm_ocsp_annotate(struct adm *a, json_t *cert, long long now)
{
	const char *name = json_string_value(json_object_get(cert, "name"));
	json_t *info = NULL;

	if (name == NULL || db_ocsp_get(a->db, name, NULL, NULL, &info) < 0 || info == NULL)
		return;
	json_object_set_new(info, "expired",
			    json_boolean(json_integer_value(json_object_get(info, "next_update")) <= now));
	json_object_set_new(cert, "ocsp", info);
}

int
adm_ocsp_file(struct adm *a, const char *dir, const char *name)
{
	char path[1200];
	void *der = NULL;
	size_t len = 0;
	int rc;

	if (conf_tls_file(dir, name, ".ocsp", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	rc = db_ocsp_get(a->db, name, &der, &len, NULL);
	if (rc == -ENOENT)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	if (rc == 0)
		rc = jh_write_buf_atomic(path, der, len, 0640);
	free(der);
	return rc;
}
