#ifndef TANDEM_L7_TLSCONF_H
#define TANDEM_L7_TLSCONF_H

#include <stdint.h>

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"
#include "l7_tls-t.h"

/*
 * l7_tlsconf - the bridge between the configuration and l7_tls: where the
 * certificate files are (tandem-admin writes them there at apply), the
 * process-wide ticket key store and its rotation schedule, and building one
 * l7_tls_ctx per TLS listener while a snapshot is built.
 */

#define L7_TLSCONF_DEFAULT_DIR "/var/lib/tandem/certs"
/* Ticket keys encrypt for this long, then decrypt only for two more
 * periods (L7_TLS_KEYS_MAX): a ticket stays valid 24 to 36 hours. */
#define L7_TLSCONF_KEY_LIFETIME (12 * 3600)

/* Sets the certificate directory and creates the ticket key store (rotation
 * every lifetime seconds, 0 = never by schedule). Before the first snapshot
 * build; main thread. 0 or -errno. */
int l7_tlsconf_init(const char *dir, unsigned lifetime, uint64_t now);
void l7_tlsconf_shutdown(void);
/* The store (NULL before init). */
struct l7_tls_keys *l7_tlsconf_keys(void);
/* Main loop, once a second: rotates the ticket key when due. */
void l7_tlsconf_tick(uint64_t now);
/* After each snapshot build: the config's "tls.ticket_key_lifetime", or
 * dflt (--ticket-key-lifetime) when it has none. The keys stay: only when
 * the next rotation is due changes. Main thread. */
void l7_tlsconf_lifetime(const struct conf *c, unsigned dflt);
/* The key store without secrets: {"keys","current_created","lifetime_s",
 * "lifetime_from","next_rotation"} (for "status"). */
json_t *l7_tlsconf_keys_json(void);
/* Control command "tls-rotate-keys": rotates now; the reply is
 * l7_tlsconf_keys_json's with "ok" (never a key). */
json_t *l7_tlsconf_rotate_json(uint64_t now);

/* Builds out[i] for each TLS listener of c (NULL for plain ones); on any
 * failure every context is released and the reasons are in errs at the
 * listener's JSON path. 0 or -1. Main thread. */
int l7_tlsconf_build(const struct conf *c, struct l7_tls_ctx **out, struct errs *errs);
void l7_tlsconf_release(struct l7_tls_ctx **ctxs, size_t n);
/* The certificate directory (--cert-dir). */
const char *l7_tlsconf_dir(void);

/* l7_tlsconf_up.c: out[i] for each pool of c with "tls" (NULL for plain
 * ones), like l7_tlsconf_build; reasons at $.pools[i].tls. 0 or -1. */
struct l7_tls_up;
int l7_tlsconf_up_build(const struct conf *c, struct l7_tls_up **out, struct errs *errs);
void l7_tlsconf_up_release(struct l7_tls_up **ups, size_t n);

#endif
