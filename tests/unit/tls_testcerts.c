/* tls_testcerts - in-process test keys and certificates (see the header). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls_testcerts.h"

EVP_PKEY *
tc_key_rsa(int bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

EVP_PKEY *
tc_key_ec(const char *group)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
}

static void
tc_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (e != NULL)
		X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

X509 *
tc_cert(EVP_PKEY *key, const char *cn, const char *sans, X509 *issuer, EVP_PKEY *ikey,
	long nb, long na, int ca)
{
	X509 *x = X509_new();
	unsigned char serial[12];
	BIGNUM *bn;

	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
	tc_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		tc_ext(x, issuer, NID_authority_key_identifier, "keyid");
	tc_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (sans != NULL)
		tc_ext(x, issuer, NID_subject_alt_name, sans);
	X509_sign(x, ikey ? ikey : key, EVP_sha256());
	return x;
}

static char *
tc_bio_str(BIO *b)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	s = malloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

char *
tc_pem_certs(X509 *a, X509 *b, X509 *c)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s;

	if (a)
		PEM_write_bio_X509(bio, a);
	if (b)
		PEM_write_bio_X509(bio, b);
	if (c)
		PEM_write_bio_X509(bio, c);
	s = tc_bio_str(bio);
	BIO_free(bio);
	return s;
}

char *
tc_pem_key(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s;

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	s = tc_bio_str(bio);
	BIO_free(bio);
	return s;
}

char *
tc_write(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;

	snprintf(path, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}
