#ifndef TANDEM_ADM_CERT_H
#define TANDEM_ADM_CERT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/*
 * adm_cert - checks an uploaded certificate chain and private key before
 * tandem-admin stores them (OpenSSL). Pure: no database, no files; the
 * clock is passed in. Runs on the HTTP thread.
 */

/* Days ahead of not_after at which a certificate is flagged as expiring. */
#define ADM_CERT_WARN_DAYS 30
/* Upper bound on certificates in one uploaded chain. */
#define ADM_CERT_CHAIN_MAX 10

/* What adm_cert_check learnt; every string is owned (release frees them).
 * cert_pem and key_pem are the inputs re-encoded (comments, bag attributes
 * and encryption headers dropped; the key as unencrypted PKCS#8). */
struct adm_cert_info {
	char *cert_pem;
	char *key_pem;		/* wiped before it is freed */
	char *subject;		/* RFC 2253 */
	char *issuer;
	char *sans;		/* JSON array text: ["DNS:a.example", "IP:192.0.2.1"] */
	const char *key_type;	/* "RSA" or "ECDSA" (static) */
	long key_bits;
	long long not_before, not_after;
	char fingerprint[65];	/* hex SHA-256 of the leaf's DER */
	long chain_length;
};

/* Parses and checks a PEM chain (leaf first) and its private key: the PEM is
 * well formed, the key is unencrypted RSA >= 2048 or ECDSA P-256/P-384 and
 * matches the leaf, each certificate is signed by the next one and names it
 * as issuer. Validity dates are read, not enforced (adm_cert_annotate flags
 * them). Returns 0 with *info filled, or -EINVAL with a reason in err and
 * the offending field ("cert_pem" or "key_pem") in *field. Never logs
 * anything about the key. */
int adm_cert_check(const char *cert_pem, const char *key_pem, struct adm_cert_info *info,
		   char *err, size_t errlen, const char **field);

/* Frees what info holds (wiping the key) and zeroes it. */
void adm_cert_info_release(struct adm_cert_info *info);

/* Adds to a certificate object (with not_before/not_after) the fields that
 * depend on now: "days_to_expiry" (floor; negative once expired), "expired",
 * "not_yet_valid", "expiring_soon" (within ADM_CERT_WARN_DAYS, not expired)
 * and "warnings" (array of sentences, empty when all is well). Borrows obj. */
void adm_cert_annotate(json_t *obj, time_t now);

/* A CA bundle for client certificate authentication: the PEM re-encoded,
 * the subjects (JSON array text), how many, the earliest expiry, the
 * SHA-256 of the re-encoded PEM. Owned strings (release frees them). */
struct adm_ca_info {
	char *pem;
	char *subjects;
	long count;
	long long not_after;
	char fingerprint[65];
};

/* Parses a bundle of 1..ADM_CERT_CHAIN_MAX CA certificates (each must have
 * basicConstraints CA:TRUE). 0, or -EINVAL with the reason in err. */
int adm_ca_check(const char *pem, struct adm_ca_info *info, char *err, size_t errlen);
void adm_ca_info_release(struct adm_ca_info *info);

#endif
