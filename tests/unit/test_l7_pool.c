/* Unit tests for daemon/l7/l7_pool: round robin, skipping disabled, drained
 * and down members, the back-off and its single probe, and state carried
 * across a reload by member id. The clock is a parameter, so no sleeping. */
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
#include "log.h"
#include "testconf.h"

#define CONF(extra) \
	"{\"version\":1," \
	"\"listeners\":[{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":8080}]," \
	"\"pools\":[{\"name\":\"app\",\"members\":[" \
	"  {\"address\":\"127.0.0.1\",\"port\":9001}," \
	"  {\"address\":\"127.0.0.1\",\"port\":9002}," \
	"  {\"address\":\"127.0.0.1\",\"port\":9003,\"enabled\":false}," \
	"  {\"address\":\"127.0.0.1\",\"port\":9004,\"weight\":0}," \
	"  {\"address\":\"127.0.0.1\",\"port\":9005}" extra "]}]," \
	"\"routes\":[{\"name\":\"r\",\"listener\":\"web\",\"pool\":\"app\"}]}"

static struct conf *
parse(const char *text)
{
	return testconf_load(text);
}

static int
teardown(void **state)
{
	l7_pool_registry_free();
	return 0;
}

static void
test_round_robin(void **state)
{
	struct conf *c = parse(CONF(""));
	struct l7_pool_map *m = l7_pool_map_new(c);
	const struct conf_pool *p = &c->pools[0];
	int seen[5] = { 0 }, i;

	assert_non_null(m);
	for (i = 0; i < 30; i++) {
		int k = l7_pool_pick(m, p, 0, 1000);

		assert_true(k >= 0 && k < 5);
		seen[k]++;
	}
	/* disabled and weight-0 members take nothing; the others share evenly */
	assert_int_equal(seen[2], 0);
	assert_int_equal(seen[3], 0);
	assert_true(seen[0] >= 9 && seen[0] <= 11);
	assert_true(seen[1] >= 9 && seen[1] <= 11);
	assert_true(seen[4] >= 9 && seen[4] <= 11);
	/* members already tried for this request are skipped */
	for (i = 0; i < 10; i++)
		assert_int_equal(l7_pool_pick(m, p, (1u << 0) | (1u << 4), 1000), 1);
	assert_int_equal(l7_pool_pick(m, p, (1u << 0) | (1u << 1) | (1u << 4), 1000), -1);
	l7_pool_map_free(&m);
	assert_null(m);
	conf_free(&c);
}

static void
test_down_backoff_probe(void **state)
{
	struct conf *c = parse(CONF(""));
	struct l7_pool_map *m = l7_pool_map_new(c);
	const struct conf_pool *p = &c->pools[0];
	struct l7_member_state *ms0 = m->members[0][0];
	uint64_t t = 100000;
	int i;

	assert_string_equal(ms0->id, "app/127.0.0.1:9001");
	l7_pool_member_report(ms0, 0, t, "test refused");
	assert_true(atomic_load(&ms0->down));
	assert_string_equal(l7_pool_member_state_name(&p->members[0], ms0), "down");
	for (i = 0; i < 20; i++)
		assert_int_not_equal(l7_pool_pick(m, p, 0, t + 999), 0);
	/* after 1 s exactly one pick probes it */
	for (i = 0; i < 3 && l7_pool_pick(m, p, 0, t + 1000) != 0; i++)
		;
	assert_true(i < 3);
	for (i = 0; i < 20; i++)
		assert_int_not_equal(l7_pool_pick(m, p, 0, t + 1000), 0);
	/* the probe fails: the back-off doubles, up to 30 s */
	l7_pool_member_report(ms0, 0, t + 1000, "test refused");
	assert_int_equal(atomic_load(&ms0->retry_at), t + 1000 + 2000);
	for (i = 0; i < 10; i++)
		l7_pool_member_report(ms0, 0, t, "test refused");
	assert_int_equal(atomic_load(&ms0->backoff_ms), L7_POOL_BACKOFF_MAX_MS);
	assert_int_equal(atomic_load(&ms0->retry_at), t + L7_POOL_BACKOFF_MAX_MS);
	assert_int_equal(atomic_load(&ms0->failures), 12);
	/* a successful connect brings it back and resets the back-off */
	l7_pool_member_report(ms0, 1, t, NULL);
	assert_false(atomic_load(&ms0->down));
	assert_int_equal(atomic_load(&ms0->backoff_ms), L7_POOL_BACKOFF_MIN_MS);
	for (i = 0; i < 3 && l7_pool_pick(m, p, 0, t) != 0; i++)
		;
	assert_true(i < 3);
	/* every usable member down: nothing to pick */
	l7_pool_member_report(m->members[0][0], 0, t, "x");
	l7_pool_member_report(m->members[0][1], 0, t, "x");
	l7_pool_member_report(m->members[0][4], 0, t, "x");
	assert_int_equal(l7_pool_pick(m, p, 0, t + 10), -1);
	l7_pool_member_report(m->members[0][0], 1, t, NULL);
	l7_pool_member_report(m->members[0][1], 1, t, NULL);
	l7_pool_member_report(m->members[0][4], 1, t, NULL);
	l7_pool_map_free(&m);
	conf_free(&c);
}

static void
test_state_survives_reload(void **state)
{
	struct conf *c1 = parse(CONF(""));
	struct conf *c2 = parse(CONF(",{\"address\":\"127.0.0.1\",\"port\":9006}"));
	struct l7_pool_map *m1 = l7_pool_map_new(c1), *m2 = l7_pool_map_new(c2);
	json_t *st, *mem;

	assert_non_null(m1);
	assert_non_null(m2);
	l7_pool_member_report(m1->members[0][1], 0, 5000, "gone");
	/* same id, same state object: health carries across the reload */
	assert_ptr_equal(m1->members[0][1], m2->members[0][1]);
	assert_ptr_equal(m1->pools[0], m2->pools[0]);
	assert_true(atomic_load(&m2->members[0][1]->down));
	assert_false(atomic_load(&m2->members[0][5]->down));

	st = l7_pool_status_json(c2);
	assert_int_equal(json_array_size(st), 1);
	mem = json_object_get(json_array_get(st, 0), "members");
	assert_int_equal(json_array_size(mem), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 0), "state")), "up");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 1), "state")), "down");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 2), "state")), "disabled");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 1), "id")),
			    "app/127.0.0.1:9002");
	json_decref(st);
	l7_pool_member_report(m1->members[0][1], 1, 5000, NULL);
	l7_pool_map_free(&m1);
	l7_pool_map_free(&m2);
	conf_free(&c1);
	conf_free(&c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_down_backoff_probe),
		cmocka_unit_test(test_state_survives_reload),
	};

	log_init("test_l7_pool", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
