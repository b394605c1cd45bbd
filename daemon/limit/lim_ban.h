#ifndef TANDEM_LIM_BAN_H
#define TANDEM_LIM_BAN_H

#include <stddef.h>
#include <stdint.h>

#include "lim-t.h"

/*
 * lim_ban - the set of client addresses banned until a time. Sharded, one
 * mutex per shard, fixed memory (max entries given at creation): a full
 * neighbourhood replaces the ban that ends first. Expired bans are ignored and
 * overwritten. The L4 tier mirrors this set into nftables (lim_ban_foreach).
 */

/* Returns a set for up to max entries (>= 64), or NULL on out of memory. */
struct lim_ban *lim_ban_new(uint32_t max);
/* Frees the set; sets *bp to NULL. */
void lim_ban_free(struct lim_ban **bp);

/* Bans af/addr until until_ms (a longer existing ban is kept). Any thread. */
void lim_ban_add(struct lim_ban *b, int af, const uint8_t *addr, uint64_t until_ms);

/* A counter that grows with every ban added or extended (never on expiry):
 * a reader that saw the same value has seen every ban. Any thread. */
uint64_t lim_ban_changes(struct lim_ban *b);

/* Returns the ban's end in ms when addr is banned at now_ms, else 0. */
uint64_t lim_ban_check(struct lim_ban *b, int af, const uint8_t *addr, uint64_t now_ms);

/* Calls fn for every ban still active at now_ms (addr as 16 bytes, IPv4
 * mapped). Holds one shard lock at a time; fn must not call back into b. */
typedef void (*lim_ban_fn)(const uint8_t addr[16], uint64_t until_ms, void *arg);
void lim_ban_foreach(struct lim_ban *b, uint64_t now_ms, lim_ban_fn fn, void *arg);

#endif
