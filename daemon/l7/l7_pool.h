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

/* Reports the outcome of a connect to ms: ok brings a down member up and
 * resets its back-off; a failure (why: a short reason for the log) marks it
 * down until now_ms + back-off. Logs state changes. Any thread. */
void l7_pool_member_report(struct l7_member_state *ms, int ok, uint64_t now_ms,
			   const char *why);

/* "up", "down" or "disabled" for member m whose state is ms (may be NULL). */
const char *l7_pool_member_state_name(const struct conf_member *m,
				      const struct l7_member_state *ms);

/* Returns a new JSON array of c's pools with each member's runtime state (see
 * l7_pools_status_json in l7_proxy.h). Any thread (takes the registry lock). */
json_t *l7_pool_status_json(const struct conf *c);

/* Frees every state in the registry. Only when no worker runs. */
void l7_pool_registry_free(void);

#endif
