#ifndef TANDEM_LIM_WAF_H
#define TANDEM_LIM_WAF_H

#include <jansson.h>

#include "lim-t.h"
#include "lim__parse.h"

/*
 * lim_waf - the static checks of the rate_rules section ("waf"): per-route
 * limits on URI length, header count and size, body size and methods, and
 * deny patterns (PCRE2, JIT-compiled) on the path, the query or headers.
 * Each check has an id that lands in the access log and a hit counter.
 * Module-internal: lim_rule.c parses and evaluates it as part of a rule set.
 */

struct lim_waf;

/* Parses the "waf" object at path into the rule set's arena (compiled
 * patterns are freed by an arena cleanup). NULL with errors in x->errs. */
struct lim_waf *lim__waf_parse(struct lim_ctx *x, json_t *o, const char *path);

/* Checks q; 0 when it passes, else the HTTP status to answer, with *id the
 * check's id and *why what failed ("uri", "headers", "header_size", "body",
 * "method", "pattern"). A check in shadow mode never denies: it sets *shadow_id
 * (first one only) and counts its hit. Any thread. */
int lim__waf_eval(struct lim_waf *w, const struct lim_request *q, const char **id,
		  const char **why, const char **shadow_id);

/* Compiles re (PCRE2, JIT when possible) owned by the rule set's arena;
 * NULL with an error at path. Matching: 1, 0, or -1 on an error such as
 * out of memory (md: the caller's match data or NULL). */
void *lim__regex(struct lim_ctx *x, const char *re, const char *path);
int lim__regex_match(const void *re, const char *s, size_t len, void *md);

/* lim_rules_refs for the WAF checks' route names. */
int lim__waf_refs(const struct lim_waf *w, int (*fn)(const char *, const char *, void *), void *arg);

/* [{"id", "kind": "limits"|"pattern", "hits", "shadow"}] (new reference). */
json_t *lim__waf_stats_json(const struct lim_waf *w);

#endif
