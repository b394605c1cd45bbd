/* Unit tests for the WAF checks (daemon/limit/lim_waf.c), the route and path
 * regex matches of the rules, and the live view (lim_top: counters and top
 * keys by hits and by denials, rendered keys), through lim_rules_parse_text
 * and lim_rules_eval with an injected clock. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errs.h"
#include "lim_rule.h"
#include "lim_top.h"

#define T0 1700000000000ULL

static const char *const section =
	"{\"waf\": {"
	"  \"limits\": [{\"id\": \"up\", \"routes\": [\"upload\"], \"methods\": [\"POST\", \"PUT\"],"
	"    \"max_uri_bytes\": 20, \"max_headers\": 3, \"max_header_bytes\": 40, \"max_body_bytes\": 100},"
	"   {\"id\": \"watch\", \"max_uri_bytes\": 30, \"shadow\": true}],"
	"  \"deny_patterns\": ["
	"   {\"id\": \"sqli\", \"on\": \"query\", \"regex\": \"(?i)union\\\\s+select\"},"
	"   {\"id\": \"trav\", \"on\": \"path\", \"regex\": \"\\\\.\\\\./\", \"status\": 400},"
	"   {\"id\": \"ua\", \"on\": \"header\", \"header\": \"User-Agent\", \"regex\": \"^sqlmap\"},"
	"   {\"id\": \"xss\", \"on\": \"headers\", \"regex\": \"<script\", \"routes\": [\"main\"]}]},"
	" \"rules\": ["
	"  {\"name\": \"re\", \"match\": {\"path_regex\": \"^/u/[0-9]+$\", \"routes\": [\"main\"]},"
	"   \"key\": [{\"type\": \"path\"}], \"limit\": {\"requests\": 2, \"period_s\": 60}},"
	"  {\"name\": \"ip\", \"match\": {\"path\": \"/top\"}, \"key\": [{\"type\": \"client_ip\"},"
	"   {\"type\": \"header\", \"name\": \"X-User\"}], \"limit\": {\"requests\": 3, \"period_s\": 60}}]}";

struct fx {
	struct lim_rules *r;
	struct lim_store *s;
};

static int
setup(void **state)
{
	static const uint64_t seed[2] = { 7, 9 };
	struct fx *f = calloc(1, sizeof(*f));
	struct errs e;

	errs_init(&e);
	f->r = lim_rules_parse_text(section, strlen(section), &e);
	if (f->r == NULL)
		fprintf(stderr, "%s: %s\n", e.items[0].path, e.items[0].message);
	assert_non_null(f->r);
	errs_release(&e);
	f->s = lim_store_new(0, seed, 4096);
	assert_int_equal(lim_rules_bind(f->r, f->s), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	lim_rules_free(&f->r);
	lim_store_free(&f->s);
	free(f);
	return 0;
}

/* One request: "METHOD path?query" on route, headers "Name: value". */
static void
eval(struct fx *f, const char *route, const char *line, uint64_t body, int chunked,
     const char *const *hdrs, const uint8_t addr4[4], struct lim_verdict *v)
{
	static char buf[512];
	struct lim_hdr hv[8];
	struct lim_request q = { 0 };
	const char *sp, *qm;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	sp = strchr(buf, ' ');
	q.method = buf;
	q.method_len = (size_t)(sp - buf);
	q.path = sp + 1;
	qm = strchr(q.path, '?');
	q.path_len = qm ? (size_t)(qm - q.path) : strlen(q.path);
	if (qm != NULL) {
		q.query = qm + 1;
		q.query_len = strlen(qm + 1);
	}
	q.host = "h";
	q.host_len = 1;
	q.route = route;
	q.af = AF_INET;
	memcpy(q.addr, addr4 ? addr4 : (const uint8_t[]){ 10, 0, 0, 1 }, 4);
	for (; hdrs != NULL && hdrs[n] != NULL; n++) {
		const char *c = strchr(hdrs[n], ':');

		hv[n].name = hdrs[n];
		hv[n].name_len = (size_t)(c - hdrs[n]);
		hv[n].value = c + 2;
		hv[n].value_len = strlen(c + 2);
	}
	q.headers = hv;
	q.nheaders = n;
	q.body_len = body;
	q.chunked = chunked != 0;
	lim_rules_eval(f->r, &q, T0, v);
}

static void
expect_waf(struct fx *f, const char *route, const char *line, uint64_t body, int chunked,
	   const char *const *hdrs, int status, const char *id, const char *why)
{
	struct lim_verdict v;

	eval(f, route, line, body, chunked, hdrs, NULL, &v);
	if (status == 0) {
		assert_int_equal(v.action, LIM_ACT_PASS);
		assert_null(v.waf_id);
		return;
	}
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(v.status, status);
	assert_string_equal(v.waf_id, id);
	assert_string_equal(v.waf_why, why);
	assert_int_equal(v.log[v.nlog - 1].outcome, LIM_OUT_WAF);
}

static void
test_limits(void **state)
{
	struct fx *f = *state;
	const char *const three[] = { "A: 1", "B: 2", "C: 3", NULL };
	const char *const four[] = { "A: 1", "B: 2", "C: 3", "D: 4", NULL };
	const char *const fat[] = { "X-Long: 0123456789012345678901234567890123456789", NULL };

	expect_waf(f, "upload", "POST /up", 10, 0, three, 0, NULL, NULL);
	expect_waf(f, "upload", "GET /up", 0, 0, NULL, 405, "up", "method");
	expect_waf(f, "upload", "POST /up/01234567890123456789", 0, 0, NULL, 414, "up", "uri");
	expect_waf(f, "upload", "POST /up?q=0123456789abcdef", 0, 0, NULL, 414, "up", "uri");
	expect_waf(f, "upload", "POST /up", 0, 0, four, 431, "up", "headers");
	expect_waf(f, "upload", "POST /up", 0, 0, fat, 431, "up", "header_size");
	expect_waf(f, "upload", "POST /up", 100, 0, NULL, 0, NULL, NULL);
	expect_waf(f, "upload", "POST /up", 101, 0, NULL, 413, "up", "body");
	expect_waf(f, "upload", "PUT /up", 0, 1, NULL, 411, "up", "body");
	/* other routes and unrouted requests are not the entry's */
	expect_waf(f, "main", "GET /up", 101, 1, four, 0, NULL, NULL);
	expect_waf(f, NULL, "GET /up", 101, 1, four, 0, NULL, NULL);
}

static void
test_patterns(void **state)
{
	struct fx *f = *state;
	const char *const ua[] = { "user-agent: sqlmap/1.7", NULL };
	const char *const ua_ok[] = { "User-Agent: curl sqlmap", NULL };
	const char *const xss[] = { "X-A: 1", "Referer: x<script>", NULL };
	struct lim_verdict v;

	expect_waf(f, "main", "GET /x?q=1%20UNION%20select%202", 0, 0, NULL, 403, "sqli", "pattern");
	expect_waf(f, "main", "GET /x?q=1+union+select+2", 0, 0, NULL, 403, "sqli", "pattern");
	expect_waf(f, "main", "GET /x?q=union", 0, 0, NULL, 0, NULL, NULL);
	expect_waf(f, "main", "GET /union%20select", 0, 0, NULL, 0, NULL, NULL);	/* on the query only */
	expect_waf(f, "main", "GET /a/%2e%2e/b", 0, 0, NULL, 400, "trav", "pattern");
	expect_waf(f, "main", "GET /a/../b", 0, 0, NULL, 400, "trav", "pattern");
	expect_waf(f, "main", "GET /", 0, 0, ua, 403, "ua", "pattern");
	expect_waf(f, "main", "GET /", 0, 0, ua_ok, 0, NULL, NULL);
	expect_waf(f, "main", "GET /", 0, 0, xss, 403, "xss", "pattern");
	expect_waf(f, "other", "GET /", 0, 0, xss, 0, NULL, NULL);
	/* a shadow check logs what it would do and never denies */
	eval(f, "other", "GET /0123456789012345678901234567890", 0, 0, NULL, NULL, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	assert_string_equal(v.waf_shadow_id, "watch");
	assert_int_equal(v.log[0].outcome, LIM_OUT_WAF_SHADOW);
}

static void
test_route_regex(void **state)
{
	struct fx *f = *state;
	struct lim_verdict v;
	int i;

	for (i = 0; i < 2; i++) {
		eval(f, "main", "GET /u/42", 0, 0, NULL, NULL, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
		assert_int_equal(v.log[0].outcome, LIM_OUT_ADMIT);
	}
	eval(f, "main", "GET /u/42", 0, 0, NULL, NULL, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_string_equal(v.rule, "re");
	eval(f, "main", "GET /u/43", 0, 0, NULL, NULL, &v);	/* the key is the path */
	assert_int_equal(v.action, LIM_ACT_PASS);
	eval(f, "other", "GET /u/42", 0, 0, NULL, NULL, &v);	/* another route */
	assert_int_equal(v.nlog, 0);
	eval(f, "main", "GET /u/42x", 0, 0, NULL, NULL, &v);	/* the regex is anchored */
	assert_int_equal(v.nlog, 0);
}

/* The heavy key is on top by hits and by denials among a hundred others;
 * the counters are exact, the keys rendered with their parts. */
static void
test_top(void **state)
{
	struct fx *f = *state;
	const char *const alice[] = { "X-User: alice", NULL };
	char other[32];
	const char *const oh[] = { other, NULL };
	struct lim_verdict v;
	json_t *st, *r = NULL, *x;
	size_t i;

	for (i = 0; i < 10; i++)
		eval(f, "main", "GET /top", 0, 0, alice, (const uint8_t[]){ 192, 0, 2, 7 }, &v);
	for (i = 0; i < 100; i++) {
		snprintf(other, sizeof(other), "X-User: u%zu", i);
		eval(f, "main", "GET /top", 0, 0, oh, (const uint8_t[]){ 192, 0, 2, 8 }, &v);
	}
	st = lim_rules_stats_json(f->r, 5);
	json_array_foreach(json_object_get(st, "rules"), i, x)
		if (strcmp(json_string_value(json_object_get(x, "name")), "ip") == 0)
			r = x;
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "hits")), 110);
	assert_int_equal(json_integer_value(json_object_get(r, "denials")), 7);
	assert_int_equal(json_integer_value(json_object_get(r, "keys")), 101);
	x = json_array_get(json_object_get(r, "top_hits"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "key")), "ip=192.0.2.7/32|header=alice");
	assert_true(json_integer_value(json_object_get(x, "hits")) >= 10);
	assert_int_equal(json_array_size(json_object_get(r, "top_hits")), 5);
	x = json_array_get(json_object_get(r, "top_denials"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "key")), "ip=192.0.2.7/32|header=alice");
	assert_int_equal(json_integer_value(json_object_get(x, "denials")), 7);
	assert_int_equal(json_array_size(json_object_get(r, "top_denials")), 1);
	x = json_object_get(st, "waf");
	assert_int_equal(json_array_size(x), 6);
	json_decref(st);
}

/* Space-saving on its own: a key above total/N is always held. */
static void
test_top_summary(void **state)
{
	struct lim_top *t = lim_top_new();
	struct lim_top_row rows[LIM_TOP_N];
	struct lim_top_counts c;
	unsigned char k[8];
	size_t i, n;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 10000; i++) {
		uint64_t fp = i % 5 == 0 ? 42 : 1000 + i;	/* 20% one key, the rest unique */

		memcpy(k, &fp, sizeof(k));
		lim_top_note(t, fp, fp == 42 && i % 2 == 0, k, sizeof(k));
	}
	n = lim_top_rows(t, false, rows, LIM_TOP_N);
	assert_int_equal(n, LIM_TOP_N);
	assert_int_equal(rows[0].key_len, 8);
	assert_int_equal(rows[0].key[0], 42);
	assert_true(rows[0].hits >= 2000);
	n = lim_top_rows(t, true, rows, 3);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].denials, 1000);
	lim_top_counts(t, &c);
	assert_int_equal(c.hits, 10000);
	assert_int_equal(c.denials, 1000);
	lim_top_free(&t);
	assert_null(t);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *text, *path;
	} bad[] = {
		{ "{\"waf\": {\"limits\": [{\"id\": \"a\"}]}}", "$.waf.limits[0]" },
		{ "{\"waf\": {\"limits\": [{\"id\": \"a\", \"max_uri_bytes\": 0}]}}", "$.waf.limits[0].max_uri_bytes" },
		{ "{\"waf\": {\"limits\": [{\"id\": \"a b\", \"methods\": [\"GET\"]}]}}", "$.waf.limits[0]" },
		{ "{\"waf\": {\"deny_patterns\": [{\"id\": \"p\", \"on\": \"body\", \"regex\": \"x\"}]}}", "$.waf.deny_patterns[0].on" },
		{ "{\"waf\": {\"deny_patterns\": [{\"id\": \"p\", \"on\": \"header\", \"regex\": \"x\"}]}}", "$.waf.deny_patterns[0].on" },
		{ "{\"waf\": {\"deny_patterns\": [{\"id\": \"p\", \"on\": \"path\", \"regex\": \"(\"}]}}", "$.waf.deny_patterns[0].regex" },
		{ "{\"waf\": {\"deny_patterns\": [{\"id\": \"p\", \"on\": \"path\", \"regex\": \"x\", \"status\": 200}]}}", "$.waf.deny_patterns[0].status" },
		{ "{\"waf\": {\"limits\": [{\"id\": \"p\", \"methods\": [\"GET\"]}], \"deny_patterns\": [{\"id\": \"p\", \"on\": \"path\", \"regex\": \"x\"}]}}", "$.waf.deny_patterns[0].id" },
		{ "{\"waf\": {\"nope\": 1}}", "$.waf.nope" },
		{ "{\"rules\": [{\"name\": \"r\", \"match\": {\"path\": \"/\", \"path_regex\": \"x\"}, \"limit\": {\"requests\": 1, \"period_s\": 1}}]}", "$.rules[0].match.path_regex" },
		{ "{\"rules\": [{\"name\": \"r\", \"match\": {\"path_regex\": \"[\"}, \"limit\": {\"requests\": 1, \"period_s\": 1}}]}", "$.rules[0].match.path_regex" },
		{ "{\"rules\": [{\"name\": \"r\", \"match\": {\"routes\": [\"a b\"]}, \"limit\": {\"requests\": 1, \"period_s\": 1}}]}", "$.rules[0].match.routes[0]" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct errs e;
		struct lim_rules *r;
		int found = 0;

		errs_init(&e);
		r = lim_rules_parse_text(bad[i].text, strlen(bad[i].text), &e);
		assert_null(r);
		for (j = 0; j < e.count; j++)
			found |= strcmp(e.items[j].path, bad[i].path) == 0;
		if (!found)
			fprintf(stderr, "case %zu: want %s, got %s: %s\n", i, bad[i].path,
				e.count ? e.items[0].path : "-", e.count ? e.items[0].message : "-");
		assert_true(found);
		errs_release(&e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_regex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top, setup, teardown),
		cmocka_unit_test(test_top_summary),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
