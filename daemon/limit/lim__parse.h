#ifndef TANDEM_LIM__PARSE_H
#define TANDEM_LIM__PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Parser helpers of the rate_rules section, shared by the files of the
 * module (lim_rule.c owns them, lim_waf.c uses them). Every error goes to
 * x->errs with its JSON path; strings are copied into the rule set's arena.
 */

#include "jfield.h"

#define PATH_LEN JF_PATH_LEN

struct arena;
struct errs;
struct lim_rules;

struct lim_str {
	const char *s;
	size_t len;
};

struct lim_ctx {
	struct lim_rules *r;
	struct errs *errs;
};

struct arena *lim__ctx_arena(struct lim_ctx *x);
void lim__check_keys(struct lim_ctx *x, json_t *obj, const char *path, const char *const *allowed);
const char *lim__get_str(struct lim_ctx *x, json_t *obj, const char *path, const char *key,
			 int required, size_t maxlen);
int lim__get_int(struct lim_ctx *x, json_t *obj, const char *path, const char *key, long lo,
		 long hi, int required, long dflt, long *out);
bool lim__get_bool(struct lim_ctx *x, json_t *obj, const char *path, const char *key, bool dflt);
size_t lim__get_strs(struct lim_ctx *x, json_t *obj, const char *path, const char *key, size_t max,
		     int (*valid)(const char *), const char *what, struct lim_str **out);
int lim__token_valid(const char *s);
int lim__value_valid(const char *s);

#endif
