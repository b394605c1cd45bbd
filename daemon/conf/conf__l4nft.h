#ifndef TANDEM_CONF__L4NFT_H
#define TANDEM_CONF__L4NFT_H

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"

/*
 * conf__l4nft - the nftables parts of the "l4" section (conf_l4nft.c),
 * private to the conf module: "l4.filter" and each service's "limits", and
 * (same file, same helpers) each service's health "check".
 */

/* Parses v (borrowed; "l4.filter", may be NULL) into c->l4.filter, in
 * c->arena; problems go to errs under "$.l4.filter...". */
void conf__l4_filter_parse(struct conf *c, json_t *v, struct errs *errs);

/* Parses v (borrowed; a service's "limits", may be NULL) into svc->limits;
 * path is the service's JSON path. */
void conf__l4_limits_parse(struct conf *c, struct conf_l4_service *svc, json_t *v,
			   const char *path, struct errs *errs);

/* Parses v (borrowed; a service's "check", may be NULL) into svc->check. */
void conf__l4_check_parse(struct conf *c, struct conf_l4_service *svc, json_t *v,
			  const char *path, struct errs *errs);

/* Parses v (borrowed; "l4.sync", may be NULL) into c->l4.sync. */
void conf__l4_sync_parse(struct conf *c, json_t *v, struct errs *errs);

#endif
