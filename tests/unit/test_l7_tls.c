/* Unit tests for daemon/l7/l7_tls: contexts built from generated certificate
 * files, real handshakes over a socketpair (client: plain OpenSSL; server:
 * l7_tls_conn_*), pumped in one thread on non-blocking sockets. */
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
#include "tls_testcerts.h"

#define DAY 86400L

struct fx {
	char dir[64];
	struct l7_tls_keys *keys;
	struct l7_tls_ctx *ctx;
};

/* Writes a self-signed certificate for sans with key k as dir/<tag>.crt/.key. */
static void
mk(struct fx *f, const char *tag, EVP_PKEY *k, const char *cn, const char *sans,
   struct l7_tls_cert_spec *spec)
{
	X509 *x = tc_cert(k, cn, sans, NULL, NULL, -DAY, 30 * DAY, 0);
	char *cp = tc_pem_certs(x, NULL, NULL), *kp = tc_pem_key(k), n[64];

	snprintf(n, sizeof(n), "%s.crt", tag);
	spec->cert_file = tc_write(f->dir, n, cp);
	snprintf(n, sizeof(n), "%s.key", tag);
	spec->key_file = tc_write(f->dir, n, kp);
	spec->name = tag;
	free(cp);
	free(kp);
	X509_free(x);
}

static struct l7_tls_cert_spec specs[4];

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct l7_tls_opts o = { .alpn_h2 = true, .alpn_http11 = true };
	EVP_PKEY *k1 = tc_key_ec("P-256"), *k2 = tc_key_rsa(2048), *k3 = tc_key_ec("P-256"),
		 *k4 = tc_key_rsa(2048);
	char err[512];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_l7_tls.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	mk(f, "default", k1, "default.test", "DNS:default.test", &specs[0]);
	mk(f, "www-rsa", k2, "www.example.test", "DNS:www.example.test,DNS:example.test", &specs[1]);
	mk(f, "www-ec", k3, "www.example.test", "DNS:example.test,DNS:www.example.test", &specs[2]);
	mk(f, "wild", k4, "*.apps.test", "DNS:*.apps.test", &specs[3]);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(k4);
	f->keys = l7_tls_keys_new(1000, 3600);
	assert_non_null(f->keys);
	f->ctx = l7_tls_ctx_new(specs, 4, f->keys, &o, err, sizeof(err));
	if (f->ctx == NULL)
		fail_msg("ctx: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	size_t i;

	l7_tls_ctx_unref(&f->ctx);
	l7_tls_keys_free(&f->keys);
	for (i = 0; i < 4; i++) {
		free((char *)specs[i].cert_file);
		free((char *)specs[i].key_file);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* One client handshake against ctx; returns the server connection (caller
 * frees) and the client SSL in *cl, or NULL when the handshake failed. */
struct hs {
	const char *sni;
	const char *alpn;	/* wire format, or NULL */
	size_t alpn_len;
	int max_version;	/* 0 = default */
	int min_version;
	const char *sigalgs;	/* client signature algorithms, or NULL */
	SSL_SESSION *sess;	/* to resume, or NULL */
	int no_ticket;		/* client refuses tickets (TLS 1.2 session ids only) */
	const char *ciphers;	/* client's TLS 1.2 cipher list, or NULL */
};

static SSL_CTX *
client_ctx(const struct hs *h)
{
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_security_level(cc, 0);
	if (h->min_version)
		SSL_CTX_set_min_proto_version(cc, h->min_version);
	if (h->max_version)
		SSL_CTX_set_max_proto_version(cc, h->max_version);
	if (h->sigalgs)
		assert_int_equal(SSL_CTX_set1_sigalgs_list(cc, h->sigalgs), 1);
	if (h->max_version == TLS1_1_VERSION)
		SSL_CTX_set_cipher_list(cc, "ALL:@SECLEVEL=0");
	if (h->ciphers)
		assert_int_equal(SSL_CTX_set_cipher_list(cc, h->ciphers), 1);
	if (h->no_ticket)
		SSL_CTX_set_options(cc, SSL_OP_NO_TICKET);
	/* No client-side cache: the tests keep sessions with SSL_get1_session.
	 * With SSL_SESS_CACHE_CLIENT, SSL_CTX_free(cc) flushes the cache and
	 * marks every session in it not resumable, the kept one included, so
	 * the next handshake would not even offer its ticket. */
	SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_OFF);
	return cc;
}

static struct l7_tls_conn *
handshake(struct l7_tls_ctx *ctx, const struct hs *h, SSL **clp, SSL_CTX **ccp)
{
	int sv[2], i, cdone = 0, sdone = 0;
	SSL_CTX *cc = client_ctx(h);
	SSL *cl = SSL_new(cc);
	struct l7_tls_conn *sc;
	char buf[16];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	SSL_set_fd(cl, sv[0]);
	if (h->sni)
		SSL_set_tlsext_host_name(cl, h->sni);
	if (h->alpn)
		SSL_set_alpn_protos(cl, (const unsigned char *)h->alpn, (unsigned)h->alpn_len);
	if (h->sess)
		SSL_set_session(cl, h->sess);
	sc = l7_tls_conn_new(ctx, sv[1]);
	assert_non_null(sc);
	for (i = 0; i < 200 && !(cdone && sdone); i++) {
		if (!cdone) {
			int r = SSL_connect(cl);

			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(cl, r) != SSL_ERROR_WANT_READ)
				break;
		}
		if (!sdone) {
			int r = l7_tls_conn_handshake(sc);

			if (r == L7_TLS_OK)
				sdone = 1;
			else if (r != L7_TLS_WANT_READ && r != L7_TLS_WANT_WRITE)
				break;
		}
	}
	if (cdone && sdone) {
		/* Exchange a byte each way, so TLS 1.3 tickets reach the client. */
		assert_int_equal(SSL_write(cl, "x", 1), 1);
		assert_int_equal(l7_tls_conn_read(sc, buf, sizeof(buf)), 1);
		assert_int_equal(l7_tls_conn_write(sc, "y", 1), 1);
		assert_int_equal(SSL_read(cl, buf, sizeof(buf)), 1);
	}
	*clp = cl;
	*ccp = cc;
	/* The fds belong to the test: close them now; SSL objects stay usable
	 * for inspection. */
	close(sv[0]);
	close(sv[1]);
	if (cdone && sdone)
		return sc;
	l7_tls_conn_free(&sc);
	return NULL;
}

/* The CN of the certificate the client got. */
static void
peer_cn(SSL *cl, char *out, size_t len)
{
	X509 *x = SSL_get1_peer_certificate(cl);

	out[0] = '\0';
	if (x != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len);
	X509_free(x);
}

static const char *
peer_keytype(SSL *cl)
{
	X509 *x = SSL_get1_peer_certificate(cl);
	const char *t = x && EVP_PKEY_is_a(X509_get0_pubkey(x), "RSA") ? "RSA" : "EC";

	X509_free(x);
	return t;
}

static void
done(struct l7_tls_conn **sc, SSL *cl, SSL_CTX *cc)
{
	/* A clean close: SSL_free without SSL_shutdown first drops the
	 * session from its context's cache and marks it not resumable (the
	 * fds are already closed: what counts is that shutdown was called). */
	SSL_shutdown(cl);
	ERR_clear_error();
	if (*sc != NULL)
		l7_tls_conn_shutdown(*sc);
	l7_tls_conn_free(sc);
	SSL_free(cl);
	SSL_CTX_free(cc);
}

static void
test_sni(void **state)
{
	struct fx *f = *state;
	struct { const char *sni, *cn; } cases[] = {
		{ NULL, "default.test" },
		{ "www.example.test", "www.example.test" },
		{ "EXAMPLE.test", "www.example.test" },
		{ "a.apps.test", "*.apps.test" },
		{ "a.b.apps.test", "default.test" },	/* a wildcard covers one label */
		{ "apps.test", "default.test" },
		{ "unknown.test", "default.test" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hs h = { .sni = cases[i].sni };
		struct l7_tls_conn *sc;
		SSL_CTX *cc;
		SSL *cl;
		char cn[128];

		sc = handshake(f->ctx, &h, &cl, &cc);
		assert_non_null(sc);
		peer_cn(cl, cn, sizeof(cn));
		if (strcmp(cn, cases[i].cn) != 0)
			fail_msg("SNI %s: got %s, want %s", cases[i].sni ? cases[i].sni : "(none)", cn, cases[i].cn);
		if (cases[i].sni)
			assert_string_equal(l7_tls_conn_sni(sc), cases[i].sni);
		done(&sc, cl, cc);
	}
}

static void
test_rsa_and_ecdsa_same_name(void **state)
{
	struct fx *f = *state;
	struct hs h = { .sni = "www.example.test", .max_version = TLS1_2_VERSION,
			.sigalgs = "RSA+SHA256:rsa_pss_rsae_sha256" };
	struct l7_tls_conn *sc;
	SSL_CTX *cc;
	SSL *cl;

	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	assert_string_equal(peer_keytype(cl), "RSA");
	done(&sc, cl, cc);
	h.sigalgs = "ECDSA+SHA256";
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	assert_string_equal(peer_keytype(cl), "EC");
	done(&sc, cl, cc);
}

static void
test_alpn(void **state)
{
	struct fx *f = *state;
	struct hs h = { .sni = "www.example.test", .alpn = "\x08http/1.1\x02h2", .alpn_len = 12 };
	struct l7_tls_conn *sc;
	SSL_CTX *cc;
	SSL *cl;

	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	assert_string_equal(l7_tls_conn_alpn(sc), "h2");	/* server preference */
	done(&sc, cl, cc);
	h.alpn = "\x08http/1.1";
	h.alpn_len = 9;
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_string_equal(l7_tls_conn_alpn(sc), "http/1.1");
	done(&sc, cl, cc);
	h.alpn = "\x06spdy/3";
	h.alpn_len = 7;
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	assert_null(l7_tls_conn_alpn(sc));
	done(&sc, cl, cc);
	h.alpn = NULL;
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_null(l7_tls_conn_alpn(sc));
	done(&sc, cl, cc);
}

static void
test_protocols(void **state)
{
	struct fx *f = *state;
	struct hs h = { .sni = "default.test", .max_version = TLS1_1_VERSION };
	struct l7_tls_conn *sc;
	SSL_CTX *cc;
	SSL *cl;

	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_null(sc);	/* TLS 1.1 refused */
	SSL_free(cl);
	SSL_CTX_free(cc);
	h.max_version = TLS1_2_VERSION;
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	assert_string_equal(l7_tls_conn_version(sc), "TLSv1.2");
	/* ECDHE + AEAD only in 1.2. */
	assert_non_null(strstr(SSL_get_cipher_name(cl), "ECDHE"));
	assert_null(strstr(SSL_get_cipher_name(cl), "CBC"));
	done(&sc, cl, cc);
	/* A client offering only RSA key exchange, or only CBC suites, gets no
	 * handshake in 1.2 (server preference alone would hide them from the
	 * checks above); the same client with ECDHE + AEAD does. The name has
	 * an RSA certificate, so RSA key exchange would be possible. */
	h.sni = "www.example.test";
	h.ciphers = "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES128-SHA";
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_null(sc);
	SSL_free(cl);
	SSL_CTX_free(cc);
	h.ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_null(sc);
	SSL_free(cl);
	SSL_CTX_free(cc);
	h.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_non_null(sc);
	done(&sc, cl, cc);
	h.ciphers = NULL;
	h.sni = "default.test";
	h.max_version = 0;
	sc = handshake(f->ctx, &h, &cl, &cc);
	assert_string_equal(l7_tls_conn_version(sc), "TLSv1.3");
	done(&sc, cl, cc);
}

/* A full handshake with h against ctx; returns the client's session (a new
 * reference), or NULL when the handshake failed or was not a full one. */
static SSL_SESSION *
first_session(struct l7_tls_ctx *ctx, const struct hs *h)
{
	struct l7_tls_conn *sc;
	SSL_SESSION *s = NULL;
	SSL_CTX *cc;
	SSL *cl;

	sc = handshake(ctx, h, &cl, &cc);
	if (sc != NULL && !SSL_session_reused(cl) && !l7_tls_conn_resumed(sc))
		s = SSL_get1_session(cl);
	done(&sc, cl, cc);
	return s;
}

/* Offers sess in a new handshake with h against ctx. Returns 1 resumed, 0
 * full handshake, -1 when the handshake failed, the two ends disagree, or
 * sess was not resumable (not offered: that must not pass for a refusal).
 * Resumption is what the client saw (SSL_session_reused). *next, when not
 * NULL, gets the client's session afterwards (a new reference; another
 * object than sess when the server sent a new ticket). */
static int
offer(struct l7_tls_ctx *ctx, const struct hs *h, SSL_SESSION *sess, SSL_SESSION **next)
{
	struct hs o = *h;
	struct l7_tls_conn *sc;
	SSL_CTX *cc;
	SSL *cl;
	int r = -1;

	if (next != NULL)
		*next = NULL;
	if (sess == NULL || !SSL_SESSION_is_resumable(sess))
		return -1;
	o.sess = sess;
	sc = handshake(ctx, &o, &cl, &cc);
	if (sc != NULL && SSL_session_reused(cl) == l7_tls_conn_resumed(sc)) {
		r = SSL_session_reused(cl) ? 1 : 0;
		if (next != NULL)
			*next = SSL_get1_session(cl);
	}
	done(&sc, cl, cc);
	return r;
}

/* Ticket resumption and key rotation, TLS 1.3 and 1.2, with SNI (the
 * connection switches to the name's SSL_CTX) and without (default). Checks
 * are collected and asserted after the sessions are freed, so a failure
 * leaks nothing under ASan. */
static void
test_resumption_and_rotation(void **state)
{
	struct fx *f = *state;
	int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION }, r[7];
	const char *snis[] = { "www.example.test", NULL };
	static uint64_t now = 2000;
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			struct hs h = { .sni = snis[j], .max_version = versions[i] };
			SSL_SESSION *s0, *s1 = NULL, *s2 = NULL;

			s0 = first_session(f->ctx, &h);
			r[0] = s0 != NULL && SSL_SESSION_has_ticket(s0);
			/* Under the current key: resumes; TLS 1.2 keeps its ticket
			 * (the callback returned 1), TLS 1.3 gets a new one (2:
			 * clients use a TLS 1.3 ticket once, RFC 8446 C.4). */
			r[1] = offer(f->ctx, &h, s0, &s1);
			r[2] = versions[i] == TLS1_3_VERSION ? s1 != NULL && s1 != s0 && SSL_SESSION_has_ticket(s1)
							     : s1 == s0;
			SSL_SESSION_free(s1);
			/* One rotation: the ticket's key is the previous one, still
			 * kept; it resumes and the client gets a new ticket. */
			assert_int_equal(l7_tls_keys_rotate(f->keys, now++), 0);
			r[3] = offer(f->ctx, &h, s0, &s1);
			r[4] = s1 != NULL && s1 != s0 && SSL_SESSION_has_ticket(s1);
			/* Two more: s0's key is rotated out (current + 2 older kept),
			 * the renewed ticket's key is not. */
			assert_int_equal(l7_tls_keys_rotate(f->keys, now++), 0);
			assert_int_equal(l7_tls_keys_rotate(f->keys, now++), 0);
			r[5] = offer(f->ctx, &h, s0, &s2);
			SSL_SESSION_free(s2);
			r[6] = offer(f->ctx, &h, s1, NULL);
			SSL_SESSION_free(s0);
			SSL_SESSION_free(s1);
			if (!r[0] || r[1] != 1 || !r[2] || r[3] != 1 || !r[4] || r[5] != 0 || r[6] != 1)
				fail_msg("%s, SNI %s: ticket %d, resume %d, renewal as expected %d, previous key %d, "
					 "renewed %d, rotated out %d (want 0), renewed ticket %d",
					 versions[i] == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2",
					 snis[j] ? snis[j] : "(none)", r[0], r[1], r[2], r[3], r[4], r[5], r[6]);
		}
}

/* TLS 1.2 without tickets: resumption by session id from the server-side
 * cache, with and without SNI. */
static void
test_tls12_cache_fallback(void **state)
{
	struct fx *f = *state;
	const char *snis[] = { "www.example.test", NULL };
	size_t j;

	for (j = 0; j < 2; j++) {
		struct hs h = { .sni = snis[j], .max_version = TLS1_2_VERSION, .no_ticket = 1 };
		SSL_SESSION *s = first_session(f->ctx, &h);
		unsigned idlen = 0;
		int ticket, r;

		if (s != NULL)
			SSL_SESSION_get_id(s, &idlen);
		ticket = s != NULL && SSL_SESSION_has_ticket(s);
		r = offer(f->ctx, &h, s, NULL);
		SSL_SESSION_free(s);
		if (idlen == 0 || ticket || r != 1)
			fail_msg("SNI %s: session id length %u, ticket %d (want 0), resume %d",
				 snis[j] ? snis[j] : "(none)", idlen, ticket, r);
	}
}

static void
test_keys_tick_export_import(void **state)
{
	struct l7_tls_keys *a = l7_tls_keys_new(100, 60), *b = l7_tls_keys_new(100, 60);
	struct l7_tls_ticket_key ka[L7_TLS_KEYS_MAX], kb[L7_TLS_KEYS_MAX];
	unsigned char buf[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	ssize_t n;

	(void)state;
	assert_int_equal(l7_tls_keys_tick(a, 159), 0);
	assert_int_equal(l7_tls_keys_tick(a, 160), 1);
	assert_int_equal(l7_tls_keys_tick(a, 161), 0);
	assert_int_equal(l7_tls_keys_get(a, ka, L7_TLS_KEYS_MAX), 2);
	assert_int_equal(ka[0].created, 160);
	assert_int_equal(ka[1].created, 100);
	assert_int_equal(l7_tls_keys_tick(a, 220), 1);
	assert_int_equal(l7_tls_keys_tick(a, 280), 1);
	assert_int_equal(l7_tls_keys_get(a, ka, L7_TLS_KEYS_MAX), 3);	/* capped */
	assert_int_equal(ka[2].created, 160);
	assert_int_equal(l7_tls_keys_export(a, buf, 10), -ENOSPC);
	n = l7_tls_keys_export(a, buf, sizeof(buf));
	assert_int_equal(n, L7_TLS_KEYS_EXPORT_LEN(3));
	assert_int_equal(l7_tls_keys_import(b, buf, (size_t)n - 1), -EINVAL);
	buf[0] ^= 1;
	assert_int_equal(l7_tls_keys_import(b, buf, (size_t)n), -EINVAL);
	buf[0] ^= 1;
	assert_int_equal(l7_tls_keys_import(b, buf, (size_t)n), 0);
	assert_int_equal(l7_tls_keys_get(b, kb, L7_TLS_KEYS_MAX), 3);
	assert_memory_equal(ka, kb, sizeof(ka));
	l7_tls_keys_free(&a);
	l7_tls_keys_free(&b);
	assert_null(a);
}

/* A new lifetime (config reload) keeps the keys and moves only when the
 * next rotation is due: created + the new lifetime. */
static void
test_keys_set_lifetime_keeps_keys(void **state)
{
	struct l7_tls_keys *a = l7_tls_keys_new(100, 3600);
	struct l7_tls_ticket_key k1[L7_TLS_KEYS_MAX], k2[L7_TLS_KEYS_MAX];
	uint64_t created;
	unsigned lifetime;

	(void)state;
	assert_int_equal(l7_tls_keys_get(a, k1, L7_TLS_KEYS_MAX), 1);
	assert_int_equal(l7_tls_keys_tick(a, 200), 0);
	l7_tls_keys_set_lifetime(a, 60);
	assert_int_equal(l7_tls_keys_meta(a, &created, &lifetime), 1);
	assert_int_equal(created, 100);
	assert_int_equal(lifetime, 60);
	assert_int_equal(l7_tls_keys_get(a, k2, L7_TLS_KEYS_MAX), 1);
	assert_memory_equal(k1, k2, sizeof(k1[0]));	/* nothing rotated by the change */
	assert_int_equal(l7_tls_keys_tick(a, 200), 1);	/* 100 + 60 is past */
	assert_int_equal(l7_tls_keys_get(a, k2, L7_TLS_KEYS_MAX), 2);
	assert_memory_equal(&k1[0], &k2[1], sizeof(k1[0]));	/* the old key still decrypts */
	l7_tls_keys_set_lifetime(a, 0);		/* only on command */
	assert_int_equal(l7_tls_keys_tick(a, 1000000), 0);
	l7_tls_keys_set_lifetime(a, 1000);
	assert_int_equal(l7_tls_keys_tick(a, 1199), 0);
	assert_int_equal(l7_tls_keys_tick(a, 1200), 1);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	l7_tls_keys_free(&a);
}

/* Keys exported from one store and imported into another (the peer node)
 * resume each other's tickets, both ways; a store with keys of its own
 * refuses them (full handshake). */
static void
test_imported_keys_resume_across_nodes(void **state)
{
	struct fx *f = *state;
	struct l7_tls_opts o = { .alpn_http11 = true };
	struct l7_tls_keys *peer = l7_tls_keys_new(0, 3600), *other = l7_tls_keys_new(0, 3600);
	unsigned char buf[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION }, r[6] = { 0 };
	struct l7_tls_ctx *pctx, *octx;
	char err[256];
	ssize_t n;
	size_t i;

	assert_non_null(peer);
	assert_non_null(other);
	n = l7_tls_keys_export(f->keys, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(l7_tls_keys_import(peer, buf, (size_t)n), 0);
	OPENSSL_cleanse(buf, sizeof(buf));
	pctx = l7_tls_ctx_new(specs, 4, peer, &o, err, sizeof(err));
	assert_non_null(pctx);
	octx = l7_tls_ctx_new(specs, 4, other, &o, err, sizeof(err));
	assert_non_null(octx);
	for (i = 0; i < 2; i++) {
		struct hs h = { .sni = "www.example.test", .max_version = versions[i] };
		SSL_SESSION *a = first_session(f->ctx, &h), *b = first_session(pctx, &h);

		r[3 * i] = offer(pctx, &h, a, NULL);	/* the "other node" */
		r[3 * i + 1] = offer(f->ctx, &h, b, NULL);	/* and back */
		r[3 * i + 2] = offer(octx, &h, a, NULL);	/* keys not shared */
		SSL_SESSION_free(a);
		SSL_SESSION_free(b);
	}
	l7_tls_ctx_unref(&octx);
	l7_tls_ctx_unref(&pctx);
	l7_tls_keys_free(&other);
	l7_tls_keys_free(&peer);
	for (i = 0; i < 2; i++)
		if (r[3 * i] != 1 || r[3 * i + 1] != 1 || r[3 * i + 2] != 0)
			fail_msg("%s: peer resumes %d, back %d, unshared keys %d (want 0)",
				 versions[i] == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2",
				 r[3 * i], r[3 * i + 1], r[3 * i + 2]);
}

static void
test_bad_certificates(void **state)
{
	struct fx *f = *state;
	struct l7_tls_opts o = { .alpn_http11 = true };
	struct l7_tls_cert_spec bad = specs[1];
	char err[512];

	bad.key_file = specs[0].key_file;	/* someone else's key */
	assert_null(l7_tls_ctx_new(&bad, 1, f->keys, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "does not match"));
	bad.cert_file = "/nonexistent.crt";
	assert_null(l7_tls_ctx_new(&bad, 1, f->keys, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot load"));
	assert_null(l7_tls_ctx_new(&bad, 0, f->keys, &o, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_rsa_and_ecdsa_same_name),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_resumption_and_rotation),
		cmocka_unit_test(test_tls12_cache_fallback),
		cmocka_unit_test(test_keys_tick_export_import),
		cmocka_unit_test(test_keys_set_lifetime_keeps_keys),
		cmocka_unit_test(test_imported_keys_resume_across_nodes),
		cmocka_unit_test(test_bad_certificates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
