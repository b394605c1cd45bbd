/*
 * libFuzzer driver for the rate rules (daemon/limit/lim_rule). The first
 * byte picks a mode:
 *   0:     the rest is a rate_rules section, parsed (and bound, evaluated once
 *          with a fixed request when it parses): a rule set or errors, never
 *          both, never a crash or a leak;
 *   other: the rest is a request for a fixed rule set that exercises every
 *          match and key type: 16 bytes of client address, 4 bytes of clock
 *          offset, then lines "method", "path?query", "host" and any number of
 *          "name: value" headers (the first byte also picks the route, body
 *          size and framing, for the WAF checks). Evaluation must give a
 *          consistent verdict.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "errs.h"
#include "lim_rule.h"

#define SECRET "fuzzing-secret-0123456789abcdef0123456789"

static const char rules_json[] =
	"{\"jwt\": [{\"name\": \"auth\", \"alg\": \"HS256\", \"secret\": \"" SECRET "\"}],"
	" \"deny_cidrs\": [\"192.0.2.0/24\", \"2001:db8:bad::/48\"],"
	" \"allow_cidrs\": [\"10.9.0.0/16\"],"
	" \"waf\": {\"limits\": [{\"id\": \"up\", \"routes\": [\"upload\"], \"methods\": [\"POST\"],"
	"   \"max_uri_bytes\": 64, \"max_headers\": 8, \"max_header_bytes\": 100, \"max_body_bytes\": 10}],"
	"  \"deny_patterns\": [{\"id\": \"sqli\", \"on\": \"query\", \"regex\": \"(?i)union\\\\s+select\"},"
	"   {\"id\": \"trav\", \"on\": \"path\", \"regex\": \"\\\\.\\\\./\", \"shadow\": true},"
	"   {\"id\": \"ua\", \"on\": \"header\", \"header\": \"User-Agent\", \"regex\": \"^sqlmap\"},"
	"   {\"id\": \"any\", \"on\": \"headers\", \"regex\": \"<script\"}]},"
	" \"rules\": ["
	"  {\"name\": \"ban\", \"limit\": {\"requests\": 50, \"period_s\": 10}, \"action\": {\"type\": \"ban\", \"duration_s\": 60}},"
	"  {\"name\": \"user\", \"match\": {\"path\": \"/login\", \"methods\": [\"POST\"]},"
	"   \"key\": [{\"type\": \"jwt_claim\", \"jwt\": \"auth\", \"claim\": \"sub\"}],"
	"   \"on_missing_key\": \"anonymous\", \"limit\": {\"requests\": 5, \"period_s\": 60, \"burst\": 2}},"
	"  {\"name\": \"apikey\", \"match\": {\"path_prefix\": \"/api/\"},"
	"   \"key\": [{\"type\": \"header\", \"name\": \"X-API-Key\", \"values\": [\"k1\", \"k2\"]}],"
	"   \"on_missing_key\": \"reject\"},"
	"  {\"name\": \"combo\", \"match\": {\"hosts\": [\"a.example\"], \"headers\": [{\"name\": \"X-Bot\", \"present\": true}]},"
	"   \"key\": [{\"type\": \"cookie\", \"name\": \"sid\"}, {\"type\": \"query\", \"name\": \"u\"},"
	"            {\"type\": \"client_ip\", \"ipv6_prefix\": 48}, {\"type\": \"path\"}],"
	"   \"limit\": {\"requests\": 2, \"period_s\": 1}, \"action\": {\"type\": \"tarpit\", \"delay_ms\": 10}},"
	"  {\"name\": \"shadow\", \"shadow\": true, \"match\": {\"client_cidrs\": [\"0.0.0.0/0\", \"::/0\"]},"
	"   \"limit\": {\"requests\": 1, \"period_s\": 1}},"
	"  {\"name\": \"re\", \"match\": {\"path_regex\": \"^/u/[0-9]+$\", \"routes\": [\"upload\"]},"
	"   \"key\": [{\"type\": \"path\"}], \"limit\": {\"requests\": 2, \"period_s\": 1}},"
	"  {\"name\": \"log\", \"match\": {\"path_prefix\": \"/\"}, \"limit\": {\"requests\": 3, \"period_s\": 5},"
	"   \"action\": {\"type\": \"log\"}}"
	" ]}";

static struct lim_rules *rules;
static struct lim_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
init(void)
{
	static const uint64_t seed[2] = { 1, 2 };
	struct errs e;

	errs_init(&e);
	rules = lim_rules_parse_text(rules_json, strlen(rules_json), &e);
	store = lim_store_new(0, seed, 4096);
	if (rules == NULL || store == NULL || lim_rules_bind(rules, store) != 0)
		__builtin_trap();
	errs_release(&e);
}

/* Next line of [*p, end) into (s, len); 0 at the end. */
static int
next_line(const char **p, const char *end, const char **s, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return 1;
}

static void
check(const struct lim_verdict *v)
{
	char h[512];

	if (v->nlog > LIM_VERDICT_LOG || (v->action != LIM_ACT_PASS && v->status < 400))
		__builtin_trap();
	if (v->action == LIM_ACT_TARPIT && v->tarpit_ms == 0)
		__builtin_trap();
	if (lim_verdict_headers(v, h, sizeof(h)) < 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t base = 1700000000000ULL;
	struct lim_hdr hdrs[32];
	struct lim_request q;
	struct lim_verdict v;
	const char *p, *end, *s, *qm;
	size_t len;

	if (rules == NULL)
		init();
	if (size < 1)
		return 0;
	if (data[0] == 0) {
		struct errs e;
		struct lim_rules *r;

		errs_init(&e);
		r = lim_rules_parse_text((const char *)data + 1, size - 1, &e);
		if ((r == NULL) == (e.count == 0))
			__builtin_trap();
		if (r != NULL) {
			static const uint64_t seed[2] = { 3, 4 };
			struct lim_store *st = lim_store_new(1, seed, 256);

			memset(&q, 0, sizeof(q));
			q.af = AF_INET;
			q.path = "/";
			q.path_len = 1;
			q.method = "GET";
			q.method_len = 3;
			q.host = q.query = "";
			if (st != NULL && lim_rules_bind(r, st) == 0) {
				lim_rules_eval(r, &q, base, &v);
				check(&v);
			}
			lim_rules_free(&r);
			lim_store_free(&st);
		}
		errs_release(&e);
		return 0;
	}
	if (size < 21)
		return 0;
	memset(&q, 0, sizeof(q));
	q.af = data[0] & 1 ? AF_INET6 : AF_INET;
	memcpy(q.addr, data + 1, 16);
	p = (const char *)data + 21;
	end = (const char *)data + size;
	q.method = q.path = q.host = q.query = "";
	if (next_line(&p, end, &s, &len)) {
		q.method = s;
		q.method_len = len;
	}
	if (next_line(&p, end, &s, &len)) {
		qm = memchr(s, '?', len);
		q.path = s;
		q.path_len = qm ? (size_t)(qm - s) : len;
		if (qm != NULL) {
			q.query = qm + 1;
			q.query_len = len - q.path_len - 1;
		}
	}
	if (next_line(&p, end, &s, &len)) {
		q.host = s;
		q.host_len = len;
	}
	q.listener = "web";
	q.route = data[0] & 2 ? "upload" : "main";	/* route, body size and framing from the first byte */
	q.body_len = data[0] >> 3;
	q.chunked = (data[0] & 4) != 0;
	while (q.nheaders < 32 && next_line(&p, end, &s, &len)) {
		const char *c = memchr(s, ':', len);

		hdrs[q.nheaders].name = s;
		hdrs[q.nheaders].name_len = c ? (size_t)(c - s) : len;
		hdrs[q.nheaders].value = c ? c + 1 : s + len;
		hdrs[q.nheaders].value_len = c ? len - (size_t)(c - s) - 1 : 0;
		while (hdrs[q.nheaders].value_len > 0 && hdrs[q.nheaders].value[0] == ' ') {
			hdrs[q.nheaders].value++;
			hdrs[q.nheaders].value_len--;
		}
		q.nheaders++;
	}
	q.headers = hdrs;
	lim_rules_eval(rules, &q, base + (((uint64_t)data[17] << 24 | (uint64_t)data[18] << 16 |
					   (uint64_t)data[19] << 8 | data[20]) & 0xffffff), &v);
	check(&v);
	return 0;
}
