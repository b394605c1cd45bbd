/*
 * l7_route - route selection for the L7 proxy.
 *
 * conf_l7 built one index per listener (struct conf_route_index): virtual
 * hosts sorted for binary search, wildcard suffixes longest first, and per
 * vhost a byte trie whose nodes list the prefix and exact routes ending
 * there, each list in rank order, plus the regex routes. A lookup walks the
 * trie along the request path once, which gives a handful of candidate
 * lists, and merges them by rank: the first candidate whose remaining
 * conditions (method, fields, query, client) hold wins, exactly as a linear
 * scan of the sorted routes would decide, but without touching routes whose
 * path cannot match.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <string.h>
#include <strings.h>

#include <pcre2.h>

#include "conf.h"
#include "l7_http1.h"
#include "l7_route.h"

/* Candidate lists one lookup may merge: one per trie node on the path with
 * routes, plus exact and regex. Longer paths keep the deepest ones. */
#define L7_ROUTE_MAX_LISTS 64

size_t
l7_route_host_len(const char *host, size_t len)
{
	size_t i;

	if (len > 0 && host[0] == '[') {
		/* IP literal: the port, if any, follows the ']' */
		for (i = 1; i < len; i++)
			if (host[i] == ']')
				return i + 1;
		return len;
	}
	for (i = 0; i < len; i++)
		if (host[i] == ':')
			return i;
	return len;
}

void *
l7_route_md_new(void)
{
	return pcre2_match_data_create(32, NULL);
}

void
l7_route_md_free(void *md)
{
	pcre2_match_data_free(md);
}

static int
l7_route_re(void *re, const char *s, size_t len, void *md)
{
	pcre2_match_data *own = NULL;
	int rc;

	if (md == NULL) {
		own = pcre2_match_data_create_from_pattern(re, NULL);
		if (own == NULL)
			return 0;	/* out of memory: the condition fails closed */
		md = own;
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(own);
	return rc >= 0;
}

static int
l7_route_kv_value(const struct conf_kv_match *k, const char *v, size_t vlen, void *md)
{
	switch (k->op) {
	case CONF_MATCH_EQUALS:
		return vlen == k->value_len && memcmp(v, k->value, vlen) == 0;
	case CONF_MATCH_REGEX:
		return k->re != NULL && l7_route_re(k->re, v, vlen, md);
	default:
		return 1;
	}
}

static int
l7_route_headers(const struct conf_l7_route *c, const struct l7_route_req *rq)
{
	size_t i, j;

	for (i = 0; i < c->nheaders; i++) {
		const struct conf_kv_match *k = &c->headers[i];
		int seen = 0, ok = 0;

		for (j = 0; rq->msg != NULL && j < rq->msg->nheaders && !ok; j++) {
			const struct l7_http1_header *h = &rq->msg->headers[j];

			if (h->name.len != k->name_len ||
			    strncasecmp(rq->buf + h->name.off, k->name, k->name_len) != 0)
				continue;
			seen = 1;
			ok = l7_route_kv_value(k, rq->buf + h->value.off, h->value.len, rq->md);
		}
		if (k->op == CONF_MATCH_ABSENT ? seen : !ok)
			return 0;
	}
	return 1;
}

/* Query parameters as sent (no percent-decoding): "a=1&b" has a=1 and b="". */
static int
l7_route_query(const struct conf_l7_route *c, const char *q, size_t qlen, void *md)
{
	size_t i;

	for (i = 0; i < c->nquery; i++) {
		const struct conf_kv_match *k = &c->query[i];
		size_t pos = 0;
		int seen = 0, ok = 0;

		while (pos < qlen && !ok) {
			const char *p = q + pos, *amp = memchr(p, '&', qlen - pos), *eq;
			size_t plen = amp ? (size_t)(amp - p) : qlen - pos, nlen;

			pos += plen + 1;
			eq = memchr(p, '=', plen);
			nlen = eq ? (size_t)(eq - p) : plen;
			if (nlen != k->name_len || memcmp(p, k->name, nlen) != 0)
				continue;
			seen = 1;
			ok = eq ? l7_route_kv_value(k, eq + 1, plen - nlen - 1, md)
				: l7_route_kv_value(k, "", 0, md);
		}
		if (k->op == CONF_MATCH_ABSENT ? seen : !ok)
			return 0;
	}
	return 1;
}

/* The conditions besides host and path prefix/exact. */
static int
l7_route_rest(const struct conf_route *r, const struct l7_route_req *rq, const char *path,
	      size_t plen, const char *query, size_t qlen)
{
	const struct conf_l7_route *c = &r->l7;
	size_t i;

	if (c->path_kind == CONF_PATH_REGEX &&
	    (c->path_re == NULL || !l7_route_re(c->path_re, path, plen, rq->md)))
		return 0;
	if (c->nmethods > 0) {
		for (i = 0; i < c->nmethods; i++)
			if (rq->method != NULL && strlen(c->methods[i]) == rq->method_len &&
			    memcmp(c->methods[i], rq->method, rq->method_len) == 0)
				break;
		if (i == c->nmethods)
			return 0;
	}
	if (c->clients.n > 0 && (rq->client == NULL || !conf_cidr_contains(&c->clients, rq->client)))
		return 0;
	if (c->nheaders > 0 && !l7_route_headers(c, rq))
		return 0;
	if (c->nquery > 0 && !l7_route_query(c, query, qlen, rq->md))
		return 0;
	return 1;
}

static int
l7_vhost_cmp(const char *h, size_t hl, const struct conf_vhost *v)
{
	size_t n = hl < v->host_len ? hl : v->host_len;
	int d = strncasecmp(h, v->host, n);

	if (d != 0)
		return d;
	return hl == v->host_len ? 0 : (hl < v->host_len ? -1 : 1);
}

static const struct conf_vhost *
l7_route_vhost(const struct conf_route_index *ix, const char *host, size_t hl)
{
	size_t lo = 0, hi = ix->nexact, i;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = l7_vhost_cmp(host, hl, &ix->exact[mid]);

		if (d == 0)
			return &ix->exact[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* "*.example.com" (stored ".example.com") needs at least one more label */
	for (i = 0; i < ix->nwild; i++) {
		const struct conf_vhost *v = &ix->wild[i];

		if (hl > v->host_len &&
		    strncasecmp(host + hl - v->host_len, v->host, v->host_len) == 0)
			return v;
	}
	return &ix->any;
}

struct l7_cand {
	struct conf_route *const *v;
	size_t n;
};

const struct conf_route *
l7_route_find(const struct conf_listener *l, const struct l7_route_req *rq)
{
	const struct conf_route_index *ix = l->l7.index;
	struct l7_cand lists[L7_ROUTE_MAX_LISTS];
	const struct conf_vhost *vh;
	const struct conf_rtrie *node;
	const char *path = rq->path, *q, *query = "";
	size_t hl = l7_route_host_len(rq->host, rq->host_len), plen = rq->path_len, qlen = 0;
	size_t nl = 0, i;

	if (ix == NULL)
		return NULL;
	/* A fully qualified "example.com." names the same host as "example.com". */
	if (hl > 0 && rq->host[hl - 1] == '.')
		hl--;
	if (plen == 0) {
		path = "/";
		plen = 1;
	}
	q = memchr(path, '?', plen);
	if (q != NULL) {
		query = q + 1;
		qlen = plen - (size_t)(q - path) - 1;
		plen = (size_t)(q - path);
	}
	vh = l7_route_vhost(ix, rq->host, hl);

	/* Walk the trie along the path: every node passed ends a prefix. */
	node = &vh->root;
	for (i = 0;; i++) {
		if (node->nprefix > 0) {
			if (nl == L7_ROUTE_MAX_LISTS - 2)
				memmove(lists, lists + 1, --nl * sizeof(*lists));
			lists[nl].v = node->prefix;
			lists[nl++].n = node->nprefix;
		}
		if (i == plen) {
			if (node->nexact > 0) {
				lists[nl].v = node->exact;
				lists[nl++].n = node->nexact;
			}
			break;
		}
		for (node = node->child; node != NULL && node->c != (unsigned char)path[i];
		     node = node->sibling)
			;
		if (node == NULL)
			break;
	}
	if (vh->nregex > 0) {
		lists[nl].v = vh->regex;
		lists[nl++].n = vh->nregex;
	}
	/* Merge by rank: the lowest rank whose other conditions hold wins. */
	for (;;) {
		struct l7_cand *best = NULL;

		for (i = 0; i < nl; i++)
			if (lists[i].n > 0 && (best == NULL || lists[i].v[0]->l7.rank < best->v[0]->l7.rank))
				best = &lists[i];
		if (best == NULL)
			return NULL;
		if (l7_route_rest(best->v[0], rq, path, plen, query, qlen))
			return best->v[0];
		best->v++;
		best->n--;
	}
}

const struct conf_route *
l7_route_match(const struct conf_listener *l, const char *host, size_t host_len,
	       const char *path, size_t path_len)
{
	struct l7_route_req rq = {
		.host = host, .host_len = host_len, .path = path, .path_len = path_len,
		.method = "GET", .method_len = 3,
	};

	return l7_route_find(l, &rq);
}
