#ifndef TANDEM_ADM_API_H
#define TANDEM_ADM_API_H

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_api - the REST API under /api/v1 (see doc/api.md), independent of the
 * HTTP library: a struct adm_req in, a struct adm_resp out. Runs on the one
 * HTTP thread, which owns a->db.
 */

/* Handles one request; rs is filled (status, body, cookie). Never fails:
 * internal errors become a 500 answer. */
void adm_api_handle(struct adm *a, const struct adm_req *rq, struct adm_resp *rs);

/* Frees what rs holds and zeroes it. */
void adm_resp_release(struct adm_resp *rs);

/* Sets rs to the error body {"error":{"code","message","field"?}}; field may
 * be NULL. Replaces any body rs held. */
void adm_resp_error(struct adm_resp *rs, unsigned status, const char *code,
		    const char *message, const char *field);

/* "addr:port", or "[addr]:port" for IPv6, into out. */
void adm_member_key(const char *addr, long port, char *out, size_t outlen);

#endif
