/* Unit tests for the balancing algorithms of daemon/l7/l7_pool
 * (l7_pool_choose): smooth weighted round robin's exact sequence, weighted
 * least connections, power of two choices, Maglev stability when a member
 * leaves, sticky members, backups, drain and the per-member limit, slow
 * start and the retry budget. Member
 * loads are set by hand and the clock is a parameter. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "errs.h"
#include "l7_pool.h"
#include "testconf.h"

#define POOL(opts, members) \
	"{\"version\":1,\"pools\":[{\"name\":\"p\"," opts "\"members\":[" members "]}]}"
#define M(port, extra) "{\"address\":\"127.0.0.1\",\"port\":" #port extra "}"

struct fx {
	struct conf *c;
	struct l7_pool_map *map;
	int64_t swrr[16];
	uint64_t rng;
};

static void
load(struct fx *f, const char *text)
{
	f->c = testconf_load(text);
	f->map = l7_pool_map_new(f->c);
	assert_non_null(f->map);
	memset(f->swrr, 0, sizeof(f->swrr));
	f->rng = 42;
}

static void
unload(struct fx *f)
{
	l7_pool_map_free(&f->map);
	conf_free(&f->c);
	l7_pool_registry_free();
}

static int
pick(struct fx *f, uint64_t tried, int sticky, uint64_t hash, int has_hash)
{
	struct l7_pick pk = { .tried = tried, .now_ms = 1000000, .sticky = sticky, .hash = hash,
			      .has_hash = has_hash, .swrr = f->swrr, .rng = &f->rng };

	return l7_pool_choose(f->map, &f->c->pools[0], &pk);
}

static void
test_swrr_sequence(void **state)
{
	struct fx f;
	char seq[8];
	int i;

	(void)state;
	load(&f, POOL("\"algorithm\":\"weighted_round_robin\",",
		      M(1, ",\"weight\":5") "," M(2, ",\"weight\":1") "," M(3, ",\"weight\":1")));
	/* nginx's smooth WRR for 5,1,1: a a b a c a a, spread, not bunched */
	for (i = 0; i < 7; i++)
		seq[i] = (char)('a' + pick(&f, 0, -1, 0, 0));
	seq[7] = '\0';
	assert_string_equal(seq, "aabacaa");
	unload(&f);
}

static void
test_least_connections(void **state)
{
	struct fx f;
	int i;

	(void)state;
	load(&f, POOL("\"algorithm\":\"least_connections\",",
		      M(1, "") "," M(2, ",\"weight\":2") "," M(3, "")));
	atomic_store(&f.map->members[0][0]->active, 3);
	atomic_store(&f.map->members[0][1]->active, 5);	/* (5+1)/2 = 3 < 4 */
	atomic_store(&f.map->members[0][2]->active, 4);
	for (i = 0; i < 5; i++)
		assert_int_equal(pick(&f, 0, -1, 0, 0), 1);
	atomic_store(&f.map->members[0][1]->active, 11);	/* 12/2 = 6 > 5 */
	assert_int_equal(pick(&f, 0, -1, 0, 0), 0);
	/* a member already tried is not picked again */
	assert_int_equal(pick(&f, 1u << 0, -1, 0, 0), 2);
	for (i = 0; i < 3; i++)
		atomic_store(&f.map->members[0][i]->active, 0);
	unload(&f);
}

static void
test_power_of_two(void **state)
{
	struct fx f;
	int i, n[2] = { 0, 0 };

	(void)state;
	load(&f, POOL("\"algorithm\":\"power_of_two\",", M(1, "") "," M(2, "")));
	/* b loaded: of any two distinct choices, a wins */
	atomic_store(&f.map->members[0][1]->active, 10);
	for (i = 0; i < 50; i++)
		assert_int_equal(pick(&f, 0, -1, 0, 0), 0);
	atomic_store(&f.map->members[0][1]->active, 0);
	/* idle: both chosen, near evenly (binomial, 1000 draws: within 6 sigma) */
	for (i = 0; i < 1000; i++)
		n[pick(&f, 0, -1, 0, 0)]++;
	fprintf(stderr, "p2c idle: %d %d\n", n[0], n[1]);
	assert_true(n[0] > 400 && n[1] > 400);
	unload(&f);
}

static void
test_maglev_stability(void **state)
{
	struct fx f, g;
	int i, moved = 0, to_gone = 0, before[2000];

	(void)state;
	load(&f, POOL("\"algorithm\":\"consistent_hash\",\"hash\":{\"on\":\"header\",\"name\":\"X-U\"},",
		      M(1, "") "," M(2, "") "," M(3, "") "," M(4, "")));
	for (i = 0; i < 2000; i++) {
		uint64_t h = conf_hash64(&i, sizeof(i), 0);

		before[i] = pick(&f, 0, -1, h, 1);
		assert_int_equal(pick(&f, 0, -1, h, 1), before[i]);	/* stable */
		if (before[i] == 3)
			to_gone++;
	}
	/* each member holds about a quarter of the table */
	assert_true(to_gone > 350 && to_gone < 650);
	/* member 4 goes down: only its keys move */
	atomic_store(&f.map->members[0][3]->hc_down, true);
	for (i = 0; i < 2000; i++) {
		uint64_t h = conf_hash64(&i, sizeof(i), 0);
		int now = pick(&f, 0, -1, h, 1);

		assert_int_not_equal(now, 3);
		if (before[i] != 3 && now != before[i])
			moved++;
	}
	assert_int_equal(moved, 0);
	atomic_store(&f.map->members[0][3]->hc_down, false);
	unload(&f);
	/* removing it from the config moves few of the other keys (Maglev) */
	load(&f, POOL("\"algorithm\":\"consistent_hash\",",
		      M(1, "") "," M(2, "") "," M(3, "") "," M(4, "")));
	load(&g, POOL("\"algorithm\":\"consistent_hash\",", M(1, "") "," M(2, "") "," M(3, "")));
	moved = 0;
	for (i = 0; i < 2000; i++) {
		uint64_t h = conf_hash64(&i, sizeof(i), 0);
		int a = pick(&f, 0, -1, h, 1);

		if (a != 3 && pick(&g, 0, -1, h, 1) != a)
			moved++;
	}
	assert_true(moved < 200);	/* under 10 % */
	l7_pool_map_free(&g.map);
	conf_free(&g.c);
	unload(&f);
}

static void
test_sticky_backup_drain_limit(void **state)
{
	struct fx f;
	int i;

	(void)state;
	load(&f, POOL("\"max_connections_per_member\":2,",
		      M(1, "") "," M(2, ",\"drain\":true") "," M(3, ",\"backup\":true") "," M(4, "")));
	/* drain and backup get nothing while a primary is up */
	for (i = 0; i < 10; i++) {
		int k = pick(&f, 0, -1, 0, 0);

		assert_true(k == 0 || k == 3);
	}
	/* a sticky member is honoured, a draining one is not */
	assert_int_equal(pick(&f, 0, 3, 0, 0), 3);
	assert_int_not_equal(pick(&f, 0, 1, 0, 0), 1);
	/* full members: the caller queues */
	atomic_store(&f.map->members[0][0]->active, 2);
	atomic_store(&f.map->members[0][3]->active, 2);
	assert_int_equal(pick(&f, 0, -1, 0, 0), L7_PICK_FULL);
	atomic_store(&f.map->members[0][0]->active, 0);
	atomic_store(&f.map->members[0][3]->active, 0);
	/* primaries down: the backup serves */
	atomic_store(&f.map->members[0][0]->hc_down, true);
	atomic_store(&f.map->members[0][3]->hc_down, true);
	assert_int_equal(pick(&f, 0, -1, 0, 0), 2);
	atomic_store(&f.map->members[0][2]->hc_down, true);
	assert_int_equal(pick(&f, 0, -1, 0, 0), L7_PICK_NONE);
	unload(&f);
}

static void
test_health_rise_fall(void **state)
{
	struct fx f;
	struct l7_member_state *ms;

	(void)state;
	load(&f, POOL("\"health_check\":{\"type\":\"tcp\",\"rise\":2,\"fall\":3},", M(1, "")));
	ms = f.map->members[0][0];
	l7_pool_health_result(ms, &f.c->pools[0], 0, 10, "x");
	l7_pool_health_result(ms, &f.c->pools[0], 0, 20, "x");
	assert_false(atomic_load(&ms->hc_down));
	l7_pool_health_result(ms, &f.c->pools[0], 0, 30, "connect: refused");
	assert_true(atomic_load(&ms->hc_down));
	assert_string_equal(ms->reason, "health check failed: connect: refused");
	l7_pool_health_result(ms, &f.c->pools[0], 1, 40, NULL);
	assert_true(atomic_load(&ms->hc_down));
	l7_pool_health_result(ms, &f.c->pools[0], 1, 50, NULL);
	assert_false(atomic_load(&ms->hc_down));
	assert_int_equal(atomic_load(&ms->up_since), 50);
	unload(&f);
}

/* Slow start: a member back 1 s into a 10 s ramp weighs a tenth of its
 * weight (smooth WRR gives it 10 of 110 picks); after the ramp, its full
 * weight again. */
static void
test_slow_start(void **state)
{
	struct fx f;
	int n0 = 0, i;

	(void)state;
	load(&f, POOL("\"algorithm\":\"weighted_round_robin\",\"slow_start_ms\":10000,",
		      M(1, ",\"weight\":10") "," M(2, ",\"weight\":10")));
	atomic_store(&f.map->members[0][0]->up_since, 1000000 - 1000);
	for (i = 0; i < 110; i++)
		n0 += pick(&f, 0, -1, 0, 0) == 0;
	assert_int_equal(n0, 10);
	atomic_store(&f.map->members[0][0]->up_since, 1000000 - 10000);
	memset(f.swrr, 0, sizeof(f.swrr));
	for (n0 = 0, i = 0; i < 100; i++)
		n0 += pick(&f, 0, -1, 0, 0) == 0;
	assert_int_equal(n0, 50);
	unload(&f);
}

/* Retry budget: 10 retries banked at first, then retry_budget_percent of
 * the requests; none at all with retries 0. */
static void
test_retry_budget(void **state)
{
	struct l7_pool_state *ps;
	struct fx f;
	int i, n = 0;

	(void)state;
	load(&f, POOL("\"retries\":1,\"retry_budget_percent\":20,", M(1, "")));
	ps = f.map->pools[0];
	for (i = 0; i < 20; i++)
		n += l7_pool_retry_take(ps, &f.c->pools[0]);
	assert_int_equal(n, 10);
	for (i = 0; i < 5; i++)	/* 5 requests at 20%: one retry */
		l7_pool_retry_earn(ps, &f.c->pools[0]);
	assert_int_equal(l7_pool_retry_take(ps, &f.c->pools[0]), 1);
	assert_int_equal(l7_pool_retry_take(ps, &f.c->pools[0]), 0);
	for (i = 0; i < 100000; i++)	/* the bank is capped at 100 retries */
		l7_pool_retry_earn(ps, &f.c->pools[0]);
	for (n = 0, i = 0; i < 200; i++)
		n += l7_pool_retry_take(ps, &f.c->pools[0]);
	assert_in_range(n, 100, 101);
	unload(&f);
	load(&f, POOL("\"retries\":0,", M(1, "")));
	assert_int_equal(l7_pool_retry_take(f.map->pools[0], &f.c->pools[0]), 0);
	unload(&f);
}

/* Distribution bounds: round robin is exact; Maglev with weights 1 and 3
 * gives the keys 25 % / 75 % within 3 points (8191 slots, 20000 keys). */
static void
test_distribution(void **state)
{
	struct fx f;
	int i, n[3] = { 0, 0, 0 };

	(void)state;
	load(&f, POOL("", M(1, "") "," M(2, "") "," M(3, "")));
	for (i = 0; i < 300; i++)
		n[pick(&f, 0, -1, 0, 0)]++;
	assert_int_equal(n[0], 100);
	assert_int_equal(n[1], 100);
	assert_int_equal(n[2], 100);
	unload(&f);
	load(&f, POOL("\"algorithm\":\"consistent_hash\",", M(1, "") "," M(2, ",\"weight\":3")));
	n[0] = n[1] = 0;
	for (i = 0; i < 20000; i++) {
		uint64_t h = conf_hash64(&i, sizeof(i), 7);

		n[pick(&f, 0, -1, h, 1)]++;
	}
	fprintf(stderr, "maglev 1:3: %d %d\n", n[0], n[1]);
	assert_in_range(n[0], 4400, 5600);
	unload(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swrr_sequence),
		cmocka_unit_test(test_least_connections),
		cmocka_unit_test(test_power_of_two),
		cmocka_unit_test(test_maglev_stability),
		cmocka_unit_test(test_sticky_backup_drain_limit),
		cmocka_unit_test(test_health_rise_fall),
		cmocka_unit_test(test_slow_start),
		cmocka_unit_test(test_retry_budget),
		cmocka_unit_test(test_distribution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
