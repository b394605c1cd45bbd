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

/* Sets rs to status with body (taken; NULL only for 204, else 500). */
void adm_ok(struct adm_resp *rs, unsigned status, json_t *body);

/* Sets rs to the answer for db error rc (-ENOENT 404, -EEXIST 409 on field,
 * -EBUSY 409 in_use, -EINVAL 422, -EAGAIN 503, else 500) about what. */
void adm_db_error(struct adm_resp *rs, int rc, const char *what, const char *field);

/* Ends a validation: 0 when errors (taken) is empty, else rs is a 422
 * carrying them ("errors"; the first is error.field) and -1. NULL errors:
 * 500 and -1. Entries are {"field", "message"}. */
int adm_verdict(struct adm_resp *rs, json_t *errors);

/* The request body as a JSON object (new reference); NULL with rs set to
 * 400 when it is not JSON or not an object. */
json_t *adm_body_object(const struct adm_req *rq, struct adm_resp *rs);

/* Parses "addr:port" or "[v6]:port" (port min_port-65535) into a canonical
 * address (out, alen bytes) and port. 0 or -1. */
int adm_parse_key(const char *key, long min_port, char *addr, size_t alen, long *port);

/* "addr:port", or "[addr]:port" for IPv6, into out. */
void adm_member_key(const char *addr, long port, char *out, size_t outlen);

#endif
