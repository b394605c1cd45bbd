#ifndef TANDEM_CONF__LIMITS_H
#define TANDEM_CONF__LIMITS_H

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"

/*
 * conf__limits - the "rate_rules" section (rate rules, client lists, WAF
 * checks), private to the conf module. The section itself is the limit
 * module's (daemon/limit/lim_rule.c, doc/limits.md); this file only hands it
 * over and ties the result's lifetime to the conf.
 */

/* Parses v (borrowed; NULL = no section) into c->rate_rules, freed with c's
 * arena, after the listeners and routes are parsed (names they refer to must
 * exist). Errors go to errs under "$.rate_rules...". */
void conf__limits_parse(struct conf *c, json_t *v, struct errs *errs);

#endif
