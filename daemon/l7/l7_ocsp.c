/*
 * l7_ocsp - checks stored OCSP responses and staples them (see l7_ocsp.h).
 * The DER is parsed by OpenSSL (d2i_OCSP_RESPONSE); this file only decides
 * whether the response fits the certificate. tests/fuzz/fuzz_ocsp.c drives
 * l7_ocsp_check_pem with arbitrary bytes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "l7_ocsp.h"
#include "log.h"

#define L7_OCSP_MAX_DER (64 * 1024)	/* real responses are 1-4 KiB */
#define L7_OCSP_LEEWAY 300		/* seconds of clock skew allowed on thisUpdate */

/* What a leaf carries once its response passed the check (X509 ex_data). */
struct l7_ocsp_resp {
	unsigned char *der;
	size_t len;
	time_t next_update;
};

static int l7_ocsp_ex = -1;
static pthread_once_t l7_ocsp_once = PTHREAD_ONCE_INIT;

static void
l7_ocsp_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct l7_ocsp_resp *r = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (r == NULL)
		return;
	free(r->der);
	free(r);
}

static void
l7_ocsp_init_once(void)
{
	l7_ocsp_ex = X509_get_ex_new_index(0, NULL, NULL, NULL, l7_ocsp_ex_free);
}

static time_t
l7_ocsp_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void
l7_ocsp_fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "%lld", (long long)t);
}

/* The single response about leaf (CertID under whatever hash the responder
 * used), or NULL. */
static OCSP_SINGLERESP *
l7_ocsp_find(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
	int i, n = OCSP_resp_count(bs);

	for (i = 0; i < n; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
		ASN1_OBJECT *md_oid = NULL;
		const EVP_MD *md;
		OCSP_CERTID *mine;
		int same;

		if (cid == NULL || OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid) != 1 ||
		    (md = EVP_get_digestbyobj(md_oid)) == NULL)
			continue;
		mine = OCSP_cert_to_id(md, leaf, issuer);
		same = mine != NULL && OCSP_id_cmp(mine, cid) == 0;
		OCSP_CERTID_free(mine);
		if (same)
			return sr;
	}
	return NULL;
}

int
l7_ocsp_check(const unsigned char *der, size_t len, X509 *leaf, STACK_OF(X509) *chain, time_t now,
	      struct l7_ocsp_info *info, char *why, size_t whylen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *sr;
	X509_STORE *store = NULL;
	STACK_OF(X509) *signers = NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
	X509 *issuer = NULL;
	int rc = -1, st, reason, i;
	char tbuf[40];

	memset(info, 0, sizeof(*info));
	if (len == 0 || len > L7_OCSP_MAX_DER || len > LONG_MAX) {
		snprintf(why, whylen, "an OCSP response is 1 byte to 64 KiB of DER");
		goto out;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != der + len) {
		snprintf(why, whylen, "not a DER-encoded OCSP response");
		goto out;
	}
	st = OCSP_response_status(resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, whylen, "the responder did not answer successfully (%s)", OCSP_response_status_str(st));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (bs == NULL) {
		snprintf(why, whylen, "not a basic OCSP response");
		goto out;
	}
	for (i = 0; chain != NULL && i < sk_X509_num(chain) && issuer == NULL; i++)
		if (X509_check_issued(sk_X509_value(chain, i), leaf) == X509_V_OK)
			issuer = sk_X509_value(chain, i);
	if (issuer == NULL) {
		snprintf(why, whylen, "the certificate's issuer is not in its chain (upload the chain with "
			 "the issuing CA), so the response cannot be checked");
		goto out;
	}
	sr = l7_ocsp_find(bs, leaf, issuer);
	if (sr == NULL) {
		snprintf(why, whylen, "the response is not about this certificate (another certificate or "
			 "another issuer)");
		goto out;
	}
	/* signed by the issuer itself (trusted as given), or by a responder
	 * certificate the issuer signed for OCSP (checked by OpenSSL) */
	store = X509_STORE_new();
	signers = sk_X509_new_null();
	if (store == NULL || signers == NULL || X509_STORE_add_cert(store, issuer) != 1 ||
	    sk_X509_push(signers, issuer) <= 0) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (OCSP_basic_verify(bs, signers, store, OCSP_TRUSTOTHER) <= 0) {
		snprintf(why, whylen, "the response's signature does not verify (not signed by the issuer "
			 "or a responder it authorised)");
		goto out;
	}
	st = OCSP_single_get0_status(sr, &reason, NULL, &thisupd, &nextupd);
	if (st != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, whylen, "the response says the certificate is %s, not good",
			 st == V_OCSP_CERTSTATUS_REVOKED ? "revoked" : "of unknown status");
		goto out;
	}
	info->this_update = l7_ocsp_time(thisupd);
	info->next_update = l7_ocsp_time(nextupd);
	if (nextupd == NULL) {
		snprintf(why, whylen, "the response has no nextUpdate, so nobody can tell when it is stale");
		goto out;
	}
	if (info->this_update > now + L7_OCSP_LEEWAY) {
		l7_ocsp_fmt_time(info->this_update, tbuf, sizeof(tbuf));
		snprintf(why, whylen, "the response is not valid yet (thisUpdate %s)", tbuf);
		goto out;
	}
	if (info->next_update <= now) {
		l7_ocsp_fmt_time(info->next_update, tbuf, sizeof(tbuf));
		snprintf(why, whylen, "the response expired (nextUpdate %s)", tbuf);
		goto out;
	}
	rc = 0;
out:
	sk_X509_free(signers);	/* the certificates are borrowed */
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return rc;
}

int
l7_ocsp_check_pem(const unsigned char *der, size_t len, const char *pem, time_t now,
		  struct l7_ocsp_info *info, char *why, size_t whylen)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf = NULL, *x;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (b == NULL || chain == NULL || (leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		snprintf(why, whylen, "the certificate cannot be read");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(chain, x) <= 0) {
			X509_free(x);
			snprintf(why, whylen, "out of memory");
			goto out;
		}
	rc = l7_ocsp_check(der, len, leaf, chain, now, info, why, whylen);
out:
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/* Handshakes that ask (status_request) get the response of the certificate
 * OpenSSL picked (RSA or ECDSA), while it is current. */
static int
l7_ocsp_status_cb(SSL *s, void *arg)
{
	X509 *x = SSL_get_certificate(s);
	struct l7_ocsp_resp *r = x != NULL ? X509_get_ex_data(x, l7_ocsp_ex) : NULL;
	unsigned char *copy;

	(void)arg;
	if (r == NULL || time(NULL) >= r->next_update)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(r->der, r->len);	/* OpenSSL frees it */
	if (copy == NULL || SSL_set_tlsext_status_ocsp_resp(s, copy, (long)r->len) != 1) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* The whole file, at most L7_OCSP_MAX_DER + 1 bytes. */
static unsigned char *
l7_ocsp_read(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	unsigned char *buf;

	*len = 0;
	if (f == NULL)
		return NULL;
	buf = malloc(L7_OCSP_MAX_DER + 1);
	if (buf != NULL)
		*len = fread(buf, 1, L7_OCSP_MAX_DER + 1, f);
	fclose(f);
	return buf;
}

int
l7_ocsp_staple(SSL_CTX *ctx, const char *name, const char *file)
{
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	STACK_OF(X509) *chain = NULL;
	struct l7_ocsp_info info;
	struct l7_ocsp_resp *r = NULL;
	unsigned char *der;
	char why[300], tbuf[40];
	size_t len;

	pthread_once(&l7_ocsp_once, l7_ocsp_init_once);
	der = l7_ocsp_read(file, &len);
	if (der == NULL) {
		log_warn("certificate \"%s\": OCSP response %s cannot be read: %s; not stapled", name, file,
			 strerror(errno));
		return 0;
	}
	if (leaf == NULL || SSL_CTX_get0_chain_certs(ctx, &chain) != 1 ||
	    l7_ocsp_check(der, len, leaf, chain, time(NULL), &info, why, sizeof(why)) < 0) {
		if (leaf == NULL)
			snprintf(why, sizeof(why), "no certificate loaded");
		log_warn("certificate \"%s\": OCSP response refused, not stapled: %s", name, why);
		free(der);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (l7_ocsp_ex < 0 || r == NULL || X509_set_ex_data(leaf, l7_ocsp_ex, r) != 1) {
		log_warn("certificate \"%s\": out of memory for its OCSP response; not stapled", name);
		free(r);
		free(der);
		return 0;
	}
	r->der = der;
	r->len = len;
	r->next_update = info.next_update;
	SSL_CTX_set_tlsext_status_cb(ctx, l7_ocsp_status_cb);
	l7_ocsp_fmt_time(info.next_update, tbuf, sizeof(tbuf));
	log_info("certificate \"%s\": stapling its OCSP response (good until %s)", name, tbuf);
	return 1;
}
