/*
 * adm_peerc - HTTPS client for console-to-console calls (pairing, config
 * sync). OpenSSL, one connection per call ("Connection: close"), the answer
 * read to EOF and handed to adm_pairmsg_response. The server certificate is
 * not checked against any CA: it must be exactly the one pinned by its
 * SHA-256 fingerprint (shown by the other console when pairing).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "adm_auth.h"
#include "adm_http.h"
#include "adm_pairmsg.h"
#include "adm_peerc.h"

int
adm_peerc_console(const char *in, char *canon, size_t len)
{
	struct sockaddr_storage sa;
	char spec[128];
	size_t n;
	int lo;

	if (in == NULL)
		return -EINVAL;
	if (strncmp(in, "https://", 8) == 0)
		in += 8;
	n = strlen(in);
	if (n > 0 && in[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(spec))
		return -EINVAL;
	memcpy(spec, in, n);
	spec[n] = '\0';
	if (adm_listen_parse(spec, &sa, &lo) < 0)
		return -EINVAL;
	if ((size_t)snprintf(canon, len, "https://%s", spec) >= len)
		return -EINVAL;
	return 0;
}

static int
adm_peerc_x509_fp(X509 *crt, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (X509_digest(crt, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return -EINVAL;
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
adm_peerc_pem_fingerprint(const char *pem, char out[65])
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *crt = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int rc = crt ? adm_peerc_x509_fp(crt, out) : -EINVAL;

	X509_free(crt);
	BIO_free(bio);
	return rc;
}

static long
adm_peerc_ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Connected TCP socket (blocking, with send/receive timeouts up to
 * deadline) or -errno. The connect itself gets at most 1.5 s: a peer that
 * is cut off (SYN dropped) must not hold the sync worker for the whole
 * timeout, which is there for slow TLS handshakes and applies. */
static int
adm_peerc_connect(const char *console, const struct timespec *deadline)
{
	struct sockaddr_storage sa;
	struct timeval tv;
	struct pollfd pfd;
	socklen_t slen;
	long left;
	int fd, lo, err = 0, rc;

	if (adm_listen_parse(console + 8, &sa, &lo) < 0)
		return -EINVAL;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	slen = sa.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (connect(fd, (struct sockaddr *)&sa, slen) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	left = adm_peerc_ms_left(deadline);
	if (left > 1500)
		left = 1500;
	rc = left > 0 ? poll(&pfd, 1, (int)left) : 0;
	slen = sizeof(err);
	if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &slen) < 0 || err != 0) {
		close(fd);
		return rc <= 0 ? -ETIMEDOUT : -(err ? err : EIO);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	left = adm_peerc_ms_left(deadline);
	if (left < 1)
		left = 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
adm_peerc_write_all(SSL *ssl, const char *p, size_t n)
{
	while (n > 0) {
		int w = SSL_write(ssl, p, n > 65536 ? 65536 : (int)n);

		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
adm_peerc_call(const char *console, const char *fp, const char *method, const char *path,
	       const char *bearer, const json_t *body, int timeout_ms, long *status,
	       json_t **resp, char *err, size_t errlen)
{
	struct timespec deadline;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *crt = NULL;
	char got[65], *text = NULL, *head = NULL, *buf = NULL;
	const char *b;
	size_t blen, n = 0, cap = 0;
	int fd = -1, rc, r;

	*resp = NULL;
	*status = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	fd = adm_peerc_connect(console, &deadline);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", console, strerror(-fd));
		return fd;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = ctx ? SSL_new(ctx) : NULL;
	if (ssl == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) || !SSL_set_fd(ssl, fd)) {
		snprintf(err, errlen, "TLS set-up failed");
		rc = -ENOMEM;
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		snprintf(err, errlen, "TLS handshake with %s failed", console);
		rc = -ECONNREFUSED;
		goto out;
	}
	/* The pin is the only trust: compare before sending anything. */
	crt = SSL_get1_peer_certificate(ssl);
	if (crt == NULL || adm_peerc_x509_fp(crt, got) < 0 || !adm_token_equal(got, fp)) {
		snprintf(err, errlen, "the certificate of %s does not have the expected fingerprint "
			 "(it has %s)", console, crt ? got : "none");
		rc = -EPERM;
		goto out;
	}
	text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (asprintf(&head, "%s /api/v1%s HTTP/1.1\r\nHost: %s\r\n%s%s%sContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", method, path, console + 8,
		     bearer ? "Authorization: Bearer " : "", bearer ? bearer : "", bearer ? "\r\n" : "",
		     text ? strlen(text) : 0) < 0) {
		head = NULL;
		rc = -ENOMEM;
		goto out;
	}
	if (adm_peerc_write_all(ssl, head, strlen(head)) < 0 ||
	    (text && adm_peerc_write_all(ssl, text, strlen(text)) < 0)) {
		snprintf(err, errlen, "cannot send to %s", console);
		rc = -EIO;
		goto out;
	}
	for (;;) {
		if (n + 16384 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = cap <= ADM_PAIRMSG_MAX + 65536 ? realloc(buf, cap) : NULL;
			if (nb == NULL) {
				snprintf(err, errlen, "the answer of %s is too large", console);
				rc = -EMSGSIZE;
				goto out;
			}
			buf = nb;
		}
		r = SSL_read(ssl, buf + n, 16384);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf == NULL || adm_pairmsg_response(buf, n, status, &b, &blen) < 0) {
		snprintf(err, errlen, "no valid HTTP answer from %s", console);
		rc = -EPROTO;
		goto out;
	}
	if (blen > 0) {
		*resp = json_loadb(b, blen, 0, NULL);
		if (*resp == NULL) {
			snprintf(err, errlen, "the answer of %s is not JSON", console);
			rc = -EPROTO;
			goto out;
		}
	}
	rc = 0;
out:
	if (text != NULL) {
		/* requests carry keys: do not leave them in freed memory */
		memset(text, 0, strlen(text));
		free(text);
	}
	if (head != NULL) {
		memset(head, 0, strlen(head));
		free(head);
	}
	if (buf != NULL)
		memset(buf, 0, n);	/* an accept answer carries keys */
	free(buf);
	X509_free(crt);
	if (ssl != NULL)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	return rc;
}
