#ifndef TANDEM_LIM_COUNTER_H
#define TANDEM_LIM_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "lim-t.h"

/*
 * lim_counter - sharded table of mergeable sliding-window counters.
 *
 * A key is a 64-bit SipHash fingerprint (lim_table_key) of the caller's key
 * bytes. Each entry holds, per node, a grow-only count for the current and the
 * previous window; reading sums the nodes, and the sliding estimate is
 * previous x overlap + current. Time is always passed in (now_ms, any
 * monotonic-enough epoch shared by the pair, e.g. CLOCK_REALTIME in ms).
 *
 * Threads: every function may be called from any thread; each shard has its
 * own spinlock and each entry a lock bit (no global lock; lim_table_hit on a
 * known key of a full-size shard takes only the entry's). Data-path calls (key, hit, peek) never allocate
 * except when a shard grows toward its cap; an allocation failure there is
 * absorbed by evicting instead.
 */

/* Returns a new table (free with lim_table_free) or NULL with *err = -EINVAL
 * (bad options) or -ENOMEM. Config/control thread. */
struct lim_table *lim_table_new(const struct lim_table_opts *o, int *err);

/* Frees the table and sets *tp to NULL. No other thread may use it. */
void lim_table_free(struct lim_table **tp);

/* Fingerprint of key bytes (borrowed) under the table's seed; even (bit 0
 * is the table's entry lock) and never 0. Other functions clear bit 0 of the
 * fingerprints they are given. */
uint64_t lim_table_key(const struct lim_table *t, const void *key, size_t len);

/* One decision for key fp: if the sliding estimate + 1 fits the ceiling
 * (limit, or limit + burst when the previous window stayed <= limit) the
 * request is counted in this node's slot and r->allow is true; otherwise
 * nothing is counted. Fills r (never NULL). limit >= 1. */
void lim_table_hit(struct lim_table *t, uint64_t fp, uint32_t limit, uint32_t burst,
		   uint64_t now_ms, struct lim_result *r);

/* Same verdict as lim_table_hit would give, without counting or creating. */
void lim_table_peek(struct lim_table *t, uint64_t fp, uint32_t limit, uint32_t burst,
		    uint64_t now_ms, struct lim_result *r);

/* Sum over nodes of the current-window count of fp at now_ms (tests, top-N). */
uint64_t lim_table_count(struct lim_table *t, uint64_t fp, uint64_t now_ms);

/* Removes keys whose two windows have passed; returns how many. Timer thread. */
size_t lim_table_expire(struct lim_table *t, uint64_t now_ms);

/* A mark for "changed since" (millisecond resolution): take it with the
 * now_ms of an export and pass it to the next delta export, which then holds
 * every key counted locally since the first export scanned it, even by a
 * worker whose clock reading was older (see lim_table_export). Only local
 * counting moves a key past a mark, never a merged remote update. */
uint32_t lim_table_mark(uint64_t now_ms);

/* Exports into a new malloc'd buffer (*buf, *len; caller frees):
 *   full = false: a delta batch with this node's slots of the keys touched at
 *                 or after mark (resending a boundary key is harmless);
 *                 every export first raises the table's floor to now_ms, so a
 *                 touch that lands after this scan is at or after the next
 *                 mark, lim_table_mark(now_ms);
 *   full = true:  a snapshot of every live key and every node's slots.
 * batch_id identifies the batch for idempotent apply (monotonic per node is
 * enough). Returns the number of records or -ENOMEM. Control thread. */
long lim_table_export(struct lim_table *t, bool full, uint32_t mark, uint64_t batch_id,
		      uint64_t now_ms, unsigned char **buf, size_t *len);

/* Applies a batch from lim_table_export (a peer's delta, or a full snapshot
 * at start or rejoin). Merging takes the per-node maximum of each window's
 * count, so batches commute and re-applying one changes nothing; a batch id
 * already applied from that node is skipped. Returns 1 when applied, 0 when
 * skipped as a duplicate, -EINVAL when the buffer is malformed, truncated,
 * has a bad checksum or version, or was made for another period. */
int lim_table_apply(struct lim_table *t, const unsigned char *buf, size_t len, uint64_t now_ms);

/* Copies the counters into *s. */
void lim_table_stats(struct lim_table *t, struct lim_table_stats *s);

/* Bytes of one entry (the per-key counter memory before table slack). */
size_t lim_table_entry_size(void);

/* SipHash-2-4 of data under key k (also used by lim_ban). */
uint64_t lim_siphash(const uint64_t k[2], const void *data, size_t len);

#endif
