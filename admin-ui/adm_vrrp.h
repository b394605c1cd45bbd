#ifndef TANDEM_ADM_VRRP_H
#define TANDEM_ADM_VRRP_H

#include <stddef.h>

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_vrrp - REST API of the vrrp section (/vrrp, /vrrp/local,
 * /vrrp/groups[/name]; doc/api.md). HTTP thread only.
 */

/* Answers one request under /vrrp; segs[0] is "vrrp" (segments borrowed).
 * The caller has already checked the session, CSRF token and role. */
void adm_vrrp_handle(struct adm *a, char *const *segs, size_t nsegs,
		     const struct adm_req *rq, struct adm_resp *rs);

/* The API field of a validator path below "$.vrrp" (rest is what follows
 * it, e.g. ".groups[0].vips[1]" -> "vrrp/groups/web/vips"), using config
 * (borrowed) for the names. Returns a new string (NULL on OOM). */
char *adm_vrrp_field_of_path(const json_t *config, const char *rest);

#endif
