/*
 * lim_waf - static request checks: per-route size and method limits, and
 * PCRE2 deny patterns. Parsed once per config into the rule set's arena,
 * read-only afterwards except for the relaxed atomic hit counters.
 *
 * Why JIT: a deny pattern runs on every request of the routes it covers;
 * pcre2_jit_compile makes pcre2_match several times faster, and a pattern
 * the JIT refuses (rare; out of executable memory) still works interpreted.
 * Matching is bounded by a match limit, so a pathological pattern against
 * attacker input fails (the request passes that check, counted as an error)
 * instead of stalling a worker.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "errs.h"
#include "jre.h"
#include "lim_waf.h"

#define LIM_WAF_MAX		1000	/* limits entries, and patterns */
#define LIM_WAF_MATCH_LIMIT	100000	/* pcre2 match limit per subject */
#define LIM_WAF_URI_MAX		8192	/* longest path or query decoded (the L7 URI limit) */

enum lim_waf_on {
	LIM_WAF_PATH = 1,
	LIM_WAF_QUERY,
	LIM_WAF_HEADER,		/* one named header (every occurrence) */
	LIM_WAF_HEADERS,	/* every header value */
};

struct lim_waf_limits {
	const char *id;
	struct lim_str *routes;		/* NULL: every route (and unrouted requests) */
	size_t nroutes;
	long max_uri, max_headers, max_header, max_body;	/* 0 = no limit */
	struct lim_str *methods;
	size_t nmethods;
	bool shadow;
	atomic_ullong hits;
};

struct lim_waf_pattern {
	const char *id;
	enum lim_waf_on on;
	struct lim_str header;
	struct lim_str *routes;
	size_t nroutes;
	void *re;			/* pcre2_code */
	uint16_t status;
	bool shadow;
	atomic_ullong hits, errors;
};

struct lim_waf {
	struct lim_waf_limits *limits;
	size_t nlimits;
	struct lim_waf_pattern *pats;
	size_t npats;
	pcre2_match_context *mctx;
};

static int
lim_waf_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 63 && lim__token_valid(s);
}

static void
lim_waf_mctx_free(void *m)
{
	pcre2_match_context_free(m);
}

static void
lim_waf_parse_limits(struct lim_ctx *x, void *el, json_t *o, const char *p)
{
	struct lim_waf_limits *l = el;
	static const char *const keys[] = { "id", "routes", "max_uri_bytes", "max_headers",
					    "max_header_bytes", "max_body_bytes", "methods", "shadow", NULL };

	lim__check_keys(x, o, p, keys);
	l->id = lim__get_str(x, o, p, "id", 1, 63);
	if (l->id != NULL && !lim_waf_name_valid(l->id))
		errs_add(x->errs, p, "id must be 1-63 token characters");
	l->nroutes = lim__get_strs(x, o, p, "routes", 64, lim_waf_name_valid, "a route name", &l->routes);
	lim__get_int(x, o, p, "max_uri_bytes", 1, 65536, 0, 0, &l->max_uri);
	lim__get_int(x, o, p, "max_headers", 1, 1000, 0, 0, &l->max_headers);
	lim__get_int(x, o, p, "max_header_bytes", 1, 65536, 0, 0, &l->max_header);
	lim__get_int(x, o, p, "max_body_bytes", 0, 1L << 40, 0, -1, &l->max_body);
	l->nmethods = lim__get_strs(x, o, p, "methods", 64, lim__token_valid, "an HTTP method token",
				    &l->methods);
	l->shadow = lim__get_bool(x, o, p, "shadow", false);
	if (!l->max_uri && !l->max_headers && !l->max_header && l->max_body < 0 && !l->nmethods)
		errs_add(x->errs, p, "sets no limit (max_uri_bytes, max_headers, max_header_bytes, "
			 "max_body_bytes, methods)");
}

static void
lim_waf_parse_pattern(struct lim_ctx *x, void *el, json_t *o, const char *p)
{
	struct lim_waf_pattern *pt = el;
	static const char *const keys[] = { "id", "on", "header", "regex", "routes", "status",
					    "shadow", NULL };
	const char *on, *re, *hdr;
	char pp[PATH_LEN];
	long status;

	lim__check_keys(x, o, p, keys);
	pt->id = lim__get_str(x, o, p, "id", 1, 63);
	if (pt->id != NULL && !lim_waf_name_valid(pt->id))
		errs_add(x->errs, p, "id must be 1-63 token characters");
	on = lim__get_str(x, o, p, "on", 1, 16);
	hdr = lim__get_str(x, o, p, "header", 0, 256);
	jf_pathf(pp, "%s.on", p);
	if (on == NULL)
		;
	else if (strcmp(on, "path") == 0)
		pt->on = LIM_WAF_PATH;
	else if (strcmp(on, "query") == 0)
		pt->on = LIM_WAF_QUERY;
	else if (strcmp(on, "header") == 0)
		pt->on = LIM_WAF_HEADER;
	else if (strcmp(on, "headers") == 0)
		pt->on = LIM_WAF_HEADERS;
	else
		errs_add(x->errs, pp, "must be \"path\", \"query\", \"header\" or \"headers\"");
	if (pt->on == LIM_WAF_HEADER && (hdr == NULL || !*hdr || !lim__token_valid(hdr)))
		errs_add(x->errs, pp, "\"header\" needs a header field name in \"header\"");
	if (pt->on != LIM_WAF_HEADER && hdr != NULL)
		errs_add(x->errs, pp, "\"header\" is only for \"on\": \"header\"");
	if (hdr != NULL) {
		pt->header.s = hdr;
		pt->header.len = strlen(hdr);
	}
	pt->nroutes = lim__get_strs(x, o, p, "routes", 64, lim_waf_name_valid, "a route name", &pt->routes);
	lim__get_int(x, o, p, "status", 400, 599, 0, 403, &status);
	pt->status = (uint16_t)status;
	pt->shadow = lim__get_bool(x, o, p, "shadow", false);
	re = lim__get_str(x, o, p, "regex", 1, 4096);
	if (re != NULL) {
		jf_pathf(pp, "%s.regex", p);
		pt->re = lim__regex(x, re, pp);
	}
}

void *
lim__regex(struct lim_ctx *x, const char *re, const char *path)
{
	return jre_compile(x->errs, lim__ctx_arena(x), re, path);
}

int
lim__regex_match(const void *re, const char *s, size_t len, void *md)
{
	pcre2_match_data *own = NULL;
	int rc;

	if (md == NULL) {
		own = pcre2_match_data_create(1, NULL);
		if (own == NULL)
			return -1;
		md = own;
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(own);
	return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Parses the array at key of o into a new zeroed arena array of elements of
 * size bytes, one parse(x, element, object, path) each; *n counts them. */
static void *
lim_waf_array(struct lim_ctx *x, json_t *o, const char *path, const char *key, size_t size,
	      void (*parse)(struct lim_ctx *, void *, json_t *, const char *), size_t *n)
{
	json_t *arr = json_object_get(o, key), *e;
	char p[PATH_LEN], pi[PATH_LEN];
	unsigned char *v;
	size_t i;

	*n = 0;
	jf_pathf(p, "%s.%s", path, key);
	if (arr == NULL)
		return NULL;
	if (!json_is_array(arr) || json_array_size(arr) > LIM_WAF_MAX) {
		errs_add(x->errs, p, "must be an array of at most %d entries", LIM_WAF_MAX);
		return NULL;
	}
	v = arena_alloc(lim__ctx_arena(x), json_array_size(arr) * size + 1);
	if (v == NULL) {
		errs_add(x->errs, p, "out of memory");
		return NULL;
	}
	memset(v, 0, json_array_size(arr) * size);
	json_array_foreach(arr, i, e) {
		jf_pathf(pi, "%s[%zu]", p, i);
		if (!json_is_object(e))
			errs_add(x->errs, pi, "must be an object");
		else
			parse(x, v + (*n)++ * size, e, pi);
	}
	return v;
}

struct lim_waf *
lim__waf_parse(struct lim_ctx *x, json_t *o, const char *path)
{
	static const char *const keys[] = { "limits", "deny_patterns", NULL };
	struct arena *a = lim__ctx_arena(x);
	struct lim_waf *w;
	size_t nerr = x->errs->count, i;
	char pi[PATH_LEN];

	if (!json_is_object(o)) {
		errs_add(x->errs, path, "must be an object");
		return NULL;
	}
	lim__check_keys(x, o, path, keys);
	w = arena_alloc(a, sizeof(*w));
	if (w == NULL) {
		errs_add(x->errs, path, "out of memory");
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->mctx = pcre2_match_context_create(NULL);
	if (w->mctx == NULL || arena_cleanup_add(a, lim_waf_mctx_free, w->mctx) < 0) {
		pcre2_match_context_free(w->mctx);
		errs_add(x->errs, path, "out of memory");
		return NULL;
	}
	pcre2_set_match_limit(w->mctx, LIM_WAF_MATCH_LIMIT);
	w->limits = lim_waf_array(x, o, path, "limits", sizeof(*w->limits), lim_waf_parse_limits,
				  &w->nlimits);
	w->pats = lim_waf_array(x, o, path, "deny_patterns", sizeof(*w->pats), lim_waf_parse_pattern,
				&w->npats);
	/* ids name the check in the log and the API: unique over both lists */
	for (i = 0; i < w->nlimits + w->npats; i++) {
		const char *id = i < w->nlimits ? w->limits[i].id : w->pats[i - w->nlimits].id;
		size_t j;

		for (j = 0; id != NULL && j < i; j++) {
			const char *o2 = j < w->nlimits ? w->limits[j].id : w->pats[j - w->nlimits].id;

			if (o2 != NULL && strcmp(id, o2) == 0) {
				if (i < w->nlimits)
					jf_pathf(pi, "%s.limits[%zu].id", path, i);
				else
					jf_pathf(pi, "%s.deny_patterns[%zu].id", path, i - w->nlimits);
				errs_add(x->errs, pi, "duplicate id \"%s\"", id);
				break;
			}
		}
	}
	return x->errs->count == nerr ? w : NULL;
}

static int
lim_waf_route_in(const struct lim_str *routes, size_t n, const char *route)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; route != NULL && i < n; i++)
		if (strcmp(routes[i].s, route) == 0)
			return 1;
	return 0;
}

/* 1 when the pattern matches s; errors (match limit) count and do not match. */
static int
lim_waf_match(struct lim_waf *w, struct lim_waf_pattern *pt, const char *s, size_t len, void *md)
{
	pcre2_match_data *own = NULL;
	int rc;

	if (md == NULL) {
		own = pcre2_match_data_create(1, NULL);
		if (own == NULL) {
			atomic_fetch_add_explicit(&pt->errors, 1, memory_order_relaxed);
			return 0;
		}
		md = own;
	}
	rc = pcre2_match(pt->re, (PCRE2_SPTR)s, len, 0, 0, md, w->mctx);
	pcre2_match_data_free(own);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		atomic_fetch_add_explicit(&pt->errors, 1, memory_order_relaxed);
	return rc >= 0;
}

static int
lim_waf_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s into out (and '+' as a space in a query); returns the
 * length, or -1 when nothing was encoded (the raw match suffices) or out is
 * too small. */
static long
lim_waf_decode(const char *s, size_t len, bool query, char *out, size_t cap)
{
	size_t i, o = 0;
	bool changed = false;

	if (len > cap)
		return -1;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = lim_waf_hex(s[i + 1])) >= 0 && (lo = lim_waf_hex(s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			changed = true;
		} else if (query && s[i] == '+') {
			out[o++] = ' ';
			changed = true;
		} else {
			out[o++] = s[i];
		}
	}
	return changed ? (long)o : -1;
}

/* A path or query is matched as sent and, when it holds escapes, decoded
 * once: "union%20select" is caught by a pattern written for the text. */
static int
lim_waf_match_uri(struct lim_waf *w, struct lim_waf_pattern *pt, const char *s, size_t len,
		  bool query, void *md)
{
	char dec[LIM_WAF_URI_MAX];
	long n;

	if (lim_waf_match(w, pt, s, len, md))
		return 1;
	n = lim_waf_decode(s, len, query, dec, sizeof(dec));
	return n >= 0 && lim_waf_match(w, pt, dec, (size_t)n, md);
}

static int
lim_waf_pattern_hit(struct lim_waf *w, struct lim_waf_pattern *pt, const struct lim_request *q)
{
	size_t i;

	switch (pt->on) {
	case LIM_WAF_PATH:
		return lim_waf_match_uri(w, pt, q->path, q->path_len, false, q->md);
	case LIM_WAF_QUERY:
		return lim_waf_match_uri(w, pt, q->query ? q->query : "", q->query_len, true, q->md);
	case LIM_WAF_HEADER:
	case LIM_WAF_HEADERS:
		for (i = 0; i < q->nheaders; i++) {
			const struct lim_hdr *h = &q->headers[i];

			if (pt->on == LIM_WAF_HEADER &&
			    (h->name_len != pt->header.len ||
			     strncasecmp(h->name, pt->header.s, h->name_len) != 0))
				continue;
			if (lim_waf_match(w, pt, h->value, h->value_len, q->md))
				return 1;
		}
		return 0;
	}
	return 0;
}

/* The status a limits entry gives q, 0 when within; *why says which limit. */
static int
lim_waf_limits_check(const struct lim_waf_limits *l, const struct lim_request *q, const char **why)
{
	size_t i, uri = q->path_len + (q->query ? q->query_len + 1 : 0);

	if (l->nmethods > 0) {
		for (i = 0; i < l->nmethods; i++)
			if (l->methods[i].len == q->method_len &&
			    memcmp(l->methods[i].s, q->method, q->method_len) == 0)
				break;
		if (i == l->nmethods) {
			*why = "method";
			return 405;
		}
	}
	if (l->max_uri && uri > (size_t)l->max_uri) {
		*why = "uri";
		return 414;
	}
	if (l->max_headers && q->nheaders > (size_t)l->max_headers) {
		*why = "headers";
		return 431;
	}
	for (i = 0; l->max_header && i < q->nheaders; i++)
		if (q->headers[i].name_len + q->headers[i].value_len > (size_t)l->max_header) {
			*why = "header_size";
			return 431;
		}
	if (l->max_body >= 0) {
		/* a chunked body has no size up front: refused rather than
		 * counted mid-stream (doc/limits.md) */
		if (q->chunked) {
			*why = "body";
			return 411;
		}
		if (q->body_len > (uint64_t)l->max_body) {
			*why = "body";
			return 413;
		}
	}
	return 0;
}

int
lim__waf_eval(struct lim_waf *w, const struct lim_request *q, const char **id, const char **why,
	      const char **shadow_id)
{
	size_t i;
	int st;

	for (i = 0; i < w->nlimits; i++) {
		struct lim_waf_limits *l = &w->limits[i];

		if (!lim_waf_route_in(l->routes, l->nroutes, q->route))
			continue;
		st = lim_waf_limits_check(l, q, why);
		if (st == 0)
			continue;
		atomic_fetch_add_explicit(&l->hits, 1, memory_order_relaxed);
		if (l->shadow) {
			if (*shadow_id == NULL)
				*shadow_id = l->id;
			continue;
		}
		*id = l->id;
		return st;
	}
	for (i = 0; i < w->npats; i++) {
		struct lim_waf_pattern *pt = &w->pats[i];

		if (!lim_waf_route_in(pt->routes, pt->nroutes, q->route) || !lim_waf_pattern_hit(w, pt, q))
			continue;
		atomic_fetch_add_explicit(&pt->hits, 1, memory_order_relaxed);
		if (pt->shadow) {
			if (*shadow_id == NULL)
				*shadow_id = pt->id;
			continue;
		}
		*id = pt->id;
		*why = "pattern";
		return pt->status;
	}
	return 0;
}

int
lim__waf_refs(const struct lim_waf *w, int (*fn)(const char *, const char *, void *), void *arg)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < w->nlimits && rc == 0; i++)
		for (j = 0; j < w->limits[i].nroutes && rc == 0; j++)
			rc = fn("route", w->limits[i].routes[j].s, arg);
	for (i = 0; i < w->npats && rc == 0; i++)
		for (j = 0; j < w->pats[i].nroutes && rc == 0; j++)
			rc = fn("route", w->pats[i].routes[j].s, arg);
	return rc;
}

json_t *
lim__waf_stats_json(const struct lim_waf *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && w != NULL && i < w->nlimits; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:b}", "id", w->limits[i].id,
			"kind", "limits", "hits", (json_int_t)atomic_load(&w->limits[i].hits),
			"shadow", w->limits[i].shadow));
	for (i = 0; a != NULL && w != NULL && i < w->npats; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:I,s:b}", "id", w->pats[i].id,
			"kind", "pattern", "hits", (json_int_t)atomic_load(&w->pats[i].hits),
			"errors", (json_int_t)atomic_load(&w->pats[i].errors), "shadow", w->pats[i].shadow));
	return a;
}
