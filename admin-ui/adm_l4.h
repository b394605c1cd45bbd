#ifndef TANDEM_ADM_L4_H
#define TANDEM_ADM_L4_H

#include <stddef.h>

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_l4 - REST API of the l4 section (/l4, /l4/status, /l4/settings,
 * /l4/services[/name[/reals[/address:port]]]; doc/api.md). HTTP thread only.
 */

/* Answers one request under /l4; segs[0] is "l4" (segments borrowed). The
 * caller has already checked the session, CSRF token and role. */
void adm_l4_handle(struct adm *a, char *const *segs, size_t nsegs,
		   const struct adm_req *rq, struct adm_resp *rs);

/* The API field of a validator path below "$.l4" (rest is what follows it,
 * e.g. ".services[0].reals[1].weight" -> "l4/services/pg/reals/10.0.1.3:5432/weight"),
 * using config (borrowed) for the names. A new string (NULL on OOM). */
char *adm_l4_field_of_path(const json_t *config, const char *rest);

/* The dashboard's summary of tandemd's status "l4" object (borrowed):
 * {available, reason, configured, services, missing, nft}; json null when
 * l4 is not an object. New reference. */
json_t *adm_l4_status_summary(const json_t *l4);

#endif
