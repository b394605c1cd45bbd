/*
 * l7_tls_up - TLS towards pool members (see l7_tls_up.h).
 *
 * Invariants:
 * - Verification is on unless the context was built without a CA file
 *   (the config's explicit "verify": "none"): the chain must verify against
 *   the pool's CA bundle and the certificate must name the server name (or
 *   carry the member's IP address when no server name is configured).
 * - Sessions: OpenSSL hands each new session (TLS 1.3: each ticket, which
 *   may arrive after the handshake) to l7_tls_up_new_session, which keeps
 *   the newest per member slot; the next connection to that member offers
 *   it. No internal client cache: the slots are the cache, freed with the
 *   context (which every connection keeps alive by its reference).
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "l7_tls.h"
#include "l7_tls__priv.h"
#include "l7_tls_up.h"

struct l7_tls_up {
	atomic_int refs;
	SSL_CTX *ctx;
	char *server_name;		/* NULL: each member's address */
	bool name_is_ip;
	bool verify;
	pthread_mutex_t lock;		/* sessions */
	SSL_SESSION **sessions;		/* one per member slot, NULL = none yet */
	size_t nslots;
};

static int l7_tls_up_ex = -1;		/* SSL ex_data: struct l7_tls_conn * */
static pthread_once_t l7_tls_up_once = PTHREAD_ONCE_INIT;

static void
l7_tls_up_init_once(void)
{
	l7_tls_up_ex = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void
l7_tls_up_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s%s%s", what, file ? " " : "", file ? file : "", e ? ": " : "",
		 e ? buf : "");
	ERR_clear_error();
}

/* Keeps the newest session of the connection's member. 1: we took it. */
static int
l7_tls_up_new_session(SSL *s, SSL_SESSION *sess)
{
	struct l7_tls_conn *c = SSL_get_ex_data(s, l7_tls_up_ex);
	struct l7_tls_up *u;
	SSL_SESSION *old;

	if (c == NULL || c->up == NULL || c->slot >= c->up->nslots)
		return 0;
	u = c->up;
	pthread_mutex_lock(&u->lock);
	old = u->sessions[c->slot];
	u->sessions[c->slot] = sess;
	pthread_mutex_unlock(&u->lock);
	SSL_SESSION_free(old);
	return 1;
}

static void
l7_tls_up_destroy(struct l7_tls_up *u)
{
	size_t i;

	for (i = 0; u->sessions != NULL && i < u->nslots; i++)
		SSL_SESSION_free(u->sessions[i]);
	free(u->sessions);
	SSL_CTX_free(u->ctx);
	free(u->server_name);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

struct l7_tls_up *
l7_tls_up_new(const struct l7_tls_up_opts *o, char *err, size_t errlen)
{
	struct l7_tls_up *u;
	unsigned char a16[16];

	pthread_once(&l7_tls_up_once, l7_tls_up_init_once);
	err[0] = '\0';
	if (l7_tls_up_ex < 0 || (u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&u->refs, 1);
	pthread_mutex_init(&u->lock, NULL);
	u->nslots = o->nmembers;
	u->verify = o->ca_file != NULL;
	u->sessions = calloc(o->nmembers + 1, sizeof(*u->sessions));
	u->ctx = SSL_CTX_new(TLS_client_method());
	if (u->sessions == NULL || u->ctx == NULL ||
	    (o->server_name != NULL && (u->server_name = strdup(o->server_name)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	u->name_is_ip = o->server_name != NULL && (inet_pton(AF_INET, o->server_name, a16) == 1 ||
						   inet_pton(AF_INET6, o->server_name, a16) == 1);
	/* TLS 1.2+ with OpenSSL's default (secure-level) suites: members are
	 * ours, but may be older software than the clients' side allows. */
	if (SSL_CTX_set_min_proto_version(u->ctx, TLS1_2_VERSION) != 1) {
		l7_tls_up_err(err, errlen, "cannot set the protocol versions", NULL);
		goto fail;
	}
	SSL_CTX_set_options(u->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(u->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_alpn_protos(u->ctx, (const unsigned char *)(o->alpn_h2 ? "\x02h2" : "\x08http/1.1"),
				    o->alpn_h2 ? 3 : 9) != 0) {
		l7_tls_up_err(err, errlen, "cannot set ALPN", NULL);
		goto fail;
	}
	if (u->verify) {
		if (SSL_CTX_load_verify_locations(u->ctx, o->ca_file, NULL) != 1) {
			l7_tls_up_err(err, errlen, "cannot load the CA bundle", o->ca_file);
			goto fail;
		}
		SSL_CTX_set_verify(u->ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_verify_depth(u->ctx, 8);
	} else {
		SSL_CTX_set_verify(u->ctx, SSL_VERIFY_NONE, NULL);
	}
	if (o->cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(u->ctx, o->cert_file) != 1) {
			l7_tls_up_err(err, errlen, "cannot load the client certificate", o->cert_file);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(u->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(u->ctx) != 1) {
			l7_tls_up_err(err, errlen, "cannot load the client certificate's key", o->key_file);
			goto fail;
		}
	}
	if (o->session_reuse) {
		SSL_CTX_set_session_cache_mode(u->ctx, SSL_SESS_CACHE_CLIENT |
					       SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(u->ctx, l7_tls_up_new_session);
	} else {
		SSL_CTX_set_session_cache_mode(u->ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(u->ctx, SSL_OP_NO_TICKET);
	}
	return u;
fail:
	l7_tls_up_destroy(u);
	return NULL;
}

void
l7_tls_up_unref(struct l7_tls_up **up)
{
	struct l7_tls_up *u = *up;

	if (u == NULL)
		return;
	*up = NULL;
	if (atomic_fetch_sub(&u->refs, 1) == 1)
		l7_tls_up_destroy(u);
}

/* The name the member's certificate must carry, and SNI (DNS names only:
 * RFC 6066 sends no IP addresses). 0 or -1. */
static int
l7_tls_up_names(struct l7_tls_up *u, SSL *s, const char *addr)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(s);
	const char *name = u->server_name != NULL ? u->server_name : addr;
	int ip = u->server_name != NULL ? u->name_is_ip : 1;

	if (!ip && SSL_set_tlsext_host_name(s, name) != 1)
		return -1;
	if (!u->verify)
		return 0;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return (ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) : X509_VERIFY_PARAM_set1_host(vp, name, 0))
	       == 1 ? 0 : -1;
}

struct l7_tls_conn *
l7_tls_up_conn_new(struct l7_tls_up *u, int fd, size_t slot, const char *addr)
{
	struct l7_tls_conn *c = calloc(1, sizeof(*c));
	SSL_SESSION *sess = NULL;

	if (c == NULL)
		return NULL;
	c->ssl = SSL_new(u->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1 || SSL_set_ex_data(c->ssl, l7_tls_up_ex, c) != 1 ||
	    l7_tls_up_names(u, c->ssl, addr) < 0)
		goto fail;
	SSL_set_connect_state(c->ssl);
	atomic_fetch_add(&u->refs, 1);
	c->up = u;
	c->slot = slot;
	if (slot < u->nslots) {
		pthread_mutex_lock(&u->lock);
		sess = u->sessions[slot];
		if (sess != NULL)
			SSL_SESSION_up_ref(sess);
		pthread_mutex_unlock(&u->lock);
	}
	if (sess != NULL) {
		SSL_set_session(c->ssl, sess);	/* a stale one just means a full handshake */
		SSL_SESSION_free(sess);
	}
	ERR_clear_error();
	return c;
fail:
	SSL_free(c->ssl);
	free(c);
	ERR_clear_error();
	return NULL;
}

int
l7_tls_up_why(struct l7_tls_conn *c, char *buf, size_t len)
{
	long v = SSL_get_verify_result(c->ssl);

	if (v != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
		return 1;
	}
	if (c->err != 0) {
		char e[200];

		ERR_error_string_n(c->err, e, sizeof(e));
		snprintf(buf, len, "TLS handshake failed: %s", e);
		return 0;
	}
	snprintf(buf, len, "TLS handshake failed (connection closed)");
	return 0;
}
