#ifndef TANDEM_TLS_TESTCERTS_H
#define TANDEM_TLS_TESTCERTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Test helpers: keys and certificates made in-process with OpenSSL, so unit
 * tests need no files and no openssl binary. Everything returned is new and
 * owned by the caller.
 */

EVP_PKEY *tc_key_rsa(int bits);
EVP_PKEY *tc_key_ec(const char *group);	/* "P-256", "P-384" */
/* A certificate for key signed by ikey (self-signed when issuer is NULL),
 * valid from now + nb to now + na seconds; sans like "DNS:a,DNS:*.b" or
 * NULL; ca makes it a CA. */
X509 *tc_cert(EVP_PKEY *key, const char *cn, const char *sans, X509 *issuer, EVP_PKEY *ikey,
	      long nb, long na, int ca);
/* PEM text (malloc'd) of up to three certificates in order, NULLs skipped. */
char *tc_pem_certs(X509 *a, X509 *b, X509 *c);
char *tc_pem_key(EVP_PKEY *k);
/* Writes text to dir/name; returns the path (malloc'd). */
char *tc_write(const char *dir, const char *name, const char *text);

#endif
