/*
 * adm_cert - validation of uploaded TLS certificates and keys.
 *
 * Everything an operator can get wrong in an upload is refused here with a
 * sentence that says what to fix: malformed PEM, an encrypted or unsupported
 * key, a key that does not belong to the leaf, a chain out of order or with
 * a link that does not verify. The stored forms are re-encoded by OpenSSL,
 * so what tandemd later loads is exactly what was checked. The private key
 * is never copied into an error message or a log line, and every buffer
 * that held it is wiped (OPENSSL_clear_free / explicit_bzero).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "adm_cert.h"

static void
adm_cert_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A memory BIO's content as a new string. */
static char *
adm_bio_str(BIO *b)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *
adm_name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		s = adm_bio_str(b);
	BIO_free(b);
	return s;
}

/* Never prompt for a passphrase: an encrypted key fails to load. */
static int
adm_no_pass(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	*(int *)u = 1;
	return -1;
}

static int
adm_time(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

/* "DNS:..." and "IP:..." subject alternative names as JSON array text. */
static char *
adm_sans(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	json_t *arr = json_array();
	char *s = NULL;
	int i;

	for (i = 0; arr != NULL && gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char buf[300];

		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *d = g->d.dNSName;

			snprintf(buf, sizeof(buf), "DNS:%.*s", d->length, (const char *)d->data);
			json_array_append_new(arr, json_string(buf));
		} else if (g->type == GEN_IPADD) {
			char *ip = NULL;
			ASN1_OCTET_STRING *o = g->d.iPAddress;
			BIO *b = BIO_new(BIO_s_mem());

			if (b != NULL && (o->length == 4 || o->length == 16)) {
				GENERAL_NAME_print(b, (GENERAL_NAME *)g);
				ip = adm_bio_str(b);
			}
			/* GENERAL_NAME_print writes "IP Address:x"; keep our form. */
			if (ip != NULL && strncmp(ip, "IP Address:", 11) == 0) {
				snprintf(buf, sizeof(buf), "IP:%s", ip + 11);
				json_array_append_new(arr, json_string(buf));
			}
			free(ip);
			BIO_free(b);
		}
	}
	GENERAL_NAMES_free(gens);
	if (arr != NULL)
		s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Reads every certificate of pem; 0, or -EINVAL with err set. */
static int
adm_read_chain(const char *pem, STACK_OF(X509) *chain, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	int rc = -EINVAL;
	X509 *x;

	if (b == NULL)
		return -ENOMEM;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(chain) == ADM_CERT_CHAIN_MAX) {
			X509_free(x);
			adm_cert_err(err, errlen, "the chain has more than %d certificates", ADM_CERT_CHAIN_MAX);
			goto out;
		}
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			rc = -ENOMEM;
			goto out;
		}
	}
	/* The loop ends on "no start line" at the end of the input; any other
	 * error is a broken block. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		adm_cert_err(err, errlen, "malformed PEM: certificate %d cannot be decoded",
			     sk_X509_num(chain) + 1);
		goto out;
	}
	if (sk_X509_num(chain) == 0) {
		adm_cert_err(err, errlen, "no PEM certificate (-----BEGIN CERTIFICATE-----) found");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

/* Reads the private key; 0, or -EINVAL with err set. */
static int
adm_read_key(const char *pem, EVP_PKEY **out, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	int asked = 0;

	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	ERR_clear_error();
	*out = PEM_read_bio_PrivateKey(b, NULL, adm_no_pass, &asked);
	ERR_clear_error();
	BIO_free(b);
	if (*out != NULL)
		return 0;
	if (asked)
		adm_cert_err(err, errlen, "the private key is encrypted; upload it without a passphrase");
	else if (strstr(pem, "-----BEGIN") == NULL)
		adm_cert_err(err, errlen, "no PEM private key (-----BEGIN PRIVATE KEY-----) found");
	else
		adm_cert_err(err, errlen, "malformed PEM: the private key cannot be decoded");
	return -EINVAL;
}

/* Key type and size; -EINVAL for what tandemd will not serve. */
static int
adm_key_kind(EVP_PKEY *k, struct adm_cert_info *info, char *err, size_t errlen)
{
	char group[64];
	size_t glen = 0;

	info->key_bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_is_a(k, "RSA")) {
		info->key_type = "RSA";
		if (info->key_bits < 2048) {
			adm_cert_err(err, errlen, "RSA keys must have at least 2048 bits (this one has %ld)",
				     info->key_bits);
			return -EINVAL;
		}
		return 0;
	}
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &glen) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0)) {
		info->key_type = "ECDSA";
		return 0;
	}
	adm_cert_err(err, errlen, "unsupported key type: use RSA (2048 bits or more) or ECDSA P-256/P-384");
	return -EINVAL;
}

/* Checks that chain[i] is issued by chain[i + 1] for every link. */
static int
adm_check_links(STACK_OF(X509) *chain, char *err, size_t errlen)
{
	int n = sk_X509_num(chain), i, j;

	for (i = 0; i + 1 < n; i++) {
		X509 *c = sk_X509_value(chain, i), *up = sk_X509_value(chain, i + 1);
		EVP_PKEY *upk = X509_get0_pubkey(up);

		if (X509_check_issued(up, c) == X509_V_OK && upk != NULL && X509_verify(c, upk) == 1)
			continue;
		/* Say "out of order" when the issuer is elsewhere in the upload. */
		for (j = 0; j < n; j++) {
			X509 *o = sk_X509_value(chain, j);

			if (j != i && X509_check_issued(o, c) == X509_V_OK &&
			    X509_verify(c, X509_get0_pubkey(o)) == 1) {
				adm_cert_err(err, errlen, "the chain is out of order: certificate %d is issued by "
					     "certificate %d, but each certificate must be followed by its "
					     "issuer (leaf first)", i + 1, j + 1);
				return -EINVAL;
			}
		}
		adm_cert_err(err, errlen, "the chain does not verify: certificate %d is not signed by "
			     "certificate %d that follows it", i + 1, i + 2);
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

static char *
adm_chain_pem(STACK_OF(X509) *chain)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	int i;

	for (i = 0; b != NULL && i < sk_X509_num(chain); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(chain, i)))
			goto out;
	if (b != NULL)
		s = adm_bio_str(b);
out:
	BIO_free(b);
	return s;
}

/* The key as unencrypted PKCS#8; the BIO's buffer is wiped on free. */
static char *
adm_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *s = NULL;

	if (b == NULL)
		b = BIO_new(BIO_s_mem());
	if (b != NULL && PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		s = adm_bio_str(b);
	BIO_free(b);
	return s;
}

int
adm_cert_check(const char *cert_pem, const char *key_pem, struct adm_cert_info *info,
	       char *err, size_t errlen, const char **field)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	EVP_PKEY *key = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	X509 *leaf;
	int rc;

	memset(info, 0, sizeof(*info));
	err[0] = '\0';
	*field = "cert_pem";
	if (chain == NULL)
		return -ENOMEM;
	rc = adm_read_chain(cert_pem, chain, err, errlen);
	if (rc < 0)
		goto out;
	*field = "key_pem";
	rc = adm_read_key(key_pem, &key, err, errlen);
	if (rc < 0)
		goto out;
	rc = adm_key_kind(key, info, err, errlen);
	if (rc < 0)
		goto out;
	leaf = sk_X509_value(chain, 0);
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
		adm_cert_err(err, errlen, "the private key does not match the certificate (the first "
			     "certificate of the chain must be the one the key belongs to)");
		rc = -EINVAL;
		goto out;
	}
	*field = "cert_pem";
	rc = adm_check_links(chain, err, errlen);
	if (rc < 0)
		goto out;
	if (adm_time(X509_get0_notBefore(leaf), &info->not_before) < 0 ||
	    adm_time(X509_get0_notAfter(leaf), &info->not_after) < 0) {
		adm_cert_err(err, errlen, "the certificate's validity dates cannot be read");
		rc = -EINVAL;
		goto out;
	}
	rc = -ENOMEM;
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen) != 1)
		goto out;
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(info->fingerprint + 2 * i, 3, "%02x", md[i]);
	info->chain_length = sk_X509_num(chain);
	info->subject = adm_name_str(X509_get_subject_name(leaf));
	info->issuer = adm_name_str(X509_get_issuer_name(leaf));
	info->sans = adm_sans(leaf);
	info->cert_pem = adm_chain_pem(chain);
	info->key_pem = adm_key_pem(key);
	if (info->subject == NULL || info->issuer == NULL || info->sans == NULL ||
	    info->cert_pem == NULL || info->key_pem == NULL)
		goto out;
	*field = NULL;
	rc = 0;
out:
	if (rc < 0)
		adm_cert_info_release(info);
	if (rc == -ENOMEM && err[0] == '\0')
		adm_cert_err(err, errlen, "out of memory");
	ERR_clear_error();
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

void
adm_cert_info_release(struct adm_cert_info *info)
{
	if (info->key_pem != NULL) {
		explicit_bzero(info->key_pem, strlen(info->key_pem));
		free(info->key_pem);
	}
	free(info->cert_pem);
	free(info->subject);
	free(info->issuer);
	free(info->sans);
	memset(info, 0, sizeof(*info));
}

void
adm_cert_annotate(json_t *obj, time_t now)
{
	long long nb = json_integer_value(json_object_get(obj, "not_before"));
	long long na = json_integer_value(json_object_get(obj, "not_after"));
	long long left = na - (long long)now;
	long long days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	int expired = left < 0, early = (long long)now < nb;
	int soon = !expired && left < (long long)ADM_CERT_WARN_DAYS * 86400;
	json_t *w = json_array();
	char msg[128];

	if (expired) {
		snprintf(msg, sizeof(msg), "expired %lld day%s ago", -days, -days == 1 ? "" : "s");
		json_array_append_new(w, json_string(msg));
	} else if (soon) {
		snprintf(msg, sizeof(msg), "expires in %lld day%s", days, days == 1 ? "" : "s");
		json_array_append_new(w, json_string(msg));
	}
	if (early)
		json_array_append_new(w, json_string("not valid yet (not_before is in the future)"));
	json_object_set_new(obj, "days_to_expiry", json_integer(days));
	json_object_set_new(obj, "expired", json_boolean(expired));
	json_object_set_new(obj, "not_yet_valid", json_boolean(early));
	json_object_set_new(obj, "expiring_soon", json_boolean(soon));
	json_object_set_new(obj, "warnings", w);
}

/* ---- CA bundles (client certificate authentication) ---- */

int
adm_ca_check(const char *pem, struct adm_ca_info *info, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	json_t *subjects = json_array();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, k;
	int rc, i;

	memset(info, 0, sizeof(*info));
	err[0] = '\0';
	rc = chain == NULL || subjects == NULL ? -ENOMEM : adm_read_chain(pem, chain, err, errlen);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		long long na;
		char *s;

		/* only CAs: a leaf here would let its holder's peers in as issuers */
		if (X509_check_ca(x) < 1) {
			adm_cert_err(err, errlen, "certificate %d is not a CA certificate "
				     "(basicConstraints CA:TRUE)", i + 1);
			goto out;
		}
		if (adm_time(X509_get0_notAfter(x), &na) < 0) {
			adm_cert_err(err, errlen, "certificate %d: validity dates cannot be read", i + 1);
			goto out;
		}
		if (i == 0 || na < info->not_after)
			info->not_after = na;
		s = adm_name_str(X509_get_subject_name(x));
		if (s == NULL || json_array_append_new(subjects, json_string(s)) < 0) {
			free(s);
			rc = -ENOMEM;
			goto out;
		}
		free(s);
	}
	rc = -ENOMEM;
	info->count = sk_X509_num(chain);
	info->pem = adm_chain_pem(chain);
	info->subjects = json_dumps(subjects, JSON_COMPACT);
	if (info->pem == NULL || info->subjects == NULL ||
	    EVP_Digest(info->pem, strlen(info->pem), md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	for (k = 0; k < mdlen && k < 32; k++)
		snprintf(info->fingerprint + 2 * k, 3, "%02x", md[k]);
	rc = 0;
out:
	if (rc < 0)
		adm_ca_info_release(info);
	if (rc == -ENOMEM && err[0] == '\0')
		adm_cert_err(err, errlen, "out of memory");
	ERR_clear_error();
	json_decref(subjects);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

void
adm_ca_info_release(struct adm_ca_info *info)
{
	free(info->pem);
	free(info->subjects);
	memset(info, 0, sizeof(*info));
}
