#ifndef TANDEM_L7_TLS_H
#define TANDEM_L7_TLS_H

#include <sys/types.h>

#include "l7_tls-t.h"

/*
 * l7_tls - TLS termination for the L7 tier; the only daemon module that
 * includes OpenSSL headers.
 *
 * Config time (snapshot build, main thread): l7_tls_ctx_new() loads a
 * listener's certificates and builds its SSL_CTXs; it can fail, with the
 * reason, so a bad certificate refuses the reload. Run time (workers):
 * l7_tls_conn_* drive one non-blocking connection. The ticket key store is
 * process-wide and outlives snapshots; it is rotated from the main loop and
 * read by workers under its own lock.
 */

/* ---- ticket key store (l7_tls_keys.c) ---- */
/* A new store with one fresh key created at now; lifetime is how long a key
 * encrypts before l7_tls_keys_tick() rotates it. NULL on OOM or RNG failure. */
struct l7_tls_keys *l7_tls_keys_new(uint64_t now, unsigned lifetime);
void l7_tls_keys_free(struct l7_tls_keys **ksp);
/* Makes a fresh random key current; the old current key becomes the newest
 * decrypt-only one; the oldest beyond L7_TLS_KEYS_MAX is wiped. 0/-errno. */
int l7_tls_keys_rotate(struct l7_tls_keys *ks, uint64_t now);
/* Rotates when the current key is older than the lifetime: 1 rotated,
 * 0 not due, -errno. Call once a second or so from the main loop. */
int l7_tls_keys_tick(struct l7_tls_keys *ks, uint64_t now);
/* Changes the lifetime; the keys stay, so only when the next rotation is
 * due changes (created + lifetime of the current key). */
void l7_tls_keys_set_lifetime(struct l7_tls_keys *ks, unsigned lifetime);
/* No secrets: the count of keys held, the current key's creation time and
 * the lifetime. */
size_t l7_tls_keys_meta(struct l7_tls_keys *ks, uint64_t *current_created, unsigned *lifetime);
/* Copies the keys, current first, into out[0..max); returns the count. */
size_t l7_tls_keys_get(struct l7_tls_keys *ks, struct l7_tls_ticket_key *out, size_t max);
/* Serialises every key, current first, into buf (L7_TLS_KEYS_EXPORT_LEN
 * bytes at most); for the peer link and the binary upgrade. Returns the
 * length or -ENOSPC. The buffer holds secrets: wipe it after sending. */
ssize_t l7_tls_keys_export(struct l7_tls_keys *ks, unsigned char *buf, size_t len);
/* Replaces every key with what l7_tls_keys_export wrote on the peer, so
 * both nodes encrypt with the same current key. -EINVAL on a malformed
 * buffer (the store is left unchanged). */
int l7_tls_keys_import(struct l7_tls_keys *ks, const unsigned char *buf, size_t len);
/* Copies into *out the current key (name NULL) or the held key whose name
 * is name[0..L7_TLS_KEY_NAME_LEN); returns its index (0 = current) or -1
 * when no key has that name. The copy holds secrets: wipe it after use. */
int l7_tls_keys_find(struct l7_tls_keys *ks, const unsigned char *name, struct l7_tls_ticket_key *out);

/* ---- per-listener context ---- */
/* Builds a listener's TLS context from certs[0..n) (certs[0] is the default
 * for clients without SNI or with an unknown name). Certificates with the
 * same set of names share one SSL_CTX, so an RSA and an ECDSA certificate
 * for the same names are both offered and OpenSSL picks by the client's
 * signature algorithms. keys is borrowed and must outlive the context.
 * Returns a new reference, or NULL with the reason in err. */
struct l7_tls_ctx *l7_tls_ctx_new(const struct l7_tls_cert_spec *certs, size_t n,
				  struct l7_tls_keys *keys, const struct l7_tls_opts *opts,
				  char *err, size_t errlen);
/* Takes another reference (a connection holds one until it is freed). */
struct l7_tls_ctx *l7_tls_ctx_ref(struct l7_tls_ctx *c);
/* Drops a reference and sets *cp to NULL; the last one frees. Any thread. */
void l7_tls_ctx_unref(struct l7_tls_ctx **cp);

/* ---- connections (worker threads) ---- */
/* Server side of an accepted, non-blocking fd (borrowed: the caller closes
 * it after l7_tls_conn_free). NULL on OOM. */
struct l7_tls_conn *l7_tls_conn_new(struct l7_tls_ctx *ctx, int fd);
/* Drives the handshake: L7_TLS_OK when done, WANT_READ/WANT_WRITE, or
 * ERROR/CLOSED (drop the connection). */
int l7_tls_conn_handshake(struct l7_tls_conn *c);
/* Reads up to len bytes: > 0 bytes read, or an enum l7_tls_io value. */
ssize_t l7_tls_conn_read(struct l7_tls_conn *c, void *buf, size_t len);
/* Does the session hold received bytes not returned yet (a decrypted
 * record, or raw records read ahead)? Then the socket may be empty while
 * l7_tls_conn_read still has something to give. */
int l7_tls_conn_pending(struct l7_tls_conn *c);
/* Writes up to len bytes: > 0 bytes written, or an enum l7_tls_io value.
 * After WANT_*, call again with the same buffer and length. */
ssize_t l7_tls_conn_write(struct l7_tls_conn *c, const void *buf, size_t len);
/* Sends close_notify (best effort, never blocks). */
void l7_tls_conn_shutdown(struct l7_tls_conn *c);
/* After the handshake: the ALPN protocol ("h2", "http/1.1") or NULL; the
 * SNI name or NULL; whether the session was resumed; the version text. */
const char *l7_tls_conn_alpn(struct l7_tls_conn *c);
const char *l7_tls_conn_sni(struct l7_tls_conn *c);
int l7_tls_conn_resumed(struct l7_tls_conn *c);
/* The verified client certificate's subject (RFC 2253) into buf: 1, or 0
 * when the client sent none (client_auth optional) or it did not verify. */
int l7_tls_conn_peer_subject(struct l7_tls_conn *c, char *buf, size_t len);
const char *l7_tls_conn_version(struct l7_tls_conn *c);
/* Server connections open now, past their handshake, on OpenSSL's record
 * layer and on ours (l7_tls_take; doc/tls.md "Record layer"). */
void l7_tls_layer_counts(unsigned long *openssl, unsigned long *tandem);
/* Frees the connection and its context reference; sets *cp to NULL. */
void l7_tls_conn_free(struct l7_tls_conn **cp);

#endif
