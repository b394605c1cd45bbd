/*
 * peer_seed - the limiter's key-hash seed (doc/ha.md "The limiter's seed").
 *
 * Rate-rule counters are kept, sent over the peer link and written to the
 * state file as fingerprints: SipHash of the key under this seed. So both
 * nodes of a pair must hash with the same seed (or their counters never
 * meet), the seed must outlive a restart (or the state file's counters mean
 * nothing), and no client may know it (or it could pick keys whose
 * fingerprints collide and spend another client's budget). Hence:
 *
 *   - with a peer link: derived from the pair's CA certificate,
 *     SHA-256("tandem limiter seed v1" || DER of ca.pem), first 16 bytes.
 *     Both nodes hold the same ca.pem from the moment the pair is formed;
 *     it is never on the wire (the link sends the node certificate only)
 *     and clients never see it; forming the pair anew changes it;
 *   - one node with a state file: 16 random bytes kept beside it in
 *     FILE.seed (0600), made at the first start;
 *   - otherwise: 16 random bytes from getrandom at every start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "peer.h"

#define PEER_SEED_LABEL "tandem limiter seed v1"

int
peer_seed_random(uint64_t seed[2])
{
	ssize_t n = getrandom(seed, 2 * sizeof(uint64_t), 0);

	return n == (ssize_t)(2 * sizeof(uint64_t)) ? 0 : n < 0 ? -errno : -EIO;
}

int
peer_seed_pair(const char *peer_dir, uint64_t seed[2])
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	char path[4096];
	unsigned mdlen = 0;
	X509 *ca;
	FILE *f;
	int len, rc = -EINVAL;

	if ((size_t)snprintf(path, sizeof(path), "%s/ca.pem", peer_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (ca != NULL && (len = i2d_X509(ca, &der)) > 0) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(c, PEER_SEED_LABEL, sizeof(PEER_SEED_LABEL)) == 1 &&
		    EVP_DigestUpdate(c, der, (size_t)len) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 &&
		    mdlen >= 16) {
			memcpy(seed, md, 16);
			rc = 0;
		}
		EVP_MD_CTX_free(c);
		OPENSSL_free(der);
	}
	X509_free(ca);
	return rc;
}

int
peer_seed_file(const char *path, uint64_t seed[2])
{
	char tmp[4096];
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, seed, 16);
		close(fd);
		return n == 16 ? 0 : -EINVAL;
	}
	if (errno != ENOENT)
		return -errno;
	if ((rc = peer_seed_random(seed)) < 0)
		return rc;
	/* whole or not at all: a crash leaves no short file */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, seed, 16);
	rc = n == 16 && fsync(fd) == 0 ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
