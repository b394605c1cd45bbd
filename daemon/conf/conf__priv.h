#ifndef TANDEM_CONF__PRIV_H
#define TANDEM_CONF__PRIV_H

#include <stdbool.h>

#include <jansson.h>

#include "conf-t.h"
#include "errs-t.h"
#include "jfield.h"

/*
 * Shared between the files of the conf module only (conf.c, conf_l7.c):
 * the parse context and the field helpers, which report errors with the
 * JSON path of the field and never stop at the first one.
 */

#define CONF__PATH_LEN JF_PATH_LEN

struct conf_ctx {
	struct conf *c;
	struct errs *errs;
	size_t nerr_start;
};

void conf__check_keys(struct conf_ctx *x, json_t *obj, const char *path,
		      const char *const *allowed);
const char *conf__get_str(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
			  int required);
int conf__get_int(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
		  long lo, long hi, int required, long dflt, long *out);
int conf__get_bool(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
		   int dflt, bool *out);
int conf__oom(struct conf_ctx *x);
/* A header field name: an RFC 9110 token of 1-256 bytes (conf_l7.c). */
int conf__token_valid(const char *s);

/* conf_l7.c: parse the L7 fields of one object (o is its JSON, path its
 * JSON path), after the foundation's fields were read. */
void conf__l7_listener(struct conf_ctx *x, json_t *o, const char *path, struct conf_listener *l);
void conf__l7_member(struct conf_ctx *x, json_t *o, const char *path, struct conf_member *m);
void conf__l7_pool(struct conf_ctx *x, json_t *o, const char *path, struct conf_pool *p);
void conf__l7_route(struct conf_ctx *x, json_t *o, const char *path, struct conf_route *r);
/* conf_tls.c: the listener's "tls" object. */
void conf__l7_tls(struct conf_ctx *x, json_t *o, const char *path, struct conf_l7_tls *tls);
void conf__l7_uptls(struct conf_ctx *x, json_t *o, const char *path, struct conf_l7_uptls *tls);
/* conf_process.c: the top-level "metrics", "workers" and "tls" of root. */
void conf__process_parse(struct conf_ctx *x, json_t *root);
/* After routes are linked and sorted: ranks, route indexes, balancer tables. */
int conf__l7_link(struct conf_ctx *x);

#endif
