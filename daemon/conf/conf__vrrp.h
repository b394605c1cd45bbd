#ifndef TANDEM_CONF__VRRP_H
#define TANDEM_CONF__VRRP_H

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"

/*
 * conf__vrrp - the "vrrp" section of the config file (conf_vrrp.c), private
 * to the conf module. conf_parse() calls it after the listeners are parsed.
 */

/* Parses v (borrowed; the value of the "vrrp" key) into c->vrrp, allocated
 * in c->arena, adding every problem to errs under "$.vrrp...". Also marks the
 * listeners whose address is a VIP (freebind). */
void conf__vrrp_parse(struct conf *c, json_t *v, struct errs *errs);

/* 1 when s is a usable Linux interface name (1-15 of [A-Za-z0-9._@-]). */
int conf__ifname_valid(const char *s);

#endif
