/*
 * adm_syncstore - certificates and CA bundles travel with a pushed revision
 * (adm_syncstore.h). Only what the revision names: the push stays small
 * (the peer's API body limit is 1 MiB) and bounded by the config.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "adm_certfiles.h"
#include "adm_ocsp.h"
#include "adm_syncstore.h"
#include "db.h"

struct adm_syncstore_ctx {
	struct db *db;
	json_t *certs, *cas;
	int rc;
};

/* {der_base64, this_update, next_update, uploaded_at} or NULL (none). */
static json_t *
adm_syncstore_ocsp(struct db *db, const char *name)
{
	void *der = NULL;
	size_t len = 0;
	json_t *info = NULL, *o = NULL;
	char *b64;

	if (db_ocsp_get(db, name, &der, &len, &info) < 0)
		return NULL;
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (b64 != NULL) {
		EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
		o = json_pack("{s:s, s:O, s:O, s:O}", "der_base64", b64,
			      "this_update", json_object_get(info, "this_update"),
			      "next_update", json_object_get(info, "next_update"),
			      "uploaded_at", json_object_get(info, "uploaded_at"));
	}
	free(b64);
	free(der);
	json_decref(info);
	return o;
}

static int
adm_syncstore_one(void *arg, const char *name, int ca, const char *path)
{
	struct adm_syncstore_ctx *x = arg;
	json_t *o = NULL, *ocsp;
	char *cert = NULL, *key = NULL;
	int rc;

	(void)path;
	if (json_object_get(ca ? x->cas : x->certs, name) != NULL)
		return 0;
	rc = ca ? db_ca_get(x->db, name, &o) : db_cert_get(x->db, name, &o);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && !ca)
		rc = db_cert_pem(x->db, name, &cert, &key);
	if (rc == 0 && !ca) {
		json_object_set_new(o, "key_pem", json_string(key));
		if ((ocsp = adm_syncstore_ocsp(x->db, name)) != NULL)
			json_object_set_new(o, "ocsp", ocsp);
	}
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(cert);
	if (rc == 0) {
		json_object_del(o, "name");
		rc = json_object_set_new(ca ? x->cas : x->certs, name, o) < 0 ? -ENOMEM : 0;
	} else {
		json_decref(o);
	}
	return x->rc = rc;
}

json_t *
adm_syncstore_collect(struct db *db, const json_t *cfg)
{
	struct adm_syncstore_ctx x = { db, json_object(), json_object(), 0 };
	json_t *stores = json_pack("{s:o, s:o}", "certificates", x.certs, "ca_bundles", x.cas);

	if (stores == NULL)
		return NULL;
	if (adm_certfiles_each(cfg, adm_syncstore_one, &x) < 0 || x.rc < 0) {
		adm_syncstore_free(stores);
		return NULL;
	}
	return stores;
}

void
adm_syncstore_wipe(json_t *stores)
{
	const char *name;
	json_t *c, *k;

	if (!json_is_object(stores))
		return;
	json_object_foreach(json_object_get(stores, "certificates"), name, c) {
		k = json_object_get(c, "key_pem");
		if (json_is_string(k))
			explicit_bzero((char *)json_string_value(k), json_string_length(k));
	}
}

void
adm_syncstore_free(json_t *stores)
{
	adm_syncstore_wipe(stores);
	json_decref(stores);
}

#define S(o, k) json_string_value(json_object_get(o, k))
#define I(o, k) json_integer_value(json_object_get(o, k))

static int
adm_syncstore_cert(struct db *db, const char *name, const json_t *o)
{
	const json_t *ocsp = json_object_get(o, "ocsp");
	char *sans = json_dumps(json_object_get(o, "sans"), JSON_COMPACT);
	struct db_cert c = {
		.name = name, .cert_pem = S(o, "cert_pem"), .key_pem = S(o, "key_pem"),
		.subject = S(o, "subject"), .issuer = S(o, "issuer"), .sans = sans,
		.key_type = S(o, "key_type"), .key_bits = (long)I(o, "key_bits"),
		.not_before = I(o, "not_before"), .not_after = I(o, "not_after"),
		.fingerprint = S(o, "fingerprint"), .chain_length = (long)I(o, "chain_length"),
		.created_at = I(o, "created_at"),
	};
	unsigned char *der = NULL;
	size_t len = 0;
	int rc;

	if (sans == NULL)
		return -ENOMEM;
	rc = db_cert_delete(db, name);	/* with its key and OCSP response */
	if (rc == 0 || rc == -ENOENT)
		rc = db_cert_add(db, &c);
	free(sans);
	if (rc < 0 || ocsp == NULL)
		return rc;
	if (adm_ocsp_b64(S(ocsp, "der_base64"), &der, &len) < 0)
		return -EINVAL;
	rc = db_ocsp_set(db, name, der, len, I(ocsp, "this_update"), I(ocsp, "next_update"),
			 I(ocsp, "uploaded_at"));
	free(der);
	return rc;
}

static int
adm_syncstore_ca(struct db *db, const char *name, const json_t *o)
{
	char *subjects = json_dumps(json_object_get(o, "subjects"), JSON_COMPACT);
	struct db_ca c = {
		.name = name, .pem = S(o, "pem"), .subjects = subjects, .count = (long)I(o, "count"),
		.not_after = I(o, "not_after"), .fingerprint = S(o, "fingerprint"),
		.created_at = I(o, "created_at"),
	};
	int rc;

	if (subjects == NULL)
		return -ENOMEM;
	rc = db_ca_delete(db, name);
	if (rc == 0 || rc == -ENOENT)
		rc = db_ca_add(db, &c);
	free(subjects);
	return rc;
}

int
adm_syncstore_save(struct db *db, const json_t *stores)
{
	const char *name;
	json_t *o;
	int rc;

	json_object_foreach((json_t *)json_object_get(stores, "certificates"), name, o)
		if ((rc = adm_syncstore_cert(db, name, o)) < 0)
			return rc;
	json_object_foreach((json_t *)json_object_get(stores, "ca_bundles"), name, o)
		if ((rc = adm_syncstore_ca(db, name, o)) < 0)
			return rc;
	return 0;
}
