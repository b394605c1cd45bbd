/*
 * peer_pki - the pair's certificates: one CA made when the pair is formed
 * and a certificate per node, which the peer link requires on both ends
 * (TLS 1.3, mutual authentication, nothing but this CA trusted).
 *
 * `tandemctl pair-init DIR NODE_A NODE_B` calls this on one machine; the
 * operator copies DIR/<node>/ to each node. The CA key stays in DIR (keep it
 * offline); the nodes never need it. The console pairing (one-time token)
 * of issue 7 will issue the same files over the admins' HTTPS link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "peer.h"

#define PEER_PKI_DAYS 3650

static EVP_PKEY *
peer_pki_key(void)
{
	return EVP_EC_gen("P-256");
}

/* Adds extension nid with value (config syntax) to crt, issued by issuer. */
static int
peer_pki_ext(X509 *crt, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return -1;
	ok = X509_add_ext(crt, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* A certificate for key with subject CN=cn, signed by ca_key (issuer ca,
 * or self-signed when ca is NULL). */
static X509 *
peer_pki_cert(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key)
{
	X509 *crt = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (crt == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_NAME_new();
	if (bn == NULL || name == NULL || !X509_set_version(crt, 2) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(crt), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(crt), (long)PEER_PKI_DAYS * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Tandem pair", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(crt, name) ||
	    !X509_set_issuer_name(crt, ca ? X509_get_subject_name(ca) : name) ||
	    !X509_set_pubkey(crt, key)) {
		X509_NAME_free(name);
		goto out;
	}
	X509_NAME_free(name);
	if (ca == NULL) {
		if (peer_pki_ext(crt, crt, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
		    peer_pki_ext(crt, crt, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
		    peer_pki_ext(crt, crt, NID_subject_key_identifier, "hash") < 0)
			goto out;
	} else if (peer_pki_ext(crt, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		   peer_pki_ext(crt, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
		   peer_pki_ext(crt, ca, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
		   peer_pki_ext(crt, ca, NID_authority_key_identifier, "keyid") < 0) {
		goto out;
	}
	ok = X509_sign(crt, ca_key, EVP_sha256()) > 0;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(crt);
		crt = NULL;
	}
	return crt;
}

/* Writes a PEM file (mode 0644 for certificates, 0600 for keys). */
static int
peer_pki_write(const char *path, X509 *crt, EVP_PKEY *key)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, key ? 0600 : 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -errno;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
		PEM_write_X509(f, crt);
	if (fclose(f) != 0 || !ok)
		return -EIO;
	return 0;
}

static int
peer_pki_node(const char *dir, const char *node, X509 *ca, EVP_PKEY *ca_key)
{
	char sub[4096], path[4200];
	EVP_PKEY *key = peer_pki_key();
	X509 *crt = key ? peer_pki_cert(key, node, ca, ca_key) : NULL;
	int rc = -ENOMEM;

	if (crt == NULL)
		goto out;
	snprintf(sub, sizeof(sub), "%s/%s", dir, node);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ca.pem", sub);
	rc = peer_pki_write(path, ca, NULL);
	snprintf(path, sizeof(path), "%s/node.pem", sub);
	if (rc == 0)
		rc = peer_pki_write(path, crt, NULL);
	snprintf(path, sizeof(path), "%s/node.key", sub);
	if (rc == 0)
		rc = peer_pki_write(path, NULL, key);
out:
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}

int
peer_pki_pair_init(const char *dir, const char *node_a, const char *node_b, char *msg,
		   size_t msglen)
{
	char path[4200];
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	int rc = -EINVAL;
	const char *s;

	msg[0] = '\0';
	for (s = node_a; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *s))
			break;
	if (*node_a == '\0' || *s != '\0' || *node_b == '\0' || strcmp(node_a, node_b) == 0 ||
	    strchr(node_b, '/') != NULL || node_b[0] == '.') {
		snprintf(msg, msglen, "node names must be two different names of letters, digits, '.', '-', '_'");
		return -EINVAL;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(msg, msglen, "cannot create %s: %s", dir, strerror(errno));
		return rc;
	}
	ca_key = peer_pki_key();
	ca = ca_key ? peer_pki_cert(ca_key, "Tandem pair CA", NULL, ca_key) : NULL;
	if (ca == NULL) {
		snprintf(msg, msglen, "cannot make the CA");
		rc = -ENOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	rc = peer_pki_write(path, ca, NULL);
	if (rc == -EEXIST) {
		snprintf(msg, msglen, "%s exists: this directory already holds a pair", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (rc == 0)
		rc = peer_pki_write(path, NULL, ca_key);
	if (rc == 0)
		rc = peer_pki_node(dir, node_a, ca, ca_key);
	if (rc == 0)
		rc = peer_pki_node(dir, node_b, ca, ca_key);
	if (rc < 0 && msg[0] == '\0')
		snprintf(msg, msglen, "cannot write the pair's files in %s: %s", dir, strerror(-rc));
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
