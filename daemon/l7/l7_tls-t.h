#ifndef TANDEM_L7_TLS_T_H
#define TANDEM_L7_TLS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Types of l7_tls (TLS termination). The structs are opaque: only l7_tls.c
 * sees OpenSSL. See doc/tls.md for how the proxy wires them in.
 */
struct l7_tls_ctx;	/* one per TLS listener and snapshot: SNI table + SSL_CTXs */
struct l7_tls_conn;	/* one per accepted TLS connection */
struct l7_tls_keys;	/* session-ticket key store, shared by every listener */

/* One certificate of a listener: files written by tandem-admin. */
struct l7_tls_cert_spec {
	const char *name;	/* for error messages */
	const char *cert_file;	/* PEM chain, leaf first */
	const char *key_file;	/* PEM private key */
	const char *ocsp_file;	/* DER OCSP response to staple, NULL = none (l7_ocsp) */
};

/* Per-listener options. */
struct l7_tls_opts {
	bool alpn_h2;		/* offer "h2" */
	bool alpn_http11;	/* offer "http/1.1" */
	long session_cache_size;	/* server session cache entries (0: 20000) */
	long session_timeout;		/* seconds (0: 300) */
	bool no_resumption;		/* no tickets, no session cache: every handshake is full */
	const char *client_ca_file;	/* non-NULL: ask for a client certificate, verify against it */
	bool client_required;		/* no verified client certificate, no handshake */
	bool record_layer_openssl;	/* keep OpenSSL's record layer after the handshake
					 * (default: ours, l7_tls_take; doc/tls.md) */
};

/* Results of the non-blocking I/O calls (nginx's OK/AGAIN/ERROR, split by
 * the direction the caller must wait for). */
enum l7_tls_io {
	L7_TLS_OK = 0,
	L7_TLS_WANT_READ = -1,
	L7_TLS_WANT_WRITE = -2,
	L7_TLS_CLOSED = -3,	/* clean close_notify or EOF */
	L7_TLS_ERROR = -4,
};

/* Ticket keys: 16-byte name, AES-256 key, HMAC-SHA256 key (the layout of
 * OpenSSL's and nginx's 80-byte ticket key files). */
#define L7_TLS_KEY_NAME_LEN 16
#define L7_TLS_KEY_AES_LEN 32
#define L7_TLS_KEY_HMAC_LEN 32
/* Keys kept: the current one (encrypts and decrypts) and this many older
 * ones (decrypt only, and ask the client to take a new ticket). */
#define L7_TLS_KEYS_MAX 3

struct l7_tls_ticket_key {
	unsigned char name[L7_TLS_KEY_NAME_LEN];
	unsigned char aes[L7_TLS_KEY_AES_LEN];
	unsigned char hmac[L7_TLS_KEY_HMAC_LEN];
	uint64_t created;	/* seconds, the caller's clock */
};

/* Size of l7_tls_keys_export's output for n keys: magic, version, count,
 * then n records of name, aes, hmac, created (big endian). */
#define L7_TLS_KEYS_EXPORT_LEN(n) (8 + (size_t)(n) * (L7_TLS_KEY_NAME_LEN + L7_TLS_KEY_AES_LEN + \
	L7_TLS_KEY_HMAC_LEN + 8))

#endif
