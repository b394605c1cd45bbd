/*
 * l7_limit - rate rules at the proxy: request view, evaluation, log line.
 *
 * The request view borrows the head buffer (headers as pointers into it),
 * so an evaluation costs no allocation; the rules themselves are owned by
 * the snapshot the connection holds.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "l7_http1.h"
#include "l7_limit.h"
#include "lim_jwt.h"
#include "lim_rule.h"
#include "lim_run.h"

/* The client as the rules see it: IPv4-mapped addresses as AF_INET. */
static int
l7_limit_addr(const uint8_t client[16], uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(client, mapped, 12) == 0) {
		memcpy(out, client + 12, 4);
		return AF_INET;
	}
	memcpy(out, client, 16);
	return AF_INET6;
}

int
l7_limit_banned(const uint8_t client[16])
{
	uint8_t a[16];
	int af = l7_limit_addr(client, a);

	return lim_run_ban_check(af, a, lim_run_now_ms()) != 0;
}

void
l7_limit_eval(const struct lim_rules *r, const char *listener, const char *route,
	      const char *buf, const struct l7_http1_msg *m, const uint8_t client[16],
	      void *md, struct lim_verdict *v)
{
	struct lim_hdr hv[L7_HTTP1_MAX_HEADERS];
	struct lim_request q;
	const char *host = buf + m->authority.off, *path = buf + m->path.off, *qm;
	size_t host_len = m->authority.len, i;

	if (r == NULL) {
		memset(v, 0, sizeof(*v));
		v->action = LIM_ACT_PASS;
		return;
	}
	/* Host without its port ("[v6]:port" keeps the brackets) */
	for (i = host_len; i > 0; i--) {
		if (host[i - 1] == ':') {
			host_len = i - 1;
			break;
		}
		if (host[i - 1] == ']' || host[i - 1] < '0' || host[i - 1] > '9')
			break;
	}
	memset(&q, 0, sizeof(q));
	q.listener = listener;
	q.route = route;
	q.host = host;
	q.host_len = host_len;
	q.method = buf + m->method_s.off;
	q.method_len = m->method_s.len;
	qm = memchr(path, '?', m->path.len);
	q.path = path;
	q.path_len = qm ? (size_t)(qm - path) : m->path.len;
	if (qm != NULL) {
		q.query = qm + 1;
		q.query_len = m->path.len - q.path_len - 1;
	}
	q.af = l7_limit_addr(client, q.addr);
	for (i = 0; i < m->nheaders; i++) {
		hv[i].name = buf + m->headers[i].name.off;
		hv[i].name_len = m->headers[i].name.len;
		hv[i].value = buf + m->headers[i].value.off;
		hv[i].value_len = m->headers[i].value.len;
	}
	q.headers = hv;
	q.nheaders = m->nheaders;
	q.body_len = m->framing == L7_HTTP1_BODY_LENGTH ? m->content_length : 0;
	q.chunked = m->framing == L7_HTTP1_BODY_CHUNKED;
	q.md = md;
	lim_rules_eval(r, &q, lim_run_now_ms(), v);
	if (v->action == LIM_ACT_BAN)
		lim_run_banned(q.af, q.addr, v->ban_s);
}

size_t
l7_limit_admit_headers(const struct lim_verdict *v, char *buf, size_t cap)
{
	int n;

	if (v->action != LIM_ACT_PASS || !v->has_ratelimit)
		return 0;
	n = lim_verdict_headers(v, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

int
l7_limit_is_ratelimit_field(const char *buf, const struct l7_http1_header *h)
{
	return l7_http1_span_eq(buf, h->name, "ratelimit-limit") ||
	       l7_http1_span_eq(buf, h->name, "ratelimit-remaining") ||
	       l7_http1_span_eq(buf, h->name, "ratelimit-reset");
}

static const char *
l7_limit_action(enum lim_action a)
{
	switch (a) {
	case LIM_ACT_PASS: return "pass";
	case LIM_ACT_REJECT: return "reject";
	case LIM_ACT_TARPIT: return "tarpit";
	case LIM_ACT_BAN: return "ban";
	case LIM_ACT_LOG: return "log";
	}
	return "?";
}

size_t
l7_limit_log(const struct lim_rules *r, const struct lim_verdict *v, char *out, size_t cap)
{
	size_t o = 0, i;
	int n;

	out[0] = '\0';
	if (r == NULL || v->nlog == 0 || cap < 64)
		return 0;
	/* names are [A-Za-z0-9._-] and ids HTTP tokens without quotes: no escaping needed
	 * except '"' and '\\', which tokens cannot hold */
	n = snprintf(out, cap, ",\"limit\":{\"action\":\"%s\"", l7_limit_action(v->action));
	if (n < 0 || (size_t)n >= cap)
		goto cut;
	o = (size_t)n;
	if (v->rule != NULL || v->waf_id != NULL) {
		n = snprintf(out + o, cap - o, ",\"rule\":\"%s\"", v->rule ? v->rule : v->waf_id);
		if (n < 0 || (size_t)n >= cap - o)
			goto cut;
		o += (size_t)n;
	}
	if (v->waf_id != NULL || v->waf_shadow_id != NULL) {
		n = snprintf(out + o, cap - o, ",\"waf\":\"%s\",\"waf_check\":\"%s\"",
			     v->waf_id ? v->waf_id : v->waf_shadow_id,
			     v->waf_id ? (v->waf_why ? v->waf_why : "") : "shadow");
		if (n < 0 || (size_t)n >= cap - o)
			goto cut;
		o += (size_t)n;
	}
	n = snprintf(out + o, cap - o, ",\"outcomes\":[");
	if (n < 0 || (size_t)n >= cap - o)
		goto cut;
	o += (size_t)n;
	for (i = 0; i < v->nlog; i++) {
		const struct lim_verdict_entry *e = &v->log[i];
		const char *name = e->rule == UINT16_MAX ? "lists" : lim_rules_name(r, e->rule);

		n = snprintf(out + o, cap - o, "%s{\"rule\":\"%s\",\"outcome\":\"%s\"%s%s%s}",
			     i ? "," : "", name ? name : "?", lim_outcome_name(e->outcome),
			     e->jwt_err ? ",\"jwt\":\"" : "",
			     e->jwt_err ? lim_jwt_strerror(e->jwt_err) : "", e->jwt_err ? "\"" : "");
		if (n < 0 || (size_t)n >= cap - o)
			goto cut;
		o += (size_t)n;
	}
	n = snprintf(out + o, cap - o, "]%s}", v->nlog_dropped ? ",\"more\":true" : "");
	if (n < 0 || (size_t)n >= cap - o)
		goto cut;
	return o + (size_t)n;
cut:
	/* never a broken JSON line: fall back to the action alone */
	n = snprintf(out, cap, ",\"limit\":{\"action\":\"%s\",\"truncated\":true}", l7_limit_action(v->action));
	return n > 0 && (size_t)n < cap ? (size_t)n : (out[0] = '\0', 0);
}
