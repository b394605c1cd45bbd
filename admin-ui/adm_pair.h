#ifndef TANDEM_ADM_PAIR_H
#define TANDEM_ADM_PAIR_H

#include <stddef.h>

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_pair - the pair's REST endpoints (doc/api.md "Pairing and config
 * sync"): the operator's /pair (token, join, unpair, view) and the
 * console-to-console /pair/peer/... (accept, state, push, unpair), which
 * authenticate with the one-time token or the pair's bearer key instead of
 * a session. HTTP thread only.
 */

/* Console-to-console calls (no session): 1 when path is /pair/peer/... and
 * rs is filled, else 0. */
int adm_pair_peer_handle(struct adm *a, const struct adm_req *rq, char *const *segs, size_t nsegs,
			 struct adm_resp *rs);

/* The operator's /pair endpoints; session, CSRF and role already checked. */
void adm_pair_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
		     const struct adm_req *rq, struct adm_resp *rs);

/* /revisions/conflicts[/ID[/restore]]: revisions that lost a split brain. */
void adm_pair_conflicts_handle(struct adm *a, const char *user, char *const *segs, size_t nsegs,
			       const struct adm_req *rq, struct adm_resp *rs);

/* Adds the conflicted revisions to a GET /revisions list (newest first). */
void adm_pair_revisions_annotate(struct adm *a, json_t *list);

#endif
