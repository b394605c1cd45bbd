#ifndef TANDEM_L7_TLS__PRIV_H
#define TANDEM_L7_TLS__PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/*
 * Shared by l7_tls.c (server side) and l7_tls_up.c (client side towards
 * pool members): one connection type, so l7_io drives both the same way.
 */
struct l7_tls_ctx;
struct l7_tls_up;
struct l7_tls_cap;
struct l7_tls_own;

struct l7_tls_conn {
	SSL *ssl;
	struct l7_tls_ctx *ctx;		/* server: reference */
	struct l7_tls_up *up;		/* client: reference (l7_tls_up_unref) */
	size_t slot;			/* client: the member's session slot */
	unsigned long err;		/* the last SSL_ERROR_SSL's code, for the log */
	/* server, record_layer "tandem" (l7_tls_take.c): */
	struct l7_tls_cap *cap;		/* during the handshake: secrets, record counts */
	struct l7_tls_own *own;		/* after takeover (ssl is then NULL) */
	const char *f_alpn;		/* facts kept from the freed SSL object */
	const char *f_version;
	char *f_sni;
	char *f_subject;
	bool f_resumed;
	unsigned char layer;		/* counted in l7_tls_layer_counts: 0 no, 1 OpenSSL, 2 ours */
};

void l7_tls_up_unref(struct l7_tls_up **up);

/* l7_tls_take.c: our record layer after an OpenSSL handshake. */
void l7_tls_take_ctx(SSL_CTX *ctx);
int l7_tls_take_begin(struct l7_tls_conn *c);
/* At the end of the handshake: 1 taken over (c->ssl freed), 0 OpenSSL keeps it. */
int l7_tls_take_over(struct l7_tls_conn *c);
ssize_t l7_tls_own_read(struct l7_tls_conn *c, void *buf, size_t len);
int l7_tls_own_pending(struct l7_tls_conn *c);
ssize_t l7_tls_own_write(struct l7_tls_conn *c, const void *buf, size_t len);
void l7_tls_own_shutdown(struct l7_tls_conn *c);
void l7_tls_own_free(struct l7_tls_conn *c);


#endif
