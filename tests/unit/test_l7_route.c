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
#include <strings.h>

#include <cmocka.h>

#include "conf.h"
#include "errs.h"
#include "l7_http1.h"
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
	" {\"name\":\"z-get\",\"listener\":\"web\",\"match\":{\"path_exact\":\"/api/get\"},\"pool\":\"app\"}," \
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
	/* and an exact path before every prefix that matches it (a gRPC
	 * method before its service) */
	assert_string_equal(match(state, "web", "foo", "/api/get"), "z-get");
	assert_string_equal(match(state, "web", "foo", "/api/get?x=1"), "z-get");
	assert_string_equal(match(state, "web", "foo", "/api/get/x"), "api");
	assert_string_equal(match(state, "web", "foo", "/api/ge"), "api");
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

static const struct conf_route *
find(const struct conf_listener *l, const char *method, const char *host, const char *path,
     const char *buf, const struct l7_http1_msg *msg, const char *client)
{
	struct l7_route_req rq = {
		.host = host, .host_len = strlen(host), .path = path, .path_len = strlen(path),
		.method = method, .method_len = strlen(method), .buf = buf, .msg = msg,
	};
	struct conf_cidr cl;

	if (client != NULL) {
		assert_int_equal(conf_cidr_parse(client, &cl), 0);
		rq.client = cl.addr;
	}
	return l7_route_find(l, &rq);
}

#define L7CONF \
	"{\"version\":1,\"listeners\":[{\"name\":\"w\",\"address\":\"127.0.0.1\",\"port\":1}]," \
	"\"pools\":[{\"name\":\"p\",\"members\":[]}],\"routes\":[" \
	"{\"name\":\"any\",\"listener\":\"w\",\"pool\":\"p\"}," \
	"{\"name\":\"wild\",\"listener\":\"w\",\"host\":\"*.ex.com\",\"pool\":\"p\"}," \
	"{\"name\":\"wild2\",\"listener\":\"w\",\"host\":\"*.a.ex.com\",\"pool\":\"p\"}," \
	"{\"name\":\"exact\",\"listener\":\"w\",\"match\":{\"path_exact\":\"/e\"},\"pool\":\"p\",\"priority\":5}," \
	"{\"name\":\"re\",\"listener\":\"w\",\"match\":{\"path_regex\":\"^/u/[0-9]+$\"},\"pool\":\"p\",\"priority\":5}," \
	"{\"name\":\"meth\",\"listener\":\"w\",\"path_prefix\":\"/m\",\"match\":{\"methods\":[\"PUT\"]},\"pool\":\"p\"}," \
	"{\"name\":\"hdr\",\"listener\":\"w\",\"path_prefix\":\"/h\",\"match\":{\"headers\":[{\"name\":\"x-k\",\"regex\":\"^v[0-9]$\"},{\"name\":\"X-No\",\"absent\":true}]},\"pool\":\"p\"}," \
	"{\"name\":\"qry\",\"listener\":\"w\",\"path_prefix\":\"/q\",\"match\":{\"query\":[{\"name\":\"a\",\"equals\":\"1\"},{\"name\":\"b\"}]},\"pool\":\"p\"}," \
	"{\"name\":\"net\",\"listener\":\"w\",\"path_prefix\":\"/n\",\"match\":{\"client_cidrs\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},\"pool\":\"p\"}," \
	"{\"name\":\"redir\",\"listener\":\"w\",\"path_prefix\":\"/r\",\"action\":\"redirect\",\"redirect\":{\"location\":\"/x\"}}]}"

static void
test_matchers(void **state)
{
	struct errs e;
	struct conf *c;
	const struct conf_listener *l;
	struct l7_http1_msg m;
	const char *req = "GET /h HTTP/1.1\r\nHost: x\r\nX-K: v7\r\n\r\n";
	int st;

	(void)state;
	errs_init(&e);
	c = conf_parse(L7CONF, strlen(L7CONF), &e);
	if (c == NULL)
		fprintf(stderr, "%s: %s\n", e.items[0].path, e.items[0].message);
	errs_release(&e);
	assert_non_null(c);
	l = &c->listeners[0];
#define NAME(r) ((r) ? (r)->name : "-")
	assert_string_equal(NAME(find(l, "GET", "b.ex.com", "/", NULL, NULL, NULL)), "wild");
	assert_string_equal(NAME(find(l, "GET", "z.a.ex.com", "/", NULL, NULL, NULL)), "wild2");
	assert_string_equal(NAME(find(l, "GET", "ex.com", "/", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/e", NULL, NULL, NULL)), "exact");
	assert_string_equal(NAME(find(l, "GET", "h", "/e?x", NULL, NULL, NULL)), "exact");
	assert_string_equal(NAME(find(l, "GET", "h", "/ee", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/u/12", NULL, NULL, NULL)), "re");
	assert_string_equal(NAME(find(l, "GET", "h", "/u/12/x", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "PUT", "h", "/m", NULL, NULL, NULL)), "meth");
	assert_string_equal(NAME(find(l, "GET", "h", "/m", NULL, NULL, NULL)), "any");
	assert_int_equal(l7_http1_parse_request(req, strlen(req), &m, &st), L7_HTTP1_DONE);
	assert_string_equal(NAME(find(l, "GET", "h", "/h", req, &m, NULL)), "hdr");
	assert_string_equal(NAME(find(l, "GET", "h", "/h", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/q?b&a=1", NULL, NULL, NULL)), "qry");
	assert_string_equal(NAME(find(l, "GET", "h", "/q?a=1", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/q?a=12&b=", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/n", NULL, NULL, "10.1.2.3")), "net");
	assert_string_equal(NAME(find(l, "GET", "h", "/n", NULL, NULL, "2001:db8::1")), "net");
	assert_string_equal(NAME(find(l, "GET", "h", "/n", NULL, NULL, "11.1.2.3")), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/n", NULL, NULL, NULL)), "any");
	assert_string_equal(NAME(find(l, "GET", "h", "/r", NULL, NULL, NULL)), "redir");
	assert_null(find(l, "GET", "h", "/r", NULL, NULL, NULL)->pool);
	conf_free(&c);
}

/* The index must decide exactly as a scan of the sorted routes would: 1000
 * random prefix routes over a few hosts, 20000 random lookups. */
static void
test_index_equals_scan(void **state)
{
	static const char *const hosts[] = { "", "a.test", "b.test", "*.w.test" };
	static const char *const segs[] = { "/a", "/b", "/ab", "/api", "/api/v1", "/x/y", "/" };
	size_t cap = 1 << 20, len = 0, i, k;
	char *cfg = malloc(cap);
	struct errs e;
	struct conf *c;
	unsigned seed = 7;

	(void)state;
	assert_non_null(cfg);
	len += (size_t)snprintf(cfg + len, cap - len, "{\"version\":1,\"listeners\":[{\"name\":\"w\","
		"\"address\":\"127.0.0.1\",\"port\":1}],\"pools\":[{\"name\":\"p\",\"members\":[]}],\"routes\":[");
	for (i = 0; i < 1000; i++) {
		seed = seed * 1103515245 + 12345;
		len += (size_t)snprintf(cfg + len, cap - len,
			"%s{\"name\":\"r%zu\",\"listener\":\"w\",\"pool\":\"p\",\"host\":\"%s\","
			"\"path_prefix\":\"%s%u\",\"priority\":%u}", i ? "," : "", i,
			hosts[(seed >> 8) % 4], segs[(seed >> 12) % 7], (seed >> 16) % 30, (seed >> 20) % 5);
	}
	len += (size_t)snprintf(cfg + len, cap - len, "]}");
	errs_init(&e);
	c = conf_parse(cfg, len, &e);
	errs_release(&e);
	assert_non_null(c);
	for (k = 0; k < 20000; k++) {
		static const char *const qh[] = { "a.test", "b.test", "z.w.test", "other", "A.TEST:80" };
		const struct conf_listener *l = &c->listeners[0];
		const struct conf_route *got, *want = NULL;
		char path[64], host[32];
		size_t hl, j;
		int exact = 0, wild = 0;

		seed = seed * 1103515245 + 12345;
		snprintf(path, sizeof(path), "%s%u%s", segs[(seed >> 8) % 7], (seed >> 12) % 40,
			 (seed >> 20) % 2 ? "/z" : "");
		snprintf(host, sizeof(host), "%s", qh[(seed >> 16) % 5]);
		got = l7_route_match(l, host, strlen(host), path, strlen(path));
		hl = l7_route_host_len(host, strlen(host));
		/* the vhost: exact host, else wildcard, else none */
		for (j = 0; j < l->nroutes; j++) {
			const struct conf_route *r = l->routes[j];

			if (!r->l7.wildcard_host && r->host[0] && strlen(r->host) == hl &&
			    strncasecmp(r->host, host, hl) == 0)
				exact = 1;
			if (r->l7.wildcard_host && hl > strlen(r->host) &&
			    strncasecmp(host + hl - strlen(r->host), r->host, strlen(r->host)) == 0)
				wild = 1;
		}
		for (j = 0; j < l->nroutes && want == NULL; j++) {
			const struct conf_route *r = l->routes[j];
			int hostok = r->host[0] == '\0' ||
				(exact && !r->l7.wildcard_host && strlen(r->host) == hl &&
				 strncasecmp(r->host, host, hl) == 0) ||
				(!exact && wild && r->l7.wildcard_host && hl > strlen(r->host) &&
				 strncasecmp(host + hl - strlen(r->host), r->host, strlen(r->host)) == 0);

			if (hostok && strncmp(path, r->path_prefix, r->path_prefix_len) == 0)
				want = r;
		}
		if (got != want)
			fail_msg("%s%s: index %s, scan %s", host, path, got ? got->name : "-",
				 want ? want->name : "-");
	}
	conf_free(&c);
	free(cfg);
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
		cmocka_unit_test(test_matchers),
		cmocka_unit_test(test_index_equals_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
