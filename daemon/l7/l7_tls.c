/*
 * l7_tls - TLS termination: per-listener SSL_CTXs with SNI selection, ALPN,
 * modern protocol defaults, and session tickets under keys of our own.
 *
 * Invariants:
 * - Every SSL_CTX of a listener is configured by l7_tls_ctx_setup(), so that
 *   switching the connection's SSL_CTX in the SNI callback changes only the
 *   certificates, never the protocol policy, ALPN or ticket handling.
 * - Ticket keys live in one process-wide store, behind a mutex; the ticket
 *   callback copies the key it needs under the lock. A ticket whose key has
 *   been rotated out is simply not decrypted: the client does a full
 *   handshake. A ticket under an older, still-kept key resumes and gets a
 *   fresh ticket under the current key.
 * - Secrets are wiped (OPENSSL_cleanse) when keys are dropped or freed, and
 *   never logged.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "l7_ocsp.h"
#include "l7_tls.h"
#include "l7_tls__priv.h"

/* TLS 1.2 suites: ECDHE only (forward secrecy, no RSA key exchange), AEAD
 * only (no CBC), ECDSA before RSA, AES-GCM before ChaCha20 (the server
 * order wins). TLS 1.3 keeps OpenSSL's default suites, all AEAD. */
#define L7_TLS_CIPHERS_12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define L7_TLS_GROUPS "X25519:P-256:P-384"
#define L7_TLS_SID_CTX "tandem"
#define L7_TLS_MAX_NAMES 64	/* names taken from one certificate */

/* ---- per-listener context ---- */

/* One SSL_CTX and the names its certificates answer for. */
struct l7_tls_group {
	SSL_CTX *ctx;
	char **names;		/* lower case; "*.example.com" for wildcards */
	size_t nnames;
	unsigned types;		/* 1 = RSA loaded, 2 = ECDSA loaded */
};

struct l7_tls_ctx {
	atomic_int refs;
	struct l7_tls_keys *keys;	/* borrowed */
	struct l7_tls_group *groups;	/* groups[0] is the default */
	size_t ngroups;
	unsigned char alpn[32];		/* wire format */
	size_t alpn_len;
	bool take;			/* record_layer "tandem": l7_tls_take after the handshake */
};

static int l7_tls_ex_ctx = -1;		/* SSL_CTX ex_data: struct l7_tls_ctx * */
static pthread_once_t l7_tls_once = PTHREAD_ONCE_INIT;
/* Fetched once: OpenSSL 3.0 looks EVP_aes_256_cbc() up by name in its
 * provider store on every init, twice per resumed handshake. Never freed
 * (process lifetime); EVP_aes_256_cbc() if the fetch failed. */
static EVP_CIPHER *l7_tls_ticket_cipher;

static void
l7_tls_init_once(void)
{
	l7_tls_ex_ctx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	l7_tls_ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

static const EVP_CIPHER *
l7_tls_ticket_cipher_get(void)
{
	return l7_tls_ticket_cipher != NULL ? l7_tls_ticket_cipher : EVP_aes_256_cbc();
}

/* The last OpenSSL error as text (never key material: OpenSSL's errors name
 * files and reasons only). */
static void
l7_tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", e ? buf : "");
	ERR_clear_error();
}

/* Ticket key callback: encrypt under the current key; decrypt under any
 * key still held (returning 2 asks for a renewed ticket: in TLS 1.3
 * always, in TLS 1.2 when the key is not the current one); 0 = unknown
 * key, full handshake. */
static int
l7_tls_ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
		 EVP_MAC_CTX *hctx, int enc)
{
	struct l7_tls_ctx *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), l7_tls_ex_ctx);
	struct l7_tls_ticket_key k;
	OSSL_PARAM params[3];
	int rc = -1, found;

	if (c == NULL)
		return -1;
	found = l7_tls_keys_find(c->keys, enc ? NULL : name, &k);
	if (found < 0)
		return 0;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		memcpy(name, k.name, L7_TLS_KEY_NAME_LEN);
		if (RAND_bytes(iv, 16) == 1 &&
		    EVP_EncryptInit_ex(cctx, l7_tls_ticket_cipher_get(), NULL, k.aes, iv) == 1 &&
		    EVP_MAC_CTX_set_params(hctx, params) == 1)
			rc = 1;
	} else if (EVP_DecryptInit_ex(cctx, l7_tls_ticket_cipher_get(), NULL, k.aes, iv) == 1 &&
		   EVP_MAC_CTX_set_params(hctx, params) == 1) {
		/* 2 = resume and send a new ticket: always in TLS 1.3, where
		 * a client uses a ticket once (RFC 8446 C.4; OpenSSL's client
		 * and browsers offer none after a resumption that brought no
		 * new one), in TLS 1.2 when the key is no longer the current */
		rc = found == 0 && SSL_version(s) != TLS1_3_VERSION ? 1 : 2;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

static int
l7_tls_alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	       unsigned inlen, void *arg)
{
	struct l7_tls_ctx *c = arg;
	unsigned char *sel;

	(void)s;
	if (c->alpn_len == 0 ||
	    SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;	/* no overlap: go on without ALPN */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Does name (lower case) match pattern (exact, or "*.rest" for one label)? */
static int
l7_tls_name_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strcmp(pattern, name) == 0)
		return 1;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && strcmp(dot + 1, pattern + 2) == 0;
}

/* Finds the group for an SNI name: an exact name first, then a wildcard,
 * else NULL (the default serves). */
static struct l7_tls_group *
l7_tls_find(struct l7_tls_ctx *c, const char *sni)
{
	char name[256];
	size_t i, j, n = strlen(sni);

	if (n == 0 || n >= sizeof(name))
		return NULL;
	for (i = 0; i <= n; i++)
		name[i] = (char)(sni[i] >= 'A' && sni[i] <= 'Z' ? sni[i] + 32 : sni[i]);
	if (name[n - 1] == '.')
		name[n - 1] = '\0';
	for (i = 0; i < c->ngroups; i++)
		for (j = 0; j < c->groups[i].nnames; j++)
			if (strcmp(c->groups[i].names[j], name) == 0)
				return &c->groups[i];
	for (i = 0; i < c->ngroups; i++)
		for (j = 0; j < c->groups[i].nnames; j++)
			if (c->groups[i].names[j][0] == '*' && l7_tls_name_match(c->groups[i].names[j], name))
				return &c->groups[i];
	return NULL;
}

static int
l7_tls_sni_cb(SSL *s, int *al, void *arg)
{
	struct l7_tls_ctx *c = arg;
	const char *sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	struct l7_tls_group *g;

	(void)al;
	if (sni == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	g = l7_tls_find(c, sni);
	if (g != NULL && g->ctx != SSL_get_SSL_CTX(s))
		SSL_set_SSL_CTX(s, g->ctx);
	return SSL_TLSEXT_ERR_OK;
}

/* The protocol policy every SSL_CTX of a listener shares. */
static int
l7_tls_ctx_setup(struct l7_tls_ctx *c, SSL_CTX *ctx, const struct l7_tls_opts *o)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, L7_TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, L7_TLS_GROUPS) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)L7_TLS_SID_CTX,
					   sizeof(L7_TLS_SID_CTX) - 1) != 1 ||
	    SSL_CTX_set_ex_data(ctx, l7_tls_ex_ctx, c) != 1)
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE);
	/* Small records would cost throughput; the proxy sizes its writes. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	/* One read() per batch of records instead of two per record (header,
	 * then body); l7_io drains what was read ahead (l7_tls_conn_pending).
	 * The read buffer is still released whenever it is empty. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, o->no_resumption ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
	if (o->no_resumption)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_sess_set_cache_size(ctx, o->session_cache_size > 0 ? o->session_cache_size : 20000);
	SSL_CTX_set_timeout(ctx, o->session_timeout > 0 ? o->session_timeout : 300);
	SSL_CTX_set_num_tickets(ctx, o->no_resumption ? 0 : 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, l7_tls_ticket_cb);
	SSL_CTX_set_alpn_select_cb(ctx, l7_tls_alpn_cb, c);
	SSL_CTX_set_tlsext_servername_callback(ctx, l7_tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, c);
	if (!o->record_layer_openssl)
		l7_tls_take_ctx(ctx);
	if (o->client_ca_file != NULL) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca_file);

		/* a certificate that is sent must verify, in both modes */
		if (names == NULL || SSL_CTX_load_verify_locations(ctx, o->client_ca_file, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			return -1;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (o->client_required ?
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
		SSL_CTX_set_verify_depth(ctx, 5);
	}
	return 0;
}

static void
l7_tls_group_free(struct l7_tls_group *g)
{
	size_t i;

	for (i = 0; i < g->nnames; i++)
		free(g->names[i]);
	free(g->names);
	SSL_CTX_free(g->ctx);
}

/* Collects the DNS names of x (SANs, else the CN) in lower case. */
static int
l7_tls_cert_names(X509 *x, char ***names, size_t *n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char **v = calloc(L7_TLS_MAX_NAMES, sizeof(*v)), buf[256];
	size_t k = 0, i;
	int j;

	if (v == NULL) {
		GENERAL_NAMES_free(gens);
		return -ENOMEM;
	}
	for (j = 0; gens != NULL && j < sk_GENERAL_NAME_num(gens) && k < L7_TLS_MAX_NAMES; j++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);

		if (g->type != GEN_DNS || g->d.dNSName->length <= 0 ||
		    (size_t)g->d.dNSName->length >= sizeof(buf))
			continue;
		memcpy(buf, g->d.dNSName->data, (size_t)g->d.dNSName->length);
		buf[g->d.dNSName->length] = '\0';
		v[k++] = strdup(buf);
	}
	GENERAL_NAMES_free(gens);
	if (k == 0 && X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
						sizeof(buf)) > 0)
		v[k++] = strdup(buf);
	for (i = 0; i < k; i++) {
		char *p;

		if (v[i] == NULL) {
			while (k > 0)
				free(v[--k]);
			free(v);
			return -ENOMEM;
		}
		for (p = v[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
	}
	*names = v;
	*n = k;
	return 0;
}

static int
l7_tls_same_names(const struct l7_tls_group *g, char **names, size_t n)
{
	size_t i, j;

	if (g->nnames != n)
		return 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && strcmp(names[i], g->names[j]) != 0; j++)
			;
		if (j == n)
			return 0;
	}
	return 1;
}

/* Loads one certificate into its group (a new one, or the group with the
 * same names and no certificate of this key type yet). */
static int
l7_tls_add_cert(struct l7_tls_ctx *c, const struct l7_tls_cert_spec *s, const struct l7_tls_opts *o,
		char *err, size_t errlen)
{
	SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
	struct l7_tls_group *g = NULL;
	char **names = NULL, what[512];
	size_t nnames = 0, i;
	unsigned type;
	EVP_PKEY *pk;
	X509 *x;
	int rc = -EINVAL;

	snprintf(what, sizeof(what), "certificate \"%s\"", s->name);
	/* Load into a probe first, to learn the names and the key type. */
	if (probe == NULL || SSL_CTX_use_certificate_chain_file(probe, s->cert_file) != 1) {
		snprintf(what, sizeof(what), "certificate \"%s\": cannot load %s", s->name, s->cert_file);
		l7_tls_err(err, errlen, what);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(probe, s->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(probe) != 1) {
		snprintf(what, sizeof(what), "certificate \"%s\": the key in %s cannot be loaded or does not "
			 "match the certificate", s->name, s->key_file);
		l7_tls_err(err, errlen, what);
		goto out;
	}
	x = SSL_CTX_get0_certificate(probe);
	pk = X509_get0_pubkey(x);
	type = EVP_PKEY_is_a(pk, "RSA") ? 1 : EVP_PKEY_is_a(pk, "EC") ? 2 : 0;
	if (type == 0) {
		snprintf(err, errlen, "certificate \"%s\": only RSA and ECDSA keys are served", s->name);
		goto out;
	}
	rc = l7_tls_cert_names(x, &names, &nnames);
	if (rc < 0)
		goto out;
	for (i = 0; i < c->ngroups; i++)
		if (!(c->groups[i].types & type) && l7_tls_same_names(&c->groups[i], names, nnames)) {
			g = &c->groups[i];
			break;
		}
	rc = -ENOMEM;
	if (g == NULL) {
		struct l7_tls_group *ng = realloc(c->groups, (c->ngroups + 1) * sizeof(*ng));

		if (ng == NULL)
			goto out;
		c->groups = ng;
		g = &c->groups[c->ngroups];
		memset(g, 0, sizeof(*g));
		g->ctx = SSL_CTX_new(TLS_server_method());
		if (g->ctx == NULL || l7_tls_ctx_setup(c, g->ctx, o) < 0) {
			SSL_CTX_free(g->ctx);
			if (o->client_ca_file != NULL) {
				snprintf(what, sizeof(what), "client CA bundle %s cannot be loaded",
					 o->client_ca_file);
				l7_tls_err(err, errlen, what);
			} else {
				l7_tls_err(err, errlen, "cannot set up the TLS context");
			}
			goto out;
		}
		g->names = names;
		g->nnames = nnames;
		names = NULL;
		c->ngroups++;
	}
	rc = -EINVAL;
	if (SSL_CTX_use_certificate_chain_file(g->ctx, s->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(g->ctx, s->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(g->ctx) != 1) {
		l7_tls_err(err, errlen, what);
		goto out;
	}
	g->types |= type;
	if (s->ocsp_file != NULL)	/* a bad response is logged, not fatal */
		l7_ocsp_staple(g->ctx, s->name, s->ocsp_file);
	rc = 0;
out:
	if (names != NULL) {
		for (i = 0; i < nnames; i++)
			free(names[i]);
		free(names);
	}
	SSL_CTX_free(probe);
	ERR_clear_error();
	return rc;
}

static void
l7_tls_ctx_destroy(struct l7_tls_ctx *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		l7_tls_group_free(&c->groups[i]);
	free(c->groups);
	free(c);
}

struct l7_tls_ctx *
l7_tls_ctx_new(const struct l7_tls_cert_spec *certs, size_t n, struct l7_tls_keys *keys,
	       const struct l7_tls_opts *opts, char *err, size_t errlen)
{
	struct l7_tls_ctx *c;
	size_t i;

	pthread_once(&l7_tls_once, l7_tls_init_once);
	err[0] = '\0';
	if (n == 0 || keys == NULL) {
		snprintf(err, errlen, "a TLS listener needs at least one certificate");
		return NULL;
	}
	if (l7_tls_ex_ctx < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&c->refs, 1);
	c->keys = keys;
	c->take = !opts->record_layer_openssl;
	/* ALPN in preference order: h2 first. */
	if (opts->alpn_h2) {
		memcpy(c->alpn + c->alpn_len, "\x02h2", 3);
		c->alpn_len += 3;
	}
	if (opts->alpn_http11) {
		memcpy(c->alpn + c->alpn_len, "\x08http/1.1", 9);
		c->alpn_len += 9;
	}
	for (i = 0; i < n; i++)
		if (l7_tls_add_cert(c, &certs[i], opts, err, errlen) < 0) {
			l7_tls_ctx_destroy(c);
			return NULL;
		}
	return c;
}

struct l7_tls_ctx *
l7_tls_ctx_ref(struct l7_tls_ctx *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void
l7_tls_ctx_unref(struct l7_tls_ctx **cp)
{
	struct l7_tls_ctx *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (atomic_fetch_sub(&c->refs, 1) == 1)
		l7_tls_ctx_destroy(c);
}

/* ---- connections ---- */


struct l7_tls_conn *
l7_tls_conn_new(struct l7_tls_ctx *ctx, int fd)
{
	struct l7_tls_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ssl = SSL_new(ctx->groups[0].ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	if (ctx->take && l7_tls_take_begin(c) < 0) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	c->ctx = l7_tls_ctx_ref(ctx);
	return c;
}

/* Maps an SSL_* result to enum l7_tls_io. */
static int
l7_tls_io_result(struct l7_tls_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_SSL)
		c->err = ERR_peek_last_error();	/* the reason, for l7_tls_up_why */
	ERR_clear_error();
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return L7_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return L7_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return L7_TLS_CLOSED;
	default:
		return L7_TLS_ERROR;
	}
}

int
l7_tls_conn_handshake(struct l7_tls_conn *c)
{
	int r;

	if (c->ssl == NULL)
		return L7_TLS_OK;
	r = SSL_do_handshake(c->ssl);
	if (r != 1)
		return l7_tls_io_result(c, r);
	if (c->ctx != NULL)
		(void)l7_tls_take_over(c);	/* server; 0: OpenSSL's record layer goes on */
	return L7_TLS_OK;
}

ssize_t
l7_tls_conn_read(struct l7_tls_conn *c, void *buf, size_t len)
{
	size_t got = 0;
	int r;

	if (c->own != NULL)
		return l7_tls_own_read(c, buf, len);
	r = SSL_read_ex(c->ssl, buf, len, &got);

	return r == 1 ? (ssize_t)got : l7_tls_io_result(c, r);
}

int
l7_tls_conn_pending(struct l7_tls_conn *c)
{
	if (c->own != NULL)
		return l7_tls_own_pending(c);
	/* after a fallback from our record layer, bytes the handshake BIO
	 * read from the socket and OpenSSL has not asked for yet count too */
	return SSL_has_pending(c->ssl) || BIO_pending(SSL_get_rbio(c->ssl)) > 0;
}

ssize_t
l7_tls_conn_write(struct l7_tls_conn *c, const void *buf, size_t len)
{
	size_t put = 0;
	int r;

	if (c->own != NULL)
		return l7_tls_own_write(c, buf, len);
	r = SSL_write_ex(c->ssl, buf, len, &put);

	return r == 1 ? (ssize_t)put : l7_tls_io_result(c, r);
}

void
l7_tls_conn_shutdown(struct l7_tls_conn *c)
{
	if (c->own != NULL)
		l7_tls_own_shutdown(c);
	else if (SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
}

const char *
l7_tls_conn_alpn(struct l7_tls_conn *c)
{
	const unsigned char *p;
	unsigned n;

	if (c->ssl == NULL)
		return c->f_alpn;
	SSL_get0_alpn_selected(c->ssl, &p, &n);
	if (n == 2 && memcmp(p, "h2", 2) == 0)
		return "h2";
	if (n == 8 && memcmp(p, "http/1.1", 8) == 0)
		return "http/1.1";
	return NULL;
}

const char *
l7_tls_conn_sni(struct l7_tls_conn *c)
{
	if (c->ssl == NULL)
		return c->f_sni;
	return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}

int
l7_tls_conn_peer_subject(struct l7_tls_conn *c, char *buf, size_t len)
{
	X509 *x;
	BIO *b;
	int n;

	if (c->ssl == NULL) {
		if (c->f_subject == NULL || len == 0)
			return 0;
		snprintf(buf, len, "%s", c->f_subject);
		return 1;
	}
	x = SSL_get0_peer_certificate(c->ssl);

	if (x == NULL || SSL_get_verify_result(c->ssl) != X509_V_OK || len == 0)
		return 0;
	b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return 0;
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	n = BIO_read(b, buf, (int)len - 1);
	BIO_free(b);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return 1;
}

int
l7_tls_conn_resumed(struct l7_tls_conn *c)
{
	return c->ssl == NULL ? c->f_resumed : SSL_session_reused(c->ssl);
}

const char *
l7_tls_conn_version(struct l7_tls_conn *c)
{
	return c->ssl == NULL ? c->f_version : SSL_get_version(c->ssl);
}

void
l7_tls_conn_free(struct l7_tls_conn **cp)
{
	struct l7_tls_conn *c = *cp;

	if (c == NULL)
		return;
	l7_tls_own_free(c);
	SSL_free(c->ssl);
	l7_tls_ctx_unref(&c->ctx);
	l7_tls_up_unref(&c->up);	/* client side (l7_tls_up.c) */
	free(c);
	*cp = NULL;
}
