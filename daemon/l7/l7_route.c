/*
 * l7_route - route selection for the L7 proxy.
 *
 * conf_parse() already sorted each listener's routes in match order
 * (priority, longer prefix, specific host before any host), so the first
 * match wins and this module only compares. A linear scan is fine for the
 * handful of routes of the foundation; issue 3 replaces it with an index.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "l7_route.h"

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

const struct conf_route *
l7_route_match(const struct conf_listener *l, const char *host, size_t host_len,
	       const char *path, size_t path_len)
{
	size_t i, hl = l7_route_host_len(host, host_len);

	/* A fully qualified "example.com." names the same host as "example.com". */
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (path_len == 0) {
		path = "/";
		path_len = 1;
	}
	for (i = 0; i < l->nroutes; i++) {
		const struct conf_route *r = l->routes[i];

		if (r->host[0] != '\0' &&
		    (strlen(r->host) != hl || strncasecmp(r->host, host, hl) != 0))
			continue;
		if (r->path_prefix_len > path_len ||
		    memcmp(r->path_prefix, path, r->path_prefix_len) != 0)
			continue;
		return r;
	}
	return NULL;
}
