/*
 * Unit tests of daemon/l7/l7_stats: per-object counters written per worker
 * and summed on read, the latency buckets, JSON and Prometheus output.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "conf.h"
#include "errs.h"
#include "l7_stats.h"
#include "testconf.h"

static struct conf *
stats_conf(void)
{
	static const char text[] =
		"{\"version\":1,\"listeners\":[{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":8080}],"
		"\"pools\":[{\"name\":\"p\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":1},"
		"{\"address\":\"127.0.0.1\",\"port\":2}]}],"
		"\"routes\":[{\"name\":\"r\",\"listener\":\"web\",\"pool\":\"p\"}]}";
	return testconf_load(text);
}

/* Two workers count; readers see the sums, the buckets by bound, and the
 * counters survive a new map (a reload). */
static void
test_stats_sums(void **state)
{
	struct conf *c = stats_conf();
	struct l7_stats_map *m0, *m1;
	struct l7_stats_req r0, r1;
	struct l7_stats_sum s;
	struct buf b;
	json_t *j;

	(void)state;
	assert_int_equal(l7_stats_init(2), 0);
	m0 = l7_stats_map_new(c);
	m1 = l7_stats_map_new(c);
	assert_non_null(m0);
	l7_stats_conn_open(&r0, 0, m0, 0);
	l7_stats_conn_open(&r1, 1, m1, 0);
	/* worker 0: 200 in 1 ms by member 1; worker 1: 503 in 7 ms by member 0 */
	l7_stats_req_begin(&r0, 0, m0, 0);
	l7_stats_req_route(&r0, 0, m0, 0, 0);
	l7_stats_req_end(&r0, 0, 1, 200, 100, 1000, 1);
	l7_stats_req_begin(&r1, 1, m1, 0);
	l7_stats_req_route(&r1, 1, m1, 0, 0);
	assert_int_equal(l7_stats_sum(L7_STATS_ROUTE, "r", &s), 0);
	assert_int_equal(s.active, 1);
	l7_stats_req_end(&r1, 1, 0, 503, 50, 10, 7);
	/* an unrouted request, then one cut by the connection's close */
	l7_stats_req_begin(&r1, 1, m1, 0);
	l7_stats_req_end(&r1, 1, -1, 404, 30, 20, 0);
	l7_stats_req_begin(&r0, 0, m0, 0);
	l7_stats_req_route(&r0, 0, m0, 0, 0);
	assert_int_equal(l7_stats_sum(L7_STATS_LISTENER, "web", &s), 0);
	assert_int_equal(s.active, 2);
	l7_stats_conn_close(&r0, 0);
	l7_stats_conn_close(&r1, 1);

	assert_int_equal(l7_stats_sum(L7_STATS_LISTENER, "web", &s), 0);
	assert_int_equal(s.requests, 4);
	assert_int_equal(s.active, 0);
	assert_int_equal(s.responses[2], 1);
	assert_int_equal(s.responses[4], 1);
	assert_int_equal(s.responses[5], 1);
	assert_int_equal(s.responses[0], 1);
	assert_int_equal(s.bytes_in, 180);
	assert_int_equal(s.bytes_out, 1030);
	assert_int_equal(s.hist[0], 2);	/* 1 ms and 0 ms: le 1 */
	assert_int_equal(s.hist[2], 1);	/* 7 ms: le 10 */
	assert_int_equal(s.latency_ms_sum, 8);
	assert_int_equal(l7_stats_sum(L7_STATS_ROUTE, "r", &s), 0);
	assert_int_equal(s.requests, 3);
	assert_int_equal(s.active, 0);
	assert_int_equal(s.responses[0], 1);
	assert_int_equal(l7_stats_sum(L7_STATS_MEMBER, c->pools[0].members[1].id, &s), 0);
	assert_int_equal(s.requests, 1);
	assert_int_equal(s.responses[2], 1);
	assert_int_equal(l7_stats_sum(L7_STATS_POOL, "nope", &s), -ENOENT);

	/* a reload's map finds the same objects */
	l7_stats_map_free(&m1);
	m1 = l7_stats_map_new(c);
	assert_ptr_equal(m1->routes[0], m0->routes[0]);
	j = l7_stats_counters_json(c);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j,
			 "routes"), "r"), "requests")), 3);
	json_decref(j);
	assert_int_equal(buf_init(&b, 1 << 20), 0);
	assert_int_equal(l7_stats_prometheus(c, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(buf_head(&b), "tandem_route_requests_total{route=\"r\"} 3\n"));
	assert_non_null(strstr(buf_head(&b),
			       "tandem_listener_request_duration_seconds_bucket{listener=\"web\",le=\"0.01\"} 3\n"));
	assert_non_null(strstr(buf_head(&b),
			       "tandem_listener_request_duration_seconds_count{listener=\"web\"} 3\n"));
	buf_release(&b);
	l7_stats_map_free(&m0);
	l7_stats_map_free(&m1);
	l7_stats_free_all();
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_sums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
