/* Unit tests for daemon/limit/lim_counter: the sliding-window estimate at
 * window boundaries, bursts, Retry-After, expiry, merge of two nodes in both
 * orders, snapshots, eviction at the cap, two threads, and the accuracy
 * against an exact sliding log. The clock is always injected. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lim_counter.h"

#define MIN 60000ULL
#define T0 (1000ULL * MIN)	/* a window boundary for every period used */

static struct lim_table *
mk(uint32_t period_ms, uint32_t max_keys, uint32_t node, uint32_t shards)
{
	struct lim_table_opts o = { .period_ms = period_ms, .max_keys = max_keys, .nshards = shards,
				    .node = node, .seed = { 1, 2 } };
	int err = 0;
	struct lim_table *t = lim_table_new(&o, &err);

	assert_non_null(t);
	return t;
}

static uint64_t
key(struct lim_table *t, const char *s)
{
	return lim_table_key(t, s, strlen(s));
}

static bool
hit(struct lim_table *t, const char *k, uint32_t limit, uint32_t burst, uint64_t now, struct lim_result *r)
{
	struct lim_result tmp;

	lim_table_hit(t, key(t, k), limit, burst, now, r ? r : &tmp);
	return r ? r->allow : tmp.allow;
}

static void
test_options(void **state)
{
	struct lim_table_opts o = { .period_ms = 999, .max_keys = 1000 };
	int err = 0;

	(void)state;
	assert_null(lim_table_new(&o, &err));
	assert_int_equal(err, -EINVAL);
	o.period_ms = 86400001;
	assert_null(lim_table_new(&o, &err));
	o.period_ms = 1000;
	o.nshards = 3;
	assert_null(lim_table_new(&o, &err));
	o.nshards = 0;
	o.node = LIM_NODES;
	assert_null(lim_table_new(&o, &err));
	assert_int_equal(lim_table_entry_size(), 32);
}

/* 5 per minute: the 6th is denied with exact headers; the estimate admits
 * again once the previous window's weight has dropped enough. */
static void
test_window_boundary(void **state)
{
	struct lim_table *t = mk(60000, 1000, 0, 0);
	struct lim_result r;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_true(hit(t, "k", 5, 0, T0 + (uint64_t)i * 1000, &r));
		assert_int_equal(r.limit, 5);
		assert_int_equal(r.remaining, 4 - i);
		assert_int_equal(r.reset_s, 60 - i);
	}
	assert_false(hit(t, "k", 5, 0, T0 + 10000, &r));
	assert_int_equal(r.remaining, 0);
	/* next window: 5 x 48/60 = 4 leaves room for one at +72 s */
	assert_int_equal(r.retry_after_s, 62);
	assert_false(hit(t, "k", 5, 0, T0 + 60000, &r));	/* weight 1: still 5 */
	assert_false(hit(t, "k", 5, 0, T0 + 71999, &r));
	assert_int_equal(r.retry_after_s, 1);
	assert_true(hit(t, "k", 5, 0, T0 + 72000, &r));
	assert_int_equal(r.remaining, 0);
	assert_false(hit(t, "k", 5, 0, T0 + 72001, &r));
	/* after two whole windows the key is fresh */
	assert_true(hit(t, "k", 5, 0, T0 + 3 * 60000, &r));
	assert_int_equal(r.remaining, 4);
	/* another key is independent */
	assert_true(hit(t, "other", 5, 0, T0 + 10000, &r));
	assert_int_equal(lim_table_count(t, key(t, "k"), T0 + 3 * 60000), 1);
	lim_table_free(&t);
	assert_null(t);
}

/* Retry-After inside the window: when prev's weight is what blocks. */
static void
test_retry_within_window(void **state)
{
	struct lim_table *t = mk(10000, 1000, 0, 0);
	struct lim_result r;
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_true(hit(t, "k", 10, 0, T0 + 5000, NULL));	/* window 0 second half */
	/* window 1 at +1 s: est = 10 x 0.9 = 9, one more fits */
	assert_true(hit(t, "k", 10, 0, T0 + 11000, &r));
	assert_false(hit(t, "k", 10, 0, T0 + 11000, &r));
	/* needs 10 x w + 1 + 1 <= 10: w <= 0.8 at +2 s into the window */
	assert_int_equal(r.retry_after_s, 1);
	assert_true(hit(t, "k", 10, 0, T0 + 12000, &r));
	lim_table_free(&t);
}

/* burst: N + B in a window after a quiet one; held to N after an excess. */
static void
test_burst(void **state)
{
	struct lim_table *t = mk(1000, 1000, 0, 0);
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_true(hit(t, "b", 5, 3, T0 + (uint64_t)i, NULL));
	assert_false(hit(t, "b", 5, 3, T0 + 10, NULL));
	/* next window, 90% in: prev 8 > 5, ceiling 5: 8 x 0.1 = 0.8 -> 4 more */
	for (i = 0; i < 4; i++)
		assert_true(hit(t, "b", 5, 3, T0 + 1900, NULL));
	assert_false(hit(t, "b", 5, 3, T0 + 1900, NULL));
	lim_table_free(&t);
}

static void
test_expiry(void **state)
{
	struct lim_table *t = mk(1000, 1000, 0, 4);
	struct lim_table_stats st;
	char k[16];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		hit(t, k, 10, 0, T0, NULL);
	}
	lim_table_stats(t, &st);
	assert_int_equal(st.keys, 100);
	assert_int_equal(lim_table_expire(t, T0 + 1999), 0);	/* previous window still counts */
	assert_int_equal(lim_table_expire(t, T0 + 2000), 100);
	lim_table_stats(t, &st);
	assert_int_equal(st.keys, 0);
	assert_int_equal(st.expired, 100);
	assert_int_equal(lim_table_count(t, key(t, "k1"), T0 + 2000), 0);
	lim_table_free(&t);
}

static unsigned char *
export(struct lim_table *t, bool full, uint32_t mark, uint64_t id, uint64_t now, size_t *len)
{
	unsigned char *b = NULL;

	assert_true(lim_table_export(t, full, mark, id, now, &b, len) >= 0);
	return b;
}

/* Two nodes count the same keys; their deltas merge to the sum in either
 * order, and re-applying a batch changes nothing. */
static void
test_merge_two_nodes(void **state)
{
	struct lim_table *a = mk(60000, 1000, 0, 0), *b = mk(60000, 1000, 1, 0);
	struct lim_table *c1 = mk(60000, 1000, 0, 0), *c2 = mk(60000, 1000, 1, 0);
	unsigned char *da, *db;
	size_t la, lb;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		hit(a, "x", 100, 0, T0 + 1000, NULL);
	for (i = 0; i < 4; i++)
		hit(b, "x", 100, 0, T0 + 2000, NULL);
	hit(b, "y", 100, 0, T0 + 2000, NULL);
	da = export(a, false, lim_table_mark(T0), 1, T0 + 3000, &la);
	db = export(b, false, lim_table_mark(T0), 1, T0 + 3000, &lb);
	/* a gets b's, b gets a's; c1 gets both a then b; c2 b then a */
	assert_int_equal(lim_table_apply(a, db, lb, T0 + 3000), 1);
	assert_int_equal(lim_table_apply(b, da, la, T0 + 3000), 1);
	assert_int_equal(lim_table_apply(c1, da, la, T0 + 3000), 1);
	assert_int_equal(lim_table_apply(c1, db, lb, T0 + 3000), 1);
	assert_int_equal(lim_table_apply(c2, db, lb, T0 + 3000), 1);
	assert_int_equal(lim_table_apply(c2, da, la, T0 + 3000), 1);
	/* the same batch again: skipped by id; under a new id: no change (max) */
	assert_int_equal(lim_table_apply(a, db, lb, T0 + 3000), 0);
	assert_int_equal(lim_table_count(a, key(a, "x"), T0 + 3000), 7);
	assert_int_equal(lim_table_count(b, key(b, "x"), T0 + 3000), 7);
	assert_int_equal(lim_table_count(c1, key(c1, "x"), T0 + 3000), 7);
	assert_int_equal(lim_table_count(c2, key(c2, "x"), T0 + 3000), 7);
	assert_int_equal(lim_table_count(c2, key(c2, "y"), T0 + 3000), 1);
	/* later local hits keep adding on top of the merged view */
	hit(a, "x", 100, 0, T0 + 4000, NULL);
	free(da);
	da = export(a, false, lim_table_mark(T0 + 4000), 2, T0 + 4000, &la);
	assert_int_equal(lim_table_apply(b, da, la, T0 + 4000), 1);
	assert_int_equal(lim_table_count(b, key(b, "x"), T0 + 4000), 8);
	/* the merged counts also count for the decision: 8 of 9 used */
	assert_true(hit(b, "x", 9, 0, T0 + 4000, NULL));
	assert_false(hit(b, "x", 9, 0, T0 + 4000, NULL));
	free(da);
	free(db);
	lim_table_free(&a);
	lim_table_free(&b);
	lim_table_free(&c1);
	lim_table_free(&c2);
}

/* Delta marks have millisecond resolution; a key counted by a worker whose
 * clock reading predates an export that already passed the key is still in
 * the next delta (the export's floor); a merged remote update is not resent. */
static void
test_delta_marks(void **state)
{
	struct lim_table *a = mk(60000, 1000, 0, 0), *b = mk(60000, 1000, 1, 0);
	unsigned char *d;
	size_t l;
	long n;

	(void)state;
	hit(a, "x", 100, 0, T0 + 10, NULL);
	d = export(a, false, lim_table_mark(T0), 1, T0 + 20, &l);	/* x */
	assert_int_equal(lim_table_apply(b, d, l, T0 + 20), 1);
	free(d);
	/* nothing new since T0 + 20: an empty delta, 10 ms later */
	assert_int_equal(lim_table_export(a, false, lim_table_mark(T0 + 20), 2, T0 + 30, &d, &l), 0);
	free(d);
	/* a stale clock (T0 + 25) after the export at T0 + 30 passed the key */
	hit(a, "x", 100, 0, T0 + 25, NULL);
	n = lim_table_export(a, false, lim_table_mark(T0 + 30), 3, T0 + 40, &d, &l);
	assert_int_equal(n, 1);
	assert_int_equal(lim_table_apply(b, d, l, T0 + 40), 1);
	free(d);
	assert_int_equal(lim_table_count(b, key(b, "x"), T0 + 40), 2);
	/* b counts x too and merged a's: only b's own change is in b's delta,
	 * and a, merging it, does not send x back */
	hit(b, "x", 100, 0, T0 + 45, NULL);
	assert_int_equal(lim_table_export(b, false, lim_table_mark(T0 + 40), 1, T0 + 50, &d, &l), 1);
	assert_int_equal(lim_table_apply(a, d, l, T0 + 50), 1);
	free(d);
	assert_int_equal(lim_table_export(a, false, lim_table_mark(T0 + 40), 4, T0 + 60, &d, &l), 0);
	free(d);
	assert_int_equal(lim_table_count(a, key(a, "x"), T0 + 60), 3);
	lim_table_free(&a);
	lim_table_free(&b);
}

/* A delta from an older window lands in "previous"; a newer one rolls. */
static void
test_merge_across_windows(void **state)
{
	struct lim_table *a = mk(1000, 1000, 0, 0), *b = mk(1000, 1000, 1, 0);
	unsigned char *d;
	size_t l;
	int i;

	(void)state;
	for (i = 0; i < 6; i++)
		hit(b, "k", 100, 0, T0 + 500, NULL);	/* b: window 0 */
	d = export(b, false, 0, 7, T0 + 500, &l);
	hit(a, "k", 100, 0, T0 + 1500, NULL);		/* a already in window 1 */
	assert_int_equal(lim_table_apply(a, d, l, T0 + 1500), 1);
	assert_int_equal(lim_table_count(a, key(a, "k"), T0 + 1500), 1);
	/* est = 6 x 0.5 + 1 = 4: with limit 5, one more fits, not two */
	assert_true(hit(a, "k", 5, 0, T0 + 1500, NULL));
	assert_false(hit(a, "k", 5, 0, T0 + 1500, NULL));
	free(d);
	/* records from windows that have passed, or from a clock far ahead,
	 * take no slot and roll nothing */
	{
		struct lim_table *c = mk(1000, 1000, 0, 0);
		struct lim_table_stats st;

		hit(b, "z", 100, 0, T0 + 500, NULL);
		d = export(b, false, 0, 8, T0 + 500, &l);
		assert_int_equal(lim_table_apply(c, d, l, T0 + 2000), 1);	/* 2 windows on */
		assert_int_equal(lim_table_apply(a, d, l, T0 - 1500), 1);	/* 2 windows early */
		lim_table_stats(c, &st);
		assert_int_equal(st.keys, 0);
		assert_int_equal(lim_table_count(a, key(a, "z"), T0 - 1500), 0);
		free(d);
		lim_table_free(&c);
	}
	lim_table_free(&a);
	lim_table_free(&b);
}

/* Random traffic on two nodes, deltas delivered shuffled and duplicated: all
 * orders converge to the same counts as the sum of admitted hits. */
static void
test_merge_random(void **state)
{
	struct lim_table *n[2] = { mk(60000, 4096, 0, 0), mk(60000, 4096, 1, 0) };
	struct lim_table *x = mk(60000, 4096, 0, 0), *y = mk(60000, 4096, 0, 0);
	unsigned char *batch[20];
	size_t blen[20];
	uint64_t truth[50] = { 0 }, now = T0;
	uint32_t mark[2] = { 0, 0 };
	int i, j, nb = 0;
	char k[16];

	(void)state;
	srand(7);
	for (i = 0; i < 10; i++) {
		for (j = 0; j < 200; j++) {
			int node = rand() % 2, ki = rand() % 50;

			snprintf(k, sizeof(k), "key%d", ki);
			if (hit(n[node], k, 1000000, 0, now, NULL))
				truth[ki]++;
		}
		for (j = 0; j < 2; j++) {
			batch[nb] = export(n[j], false, mark[j], (uint64_t)i, now, &blen[nb]);
			mark[j] = lim_table_mark(now);
			nb++;
		}
		now += 2048;	/* two ticks, same 60 s window */
	}
	for (i = 0; i < nb; i++)
		assert_int_equal(lim_table_apply(x, batch[i], blen[i], now), 1);
	for (i = nb - 1; i >= 0; i--) {	/* reversed, each twice */
		assert_int_equal(lim_table_apply(y, batch[i], blen[i], now), 1);
		assert_int_equal(lim_table_apply(y, batch[i], blen[i], now), 0);
	}
	for (i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		assert_int_equal(lim_table_count(x, key(x, k), now), truth[i]);
		assert_int_equal(lim_table_count(y, key(y, k), now), truth[i]);
	}
	for (i = 0; i < nb; i++)
		free(batch[i]);
	lim_table_free(&n[0]);
	lim_table_free(&n[1]);
	lim_table_free(&x);
	lim_table_free(&y);
}

static void
test_snapshot(void **state)
{
	struct lim_table *a = mk(60000, 1000, 0, 0), *b = mk(60000, 1000, 0, 0), *c = mk(1000, 1000, 0, 0);
	struct lim_table_stats st;
	unsigned char *s;
	size_t l, i;
	char k[16];
	long n;

	(void)state;
	for (i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "s%zu", i);
		hit(a, k, 100, 0, T0 + 1000, NULL);
		hit(a, k, 100, 0, T0 + 61000, NULL);	/* window 1: prev 1, cur 1 */
	}
	n = lim_table_export(a, true, 0, 99, T0 + 62000, &s, &l);
	assert_int_equal(n, 20);
	/* every corruption is refused */
	assert_int_equal(lim_table_apply(c, s, l, T0 + 62000), -EINVAL);	/* other period */
	assert_int_equal(lim_table_apply(b, s, l - 1, T0 + 62000), -EINVAL);
	assert_int_equal(lim_table_apply(b, s, 10, T0 + 62000), -EINVAL);
	for (i = 0; i < l; i += 7) {
		s[i] ^= 0x40;
		assert_int_equal(lim_table_apply(b, s, l, T0 + 62000), -EINVAL);
		s[i] ^= 0x40;
	}
	assert_int_equal(lim_table_apply(b, s, l, T0 + 62000), 1);
	lim_table_stats(b, &st);
	assert_int_equal(st.keys, 20);
	for (i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "s%zu", i);
		assert_int_equal(lim_table_count(b, key(b, k), T0 + 62000), 1);
	}
	/* the previous window came along: est = 1 x 58/60 + 1 -> limit 2 is full */
	assert_false(hit(b, "s3", 2, 0, T0 + 62000, NULL));
	free(s);
	lim_table_free(&a);
	lim_table_free(&b);
	lim_table_free(&c);
}

/* test_pair of test_peer_sync with the clock injected: A counts 90, B the
 * other 10; B restarts empty and A's full snapshot alone gives it all 100
 * (B's own old slot included, though A never resends a merged key in a
 * delta). When A's snapshot is taken just after a window boundary, both
 * nodes' current-window count is 0 (what made test_pair flaky with a 60 s
 * window), yet the previous window came along and B still refuses. */
static void
test_restart_snapshot(void **state)
{
	struct lim_table *a = mk(60000, 1000, 0, 0), *b = mk(60000, 1000, 1, 0), *b2, *b3;
	unsigned char *d;
	size_t l;
	int i;

	(void)state;
	for (i = 0; i < 90; i++)
		assert_true(hit(a, "c", 100, 0, T0 + 59000, NULL));
	d = export(a, false, lim_table_mark(T0), 1, T0 + 59100, &l);
	assert_int_equal(lim_table_apply(b, d, l, T0 + 59100), 1);
	free(d);
	for (i = 0; i < 10; i++)
		assert_true(hit(b, "c", 100, 0, T0 + 59200, NULL));
	assert_false(hit(b, "c", 100, 0, T0 + 59200, NULL));
	d = export(b, false, lim_table_mark(T0), 1, T0 + 59300, &l);
	assert_int_equal(lim_table_apply(a, d, l, T0 + 59300), 1);
	free(d);
	assert_int_equal(lim_table_count(a, key(a, "c"), T0 + 59300), 100);
	/* B's 10 are not sent back in A's next delta */
	assert_int_equal(lim_table_export(a, false, lim_table_mark(T0 + 59100), 2, T0 + 59400, &d, &l), 0);
	free(d);

	/* B restarts in the same window: the snapshot has both slots */
	b2 = mk(60000, 1000, 1, 0);
	d = export(a, true, 0, 3, T0 + 59500, &l);
	assert_int_equal(lim_table_apply(b2, d, l, T0 + 59500), 1);
	free(d);
	assert_int_equal(lim_table_count(b2, key(b2, "c"), T0 + 59500), 100);
	assert_false(hit(b2, "c", 100, 0, T0 + 59500, NULL));

	/* ... or 20 ms into the next window: the 100 are the previous window's */
	b3 = mk(60000, 1000, 1, 0);
	d = export(a, true, 0, 4, T0 + 60020, &l);
	assert_int_equal(lim_table_apply(b3, d, l, T0 + 60020), 1);
	free(d);
	assert_int_equal(lim_table_count(a, key(a, "c"), T0 + 60020), 0);
	assert_int_equal(lim_table_count(b3, key(b3, "c"), T0 + 60020), 0);
	assert_false(hit(b3, "c", 100, 0, T0 + 60020, NULL));	/* est 100 x 59.98/60 + 1 */
	lim_table_free(&a);
	lim_table_free(&b);
	lim_table_free(&b2);
	lim_table_free(&b3);
}

/* At the cap the table keeps its size, counts evictions, and evicts the
 * keys touched longest ago first. */
static void
test_eviction(void **state)
{
	struct lim_table *t = mk(86400000, 1024, 0, 4);
	struct lim_table_stats st;
	int i, kept = 0;
	char k[16];

	(void)state;
	for (i = 0; i < 1024; i++) {
		snprintf(k, sizeof(k), "old%d", i);
		hit(t, k, 10, 0, T0, NULL);
	}
	for (i = 0; i < 512; i++) {
		snprintf(k, sizeof(k), "new%d", i);
		hit(t, k, 10, 0, T0 + 100000, NULL);
	}
	lim_table_stats(t, &st);
	assert_true(st.keys <= 1024);
	assert_true(st.evictions >= 512);
	assert_true(st.bytes <= 1024 * 64);	/* the memory bound: <= 64 B per key */
	for (i = 0; i < 512; i++) {
		snprintf(k, sizeof(k), "new%d", i);
		kept += lim_table_count(t, key(t, k), T0 + 100000) == 1;
	}
	assert_true(kept >= 500);	/* sampled LRU: the recent keys survive */
	for (i = 0; i < 100000; i++) {	/* a flood of fresh keys never grows it */
		snprintf(k, sizeof(k), "f%d", i);
		hit(t, k, 10, 0, T0 + 200000 + (uint64_t)i, NULL);
	}
	lim_table_stats(t, &st);
	assert_true(st.keys <= 1024);
	assert_true(st.bytes <= 1024 * 64);
	lim_table_free(&t);
}

struct thr {
	struct lim_table *t;
	uint64_t admitted;
};

static void *
thr_main(void *arg)
{
	struct thr *a = arg;
	char k[16];
	int i;

	for (i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "t%d", i % 64);
		if (hit(a->t, k, 1000, 0, T0 + (uint64_t)(i / 100), NULL))
			a->admitted++;
	}
	return NULL;
}

/* Two threads on the same 64 keys: exactly limit x keys are admitted. */
static void
test_threads(void **state)
{
	struct lim_table *t = mk(60000, 4096, 0, 0);
	struct thr a[2] = { { t, 0 }, { t, 0 } };
	pthread_t th[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &a[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(a[0].admitted + a[1].admitted, 64 * 1000);
	lim_table_free(&t);
}

/* ---- accuracy against an exact sliding log ---- */

struct slog {
	uint64_t *ts;	/* admitted times, ring */
	size_t head, n, cap;
};

static bool
slog_hit(struct slog *s, uint64_t now, uint64_t period, uint32_t limit)
{
	while (s->n > 0 && s->ts[s->head] + period <= now) {
		s->head = (s->head + 1) % s->cap;
		s->n--;
	}
	if (s->n >= limit)
		return false;
	s->ts[(s->head + s->n) % s->cap] = now;
	s->n++;
	return true;
}

static double
rnd(void)
{
	return (rand() + 1.0) / ((double)RAND_MAX + 2.0);
}

/* Runs keys x events of Poisson traffic at rate_factor x the limit. For each
 * request, compares the limiter with an exact sliding log holding the same
 * history (the requests the limiter admitted): a false admit is admitting
 * while that log already has N in the last period, a false deny is denying
 * while it has fewer. Also reports the worst exact-window count of admitted
 * requests relative to N, and the admitted total relative to an independent
 * exact limiter fed the same traffic. */
static void
accuracy_run(double rate_factor, bool bursty, double *fadmit, double *fdeny, double *worst,
	     double *admit_ratio)
{
	const uint64_t P = 60000;
	const uint32_t N = 100;
	const int keys = 20, events = 20000;
	struct lim_table *t = mk((uint32_t)P, 4096, 0, 0);
	uint64_t fa = 0, fd = 0, total = 0, adm_l = 0, adm_e = 0;
	double mx = 0;
	int k, i;

	for (k = 0; k < keys; k++) {
		struct slog ind = { .cap = N + 1 }, same = { .cap = 20001 };
		double now = (double)T0 + rnd() * P, mean = (double)P / (N * rate_factor);
		char key_s[16];

		ind.ts = calloc(ind.cap, sizeof(uint64_t));
		same.ts = calloc(same.cap, sizeof(uint64_t));
		snprintf(key_s, sizeof(key_s), "acc%d", k);
		for (i = 0; i < events; i++) {
			bool a, exact;

			/* exponential gaps; bursty traffic sends clumps of 20 */
			if (!bursty || i % 20 == 0)
				now += -mean * (bursty ? 20 : 1) * __builtin_log(rnd());
			a = hit(t, key_s, N, 0, (uint64_t)now, NULL);
			adm_e += slog_hit(&ind, (uint64_t)now, P, N);
			slog_hit(&same, (uint64_t)now, P, 0);	/* limit 0: only drops old entries */
			exact = same.n < N;
			if (a) {
				slog_hit(&same, (uint64_t)now, P, UINT32_MAX);
				if ((double)same.n / N > mx)
					mx = (double)same.n / N;
			}
			fa += a && !exact;
			fd += !a && exact;
			adm_l += a;
			total++;
		}
		free(ind.ts);
		free(same.ts);
	}
	*fadmit = (double)fa / (double)total;
	*fdeny = (double)fd / (double)total;
	*worst = mx;
	*admit_ratio = (double)adm_l / (double)adm_e;
	lim_table_free(&t);
}

struct race {
	struct lim_table *t;
	int id, stop;
	uint64_t admitted;
};

/* Hits keys k0..k59 (a shard at its final size: the unlocked path) and, on
 * thread 1, churns 20,000 other keys through the cap (moves and evictions)
 * while thread 2 exports, counts and sweeps. */
static void *
race_main(void *arg)
{
	struct race *a = arg;
	unsigned char *buf;
	size_t len;
	char k[16];
	int i;

	for (i = 0; i < 30000; i++) {
		if (a->id == 2) {
			if (lim_table_export(a->t, i & 1, 0, (uint64_t)i, T0, &buf, &len) >= 0)
				free(buf);
			lim_table_count(a->t, key(a->t, "k1"), T0);
			lim_table_expire(a->t, T0);
			if (__atomic_load_n(&a->stop, __ATOMIC_RELAXED) == 2)
				break;
			continue;
		}
		snprintf(k, sizeof(k), "k%d", i % 60);
		a->admitted += hit(a->t, k, UINT32_MAX, 0, T0, NULL);
		if (a->id == 1) {
			snprintf(k, sizeof(k), "churn%d", i % 20000);
			hit(a->t, k, UINT32_MAX, 0, T0, NULL);
		}
	}
	return NULL;
}

/* The shard-lock-free path of lim_table_hit loses no count and keeps the
 * table sound while other threads move, evict, export and sweep entries. */
static void
test_threads_unlocked(void **state)
{
	struct lim_table *t = mk(60000, 200, 0, 1);
	struct race r[3];
	pthread_t th[3];
	struct lim_table_stats st;
	char k[16];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		r[i] = (struct race){ .t = t, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	__atomic_store_n(&r[2].stop, 2, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th[2], NULL), 0);
	lim_table_stats(t, &st);
	assert_true(st.keys <= 200);
	assert_true(st.evictions > 0);
	/* a key held has at most its 1,000 hits (fewer when it was evicted
	 * under the churn and restarted) */
	for (i = 0; i < 60; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_true(lim_table_count(t, key(t, k), T0) <= 1000);
	}
	assert_int_equal(r[0].admitted + r[1].admitted, 60000);
	lim_table_free(&t);
}

/* The same without churn: nothing evicted, so the counts are exact. */
static void
test_threads_exact(void **state)
{
	struct lim_table *t = mk(60000, 64, 0, 1);
	struct race r[2];
	pthread_t th[2];
	char k[16];
	uint64_t sum = 0;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		r[i] = (struct race){ .t = t, .id = i == 0 ? 0 : 3 };
		assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 60; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(lim_table_count(t, key(t, k), T0), 1000);
		sum += lim_table_count(t, key(t, k), T0);
	}
	assert_int_equal(sum, 60000);
	lim_table_free(&t);
}

static void
test_accuracy(void **state)
{
	static const double rates[] = { 0.5, 0.9, 1.0, 1.5, 3.0 };
	double fa, fd, w, ar;
	size_t i;
	int b;

	(void)state;
	srand(42);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		for (b = 0; b < 2; b++) {
			accuracy_run(rates[i], b, &fa, &fd, &w, &ar);
			print_message("accuracy %s x%.1f: false admits %.2f%%, false denies %.2f%%, "
				      "admitted vs exact limiter %.4f, worst exact window %.2f x N\n",
				      b ? "bursty " : "poisson", rates[i], fa * 100, fd * 100, ar, w);
			/* measured bounds (doc/limits.md), with some slack */
			assert_true(fa < 0.15);	/* over-admission is the error that matters for abuse */
			assert_true(ar > 0.95 && ar < 1.05);
			assert_true(w <= 2.0);	/* the algorithm's bound: N + prev x f < 2N */
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_window_boundary),
		cmocka_unit_test(test_retry_within_window),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_merge_two_nodes),
		cmocka_unit_test(test_merge_across_windows),
		cmocka_unit_test(test_delta_marks),
		cmocka_unit_test(test_merge_random),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_restart_snapshot),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_threads_unlocked),
		cmocka_unit_test(test_threads_exact),
		cmocka_unit_test(test_accuracy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
