#ifndef TANDEM_ADM_TLSKEYS_H
#define TANDEM_ADM_TLSKEYS_H

#include "adm-t.h"

/*
 * adm_tlskeys - the session ticket key store of the running tandemd
 * (doc/api.md "TLS session ticket keys"):
 *
 *   GET  /tls/ticket-keys   {"keys","current_created","lifetime_s",
 *                            "lifetime_from","next_rotation"}
 *   POST /tls/rotate-keys   a new current key now; the same answer
 *
 * Both go to tandemd's control socket ("status", "tls-rotate-keys"); they
 * act on the running daemon, not on the candidate. Never key material:
 * only the fields above are passed through. HTTP thread only; the caller
 * has checked the session, CSRF token and role.
 */
void adm_tlskeys_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
			const struct adm_req *rq, struct adm_resp *rs);

#endif
