#ifndef TANDEM_L7_TLS_UP_H
#define TANDEM_L7_TLS_UP_H

#include <stdbool.h>
#include <stddef.h>

#include "l7_tls-t.h"

/*
 * l7_tls_up - TLS towards pool members (the client side; doc/tls.md). One
 * context per TLS pool and snapshot: the CA bundle that verifies members,
 * the name checked (and sent as SNI), an optional client certificate, ALPN,
 * and a session slot per member so a reconnect resumes instead of paying
 * a full handshake. Connections are struct l7_tls_conn, driven through
 * l7_io (l7_io_init_tls_up) like the client side.
 */
struct l7_tls_up;

struct l7_tls_up_opts {
	const char *ca_file;		/* verify against it; NULL = no verification */
	const char *cert_file;		/* client certificate chain (mTLS), NULL = none */
	const char *key_file;
	const char *server_name;	/* SNI + verified name; NULL = each member's address */
	bool session_reuse;
	bool alpn_h2;			/* offer "h2" instead of "http/1.1" (HTTP/2 pools) */
	size_t nmembers;		/* session slots */
};

/* Builds the context; NULL with the reason in err (files missing, a key that
 * does not match, an empty CA bundle). Main thread, at snapshot build. */
struct l7_tls_up *l7_tls_up_new(const struct l7_tls_up_opts *o, char *err, size_t errlen);
/* Drops a reference (connections hold one each); sets *up to NULL. */
void l7_tls_up_unref(struct l7_tls_up **up);
/* A client connection on fd (connected, non-blocking) to member slot
 * (its index in the pool) at numeric address addr: SNI, name check and a
 * cached session are set up. NULL on OOM. */
struct l7_tls_conn *l7_tls_up_conn_new(struct l7_tls_up *u, int fd, size_t slot, const char *addr);
/* Why the handshake of c failed, for the log: the certificate check's
 * verdict when it failed (returns 1), else the TLS error (returns 0). */
int l7_tls_up_why(struct l7_tls_conn *c, char *buf, size_t len);

#endif
