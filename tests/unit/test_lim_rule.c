/* Unit tests for daemon/limit/lim_rule: the rate_rules parser (strict, JSON
 * paths) and evaluation of the examples of doc/limits.md with an injected
 * clock: /login per IP and per JWT sub, /search per API key, a ban above
 * 1,000 per 10 s, /api/ without a valid API key, shadow mode, log-only,
 * tarpit, allow and deny lists, and counts kept across a reload. */
#include "config.h"

#include <arpa/inet.h>
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
#include <openssl/evp.h>

#include "errs.h"
#include "jwt_testkeys.h"
#include "lim_rule.h"

#define T0 (1700000000000ULL - 1700000000000ULL % 600000ULL)	/* a 10-minute boundary */
#define SECRET JWT_TEST_SECRET

static const char *const examples =
	"{"
	" \"jwt\": [{\"name\": \"auth\", \"alg\": \"HS256\", \"secret\": \"" SECRET "\", \"leeway_s\": 5}],"
	" \"deny_cidrs\": [\"192.0.2.0/24\", \"2001:db8:bad::/48\"],"
	" \"allow_cidrs\": [\"10.9.0.0/16\"],"
	" \"rules\": ["
	"  {\"name\": \"flood-ban\", \"limit\": {\"requests\": 1000, \"period_s\": 10},"
	"   \"action\": {\"type\": \"ban\", \"duration_s\": 600}},"
	"  {\"name\": \"login-user\", \"match\": {\"path\": \"/login\", \"methods\": [\"POST\"]},"
	"   \"key\": [{\"type\": \"jwt_claim\", \"jwt\": \"auth\", \"claim\": \"sub\"}],"
	"   \"limit\": {\"requests\": 5, \"period_s\": 60},"
	"   \"action\": {\"type\": \"reject\", \"status\": 429, \"body\": \"slow down\\n\"}},"
	"  {\"name\": \"login-ip\", \"match\": {\"path\": \"/login\"},"
	"   \"key\": [{\"type\": \"client_ip\", \"ipv6_prefix\": 64}], \"ratelimit_headers\": \"always\","
	"   \"limit\": {\"requests\": 5, \"period_s\": 60}},"
	"  {\"name\": \"api-key-required\", \"match\": {\"path_prefix\": \"/api/\"},"
	"   \"key\": [{\"type\": \"header\", \"name\": \"X-API-Key\", \"values\": [\"k-456\", \"k-123\", \"k-7\", \"k-0000\", \"k-99\"]}],"
	"   \"on_missing_key\": \"reject\", \"missing_status\": 401},"
	"  {\"name\": \"search-per-key\", \"match\": {\"path\": \"/search\"},"
	"   \"key\": [{\"type\": \"header\", \"name\": \"X-API-Key\"}],"
	"   \"limit\": {\"requests\": 50, \"period_s\": 60}},"
	"  {\"name\": \"shadow-new\", \"shadow\": true, \"match\": {\"path\": \"/shadow\"},"
	"   \"limit\": {\"requests\": 1, \"period_s\": 60}},"
	"  {\"name\": \"log-only\", \"match\": {\"path\": \"/logged\"},"
	"   \"limit\": {\"requests\": 1, \"period_s\": 60}, \"action\": {\"type\": \"log\"}},"
	"  {\"name\": \"tarpit\", \"match\": {\"path\": \"/slow\", \"hosts\": [\"Example.com\"],"
	"   \"headers\": [{\"name\": \"X-Bot\", \"value\": \"yes\"}]},"
	"   \"key\": [{\"type\": \"cookie\", \"name\": \"sid\"}, {\"type\": \"query\", \"name\": \"u\"}],"
	"   \"limit\": {\"requests\": 1, \"period_s\": 60}, \"action\": {\"type\": \"tarpit\", \"delay_ms\": 2000}}"
	" ]"
	"}";

struct req {
	struct lim_request q;
	struct lim_hdr h[8];
};

static struct req *
mkreq(struct req *r, const char *client, const char *method, const char *target)
{
	const char *qm = strchr(target, '?');

	memset(r, 0, sizeof(*r));
	r->q.af = strchr(client, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(r->q.af, client, r->q.addr), 1);
	r->q.method = method;
	r->q.method_len = strlen(method);
	r->q.path = target;
	r->q.path_len = qm ? (size_t)(qm - target) : strlen(target);
	r->q.query = qm ? qm + 1 : "";
	r->q.query_len = qm ? strlen(qm + 1) : 0;
	r->q.host = "example.com";
	r->q.host_len = 11;
	r->q.listener = "web";
	r->q.headers = r->h;
	return r;
}

static void
hdr(struct req *r, const char *name, const char *value)
{
	r->h[r->q.nheaders].name = name;
	r->h[r->q.nheaders].name_len = strlen(name);
	r->h[r->q.nheaders].value = value;
	r->h[r->q.nheaders].value_len = strlen(value);
	r->q.nheaders++;
}

/* "Bearer <HS256 token with sub and exp>" */
static void
bearer(char *out, const char *sub, long exp)
{
	char payload[128], *p = out + 7;
	size_t n;

	memcpy(out, "Bearer ", 7);
	n = jwt_test_b64url((const unsigned char *)"{\"alg\":\"HS256\"}", 15, p);
	p[n++] = '.';
	snprintf(payload, sizeof(payload), "{\"sub\":\"%s\",\"exp\":%ld}", sub, exp);
	n += jwt_test_b64url((const unsigned char *)payload, strlen(payload), p + n);
	assert_true(jwt_test_hs256_sign(p, n, SECRET) > n);
}

struct fix {
	struct lim_rules *r;
	struct lim_store *s;
};

static int
setup(void **state)
{
	static const uint64_t seed[2] = { 11, 22 };
	struct fix *f = calloc(1, sizeof(*f));
	struct errs e;
	size_t i;

	errs_init(&e);
	f->r = lim_rules_parse_text(examples, strlen(examples), &e);
	for (i = 0; i < e.count; i++)
		print_message("%s: %s\n", e.items[i].path, e.items[i].message);
	errs_release(&e);
	if (f->r == NULL)
		return -1;
	f->s = lim_store_new(0, seed, 100000);
	if (f->s == NULL || lim_rules_bind(f->r, f->s) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	lim_rules_free(&f->r);
	lim_store_free(&f->s);
	free(f);
	return 0;
}

static void
eval(struct fix *f, struct req *r, uint64_t now, struct lim_verdict *v)
{
	lim_rules_eval(f->r, &r->q, now, v);
}

/* /login: 5 per minute per IP; the 6th gets 429 with headers. */
static void
test_login_per_ip(void **state)
{
	struct fix *f = *state;
	struct lim_verdict v;
	struct req r;
	char h[256];
	int i;

	for (i = 0; i < 5; i++) {
		eval(f, mkreq(&r, "198.51.100.7", "GET", "/login"), T0 + (uint64_t)i * 1000, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
		assert_true(v.has_ratelimit);
		assert_int_equal(v.rl_limit, 5);
		assert_int_equal(v.rl_remaining, 4 - i);
	}
	eval(f, mkreq(&r, "198.51.100.7", "GET", "/login"), T0 + 5000, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(v.status, 429);
	assert_string_equal(v.rule, "login-ip");
	i = lim_verdict_headers(&v, h, sizeof(h));
	assert_int_equal(i, (int)strlen(h));
	assert_string_equal(h, "RateLimit-Limit: 5\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: 55\r\n"
			    "Retry-After: 67\r\n");
	assert_int_equal(lim_verdict_headers(&v, h, 20), -ENOSPC);
	/* other paths and other clients are not affected */
	eval(f, mkreq(&r, "198.51.100.7", "GET", "/login/x"), T0 + 5000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	eval(f, mkreq(&r, "198.51.100.8", "GET", "/login"), T0 + 5000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	/* admitted again when Retry-After said */
	eval(f, mkreq(&r, "198.51.100.7", "GET", "/login"), T0 + 71999, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	eval(f, mkreq(&r, "198.51.100.7", "GET", "/login"), T0 + 72000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	/* IPv6 clients share a /64 */
	for (i = 0; i < 5; i++) {
		eval(f, mkreq(&r, i % 2 ? "2001:db8:1:2::1" : "2001:db8:1:2:ffff::9", "GET", "/login"), T0, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
	}
	eval(f, mkreq(&r, "2001:db8:1:2::77", "GET", "/login"), T0, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	eval(f, mkreq(&r, "2001:db8:1:3::1", "GET", "/login"), T0, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
}

/* /login POST: 5 per minute per JWT sub, before the per-IP rule. */
static void
test_login_per_user(void **state)
{
	struct fix *f = *state;
	char tok_a[1024], tok_b[1024], expired[1024];
	long now_s = (long)((T0 + 600000) / 1000);
	struct lim_verdict v;
	struct req r;
	int i;

	bearer(tok_a, "alice", now_s + 300);
	bearer(tok_b, "bob", now_s + 300);
	bearer(expired, "alice", now_s - 10);
	for (i = 0; i < 5; i++) {	/* from five addresses: the user is the key */
		char ip[32];

		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		mkreq(&r, ip, "POST", "/login");
		hdr(&r, "authorization", tok_a);
		eval(f, &r, T0 + 600000, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
	}
	mkreq(&r, "203.0.113.77", "POST", "/login");
	hdr(&r, "Authorization", tok_a);
	eval(f, &r, T0 + 600000, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_string_equal(v.rule, "login-user");
	assert_int_equal(v.body_len, 10);
	assert_memory_equal(v.body, "slow down\n", 10);
	mkreq(&r, "203.0.113.77", "POST", "/login");
	hdr(&r, "Authorization", tok_b);
	eval(f, &r, T0 + 600000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	/* an expired token yields no key: the user rule is skipped (per-IP applies) */
	mkreq(&r, "203.0.113.78", "POST", "/login");
	hdr(&r, "Authorization", expired);
	eval(f, &r, T0 + 600000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	assert_int_equal(v.log[1].outcome, LIM_OUT_NO_KEY);
	assert_int_equal(v.log[1].jwt_err, LIM_JWT_E_EXPIRED);
	assert_string_equal(lim_outcome_name(v.log[1].outcome), "no-key");
}

/* /search: 50 per minute per API key; /api/ needs a listed key. */
static void
test_api_keys(void **state)
{
	struct fix *f = *state;
	struct lim_verdict v;
	struct req r;
	int i;

	for (i = 0; i < 50; i++) {
		mkreq(&r, i % 2 ? "198.51.100.20" : "198.51.100.21", "GET", "/search?q=x");
		hdr(&r, "X-API-Key", "abc");
		eval(f, &r, T0 + 1200000, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
		/* ratelimit_headers defaults to "deny": none on admitted */
		assert_false(v.has_ratelimit);
	}
	mkreq(&r, "198.51.100.22", "GET", "/search?q=y");
	hdr(&r, "x-api-key", "abc");
	eval(f, &r, T0 + 1200000, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_string_equal(v.rule, "search-per-key");
	assert_true(v.has_ratelimit);	/* ... but on its 429 */
	assert_int_equal(v.rl_limit, 50);
	mkreq(&r, "198.51.100.22", "GET", "/search");
	hdr(&r, "X-API-Key", "def");
	eval(f, &r, T0 + 1200000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	/* no key at all: the search rule is skipped (on_missing_key skip) */
	eval(f, mkreq(&r, "198.51.100.22", "GET", "/search"), T0 + 1200000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	/* /api/: absent or unlisted key is 401, a listed one passes */
	eval(f, mkreq(&r, "198.51.100.30", "GET", "/api/v1/items"), T0, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(v.status, 401);
	assert_false(v.has_ratelimit);
	mkreq(&r, "198.51.100.30", "GET", "/api/v1/items");
	hdr(&r, "X-API-Key", "k-999");
	eval(f, &r, T0, &v);
	assert_int_equal(v.status, 401);
	mkreq(&r, "198.51.100.30", "GET", "/api/v1/items");
	hdr(&r, "X-API-Key", "k-456");
	eval(f, &r, T0, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
}

/* Above 1,000 per 10 s a client is banned for 10 minutes. */
static void
test_ban(void **state)
{
	struct fix *f = *state;
	struct lim_verdict v;
	struct req r;
	char h[256];
	int i;

	for (i = 0; i < 1000; i++) {
		eval(f, mkreq(&r, "198.51.100.99", "GET", "/"), T0 + 3000000 + (uint64_t)i, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
	}
	eval(f, mkreq(&r, "198.51.100.99", "GET", "/"), T0 + 3001000, &v);
	assert_int_equal(v.action, LIM_ACT_BAN);
	assert_int_equal(v.ban_s, 600);
	assert_int_equal(v.status, 429);
	assert_string_equal(v.rule, "flood-ban");
	/* banned: 403 whatever the path, for the whole ban */
	eval(f, mkreq(&r, "198.51.100.99", "GET", "/other"), T0 + 3001000 + 599000, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(v.status, 403);
	assert_int_equal(v.log[0].outcome, LIM_OUT_BANNED);
	assert_true(lim_verdict_headers(&v, h, sizeof(h)) > 0);
	assert_string_equal(h, "Retry-After: 1\r\n");
	eval(f, mkreq(&r, "198.51.100.99", "GET", "/other"), T0 + 3001000 + 600000, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
}

static void
test_shadow_log_tarpit(void **state)
{
	struct fix *f = *state;
	struct lim_verdict v;
	struct req r;
	int i;

	for (i = 0; i < 5; i++) {
		eval(f, mkreq(&r, "198.51.100.40", "GET", "/shadow"), T0, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
		assert_int_equal(v.log[1].outcome, i == 0 ? LIM_OUT_ADMIT : LIM_OUT_SHADOW);
		eval(f, mkreq(&r, "198.51.100.40", "GET", "/logged"), T0, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
		assert_int_equal(v.log[1].outcome, i == 0 ? LIM_OUT_ADMIT : LIM_OUT_LOGGED);
	}
	/* tarpit: cookie + query key, host any case, header value */
	for (i = 0; i < 2; i++) {
		mkreq(&r, "198.51.100.41", "GET", "/slow?a=1&u=joe");
		hdr(&r, "X-Bot", "yes");
		hdr(&r, "Cookie", "theme=dark; sid=s1");
		r.q.host = "EXAMPLE.com";
		eval(f, &r, T0, &v);
		assert_int_equal(v.action, i == 0 ? LIM_ACT_PASS : LIM_ACT_TARPIT);
	}
	assert_int_equal(v.tarpit_ms, 2000);
	mkreq(&r, "198.51.100.41", "GET", "/slow?a=1&u=ann");	/* other key */
	hdr(&r, "X-Bot", "yes");
	hdr(&r, "Cookie", "sid=s1");
	eval(f, &r, T0, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	mkreq(&r, "198.51.100.41", "GET", "/slow?u=joe");	/* no X-Bot: no match */
	hdr(&r, "Cookie", "sid=s1");
	eval(f, &r, T0, &v);
	assert_int_equal(v.action, LIM_ACT_PASS);
	assert_int_equal(v.nlog, 1);	/* only flood-ban matched */
}

static void
test_lists(void **state)
{
	struct fix *f = *state;
	struct lim_verdict v;
	struct req r;
	int i;

	eval(f, mkreq(&r, "192.0.2.200", "GET", "/"), T0, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(v.status, 403);
	assert_int_equal(v.log[0].outcome, LIM_OUT_CIDR_DENY);
	eval(f, mkreq(&r, "2001:db8:bad:1::1", "GET", "/"), T0, &v);
	assert_int_equal(v.status, 403);
	for (i = 0; i < 10; i++) {	/* the allow list bypasses every rule */
		eval(f, mkreq(&r, "10.9.1.1", "GET", "/login"), T0, &v);
		assert_int_equal(v.action, LIM_ACT_PASS);
	}
}

/* A reload with the same rule names keeps the counts. */
static void
test_reload_keeps_counts(void **state)
{
	struct fix *f = *state;
	struct lim_rules *r2;
	struct lim_verdict v;
	struct errs e;
	struct req r;
	int i;

	for (i = 0; i < 5; i++)
		eval(f, mkreq(&r, "198.51.100.50", "GET", "/login"), T0 + 4000000, &v);
	errs_init(&e);
	r2 = lim_rules_parse_text(examples, strlen(examples), &e);
	assert_non_null(r2);
	assert_int_equal(lim_rules_bind(r2, f->s), 0);
	lim_rules_eval(r2, &mkreq(&r, "198.51.100.50", "GET", "/login")->q, T0 + 4000000, &v);
	assert_int_equal(v.action, LIM_ACT_REJECT);
	assert_int_equal(lim_rules_count(r2), 8);
	assert_string_equal(lim_rules_name(r2, 2), "login-ip");
	assert_non_null(lim_store_table(f->s, "login-ip"));
	lim_rules_free(&r2);
	errs_release(&e);
}

/* Errors carry the JSON path; everything wrong is reported at once. */
static void
test_parse_errors(void **state)
{
	static const struct { const char *json; const char *path; const char *msg; } cases[] = {
		{ "[]", "$", "must be an object" },
		{ "{\"rulez\": []}", "$.rulez", "unknown field" },
		{ "{\"rules\": [{\"limit\": {\"requests\": 1, \"period_s\": 1}}]}", "$.rules[0].name", "is required" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 86401}}]}",
		  "$.rules[0].limit.period_s", "must be between 1 and 86400" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 0, \"period_s\": 1}}]}",
		  "$.rules[0].limit.requests", "must be between 1 and 1000000000" },
		{ "{\"rules\": [{\"name\": \"a\"}]}", "$.rules[0]", "a rule without a limit is an access rule" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"key\": [{\"type\": \"ip\"}]}]}",
		  "$.rules[0].key[0].type", "must be client_ip" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"key\": [{\"type\": \"jwt_claim\", \"jwt\": \"x\", \"claim\": \"sub\"}]}]}",
		  "$.rules[0].key[0].jwt", "no verifier named" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"match\": {\"path\": \"x\"}}]}",
		  "$.rules[0].match.path", "must start with '/'" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"match\": {\"client_cidrs\": [\"10.0.0.1/8\"]}}]}",
		  "$.rules[0].match.client_cidrs[0]", "host bits zero" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"action\": {\"type\": \"ban\"}}]}",
		  "$.rules[0].action.duration_s", "is required" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}}, {\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}}]}",
		  "$.rules[1].name", "duplicate rule name" },
		{ "{\"jwt\": [{\"name\": \"j\", \"alg\": \"none\"}]}", "$.jwt[0]", "alg must be HS256, RS256 or ES256" },
		{ "{\"jwt\": [{\"name\": \"j\", \"alg\": \"HS256\", \"secret\": \"short\"}]}", "$.jwt[0]", "at least 32 bytes" },
		{ "{\"jwt\": [{\"name\": \"j\", \"alg\": \"RS256\", \"key_file\": \"/nonexistent.pem\"}]}",
		  "$.jwt[0].key_file", "cannot open /nonexistent.pem" },
		{ "{\"deny_cidrs\": [\"10.0.0.0/8\", 5]}", "$.deny_cidrs[1]", "must be an IPv4 or IPv6" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"shadow\": 1}]}",
		  "$.rules[0].shadow", "must be true or false" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"match\": {\"path\": \"/a\", \"path_prefix\": \"/b\"}}]}",
		  "$.rules[0].match", "exclude each other" },
		{ "{\"rules\": [{\"name\": \"a\", \"limit\": {\"requests\": 1, \"period_s\": 1}, \"key\": [{\"type\": \"client_ip\", \"name\": \"x\"}]}]}",
		  "$.rules[0].key[0].name", "unknown field" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errs e;
		struct lim_rules *r;
		int found = 0;

		errs_init(&e);
		r = lim_rules_parse_text(cases[i].json, strlen(cases[i].json), &e);
		assert_null(r);
		for (j = 0; j < e.count; j++)
			if (strcmp(e.items[j].path, cases[i].path) == 0 && strstr(e.items[j].message, cases[i].msg))
				found = 1;
		if (!found) {
			print_message("case %zu: want %s: %s\n", i, cases[i].path, cases[i].msg);
			for (j = 0; j < e.count; j++)
				print_message("  got %s: %s\n", e.items[j].path, e.items[j].message);
		}
		assert_true(found);
		errs_release(&e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_per_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_log_tarpit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_counts, setup, teardown),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
