/*
 * conf_limits - hands the "rate_rules" section to lim_rules_parse and checks
 * the listener and route names it refers to against the config.
 */
#include "config.h"

#include <string.h>

#include "arena.h"
#include "conf__limits.h"
#include "errs.h"
#include "lim_rule.h"

struct conf_limits_refs {
	const struct conf *c;
	struct errs *errs;
};

static int
conf_limits_ref(const char *kind, const char *name, void *arg)
{
	struct conf_limits_refs *x = arg;
	size_t i;

	if (strcmp(kind, "listener") == 0) {
		for (i = 0; i < x->c->nlisteners; i++)
			if (x->c->listeners[i].name && strcmp(x->c->listeners[i].name, name) == 0)
				return 0;
	} else {
		for (i = 0; i < x->c->nroutes; i++)
			if (x->c->routes[i].name && strcmp(x->c->routes[i].name, name) == 0)
				return 0;
	}
	errs_add(x->errs, "$.rate_rules", "refers to a %s \"%s\" that is not in the config", kind, name);
	return 0;
}

static void
conf_limits_free(void *p)
{
	struct lim_rules *r = p;

	lim_rules_free(&r);
}

void
conf__limits_parse(struct conf *c, json_t *v, struct errs *errs)
{
	struct conf_limits_refs x = { c, errs };
	struct lim_rules *r;

	if (v == NULL)
		return;
	r = lim_rules_parse(v, "$.rate_rules", errs);
	if (r == NULL)
		return;
	if (arena_cleanup_add(c->arena, conf_limits_free, r) < 0) {
		lim_rules_free(&r);
		errs_add(errs, "$.rate_rules", "out of memory");
		return;
	}
	c->rate_rules = r;
	lim_rules_refs(r, conf_limits_ref, &x);
}
