#ifndef TANDEM_L7_POOL_T_H
#define TANDEM_L7_POOL_T_H

#include <pthread.h>
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
	atomic_bool down;		/* ejected by passive checks (connect failures, 5xx) */
	atomic_bool hc_down;		/* failed its active health check (fall times) */
	atomic_uint_fast64_t up_since;	/* monotonic ms of the last recovery (slow start) */
	atomic_uint consec_connect_fail;
	atomic_uint consec_5xx;
	atomic_uint_fast64_t resp_5xx;	/* 5xx responses relayed */
	atomic_uint_fast64_t hc_checks, hc_failures;
	unsigned hc_rise_cnt, hc_fall_cnt;	/* health thread only */
	pthread_mutex_t reason_lock;	/* guards reason; taken on state changes only */
	char reason[128];		/* why the state last changed */
	atomic_uint_fast64_t changed_at;	/* wall clock seconds of that change */
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
	atomic_int retry_tokens;	/* retry budget, in hundredths of a retry */
	atomic_uint_fast64_t retries;	/* retries spent */
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

/* What a pick may use besides the pool; filled per request by the worker. */
struct l7_pick {
	uint64_t tried;			/* bit i: member i already failed this request */
	uint64_t now_ms;		/* monotonic */
	uint64_t hash;			/* consistent hash key, when has_hash */
	bool has_hash;
	int sticky;			/* member named by the sticky cookie, or -1 */
	int64_t *swrr;			/* this worker's smooth WRR weights for the pool */
	uint64_t *rng;			/* this worker's xorshift state */
};

/* Outcomes of l7_pool_pick besides a member index. */
#define L7_PICK_NONE	(-1)	/* no member is up: 503 */
#define L7_PICK_FULL	(-2)	/* members are up but at max connections: queue */

#endif
