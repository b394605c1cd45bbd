/* Unit tests for daemon/l7/l7_route: host, path prefix and priority matching
 * over a conf built by conf_parse(), so the match order is the real one. */
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
#include "l7_route.h"

#define CONF \
	"{\"version\":1," \
	"\"listeners\":[{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":8080}," \
	"               {\"name\":\"other\",\"address\":\"127.0.0.1\",\"port\":8081}," \
	"               {\"name\":\"empty\",\"address\":\"127.0.0.1\",\"port\":8082}]," \
	"\"pools\":[{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":9001}]}]," \
	"\"routes\":[" \
	" {\"name\":\"any\",\"listener\":\"web\",\"pool\":\"app\"}," \
	" {\"name\":\"api\",\"listener\":\"web\",\"path_prefix\":\"/api/\",\"pool\":\"app\"}," \
	" {\"name\":\"img\",\"listener\":\"web\",\"host\":\"Example.COM\",\"path_prefix\":\"/img\",\"pool\":\"app\"}," \
	" {\"name\":\"ex\",\"listener\":\"web\",\"host\":\"example.com\",\"path_prefix\":\"/\",\"pool\":\"app\"}," \
	" {\"name\":\"adminx\",\"listener\":\"web\",\"path_prefix\":\"/admin/x\",\"pool\":\"app\"}," \
	" {\"name\":\"first\",\"listener\":\"web\",\"path_prefix\":\"/admin\",\"pool\":\"app\",\"priority\":1}," \
	" {\"name\":\"star\",\"listener\":\"other\",\"path_prefix\":\"/s\",\"pool\":\"app\"}," \
	" {\"name\":\"o\",\"listener\":\"other\",\"host\":\"o.test\",\"path_prefix\":\"/\",\"pool\":\"app\"}]}"

static int
setup(void **state)
{
	struct errs e;
	struct conf *c;

	errs_init(&e);
	c = conf_parse(CONF, strlen(CONF), &e);
	if (c == NULL) {
		size_t i;

		for (i = 0; i < e.count; i++)
			fprintf(stderr, "%s: %s\n", e.items[i].path, e.items[i].message);
	}
	errs_release(&e);
	*state = c;
	return c == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct conf *c = *state;

	conf_free(&c);
	return 0;
}

/* The name of the route matched on listener ln for host and path, or "-". */
static const char *
match(void **state, const char *ln, const char *host, const char *path)
{
	const struct conf_listener *l = conf_listener_find(*state, ln);
	const struct conf_route *r;

	assert_non_null(l);
	r = l7_route_match(l, host, strlen(host), path, strlen(path));
	return r ? r->name : "-";
}

static void
test_any_host(void **state)
{
	assert_string_equal(match(state, "web", "foo", "/"), "any");
	assert_string_equal(match(state, "web", "foo", "/x/y"), "any");
	assert_string_equal(match(state, "web", "", "/"), "any");
	/* an absolute-form target without a path routes as "/" */
	assert_string_equal(match(state, "web", "foo", ""), "any");
}

static void
test_path_prefix(void **state)
{
	assert_string_equal(match(state, "web", "foo", "/api/v1"), "api");
	assert_string_equal(match(state, "web", "foo", "/api/"), "api");
	assert_string_equal(match(state, "web", "foo", "/api"), "any");
	/* paths are case-sensitive */
	assert_string_equal(match(state, "web", "foo", "/API/v1"), "any");
	assert_string_equal(match(state, "web", "foo", "/api/?q=1"), "api");
}

static void
test_host(void **state)
{
	/* case-insensitive, port stripped, trailing dot ignored */
	assert_string_equal(match(state, "web", "example.com", "/img/a.png"), "img");
	assert_string_equal(match(state, "web", "EXAMPLE.com:8080", "/img/a.png"), "img");
	assert_string_equal(match(state, "web", "example.com.", "/x"), "ex");
	/* a host route beats the any-host route of the same prefix length */
	assert_string_equal(match(state, "web", "example.com", "/x"), "ex");
	assert_string_equal(match(state, "web", "example.co", "/x"), "any");
	assert_string_equal(match(state, "web", "example.com.au", "/x"), "any");
	assert_string_equal(match(state, "web", "xexample.com", "/img"), "any");
	assert_string_equal(match(state, "web", "[::1]:8080", "/"), "any");
}

static void
test_priority(void **state)
{
	/* priority 1 wins over a longer prefix with the default priority */
	assert_string_equal(match(state, "web", "foo", "/admin/x/y"), "first");
	assert_string_equal(match(state, "web", "example.com", "/admin"), "first");
	/* among equal priorities, the longer prefix wins whatever the order in the file */
	assert_string_equal(match(state, "web", "example.com", "/img"), "img");
}

static void
test_listeners(void **state)
{
	assert_string_equal(match(state, "other", "o.test", "/a"), "o");
	assert_string_equal(match(state, "other", "O.TEST:1", "/a"), "o");
	assert_string_equal(match(state, "other", "x.test", "/a"), "-");
	assert_string_equal(match(state, "other", "x.test", "/s/1"), "star");
	assert_string_equal(match(state, "other", "o.test", "/s/1"), "star");
	assert_string_equal(match(state, "empty", "o.test", "/"), "-");
}

static void
test_host_len(void **state)
{
	assert_int_equal(l7_route_host_len("a.b:80", 6), 3);
	assert_int_equal(l7_route_host_len("a.b", 3), 3);
	assert_int_equal(l7_route_host_len("[::1]:80", 8), 5);
	assert_int_equal(l7_route_host_len("[::1]", 5), 5);
	assert_int_equal(l7_route_host_len("[::1", 4), 4);
	assert_int_equal(l7_route_host_len("", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_host),
		cmocka_unit_test(test_path_prefix),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_host_len),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
