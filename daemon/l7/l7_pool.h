#ifndef TANDEM_L7_POOL_H
#define TANDEM_L7_POOL_H

#include <jansson.h>
#include <stdint.h>

#include "l7_pool-t.h"

/*
 * l7_pool - member runtime state and round-robin selection.
 *
 * A member is picked when it is enabled, has weight > 0 and is not down. A
 * member that fails a connect is marked down for a back-off (1 s doubling to
 * 30 s); when the back-off expires exactly one request (whichever wins a
 * compare-and-swap) is let through as a probe, and a successful connect brings
 * the member back up. State changes are logged at NOTICE.
 */

/* Builds the map of c's runtime states, creating states for new ids. Returns
 * a new map (free with l7_pool_map_free) or NULL on out of memory. Borrows c,
 * which must outlive the map. Any thread (takes the registry lock). */
struct l7_pool_map *l7_pool_map_new(const struct conf *c);

/* Frees the map (not the states, which the registry keeps). Sets *mp to NULL. */
void l7_pool_map_free(struct l7_pool_map **mp);

/* Picks a member of pool (an element of map->conf->pools) by round robin,
 * skipping members whose bit is set in tried (member index < 64; members
 * beyond 64 are never excluded). Returns the member index, or -1 when none is
 * usable. now_ms is the monotonic clock. Any thread, lock-free. */
int l7_pool_pick(const struct l7_pool_map *map, const struct conf_pool *pool,
		 uint64_t tried, uint64_t now_ms);

/* Picks a member of pool for one request with the pool's algorithm
 * (round robin, smooth weighted round robin on pk->swrr, weighted least
 * connections, power of two choices on pk->rng, Maglev on pk->hash), among
 * members that are enabled, not draining, healthy, not in pk->tried and
 * below max_connections_per_member; backups only while no primary is
 * healthy; pk->sticky first when eligible. A passively ejected member whose
 * back-off expired is handed out once as a probe. Returns the member index,
 * L7_PICK_FULL when members are healthy but full, or L7_PICK_NONE. Any
 * thread; lock-free (pk's arrays belong to the calling worker). */
int l7_pool_choose(const struct l7_pool_map *map, const struct conf_pool *pool,
		   struct l7_pick *pk);

/* Passive checks. A connect outcome: success resets the consecutive count
 * and ends an ejection; the pool's connect_failures-th failure in a row
 * ejects the member for a back-off that starts at eject_ms and doubles
 * (capped at 30 times eject_ms, 30 s for the default). A relayed status:
 * http_5xx 5xx responses in a row eject it likewise. Any thread. */
void l7_pool_connect_result(struct l7_member_state *ms, const struct conf_pool *pool, int ok,
			    uint64_t now_ms, const char *why);
void l7_pool_status_result(struct l7_member_state *ms, const struct conf_pool *pool, int status,
			   uint64_t now_ms);

/* Active checks: rise passes in a row bring a member up, fall failures in
 * a row take it down (why is kept as the reason). Health thread only. */
void l7_pool_health_result(struct l7_member_state *ms, const struct conf_pool *pool, int ok,
			   uint64_t now_ms, const char *why);

/* Retry budget: l7_pool_retry_earn per request, l7_pool_retry_take before
 * a retry (1 when allowed). Any thread. */
int l7_pool_retry_take(struct l7_pool_state *ps, const struct conf_pool *pool);
void l7_pool_retry_earn(struct l7_pool_state *ps, const struct conf_pool *pool);

/* "round_robin", "least_connections", ... */
const char *l7_pool_algorithm_name(enum conf_lb lb);

/* Reports the outcome of a connect to ms: ok brings a down member up and
 * resets its back-off; a failure (why: a short reason for the log) marks it
 * down until now_ms + back-off. Logs state changes. Any thread. */
void l7_pool_member_report(struct l7_member_state *ms, int ok, uint64_t now_ms,
			   const char *why);

/* "up", "down" (health check or passive ejection), "draining" or
 * "disabled" for member m whose state is ms (may be NULL). */
const char *l7_pool_member_state_name(const struct conf_member *m,
				      const struct l7_member_state *ms);

/* Returns a new JSON array of c's pools with each member's runtime state (see
 * l7_pools_status_json in l7_proxy.h). Any thread (takes the registry lock). */
json_t *l7_pool_status_json(const struct conf *c);

/* Frees every state in the registry. Only when no worker runs. */
void l7_pool_registry_free(void);

#endif
