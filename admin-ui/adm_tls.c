/*
 * adm_tls - creates and loads the console's self-signed certificate.
 *
 * OpenSSL is used here only to generate the key and certificate; serving TLS
 * is libmicrohttpd's (GnuTLS on Debian), which takes the PEM text. The key
 * is written with mode 0600 from the start (open with the mode, never chmod
 * after), so it is never readable by others even for a moment.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "adm_tls.h"
#include "jh.h"
#include "log.h"

#define ADM_CERT_DAYS 3650

/* Writes a BIO's content to path with mode, atomically (tmp + rename). */
static int
adm_write_bio(const char *path, BIO *b, mode_t mode)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);

	if (len < 0)
		return -EIO;
	return jh_write_buf_atomic(path, data, (size_t)len, mode);
}

static int
adm_tls_create(const char *keyp, const char *certp)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	BIO *kb = NULL, *cb = NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int rc = -EIO;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	x = X509_new();
	if (pkey == NULL || x == NULL)
		goto out;
	/* A random serial: re-created certificates never collide in browsers. */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)ADM_CERT_DAYS * 86400);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Tandem", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		goto out;
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:FALSE");
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		goto out;
	if (!X509_sign(x, pkey, EVP_sha256()))
		goto out;
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (kb == NULL || cb == NULL || !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto out;
	rc = adm_write_bio(keyp, kb, 0600);
	if (rc == 0)
		rc = adm_write_bio(certp, cb, 0644);
	if (rc == 0)
		log_notice("created a self-signed certificate in %s", certp);
out:
	if (rc == -EIO)
		log_err("cannot create the TLS certificate (OpenSSL error)");
	X509_EXTENSION_free(ext);
	BN_free(bn);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

static char *
adm_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf != NULL)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

int
adm_tls_ensure(const char *dir, char **key_pem, char **cert_pem)
{
	char keyp[4096], certp[4096];
	int rc;

	*key_pem = *cert_pem = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(keyp, sizeof(keyp), "%s/key.pem", dir);
	snprintf(certp, sizeof(certp), "%s/cert.pem", dir);
	if (access(keyp, R_OK) < 0 || access(certp, R_OK) < 0) {
		rc = adm_tls_create(keyp, certp);
		if (rc < 0)
			return rc;
	}
	*key_pem = adm_slurp(keyp);
	*cert_pem = adm_slurp(certp);
	if (*key_pem == NULL || *cert_pem == NULL) {
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
		return -EIO;
	}
	return 0;
}
