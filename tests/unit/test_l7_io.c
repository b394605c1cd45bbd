/* Unit tests for daemon/l7/l7_io: the plain transport and its epoll
 * mapping, and TLS record sizing measured on the wire (the client's OpenSSL
 * reports every record header it reads): small records at the start and
 * after an idle second, full ones after the first burst. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "l7_io.h"
#include "l7_tls.h"
#include "tls_testcerts.h"

/* TLS 1.3 record overhead on top of the payload: content type + AEAD tag. */
#define TLS13_OVERHEAD 17

static void
test_plain(void **state)
{
	struct l7_io io;
	struct buf b;
	int sv[2];
	char got[8];
	bool rr = false, wr = false;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	l7_io_init_plain(&io, sv[1]);
	assert_int_equal(l7_io_handshake(&io), 1);
	assert_false(l7_io_is_tls(&io));
	assert_null(l7_io_alpn(&io));
	assert_int_equal(l7_io_events(&io, true, false), EPOLLIN);
	assert_int_equal(l7_io_events(&io, true, true), EPOLLIN | EPOLLOUT);
	l7_io_ready(&io, EPOLLOUT, &rr, &wr);
	assert_false(rr);
	assert_true(wr);
	assert_int_equal(buf_init(&b, 16), 0);
	assert_int_equal(l7_io_read_buf(&io, &b), -EAGAIN);
	assert_int_equal(write(sv[0], "hello", 5), 5);
	assert_int_equal(l7_io_read_buf(&io, &b), 5);
	assert_int_equal(l7_io_write_buf(&io, &b), 5);
	assert_int_equal(read(sv[0], got, sizeof(got)), 5);
	assert_memory_equal(got, "hello", 5);
	close(sv[0]);
	assert_int_equal(l7_io_read_buf(&io, &b), 0);	/* EOF */
	l7_io_free(&io);
	buf_release(&b);
	close(sv[1]);
}

/* Record payload lengths the client read after the handshake. */
static size_t rec_len[512], nrec;
static int counting;

static void
on_msg(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl, void *arg)
{
	const unsigned char *p = buf;

	(void)version;
	(void)ssl;
	(void)arg;
	if (write_p || type != SSL3_RT_HEADER || len < 5 || !counting || nrec == 512)
		return;
	rec_len[nrec++] = ((size_t)p[3] << 8 | p[4]) - TLS13_OVERHEAD;
}

/* Sends total bytes through io, the client reading as it goes; records the
 * record sizes seen from here on. */
static void
pump(struct l7_io *io, SSL *cl, size_t total)
{
	static char data[20000], sink[20000];
	size_t sent = 0, got = 0;
	int i;

	nrec = 0;
	counting = 1;
	for (i = 0; i < 100000 && got < total; i++) {
		if (sent < total) {
			size_t n = total - sent < sizeof(data) ? total - sent : sizeof(data);
			ssize_t r = l7_io_send(io, data, n);

			if (r > 0)
				sent += (size_t)r;
			else
				assert_int_equal(r, -EAGAIN);
		}
		{
			int r = SSL_read(cl, sink, sizeof(sink));

			if (r > 0)
				got += (size_t)r;
			else
				assert_int_equal(SSL_get_error(cl, r), SSL_ERROR_WANT_READ);
		}
	}
	counting = 0;
	assert_int_equal(got, total);
}

static void
test_tls_record_sizes(void **state)
{
	struct l7_tls_opts o = { .alpn_http11 = true, .no_resumption = true };
	char dir[] = "/tmp/test_l7_io.XXXXXX", err[512], cmd[64];
	struct l7_tls_cert_spec spec = { .name = "ec" };
	EVP_PKEY *k = tc_key_ec("P-256");
	X509 *x = tc_cert(k, "io.test", "DNS:io.test", NULL, NULL, -3600, 86400, 0);
	char *cp = tc_pem_certs(x, NULL, NULL), *kp = tc_pem_key(k);
	struct l7_tls_keys *keys = l7_tls_keys_new(1, 3600);
	struct l7_tls_ctx *ctx;
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
	SSL *cl = SSL_new(cc);
	struct l7_io io;
	size_t i, small = 0, full = 0, first_full = 0;
	int sv[2], done = 0, r;
	bool rr = false, wr = false;

	(void)state;
	assert_non_null(mkdtemp(dir));
	spec.cert_file = tc_write(dir, "ec.crt", cp);
	spec.key_file = tc_write(dir, "ec.key", kp);
	ctx = l7_tls_ctx_new(&spec, 1, keys, &o, err, sizeof(err));
	if (ctx == NULL)
		fail_msg("ctx: %s", err);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	SSL_CTX_set_min_proto_version(cc, TLS1_3_VERSION);
	SSL_set_fd(cl, sv[0]);
	SSL_set_msg_callback(cl, on_msg);
	assert_int_equal(l7_io_init_tls(&io, sv[1], ctx), 0);
	assert_true(l7_io_is_tls(&io));
	/* before the handshake the interest is the handshake's */
	assert_int_equal(l7_io_events(&io, false, true), EPOLLIN);
	for (i = 0; i < 200 && done != 3; i++) {
		if (!(done & 1) && SSL_connect(cl) == 1)
			done |= 1;
		if (!(done & 2)) {
			r = l7_io_handshake(&io);
			assert_true(r >= 0);
			if (r == 1)
				done |= 2;
		}
	}
	assert_int_equal(done, 3);
	l7_io_ready(&io, EPOLLIN, &rr, &wr);
	assert_true(rr);
	assert_false(wr);

	/* a fresh connection: small records for the first L7_IO_REC_BOOST_BYTES */
	pump(&io, cl, 3 * L7_IO_REC_BOOST_BYTES);
	for (i = 0; i < nrec; i++) {
		if (rec_len[i] <= L7_IO_REC_SMALL)
			small++;
		if (rec_len[i] == L7_IO_REC_FULL) {
			full++;
			if (first_full == 0)
				first_full = i;
		}
	}
	if (rec_len[0] != L7_IO_REC_SMALL || full == 0 ||
	    first_full * L7_IO_REC_SMALL < L7_IO_REC_BOOST_BYTES)
		fail_msg("records: first %zu bytes, %zu small, %zu full, first full record #%zu",
			 rec_len[0], small, full, first_full);
	/* after a burst and no idle gap: full records at once */
	pump(&io, cl, 2 * L7_IO_REC_FULL);
	assert_int_equal(rec_len[0], L7_IO_REC_FULL);
	/* idle longer than L7_IO_REC_IDLE_MS: small again */
	usleep((L7_IO_REC_IDLE_MS + 200) * 1000);
	pump(&io, cl, 2 * L7_IO_REC_FULL);
	assert_int_equal(rec_len[0], L7_IO_REC_SMALL);

	l7_io_shutdown(&io);
	l7_io_free(&io);
	l7_io_free(&io);	/* twice is safe */
	SSL_free(cl);
	SSL_CTX_free(cc);
	close(sv[0]);
	close(sv[1]);
	l7_tls_ctx_unref(&ctx);
	l7_tls_keys_free(&keys);
	free((char *)spec.cert_file);
	free((char *)spec.key_file);
	free(cp);
	free(kp);
	X509_free(x);
	EVP_PKEY_free(k);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_tls_record_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
