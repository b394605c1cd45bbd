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

/* Sets rs to status with body (taken; NULL: 500 unless status is 204). */
void adm_resp_ok(struct adm_resp *rs, unsigned status, json_t *body);

/* The request body as a JSON object (new reference), or NULL with rs set to
 * 400 (malformed JSON, duplicate keys, or not an object). */
json_t *adm_req_object(const struct adm_req *rq, struct adm_resp *rs);

/* The verdict of a validation: 0 when errors (taken) is empty; else rs is
 * 422 naming the first error ("field: message", its field) with every error
 * in "errors", and -1. errors NULL (an internal error): 500, -1. */
int adm_resp_invalid(struct adm_resp *rs, json_t *errors);

/* Validates a section the way apply will: conf_parse on the rendered
 * candidate with key set to section (borrowed; NULL removes it). For each
 * error, field(cfg, path, arg) gives the API field (new string) or NULL to
 * leave the error out (it is not this edit's). Returns a new array of
 * {field, message}, empty when clean, or NULL on an internal error. */
typedef char *(*adm_field_fn)(const json_t *cfg, const char *path, void *arg);
json_t *adm_judge_section(struct adm *a, const char *key, json_t *section, adm_field_fn field,
			  void *arg);

/* "addr:port", or "[addr]:port" for IPv6, into out. */
void adm_member_key(const char *addr, long port, char *out, size_t outlen);

#endif
