#ifndef TANDEM_L7_STATS_H
#define TANDEM_L7_STATS_H

#include <jansson.h>

#include "buf-t.h"
#include "conf-t.h"
#include "l7_stats-t.h"

/*
 * l7_stats - counters per listener, route, pool and member: requests,
 * responses by class, bytes in and out, active connections or requests and
 * a latency histogram. Workers write their own blocks without locks; the
 * control socket and the metrics endpoint sum them (l7_stats.c).
 */

/* Sets the number of workers (one counter block each). Before any map is
 * built; main thread. 0 or -EINVAL. */
int l7_stats_init(unsigned nworkers);

/* Frees every object; after the workers stopped. Main thread. */
void l7_stats_free_all(void);

/* Builds the map of c's objects, registering new names. Returns a new map
 * (free with l7_stats_map_free) or NULL on out of memory. Any thread (takes
 * the registry lock); once per snapshot and worker, never per request. */
struct l7_stats_map *l7_stats_map_new(const struct conf *c);
void l7_stats_map_free(struct l7_stats_map **mp);

/* Data path, worker `w` only, lock-free. A map may be NULL (out of memory
 * at adoption): nothing is counted then. */
/* A connection opened on listener lindex of m / closed (ends a request
 * still open, as cut). */
void l7_stats_conn_open(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
			size_t lindex);
void l7_stats_conn_close(struct l7_stats_req *r, unsigned w);
/* A request started on listener lindex (counted there); then, once routed,
 * its route (index in conf->routes) and pool (index, or -1 for local
 * answers). */
void l7_stats_req_begin(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
			size_t lindex);
void l7_stats_req_route(struct l7_stats_req *r, unsigned w, const struct l7_stats_map *m,
			long route, long pool);
/* The request ended: status 0 when no response was sent; member is the
 * member index in the routed pool that answered, or -1. The map the
 * request began with must still be alive (a view outlives its requests). */
void l7_stats_req_end(struct l7_stats_req *r, unsigned w, long member, int status, uint64_t bytes_in, uint64_t bytes_out,
		      uint64_t latency_ms);

/* Read side, any thread (takes the registry lock briefly). */
/* Sums the counters of kind/name; 0, or -ENOENT when never registered. */
int l7_stats_sum(enum l7_stats_kind kind, const char *name, struct l7_stats_sum *out);
/* {"listeners": {name: {...}}, "routes": ..., "pools": ..., "members": ...}
 * for the objects of c. New reference or NULL. */
json_t *l7_stats_counters_json(const struct conf *c);
/* Appends the Prometheus text of c's objects to b. 0 or -1 (no memory). */
int l7_stats_prometheus(const struct conf *c, struct buf *b);

#endif
