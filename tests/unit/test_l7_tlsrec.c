/* Unit tests for daemon/l7/l7_tlsrec (record protection) and l7_tls_take
 * (our record layer after OpenSSL's handshake): a real OpenSSL client
 * talks to l7_tls_conn_* through a relay the test pumps in one thread, so
 * it can also corrupt a byte on the way. Every suite, TLS 1.2 and 1.3,
 * client KeyUpdate with and without update_requested, close_notify, a
 * flipped byte, a refused TLS 1.2 renegotiation, and the "openssl"
 * record-layer fallback. */
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "l7_tls.h"
#include "l7_tlsrec.h"
#include "tls_testcerts.h"

struct fx {
	char dir[64];
	struct l7_tls_cert_spec spec;
	struct l7_tls_keys *keys;
	struct l7_tls_ctx *ctx, *ctx_openssl;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct l7_tls_opts o = { .alpn_h2 = true, .alpn_http11 = true };
	EVP_PKEY *k = tc_key_ec("P-256");
	X509 *x = tc_cert(k, "rec.test", "DNS:rec.test", NULL, NULL, -60, 86400, 0);
	char *cp = tc_pem_certs(x, NULL, NULL), *kp = tc_pem_key(k), err[512];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_l7_tlsrec.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->spec.name = "rec";
	f->spec.cert_file = tc_write(f->dir, "rec.crt", cp);
	f->spec.key_file = tc_write(f->dir, "rec.key", kp);
	free(cp);
	free(kp);
	X509_free(x);
	EVP_PKEY_free(k);
	f->keys = l7_tls_keys_new(1000, 3600);
	f->ctx = l7_tls_ctx_new(&f->spec, 1, f->keys, &o, err, sizeof(err));
	if (f->ctx == NULL)
		fail_msg("ctx: %s", err);
	o.record_layer_openssl = true;
	f->ctx_openssl = l7_tls_ctx_new(&f->spec, 1, f->keys, &o, err, sizeof(err));
	assert_non_null(f->ctx_openssl);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	l7_tls_ctx_unref(&f->ctx);
	l7_tls_ctx_unref(&f->ctx_openssl);
	l7_tls_keys_free(&f->keys);
	free((char *)f->spec.cert_file);
	free((char *)f->spec.key_file);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* client <-> a[0] | a[1] <-relay-> b[0] | b[1] <-> server */
struct link {
	int a[2], b[2];
	SSL_CTX *cc;
	SSL *cl;
	struct l7_tls_conn *sc;
	int flip;	/* corrupt the flip-th byte (1-based) relayed to the server, then 0 */
};

static void
relay_one(int from, int to, int *flip)
{
	unsigned char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return;
	if (*flip > 0) {
		if (*flip <= n) {
			buf[*flip - 1] ^= 0x01;
			*flip = 0;
		} else {
			*flip -= (int)n;
		}
	}
	assert_int_equal(write(to, buf, (size_t)n), n);
}

static void
relay(struct link *l)
{
	int none = 0;

	relay_one(l->a[1], l->b[0], &l->flip);
	relay_one(l->b[0], l->a[1], &none);
}

static void
nb(int fd)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
}

/* Handshake with a client limited to version and suites, offering sess
 * (or none); asserts it is done. */
static const char *link_groups;	/* the client's groups, or NULL: OpenSSL's */
static uint64_t link_options;	/* SSL_OP_* for the client */

static void
connect_link_sess(struct l7_tls_ctx *ctx, struct link *l, int version, const char *suites,
		  SSL_SESSION *sess)
{
	int i, cdone = 0, sdone = 0;

	memset(l, 0, sizeof(*l));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, l->a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, l->b), 0);
	nb(l->a[0]);
	nb(l->a[1]);
	nb(l->b[0]);
	nb(l->b[1]);
	l->cc = SSL_CTX_new(TLS_client_method());
	/* no client cache: SSL_CTX_free would mark its sessions not resumable */
	SSL_CTX_set_session_cache_mode(l->cc, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_min_proto_version(l->cc, version);
	SSL_CTX_set_max_proto_version(l->cc, version);
	if (version == TLS1_3_VERSION)
		assert_int_equal(SSL_CTX_set_ciphersuites(l->cc, suites), 1);
	else
		assert_int_equal(SSL_CTX_set_cipher_list(l->cc, suites), 1);
	SSL_CTX_set_options(l->cc, link_options);
	if (link_groups != NULL)
		assert_int_equal(SSL_CTX_set1_groups_list(l->cc, link_groups), 1);
	l->cl = SSL_new(l->cc);
	SSL_set_fd(l->cl, l->a[0]);
	SSL_set_tlsext_host_name(l->cl, "rec.test");
	if (sess != NULL)
		SSL_set_session(l->cl, sess);
	l->sc = l7_tls_conn_new(ctx, l->b[1]);
	assert_non_null(l->sc);
	for (i = 0; i < 200 && !(cdone && sdone); i++) {
		if (!cdone) {
			int r = SSL_connect(l->cl);

			if (r == 1)
				cdone = 1;
			else
				assert_int_equal(SSL_get_error(l->cl, r), SSL_ERROR_WANT_READ);
		}
		relay(l);
		if (!sdone) {
			int r = l7_tls_conn_handshake(l->sc);

			if (r == L7_TLS_OK)
				sdone = 1;
			else
				assert_true(r == L7_TLS_WANT_READ || r == L7_TLS_WANT_WRITE);
		}
		relay(l);
	}
	assert_true(cdone && sdone);
}

static void
connect_link(struct l7_tls_ctx *ctx, struct link *l, int version, const char *suites)
{
	connect_link_sess(ctx, l, version, suites, NULL);
}

static void
connect_link_groups(struct l7_tls_ctx *ctx, struct link *l, const char *suites, const char *groups)
{
	link_groups = groups;
	connect_link_sess(ctx, l, TLS1_3_VERSION, suites, NULL);
	link_groups = NULL;
}

static void
close_link(struct link *l)
{
	l7_tls_conn_free(&l->sc);
	/* freed without close_notify, OpenSSL would mark the session not
	 * resumable (test_resumed keeps it) */
	SSL_set_shutdown(l->cl, SSL_SENT_SHUTDOWN);
	SSL_free(l->cl);
	SSL_CTX_free(l->cc);
	close(l->a[0]);
	close(l->a[1]);
	close(l->b[0]);
	close(l->b[1]);
}

/* The client sends len bytes; the server reads them in chunks of at most
 * chunk bytes (small chunks exercise the kept plaintext). */
static void
client_to_server(struct link *l, size_t len, size_t chunk)
{
	unsigned char *out = malloc(len), *in = malloc(len), buf[65536];
	size_t put = 0, got = 0;
	int i;

	for (i = 0; (size_t)i < len; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < 10000 && got < len; i++) {
		if (put < len) {
			size_t w = 0;

			if (SSL_write_ex(l->cl, out + put, len - put, &w) == 1)
				put += w;
		}
		relay(l);
		for (;;) {
			ssize_t n = l7_tls_conn_read(l->sc, buf, chunk);

			if (n == L7_TLS_WANT_READ)
				break;
			if (n <= 0)
				fail_msg("read: %zd after %zu of %zu", n, got, len);
			memcpy(in + got, buf, (size_t)n);
			got += (size_t)n;
		}
	}
	assert_int_equal(got, len);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

static void
server_to_client(struct link *l, size_t len)
{
	unsigned char *out = malloc(len), *in = malloc(len);
	size_t put = 0, got = 0;
	int i;

	for (i = 0; (size_t)i < len; i++)
		out[i] = (unsigned char)(i * 5 + 1);
	for (i = 0; i < 10000 && got < len; i++) {
		while (put < len) {
			ssize_t n = l7_tls_conn_write(l->sc, out + put, len - put);

			if (n == L7_TLS_WANT_WRITE)
				break;
			assert_true(n > 0);
			put += (size_t)n;
		}
		relay(l);
		for (;;) {
			size_t r = 0;

			if (SSL_read_ex(l->cl, in + got, len - got, &r) != 1)
				break;
			got += r;
		}
	}
	assert_int_equal(got, len);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

static void
exchange(struct l7_tls_ctx *ctx, int version, const char *suites, const char *want)
{
	struct link l;
	unsigned long o0, t0, o1, t1;

	l7_tls_layer_counts(&o0, &t0);
	connect_link(ctx, &l, version, suites);
	l7_tls_layer_counts(&o1, &t1);
	assert_int_equal(t1 - t0, 1);	/* taken over: one more open connection on ours */
	assert_int_equal(o1 - o0, 0);
	assert_string_equal(SSL_get_cipher_name(l.cl), want);
	assert_string_equal(l7_tls_conn_version(l.sc), version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
	assert_string_equal(l7_tls_conn_sni(l.sc), "rec.test");
	assert_false(l7_tls_conn_resumed(l.sc));
	client_to_server(&l, 1, 16);
	client_to_server(&l, 100000, 65536);	/* several full records per read */
	client_to_server(&l, 40000, 100);	/* records larger than the caller's room */
	server_to_client(&l, 5);
	server_to_client(&l, 70000);
	client_to_server(&l, 10, 16);
	/* close_notify both ways */
	assert_int_equal(SSL_shutdown(l.cl), 0);
	relay(&l);
	assert_int_equal(l7_tls_conn_read(l.sc, (char[16]){0}, 16), L7_TLS_CLOSED);
	server_to_client(&l, 3);	/* the client's close_notify closed its side only */
	l7_tls_conn_shutdown(l.sc);
	relay(&l);
	assert_int_equal(SSL_shutdown(l.cl), 1);
	close_link(&l);
	l7_tls_layer_counts(&o1, &t1);
	assert_int_equal(t1, t0);	/* and none after it closed */
}

static void
test_tls13_suites(void **state)
{
	struct fx *f = *state;

	exchange(f->ctx, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256");
	exchange(f->ctx, TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
	exchange(f->ctx, TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
}

static void
test_tls12_suites(void **state)
{
	struct fx *f = *state;

	exchange(f->ctx, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256");
	exchange(f->ctx, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384");
	exchange(f->ctx, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305");
}

/* A resumed TLS 1.3 handshake (a ticket) and resumed TLS 1.2 ones (a
 * ticket, a session id) are taken over too (other record counts during
 * the handshake). */
static void
test_resumed(void **state)
{
	struct fx *f = *state;
	int v[3] = { TLS1_3_VERSION, TLS1_2_VERSION, TLS1_2_VERSION }, i;
	const char *s[3] = { "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
			     "ECDHE-ECDSA-CHACHA20-POLY1305" };

	for (i = 0; i < 3; i++) {
		struct link l;
		SSL_SESSION *sess;

		link_options = i == 2 ? SSL_OP_NO_TICKET : 0;	/* 2: session id */
		connect_link(f->ctx, &l, v[i], s[i]);
		server_to_client(&l, 10);	/* brings the 1.3 ticket */
		sess = SSL_get1_session(l.cl);
		assert_non_null(sess);
		assert_int_equal(SSL_SESSION_has_ticket(sess), i != 2);
		close_link(&l);
		connect_link_sess(f->ctx, &l, v[i], s[i], sess);
		assert_true(SSL_session_reused(l.cl));
		assert_true(l7_tls_conn_resumed(l.sc));
		client_to_server(&l, 3000, 4096);
		server_to_client(&l, 3000);
		close_link(&l);
		SSL_SESSION_free(sess);
		link_options = 0;
	}
}

/* Client KeyUpdate: read keys change; with update_requested, ours too. */
static void
test_key_update(void **state)
{
	struct fx *f = *state;
	struct link l;
	int i;

	connect_link(f->ctx, &l, TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384");
	for (i = 0; i < 2; i++) {
		assert_int_equal(SSL_key_update(l.cl, i ? SSL_KEY_UPDATE_REQUESTED :
						SSL_KEY_UPDATE_NOT_REQUESTED), 1);
		client_to_server(&l, 2000, 4096);	/* the KeyUpdate goes out first */
		server_to_client(&l, 2000);		/* the client reads our KeyUpdate first */
		client_to_server(&l, 20, 4096);
	}
	close_link(&l);
}

static int ku_seen;	/* KeyUpdates the client received */

static void
count_ku(int write_p, int version, int type, const void *buf, size_t len, SSL *s, void *arg)
{
	(void)version, (void)s, (void)arg;
	if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 && ((const unsigned char *)buf)[0] == 24)
		ku_seen++;
}

/* RFC 8446 5.5: after l7_tlsrec_rekey_after records under one key we
 * change our write key on our own (not requested of the client); TLS 1.2
 * has no KeyUpdate and goes on. */
static void
test_write_rekey(void **state)
{
	struct fx *f = *state;
	struct link l;
	int v;

	assert_int_equal(l7_tlsrec_rekey_after, 1ULL << 24);
	for (v = 0; v < 2; v++) {
		connect_link(f->ctx, &l, v ? TLS1_2_VERSION : TLS1_3_VERSION,
			     v ? "ECDHE-ECDSA-AES128-GCM-SHA256" : "TLS_AES_128_GCM_SHA256");
		SSL_set_msg_callback(l.cl, count_ku);
		ku_seen = 0;
		l7_tlsrec_rekey_after = 4;	/* the tickets count too */
		server_to_client(&l, 100000);	/* 7 records and more */
		client_to_server(&l, 100, 4096);
		server_to_client(&l, 100);
		l7_tlsrec_rekey_after = 1ULL << 24;
		if (v == 0)
			assert_true(ku_seen >= 2);
		else
			assert_int_equal(ku_seen, 0);
		close_link(&l);
	}
}

/* Many KeyUpdates with update_requested while we send nothing: one
 * answer (RFC 8446 4.6.3), not one per request - a client that never
 * reads must not grow our send queue without bound. */
static void
test_key_update_flood(void **state)
{
	struct fx *f = *state;
	struct link l;
	unsigned char buf[65536];
	ssize_t n, back = 0;
	int i, none = 0;

	connect_link(f->ctx, &l, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	for (i = 0; i < 50; i++) {
		assert_int_equal(SSL_key_update(l.cl, SSL_KEY_UPDATE_REQUESTED), 1);
		assert_int_equal(SSL_do_handshake(l.cl), 1);	/* sends it */
		relay_one(l.a[1], l.b[0], &none);
		assert_int_equal(l7_tls_conn_read(l.sc, buf, sizeof(buf)), L7_TLS_WANT_READ);
	}
	/* what we sent the client meanwhile: one KeyUpdate record (5 + 5 + 1 + 16) */
	while ((n = read(l.b[0], buf, sizeof(buf))) > 0) {
		assert_int_equal(write(l.a[1], buf, (size_t)n), n);
		back += n;
	}
	assert_int_equal(back, 27);
	server_to_client(&l, 2000);	/* the client follows our one key change */
	client_to_server(&l, 2000, 4096);
	/* after we spoke, a new request is answered again */
	assert_int_equal(SSL_key_update(l.cl, SSL_KEY_UPDATE_REQUESTED), 1);
	client_to_server(&l, 20, 4096);
	server_to_client(&l, 20);
	client_to_server(&l, 20, 4096);
	close_link(&l);
}

/* A complete record that fills the caller's buffer followed by a header we
 * refuse: pending says so, and the next read fails at once instead of
 * waiting for bytes that will never come. */
static void
test_bad_header_pending(void **state)
{
	struct fx *f = *state;
	struct link l;
	char buf[16];

	connect_link(f->ctx, &l, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(SSL_write(l.cl, "0123456789", 10), 10);
	assert_int_equal(write(l.a[0], "\x14\x03\x03\x00\x01\x01", 6), 6);	/* a 1.3 CCS */
	relay(&l);
	assert_int_equal(l7_tls_conn_read(l.sc, buf, 10), 10);
	assert_true(l7_tls_conn_pending(l.sc));
	assert_int_equal(l7_tls_conn_read(l.sc, buf, sizeof(buf)), L7_TLS_ERROR);
	relay(&l);
	assert_true(SSL_read(l.cl, buf, sizeof(buf)) <= 0);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE);
	ERR_clear_error();
	close_link(&l);
}

/* A HelloRetryRequest (the client's key share is for a group we do not
 * offer) adds records to both directions before the key change: the
 * taken-over layer must still count right. */
static void
test_hello_retry(void **state)
{
	struct fx *f = *state;
	struct link l;
	int v;

	for (v = 0; v < 2; v++) {
		/* connect_link_sess with groups: P-521 first (no share we take), then P-256 */
		memset(&l, 0, sizeof(l));
		connect_link_groups(f->ctx, &l, v ? "TLS_CHACHA20_POLY1305_SHA256" : "TLS_AES_256_GCM_SHA384",
				    "P-521:P-256");
		/* we offer no P-521: the P-256 share came after a HelloRetryRequest */
		assert_int_equal(SSL_get_negotiated_group(l.cl), NID_X9_62_prime256v1);
		client_to_server(&l, 3000, 4096);
		server_to_client(&l, 3000);
		close_link(&l);
	}
}

/* A flipped byte: bad_record_mac to the client, an error to the caller,
 * and the connection stays dead. */
static void
test_flipped_byte(void **state)
{
	struct fx *f = *state;
	struct link l;
	char buf[64];
	int v;

	for (v = 0; v < 2; v++) {
		connect_link(f->ctx, &l, v ? TLS1_2_VERSION : TLS1_3_VERSION,
			     v ? "ECDHE-ECDSA-AES128-GCM-SHA256" : "TLS_CHACHA20_POLY1305_SHA256");
		client_to_server(&l, 10, 16);
		l.flip = 5 + 8 + 3;	/* inside the ciphertext */
		assert_int_equal(SSL_write(l.cl, "hello world", 11), 11);
		relay(&l);
		assert_int_equal(l7_tls_conn_read(l.sc, buf, sizeof(buf)), L7_TLS_ERROR);
		assert_int_equal(l7_tls_conn_read(l.sc, buf, sizeof(buf)), L7_TLS_ERROR);
		assert_int_equal(l7_tls_conn_write(l.sc, "x", 1), L7_TLS_ERROR);
		relay(&l);
		assert_true(SSL_read(l.cl, buf, sizeof(buf)) <= 0);
		assert_int_equal(SSL_get_error(l.cl, -1), SSL_ERROR_SSL);
		/* the alert the client got */
		assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_SSLV3_ALERT_BAD_RECORD_MAC);
		ERR_clear_error();
		close_link(&l);
	}
}

/* TLS 1.2 renegotiation is refused: handshake_failure, connection closed. */
static void
test_renegotiation(void **state)
{
	struct fx *f = *state;
	struct link l;
	char buf[64];

	connect_link(f->ctx, &l, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256");
	client_to_server(&l, 10, 16);
	assert_int_equal(SSL_renegotiate(l.cl), 1);
	assert_true(SSL_do_handshake(l.cl) <= 0);	/* sends the ClientHello, waits */
	relay(&l);
	assert_int_equal(l7_tls_conn_read(l.sc, buf, sizeof(buf)), L7_TLS_ERROR);
	relay(&l);
	assert_true(SSL_do_handshake(l.cl) <= 0);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
	ERR_clear_error();
	close_link(&l);
}

/* record_layer "openssl": OpenSSL keeps the connection. */
static void
test_openssl_fallback(void **state)
{
	struct fx *f = *state;
	struct link l;
	unsigned long o0, t0, o1, t1;

	l7_tls_layer_counts(&o0, &t0);
	connect_link(f->ctx_openssl, &l, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	l7_tls_layer_counts(&o1, &t1);
	assert_int_equal(t1 - t0, 0);
	assert_int_equal(o1 - o0, 1);
	client_to_server(&l, 30000, 4096);
	server_to_client(&l, 30000);
	close_link(&l);
	l7_tls_layer_counts(&o1, &t1);
	assert_int_equal(o1, o0);
}

/* l7_tlsrec alone: limits before decryption, sequence exhaustion. */
static void
test_limits(void **state)
{
	unsigned char cs[32] = { 1 }, ss[32] = { 2 }, rec[L7_TLSREC_IN_MAX + 64], *pl;
	unsigned char out[64];
	struct l7_tlsrec srv, cli;
	size_t plen;
	ssize_t n;

	(void)state;
	assert_int_equal(l7_tlsrec_init13(&srv, L7_TLSREC_AES128GCM, cs, ss, 32, 0, 0), 0);
	/* AES-256-GCM goes with SHA-384: a 32-byte secret is refused */
	assert_int_equal(l7_tlsrec_init13(&cli, L7_TLSREC_AES256GCM, ss, cs, 32, 0, 0), -1);
	assert_int_equal(l7_tlsrec_init13(&cli, L7_TLSREC_AES128GCM, ss, cs, 32, 0, 0), 0);
	/* the client seals, the server opens */
	n = l7_tlsrec_seal(&cli, L7_TLSREC_APPDATA, "abc", 3, rec);
	assert_int_equal(n, 5 + 3 + 1 + 16);
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, (size_t)n), n);
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, 4), 0);
	assert_int_equal(l7_tlsrec_open(&srv, rec, (size_t)n, l7_tlsrec_payload(&srv, rec), &pl, &plen),
			 L7_TLSREC_APPDATA);
	assert_int_equal(plen, 3);
	assert_memory_equal(pl, "abc", 3);
	/* a replayed record fails: the sequence number moved on */
	n = l7_tlsrec_seal(&cli, L7_TLSREC_APPDATA, "abc", 3, rec);
	assert_int_equal(l7_tlsrec_open(&srv, rec, (size_t)n, l7_tlsrec_payload(&srv, rec), &pl, &plen),
			 L7_TLSREC_APPDATA);
	cli.wr.seq--;
	n = l7_tlsrec_seal(&cli, L7_TLSREC_APPDATA, "abc", 3, rec);
	assert_int_equal(l7_tlsrec_open(&srv, rec, (size_t)n, l7_tlsrec_payload(&srv, rec), &pl, &plen),
			 -L7_TLSREC_A_BAD_MAC);
	/* too long, wrong type, too short: refused from the header */
	memcpy(rec, "\x17\x03\x03\x41\x01", 5);		/* 2^14 + 257 */
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, 5), -L7_TLSREC_A_OVERFLOW);
	memcpy(rec, "\x16\x03\x03\x00\x20", 5);
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, 5), -L7_TLSREC_A_UNEXPECTED);
	memcpy(rec, "\x17\x03\x03\x00\x10", 5);
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, 5), -L7_TLSREC_A_DECODE);
	/* 2^14 + 256 of ciphertext passes the header check but its inner
	 * plaintext (2^14 + 240) is over the limit: refused before decrypting */
	memset(rec, 0, sizeof(rec));
	memcpy(rec, "\x17\x03\x03\x41\x00", 5);
	assert_int_equal(l7_tlsrec_reclen(&srv, rec, 5), 5 + 16640);
	assert_int_equal(l7_tlsrec_open(&srv, rec, 5 + 16640, l7_tlsrec_payload(&srv, rec), &pl, &plen),
			 -L7_TLSREC_A_OVERFLOW);
	/* an empty application data record is fine; an inner plaintext of
	 * only zeros (no content type) is unexpected_message (RFC 8446 5.2) */
	n = l7_tlsrec_seal(&cli, L7_TLSREC_APPDATA, "", 0, rec);
	assert_int_equal(l7_tlsrec_open(&srv, rec, (size_t)n, out, &pl, &plen), L7_TLSREC_APPDATA);
	assert_int_equal(plen, 0);
	n = l7_tlsrec_seal(&cli, 0, "\0\0\0", 3, rec);
	assert_int_equal(l7_tlsrec_open(&srv, rec, (size_t)n, out, &pl, &plen), -L7_TLSREC_A_UNEXPECTED);
	/* a sequence number about to wrap stops the connection */
	cli.wr.seq = UINT64_MAX;
	assert_int_equal(l7_tlsrec_seal(&cli, L7_TLSREC_APPDATA, "abc", 3, rec), -1);
	srv.rd.seq = UINT64_MAX;
	assert_true(l7_tlsrec_open(&srv, rec, 25, l7_tlsrec_payload(&srv, rec), &pl, &plen) < 0);
	l7_tlsrec_free(&srv);
	l7_tlsrec_free(&cli);
	l7_tlsrec_free(&cli);	/* twice is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test_setup_teardown(test_tls13_suites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls12_suites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resumed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_update_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renegotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openssl_fallback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
