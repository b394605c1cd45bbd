#ifndef TANDEM_L7_ROUTE_H
#define TANDEM_L7_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "conf-t.h"
#include "l7_http1-t.h"

/*
 * l7_route - pick the route of a listener for a request.
 * Pure and lock-free: reads only the immutable conf, any thread.
 */

/* What a route may look at. Strings are not NUL-terminated. */
struct l7_route_req {
	const char *host;		/* Host (or absolute-form authority), port allowed */
	size_t host_len;
	const char *path;		/* path and query as sent; empty reads as "/" */
	size_t path_len;
	const char *method;		/* NULL: matches only routes without a method list */
	size_t method_len;
	const char *buf;		/* the head msg was parsed from; NULL: no header fields */
	const struct l7_http1_msg *msg;
	const uint8_t *client;		/* 16 bytes, IPv4-mapped; NULL: matches no client_cidrs */
	void *md;			/* caller's pcre2_match_data (32 pairs), NULL: one per call */
};

/* Returns the first route of l in match order (priority, then longer prefix,
 * then a host route before an any-host route, then name) whose every
 * condition holds for rq, or NULL. Virtual hosts first: the routes of the
 * exact host, else of the longest matching wildcard ("*.example.com"), else
 * the any-host routes; each vhost also holds the any-host routes. Within a
 * vhost a byte trie over paths yields the candidates, so the cost grows with
 * the path length, not the number of routes. Borrows everything; the result
 * points into l's conf. */
const struct conf_route *l7_route_find(const struct conf_listener *l,
				       const struct l7_route_req *rq);

/* l7_route_find with only a host and a path (method GET, no fields, no
 * client address). */
const struct conf_route *l7_route_match(const struct conf_listener *l, const char *host,
					size_t host_len, const char *path, size_t path_len);

/* Length of host without its port: "a.b:80" -> 3, "[::1]:80" -> 5. */
size_t l7_route_host_len(const char *host, size_t len);

/* Creates / frees a pcre2 match data block fit for l7_route_req.md. */
void *l7_route_md_new(void);
void l7_route_md_free(void *md);

#endif
