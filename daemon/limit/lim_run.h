#ifndef TANDEM_LIM_RUN_H
#define TANDEM_LIM_RUN_H

#include <stdint.h>

#include <jansson.h>

#include "lim-t.h"

/*
 * lim_run - the running tandemd's limiter state: the one lim_store (counter
 * tables by rule, the ban set) that outlives config snapshots, the thread
 * that mirrors bans into the L4 tier's nftables ban set, and the accessors
 * the peer link uses to sync counters and bans with the other node
 * (doc/limits.md "Sync accessors").
 *
 * Lifetimes: started once by tandemd before the first snapshot is bound,
 * stopped after the L7 workers are joined. Without lim_run_start (tandemd
 * --check, tandem-admin, tests) every function is a harmless no-op.
 */

/* Mirrors one ban into the L4 tier: addr is numeric text. May block (one
 * netlink transaction); runs on lim_run's own thread. 0 or -errno; err gets
 * a message. */
typedef int (*lim_run_mirror_fn)(const char *addr, unsigned seconds, char *err, size_t errlen);

/* Creates the store (node: this node's counter slot, 0 or 1; seed: the
 * pair's shared key-hash seed; max_keys per rule table and of the ban set)
 * and starts the mirror thread. 0 or -errno. Main thread. */
int lim_run_start(uint32_t node, const uint64_t seed[2], uint32_t max_keys, lim_run_mirror_fn mirror);
/* Stops the mirror thread and frees the store. No rule set bound to it may
 * be evaluated afterwards. Main thread. */
void lim_run_stop(void);

/* The store (borrowed; NULL before start). For the peer link: iterate its
 * tables with lim_store_foreach, export deltas since a mark with
 * lim_table_export, apply the peer's with lim_table_apply on
 * lim_store_table(store, name); the bans with lim_ban_foreach on
 * lim_store_bans(store) and lim_run_ban_apply. */
struct lim_store *lim_run_store(void);

/* The limiter clock: CLOCK_REALTIME in ms (shared by the pair). */
uint64_t lim_run_now_ms(void);

/* Binds r's rules to the store's tables (lim_rules_bind). 0 without a
 * store; -ENOMEM refuses the reload. Main thread, before publishing. */
int lim_run_bind(struct lim_rules *r);

/* A rule just banned addr (af AF_INET: 4 bytes, AF_INET6: 16) for seconds:
 * queue it for the nftables mirror. Never blocks; a full queue drops it
 * (counted; the L7 check still refuses the client). Any thread. */
void lim_run_banned(int af, const uint8_t *addr, uint32_t seconds);

/* A ban learnt from the peer (or an operator): adds it to the ban set
 * (a longer existing ban is kept) and queues it for nftables when it ends
 * later than what the set held. Any thread. */
void lim_run_ban_apply(int af, const uint8_t *addr, uint64_t until_ms);

/* The end of addr's ban in ms, or 0 (also without a store). Any thread. */
uint64_t lim_run_ban_check(int af, const uint8_t *addr, uint64_t now_ms);

/* Sweeps expired keys from every table. Main loop timer. */
void lim_run_expire(uint64_t now_ms);

/* {"bans_active", "mirrored", "mirror_errors", "mirror_dropped",
 * "last_error"} (new reference; NULL without a store). */
json_t *lim_run_status_json(void);

#endif
