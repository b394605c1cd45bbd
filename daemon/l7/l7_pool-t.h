#ifndef TANDEM_L7_POOL_T_H
#define TANDEM_L7_POOL_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf-t.h"

/*
 * Runtime state of pools and members. It lives outside the snapshot, in a
 * registry keyed by stable id (pool name, member->id "pool/addr:port"), so
 * health and counters carry across reloads. Every field a worker touches is
 * an atomic: the hot path takes no lock.
 */

/* First back-off after a failed connect, and its ceiling (doubling). */
#define L7_POOL_BACKOFF_MIN_MS	1000u
#define L7_POOL_BACKOFF_MAX_MS	30000u

struct l7_member_state {
	char *id;			/* owned copy of conf_member->id */
	atomic_bool down;		/* refused or timed out on the last connect */
	atomic_uint_fast64_t retry_at;	/* monotonic ms when a down member may be tried again */
	atomic_uint backoff_ms;		/* next back-off; reset by a successful connect */
	atomic_uint active;		/* requests in flight on this member, all workers */
	atomic_uint_fast64_t requests;	/* requests sent */
	atomic_uint_fast64_t failures;	/* failed connects */
	struct l7_member_state *next;	/* registry list, guarded by the registry lock */
};

struct l7_pool_state {
	char *name;			/* owned */
	atomic_uint rr;			/* round-robin cursor shared by every worker */
	struct l7_pool_state *next;	/* registry list */
};

/*
 * The runtime states of one conf's pools and members, looked up once when a
 * worker adopts a snapshot so the data path indexes arrays, never searches.
 * pools[i] belongs to conf->pools[i]; members[i][j] to its members[j].
 */
struct l7_pool_map {
	const struct conf *conf;	/* borrowed: the snapshot holding it outlives the map */
	struct l7_pool_state **pools;
	struct l7_member_state ***members;
};

#endif
