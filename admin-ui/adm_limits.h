#ifndef TANDEM_ADM_LIMITS_H
#define TANDEM_ADM_LIMITS_H

#include <stddef.h>

#include "adm-t.h"

/*
 * adm_limits - REST API of the rate_rules section (rate rules, client
 * lists, WAF checks) and of the limiter's live view (doc/api.md "Rate
 * rules"). HTTP thread only.
 */

/* Answers one request under /rate-rules; segs[0] is "rate-rules" (segments
 * borrowed). The caller has checked the session, CSRF token and role. */
void adm_limits_handle(struct adm *a, char *const *segs, size_t nsegs,
		       const struct adm_req *rq, struct adm_resp *rs);

#endif
