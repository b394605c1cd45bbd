#ifndef TANDEM_L7_ROUTE_H
#define TANDEM_L7_ROUTE_H

#include <stddef.h>

#include "conf-t.h"

/*
 * l7_route - pick the route of a listener for a request's host and path.
 * Pure and lock-free: reads only the immutable conf, any thread.
 */

/* Returns the first route of l (routes are pre-sorted in match order) whose
 * host equals host (case-insensitive, any ":port" suffix ignored; a route
 * host of "" matches every host) and whose path prefix starts path. host and
 * path are not NUL-terminated; an empty path is read as "/". Returns NULL
 * when no route matches. Borrows everything; the result points into l's conf. */
const struct conf_route *l7_route_match(const struct conf_listener *l, const char *host,
					size_t host_len, const char *path, size_t path_len);

/* Length of host without its port: "a.b:80" -> 3, "[::1]:80" -> 5. */
size_t l7_route_host_len(const char *host, size_t len);

#endif
