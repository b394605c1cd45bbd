#ifndef TANDEM_L7_TLS__PRIV_H
#define TANDEM_L7_TLS__PRIV_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Shared by l7_tls.c (server side) and l7_tls_up.c (client side towards
 * pool members): one connection type, so l7_io drives both the same way.
 */
struct l7_tls_ctx;
struct l7_tls_up;

struct l7_tls_conn {
	SSL *ssl;
	struct l7_tls_ctx *ctx;		/* server: reference */
	struct l7_tls_up *up;		/* client: reference (l7_tls_up_unref) */
	size_t slot;			/* client: the member's session slot */
	unsigned long err;		/* the last SSL_ERROR_SSL's code, for the log */
};

void l7_tls_up_unref(struct l7_tls_up **up);

#endif
