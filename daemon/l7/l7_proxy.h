#ifndef TANDEM_L7_PROXY_H
#define TANDEM_L7_PROXY_H

#include <jansson.h>

#include "snapshot-t.h"

/*
 * l7_proxy - the L7 worker threads: accept HTTP/1.1 on every listener of the
 * current snapshot, route, balance and forward.
 *
 * Contract with core/: each worker runs its own loop (core/loop.h), polls
 * snapshot_generation() at the top of each pass and adopts the new snapshot
 * (adds new listener fds to its epoll, removes gone ones) before releasing the
 * old one. A connection keeps a reference to the snapshot it was accepted on.
 */

/* Starts n worker threads (n >= 1). 0 or -errno. Main thread only. */
int l7_workers_start(unsigned n);

/* Stops and joins every worker, closing their connections. Main thread only. */
void l7_workers_stop(void);

/* Binary upgrade: every worker stops accepting and each connection closes
 * after its current request (idle keep-alive ones after 2 s). Any thread. */
void l7_workers_drain(void);

/* Wakes every worker so it adopts a newly published snapshot now. Any thread. */
void l7_workers_wake(void);

/* Returns a new JSON array describing s's pools with each member's runtime
 * state: [{"name", "members":[{"address","port","weight","enabled",
 * "state":"up"|"down"|"disabled","active":N}]}]. Any thread. */
json_t *l7_pools_status_json(const struct snapshot *s);

/* Returns a new JSON object of counters summed over workers:
 * {"connections_accepted","connections_active","requests","responses_2xx"...}. */
json_t *l7_stats_json(void);

#endif
