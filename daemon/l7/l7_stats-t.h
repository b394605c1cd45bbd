#ifndef TANDEM_L7_STATS_T_H
#define TANDEM_L7_STATS_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Types of the per-object L7 counters (l7_stats.c): per listener, route,
 * pool and member, one block of counters per worker, summed on read.
 */

/* Upper bounds (ms) of the latency histogram's buckets; one more bucket
 * (+Inf) follows. Fixed, so that sums across workers and scrapes agree. */
#define L7_STATS_BOUNDS_MS	1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
#define L7_STATS_NBOUNDS	12
#define L7_STATS_NBUCKETS	(L7_STATS_NBOUNDS + 1)

enum l7_stats_kind {
	L7_STATS_LISTENER = 0,
	L7_STATS_ROUTE,
	L7_STATS_POOL,
	L7_STATS_MEMBER,
	L7_STATS_NKINDS,
};

/* One worker's counters of one object. Only that worker writes them
 * (relaxed atomics, so a reader on another thread sees whole values); a
 * block fills its own cache lines, so workers never share one. */
struct l7_ctr {
	_Alignas(64) atomic_ulong requests;
	atomic_ulong responses[6];	/* [1..5]: 1xx..5xx; [0]: none sent (cut) */
	atomic_ulong bytes_in, bytes_out;
	atomic_long active;		/* listener: connections; others: requests in flight */
	atomic_ulong hist[L7_STATS_NBUCKETS];	/* latency of answered requests */
	atomic_ulong latency_ms_sum;
};

/* A counted object, registered by kind and name (a member by its id
 * "pool/addr:port"), kept across reloads until shutdown. */
struct l7_sobj {
	enum l7_stats_kind kind;
	char *name;			/* owned */
	struct l7_ctr *w;		/* [nworkers] */
	struct l7_sobj *next;		/* hash chain, under the registry lock */
};

/* The objects of one conf, by index, looked up once per snapshot so the
 * data path never searches: listeners[i] is conf->listeners[i], routes[i]
 * conf->routes[i], pools[i] conf->pools[i], members[i][j] its members[j]. */
struct l7_stats_map {
	struct l7_sobj **listeners, **routes, **pools;
	struct l7_sobj ***members;
	size_t *nmembers;
	size_t npools;
};

/* What one client connection counts against: its listener (connection
 * open) and its request in flight. Owned by the connection's worker. */
struct l7_stats_req {
	struct l7_sobj *conn_lsn;	/* active connection counted here */
	struct l7_sobj *lsn, *route, *pool;	/* of the request in flight */
	struct l7_sobj *const *members;	/* the routed pool's members */
	size_t nmembers;
	bool open;			/* a request counted, not yet ended */
	bool routed;			/* route and pool active counts taken */
};

/* Summed counters of one object (read side). */
struct l7_stats_sum {
	uint64_t requests, responses[6], bytes_in, bytes_out, hist[L7_STATS_NBUCKETS];
	uint64_t latency_ms_sum;
	int64_t active;
};

#endif
