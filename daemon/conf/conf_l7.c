/*
 * conf_l7 - the L7 tier's configuration: listener timeouts, limits and
 * forwarding headers; route matchers (path exact/prefix/regex, methods,
 * headers, query, client networks), actions and header edits; pool
 * balancing, passive ejection, queueing and health checks.
 *
 * Same rules as conf.c: every problem is reported with its JSON path and
 * parsing goes on. Regexes are compiled here (PCRE2, JIT when available) so
 * a bad one is refused at apply time; conf__l7_link() then builds what the
 * data path needs precomputed: each listener's route index (virtual hosts,
 * a byte trie over paths) and each consistent-hash pool's Maglev table.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "conf__priv.h"
#include "errs.h"
#include "jre.h"

#define PATH_LEN CONF__PATH_LEN

/* Returns the object at key, NULL when absent; reports a non-object. */
static json_t *
conf_l7_obj(struct conf_ctx *x, json_t *o, const char *path, const char *key, char *sub)
{
	json_t *v = json_object_get(o, key);

	jf_pathf(sub, "%s.%s", path, key);
	if (v == NULL)
		return NULL;
	if (!json_is_object(v)) {
		errs_add(x->errs, sub, "must be an object");
		return NULL;
	}
	return v;
}

static unsigned
conf_l7_uint(struct conf_ctx *x, json_t *o, const char *path, const char *key, long lo,
	     long hi, long dflt)
{
	long v = dflt;

	if (o != NULL)
		conf__get_int(x, o, path, key, lo, hi, 0, dflt, &v);
	return (unsigned)v;
}

static bool
conf_l7_bool(struct conf_ctx *x, json_t *o, const char *path, const char *key, int dflt)
{
	bool b = dflt;

	if (o != NULL)
		conf__get_bool(x, o, path, key, dflt, &b);
	return b;
}

/* A header field name: an RFC 9110 token. */
int
conf__token_valid(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t i, n = strlen(s);

	if (n == 0 || n > 256)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
			return 0;
	return 1;
}

/* A header field value we may send: visible ASCII, space and tab. */
static int
conf_l7_value_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > 4096)
		return 0;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

/* Compiles a regex owned by the conf arena; NULL (and an error) if invalid. */
static void *
conf_l7_regex(struct conf_ctx *x, const char *pattern, const char *path)
{
	return jre_compile(x->errs, x->c->arena, pattern, path);
}

int
conf_cidr_parse(const char *s, struct conf_cidr *out)
{
	char tmp[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char a4[4];
	long bits;
	int v4;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET, tmp, a4) == 1) {
		v4 = 1;
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, a4, 4);
	} else if (inet_pton(AF_INET6, tmp, out->addr) == 1) {
		v4 = 0;
	} else {
		return -EINVAL;
	}
	bits = v4 ? 32 : 128;
	if (slash != NULL) {
		char *end;

		if (slash[1] == '\0')
			return -EINVAL;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > (v4 ? 32 : 128))
			return -EINVAL;
	}
	out->bits = (uint8_t)(v4 ? bits + 96 : bits);
	return 0;
}

int
conf_cidr_contains(const struct conf_cidrs *set, const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct conf_cidr *c = &set->v[i];
		unsigned full = c->bits / 8, rest = c->bits % 8;

		if (memcmp(c->addr, addr, full) != 0)
			continue;
		if (rest != 0) {
			uint8_t mask = (uint8_t)(0xff << (8 - rest));

			if ((c->addr[full] & mask) != (addr[full] & mask))
				continue;
		}
		return 1;
	}
	return 0;
}

/* Reads an array of CIDR strings. */
static void
conf_l7_cidrs(struct conf_ctx *x, json_t *o, const char *path, const char *key,
	      struct conf_cidrs *out)
{
	json_t *arr = o ? json_object_get(o, key) : NULL, *v;
	char p[PATH_LEN];
	size_t i;

	out->v = NULL;
	out->n = 0;
	if (arr == NULL)
		return;
	jf_pathf(p, "%s.%s", path, key);
	if (!json_is_array(arr)) {
		errs_add(x->errs, p, "must be an array of addresses or networks (\"10.0.0.0/8\")");
		return;
	}
	out->v = arena_alloc(x->c->arena, (json_array_size(arr) + 1) * sizeof(*out->v));
	if (out->v == NULL) {
		conf__oom(x);
		return;
	}
	json_array_foreach(arr, i, v) {
		jf_pathf(p, "%s.%s[%zu]", path, key, i);
		if (!json_is_string(v) || conf_cidr_parse(json_string_value(v), &out->v[out->n]) < 0)
			errs_add(x->errs, p, "must be a numeric address or network such as \"10.0.0.0/8\"");
		else
			out->n++;
	}
}

/* ---- listeners ---- */

/* "http2": {...} on a listener; every field has a safe default, so an
 * absent object still gives the limits used for h2 over TLS. */
static void
conf_l7_h2(struct conf_ctx *x, json_t *o, const char *path, struct conf_l7_h2 *h)
{
	static const char *const keys[] = { "h2c", "max_concurrent_streams",
		"max_header_list_bytes", "window_bytes", "max_continuations", "resets_per_s",
		"pings_per_s", "settings_per_s", "empty_frames_per_s", NULL };
	char p[PATH_LEN];
	json_t *t = conf_l7_obj(x, o, path, "http2", p);

	if (t != NULL)
		conf__check_keys(x, t, p, keys);
	h->h2c = conf_l7_bool(x, t, p, "h2c", 0);
	h->max_streams = conf_l7_uint(x, t, p, "max_concurrent_streams", 1, 1000, 100);
	/* the stream's request is handed on as an HTTP/1.1 head, which must fit */
	h->max_header_list = conf_l7_uint(x, t, p, "max_header_list_bytes", 1024,
					  CONF_L7_MAX_HEAD, CONF_L7_MAX_HEAD);
	h->window = conf_l7_uint(x, t, p, "window_bytes", 16384, 1048576, 65535);
	h->max_continuations = conf_l7_uint(x, t, p, "max_continuations", 1, 64, 8);
	h->resets_per_s = conf_l7_uint(x, t, p, "resets_per_s", 1, 100000, 100);
	h->pings_per_s = conf_l7_uint(x, t, p, "pings_per_s", 1, 100000, 20);
	h->settings_per_s = conf_l7_uint(x, t, p, "settings_per_s", 1, 100000, 20);
	h->empty_frames_per_s = conf_l7_uint(x, t, p, "empty_frames_per_s", 1, 100000, 100);
}

static const char *const conf_l7_alog_keys[] = { "path", "syslog", "facility", "tag",
	"sample_percent", NULL };

/* The access log's target as l7_alog takes it: the file path, or
 * "syslog:<priority>:<tag>:<socket>" (facility * 8 + info). NULL when
 * invalid (reported). */
static const char *
conf_l7_alog_target(struct conf_ctx *x, json_t *t, const char *p)
{
	static const char *const fac[] = { "kern", "user", "mail", "daemon", "auth", "syslog",
		"lpr", "news", "uucp", "cron", "authpriv", "ftp", NULL, NULL, NULL, NULL,
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7" };
	const char *ap = conf__get_str(x, t, p, "path", 0);
	const char *sp = conf__get_str(x, t, p, "syslog", 0);
	const char *f = conf__get_str(x, t, p, "facility", 0);
	const char *tag = conf__get_str(x, t, p, "tag", 0);
	char q[PATH_LEN], out[256];
	int fi = -1;
	size_t i;

	if ((ap == NULL) == (sp == NULL)) {
		jf_pathf(q, "%s.path", p);
		errs_add(x->errs, q, "give exactly one of \"path\" (a file) and \"syslog\" (a socket)");
		return NULL;
	}
	if (ap != NULL) {
		jf_pathf(q, "%s.path", p);
		if (ap[0] != '/' || strlen(ap) >= 200 || strstr(ap, "/../") != NULL) {
			errs_add(x->errs, q, "must be an absolute file path shorter than 200 bytes");
			return NULL;
		}
		if (f != NULL || tag != NULL) {
			jf_pathf(q, "%s.%s", p, f != NULL ? "facility" : "tag");
			errs_add(x->errs, q, "only with \"syslog\"");
			return NULL;
		}
		return arena_strdup(x->c->arena, ap);
	}
	jf_pathf(q, "%s.syslog", p);
	if (sp[0] != '/' || strlen(sp) >= 108 || strstr(sp, "/../") != NULL) {
		errs_add(x->errs, q, "must be the absolute path of a unix datagram socket (\"/dev/log\")");
		return NULL;
	}
	for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++)
		if (fac[i] != NULL && strcmp(fac[i], f ? f : "local0") == 0)
			fi = (int)i;
	if (fi < 0) {
		jf_pathf(q, "%s.facility", p);
		errs_add(x->errs, q, "must be a syslog facility: local0..local7, daemon, user, ...");
		return NULL;
	}
	if (tag == NULL)
		tag = "tandem";
	if (!jf_name_valid(tag, 32)) {
		jf_pathf(q, "%s.tag", p);
		errs_add(x->errs, q, "must be 1 to 32 letters, digits, '.', '_' or '-'");
		return NULL;
	}
	snprintf(out, sizeof(out), "syslog:%d:%s:%s", fi * 8 + 6, tag, sp);
	return arena_strdup(x->c->arena, out);
}

void
conf__l7_listener(struct conf_ctx *x, json_t *o, const char *path, struct conf_listener *l)
{
	static const char *const tkeys[] = { "client_header_ms", "client_idle_ms",
		"upstream_connect_ms", "upstream_response_ms", "total_ms", "tunnel_idle_ms", NULL };
	static const char *const lkeys[] = { "max_connections", "max_header_bytes",
		"max_uri_bytes", NULL };
	static const char *const fkeys[] = { "x_forwarded_for", "x_forwarded_proto",
		"x_forwarded_host", "forwarded", "trusted_proxies", NULL };
	struct conf_l7_listener *c = &l->l7;
	char p[PATH_LEN];
	json_t *t;
	const char *rid;

	t = conf_l7_obj(x, o, path, "timeouts", p);
	if (t != NULL)
		conf__check_keys(x, t, p, tkeys);
	c->timeouts.client_header_ms = conf_l7_uint(x, t, p, "client_header_ms", 100, 3600000, 10000);
	c->timeouts.client_idle_ms = conf_l7_uint(x, t, p, "client_idle_ms", 100, 3600000, 60000);
	c->timeouts.connect_ms = conf_l7_uint(x, t, p, "upstream_connect_ms", 10, 600000, 3000);
	c->timeouts.response_ms = conf_l7_uint(x, t, p, "upstream_response_ms", 10, 3600000, 60000);
	c->timeouts.total_ms = conf_l7_uint(x, t, p, "total_ms", 0, 86400000, 0);
	c->timeouts.tunnel_idle_ms = conf_l7_uint(x, t, p, "tunnel_idle_ms", 100, 86400000, 300000);

	t = conf_l7_obj(x, o, path, "limits", p);
	if (t != NULL)
		conf__check_keys(x, t, p, lkeys);
	c->max_connections = conf_l7_uint(x, t, p, "max_connections", 0, 10000000, 0);
	c->max_header_bytes = conf_l7_uint(x, t, p, "max_header_bytes", 256, CONF_L7_MAX_HEAD,
					   CONF_L7_MAX_HEAD);
	c->max_uri_bytes = conf_l7_uint(x, t, p, "max_uri_bytes", 16, CONF_L7_MAX_URI,
					CONF_L7_MAX_URI);

	t = conf_l7_obj(x, o, path, "forwarding", p);
	if (t != NULL)
		conf__check_keys(x, t, p, fkeys);
	c->xff = conf_l7_bool(x, t, p, "x_forwarded_for", 1);
	c->xfp = conf_l7_bool(x, t, p, "x_forwarded_proto", 1);
	c->xfh = conf_l7_bool(x, t, p, "x_forwarded_host", 1);
	c->forwarded = conf_l7_bool(x, t, p, "forwarded", 0);
	conf_l7_cidrs(x, t, p, "trusted_proxies", &c->trusted);

	t = conf_l7_obj(x, o, path, "access_log", p);
	if (t != NULL) {
		conf__check_keys(x, t, p, conf_l7_alog_keys);
		c->access_log = conf_l7_alog_target(x, t, p);
		c->access_log_sample = conf_l7_uint(x, t, p, "sample_percent", 1, 100, 100);
	}
	t = conf_l7_obj(x, o, path, "accept_proxy", p);
	if (t != NULL) {
		static const char *const pkeys[] = { "trusted", NULL };
		char q[PATH_LEN];

		conf__check_keys(x, t, p, pkeys);
		conf_l7_cidrs(x, t, p, "trusted", &c->accept_proxy_from);
		c->accept_proxy = true;
		jf_pathf(q, "%s.trusted", p);
		if (c->accept_proxy_from.n == 0 && !json_is_array(json_object_get(t, "trusted")))
			errs_add(x->errs, q, "must list the downstreams (addresses or networks) "
				 "allowed to send the PROXY protocol");
	}
	conf_l7_h2(x, o, path, &c->h2);
	conf__l7_tls(x, o, path, &c->tls);
	rid = conf__get_str(x, o, path, "request_id", 0);
	if (rid != NULL && rid[0] != '\0') {
		if (!conf__token_valid(rid)) {
			jf_pathf(p, "%s.request_id", path);
			errs_add(x->errs, p, "must be a header name (or \"\" for none)");
		} else {
			c->request_id = arena_strdup(x->c->arena, rid);
			c->request_id_len = strlen(rid);
		}
	}
}

/* ---- pools and members ---- */

uint64_t
conf_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t i;

	/* FNV-1a, then a murmur finaliser so that close keys spread */
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void
conf__l7_member(struct conf_ctx *x, json_t *o, const char *path, struct conf_member *m)
{
	conf__get_bool(x, o, path, "backup", 0, &m->l7.backup);
	conf__get_bool(x, o, path, "drain", 0, &m->l7.drain);
	if (m->id != NULL)
		m->l7.hash = conf_hash64(m->id, strlen(m->id), 0);
}

static void
conf_l7_health(struct conf_ctx *x, json_t *o, const char *path, struct conf_pool *pool)
{
	static const char *const keys[] = { "type", "path", "host", "expect_status", "expect_body",
		"interval_ms", "timeout_ms", "rise", "fall", "service", NULL };
	struct conf_health_check *hc = &pool->l7.hc;
	char p[PATH_LEN], q[PATH_LEN];
	const char *s;
	json_t *t;

	t = conf_l7_obj(x, o, path, "health_check", p);
	hc->type = CONF_HC_NONE;
	if (t == NULL)
		return;
	conf__check_keys(x, t, p, keys);
	s = conf__get_str(x, t, p, "type", 0);
	hc->type = CONF_HC_TCP;
	if (s != NULL && strcmp(s, "http") == 0) {
		hc->type = CONF_HC_HTTP;
	} else if (s != NULL && strcmp(s, "grpc") == 0) {
		hc->type = CONF_HC_GRPC;	/* grpc.health.v1.Health/Check over h2c or h2 */
	} else if (s != NULL && strcmp(s, "tcp") != 0) {
		jf_pathf(q, "%s.type", p);
		errs_add(x->errs, q, "must be \"tcp\", \"http\" or \"grpc\"");
	}
	s = conf__get_str(x, t, p, "service", 0);
	hc->service = "";
	if (s != NULL) {
		jf_pathf(q, "%s.service", p);
		if (strlen(s) > 100 || !conf_l7_value_valid(s))
			errs_add(x->errs, q, "must be a gRPC service name of at most 100 characters");
		else
			hc->service = arena_strdup(x->c->arena, s);
	}
	s = conf__get_str(x, t, p, "path", 0);
	hc->path = "/";
	if (s != NULL) {
		jf_pathf(q, "%s.path", p);
		if (!conf_path_valid(s))
			errs_add(x->errs, q, "must start with '/' and contain no spaces or control characters");
		else
			hc->path = arena_strdup(x->c->arena, s);
	}
	s = conf__get_str(x, t, p, "host", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.host", p);
		if (!conf_host_valid(s) || s[0] == '\0')
			errs_add(x->errs, q, "must be a host name");
		else
			hc->host = arena_strdup(x->c->arena, s);
	}
	s = conf__get_str(x, t, p, "expect_body", 0);
	if (s != NULL && s[0] != '\0')
		hc->expect_body = arena_strdup(x->c->arena, s);
	hc->expect_status = (int)conf_l7_uint(x, t, p, "expect_status", 0, 599, 0);
	if (hc->expect_status != 0 && hc->expect_status < 100) {
		jf_pathf(q, "%s.expect_status", p);
		errs_add(x->errs, q, "must be an HTTP status (100-599) or 0 for any 2xx/3xx");
	}
	hc->interval_ms = conf_l7_uint(x, t, p, "interval_ms", 100, 3600000, 2000);
	hc->timeout_ms = conf_l7_uint(x, t, p, "timeout_ms", 10, 600000, 1000);
	hc->rise = conf_l7_uint(x, t, p, "rise", 1, 100, 2);
	hc->fall = conf_l7_uint(x, t, p, "fall", 1, 100, 3);
	if (hc->timeout_ms > hc->interval_ms) {
		jf_pathf(q, "%s.timeout_ms", p);
		errs_add(x->errs, q, "must not exceed interval_ms");
	}
}

void
conf__l7_pool(struct conf_ctx *x, json_t *o, const char *path, struct conf_pool *pool)
{
	static const char *const algos[] = { "round_robin", "weighted_round_robin",
		"least_connections", "power_of_two", "consistent_hash", NULL };
	static const char *const hkeys[] = { "on", "name", NULL };
	static const char *const qkeys[] = { "size", "timeout_ms", NULL };
	static const char *const pkeys[] = { "connect_failures", "http_5xx", "eject_ms", NULL };
	struct conf_l7_pool *c = &pool->l7;
	char p[PATH_LEN], q[PATH_LEN];
	const char *s;
	json_t *t;
	size_t i;

	s = conf__get_str(x, o, path, "algorithm", 0);
	c->lb = CONF_LB_ROUND_ROBIN;
	if (s != NULL) {
		for (i = 0; algos[i] != NULL && strcmp(algos[i], s) != 0; i++)
			;
		jf_pathf(q, "%s.algorithm", path);
		if (algos[i] == NULL)
			errs_add(x->errs, q, "must be one of round_robin, weighted_round_robin, "
				 "least_connections, power_of_two, consistent_hash");
		else
			c->lb = (enum conf_lb)i;
	}
	t = conf_l7_obj(x, o, path, "hash", p);
	c->hash_on = CONF_HASH_CLIENT_IP;
	if (t != NULL) {
		conf__check_keys(x, t, p, hkeys);
		s = conf__get_str(x, t, p, "on", 1);
		jf_pathf(q, "%s.on", p);
		if (s != NULL && strcmp(s, "header") == 0)
			c->hash_on = CONF_HASH_HEADER;
		else if (s != NULL && strcmp(s, "cookie") == 0)
			c->hash_on = CONF_HASH_COOKIE;
		else if (s != NULL && strcmp(s, "client_ip") != 0)
			errs_add(x->errs, q, "must be \"client_ip\", \"header\" or \"cookie\"");
		s = conf__get_str(x, t, p, "name", c->hash_on != CONF_HASH_CLIENT_IP);
		if (s != NULL) {
			jf_pathf(q, "%s.name", p);
			if (!conf__token_valid(s)) {
				errs_add(x->errs, q, "must be a header or cookie name");
			} else {
				c->hash_key = arena_strdup(x->c->arena, s);
				c->hash_key_len = strlen(s);
			}
		}
		if (c->lb != CONF_LB_CONSISTENT_HASH)
			errs_add(x->errs, p, "applies only to \"algorithm\": \"consistent_hash\"");
	}
	s = conf__get_str(x, o, path, "sticky_cookie", 0);
	if (s != NULL && s[0] != '\0') {
		jf_pathf(q, "%s.sticky_cookie", path);
		if (!conf__token_valid(s) || strpbrk(s, "\"(),/:;<=>?@[\\]{}") != NULL) {
			errs_add(x->errs, q, "must be a cookie name");
		} else {
			c->sticky_cookie = arena_strdup(x->c->arena, s);
			c->sticky_cookie_len = strlen(s);
		}
	}
	c->slow_start_ms = conf_l7_uint(x, o, path, "slow_start_ms", 0, 3600000, 0);
	c->max_conns_per_member = conf_l7_uint(x, o, path, "max_connections_per_member", 0,
					       1000000, 0);
	t = conf_l7_obj(x, o, path, "queue", p);
	if (t != NULL)
		conf__check_keys(x, t, p, qkeys);
	c->queue_size = conf_l7_uint(x, t, p, "size", 0, 100000, 0);
	c->queue_timeout_ms = conf_l7_uint(x, t, p, "timeout_ms", 1, 600000, 5000);
	c->retries = conf_l7_uint(x, o, path, "retries", 0, 1, 1);
	c->retry_budget_pct = conf_l7_uint(x, o, path, "retry_budget_percent", 0, 100, 20);
	t = conf_l7_obj(x, o, path, "passive", p);
	if (t != NULL)
		conf__check_keys(x, t, p, pkeys);
	c->eject_connect_failures = conf_l7_uint(x, t, p, "connect_failures", 0, 1000, 1);
	c->eject_5xx = conf_l7_uint(x, t, p, "http_5xx", 0, 1000, 0);
	c->eject_base_ms = conf_l7_uint(x, t, p, "eject_ms", 100, 600000, 1000);
	conf_l7_health(x, o, path, pool);
	s = conf__get_str(x, o, path, "proxy_protocol", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.proxy_protocol", path);
		if (strcmp(s, "v1") == 0)
			c->proxy_protocol = 1;
		else if (strcmp(s, "v2") == 0)
			c->proxy_protocol = 2;
		else if (strcmp(s, "off") != 0)
			errs_add(x->errs, q, "must be \"v1\", \"v2\" or \"off\"");
	}
	s = conf__get_str(x, o, path, "upstream_protocol", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.upstream_protocol", path);
		if (strcmp(s, "h2c") == 0 || strcmp(s, "h2") == 0)
			c->upstream_h2 = true;
		else if (strcmp(s, "http/1.1") != 0)
			errs_add(x->errs, q, "must be \"http/1.1\", \"h2c\" or \"h2\"");
		/* the PROXY header would precede the HTTP/2 preface, and one
		 * connection carries many clients' requests */
		if (c->upstream_h2 && c->proxy_protocol)
			errs_add(x->errs, q, "HTTP/2 to the members cannot be combined with proxy_protocol");
		/* "h2" is over TLS, "h2c" cleartext: the tls field must agree */
		if (strcmp(s, "h2") == 0 && !json_is_object(json_object_get(o, "tls")))
			errs_add(x->errs, q, "\"h2\" is HTTP/2 over TLS: set \"tls\" for the pool "
				 "(or use \"h2c\" for cleartext HTTP/2)");
	}
	/* streams one member connection carries at once (HTTP/2 pools) */
	c->max_streams = conf_l7_uint(x, o, path, "max_streams_per_connection", 1, 1000, 100);
	if (!c->upstream_h2 && json_object_get(o, "max_streams_per_connection") != NULL) {
		jf_pathf(q, "%s.max_streams_per_connection", path);
		errs_add(x->errs, q, "applies only to HTTP/2 pools (\"upstream_protocol\": \"h2c\" "
			 "or \"h2\")");
	}
	conf__l7_uptls(x, o, path, &c->tls);
}

/* Maglev (Eisenbud et al., NSDI 2016): each member fills the table along its
 * own permutation; a member of weight w takes w turns per round. Prime size. */
static int
conf_l7_maglev(struct conf_ctx *x, struct conf_pool *pool)
{
	struct conf_l7_pool *c = &pool->l7;
	size_t n = pool->nmembers, m, filled = 0, i;
	uint64_t *offset = NULL, *skip = NULL, *next = NULL;
	uint16_t *table;
	int rc = 0, any = 0;

	m = n > 64 ? 65537 : 8191;
	table = arena_alloc(x->c->arena, m * sizeof(*table));
	if (table == NULL)
		return conf__oom(x);
	c->maglev = table;
	c->maglev_size = m;
	if (n == 0)
		return 0;
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!offset || !skip || !next) {
		rc = conf__oom(x);
		goto out;
	}
	for (i = 0; i < m; i++)
		table[i] = UINT16_MAX;
	for (i = 0; i < n; i++) {
		const char *id = pool->members[i].id ? pool->members[i].id : "";

		offset[i] = conf_hash64(id, strlen(id), 0x6d61676c) % m;
		skip[i] = conf_hash64(id, strlen(id), 0x65763121) % (m - 1) + 1;
		if (pool->members[i].weight > 0)
			any = 1;
	}
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			unsigned turns = any ? pool->members[i].weight : 1, t;

			for (t = 0; t < turns && filled < m; t++) {
				uint64_t slot;

				do {
					slot = (offset[i] + next[i] * skip[i]) % m;
					next[i]++;
				} while (table[slot] != UINT16_MAX);
				table[slot] = (uint16_t)i;
				filled++;
			}
		}
	}
out:
	free(offset);
	free(skip);
	free(next);
	return rc;
}

/* ---- routes ---- */

/* Reads [{"name", "present"|"absent"|"equals"|"regex"}] into *out. */
static void
conf_l7_kv(struct conf_ctx *x, json_t *arr, const char *p, int is_header,
	   struct conf_kv_match **out, size_t *nout)
{
	static const char *const keys[] = { "name", "present", "absent", "equals", "regex", NULL };
	char q[PATH_LEN], r[PATH_LEN];
	json_t *v;
	size_t i;

	*out = NULL;
	*nout = 0;
	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		errs_add(x->errs, p, "must be an array of conditions");
		return;
	}
	*out = arena_alloc(x->c->arena, (json_array_size(arr) + 1) * sizeof(**out));
	if (*out == NULL) {
		conf__oom(x);
		return;
	}
	json_array_foreach(arr, i, v) {
		struct conf_kv_match *k = &(*out)[*nout];
		const char *name, *s;
		int nops = 0;
		bool b;

		jf_pathf(q, "%s[%zu]", p, i);
		if (!json_is_object(v)) {
			errs_add(x->errs, q, "must be an object");
			continue;
		}
		conf__check_keys(x, v, q, keys);
		name = conf__get_str(x, v, q, "name", 1);
		if (name == NULL)
			continue;
		jf_pathf(r, "%s.name", q);
		if (is_header ? !conf__token_valid(name) : (name[0] == '\0' || strlen(name) > 256)) {
			errs_add(x->errs, r, is_header ? "must be a header name" : "must be a parameter name");
			continue;
		}
		k->name = arena_strdup(x->c->arena, name);
		k->name_len = strlen(name);
		k->op = CONF_MATCH_PRESENT;
		if (json_object_get(v, "present") != NULL) {
			nops++;
			conf__get_bool(x, v, q, "present", 1, &b);
			k->op = b ? CONF_MATCH_PRESENT : CONF_MATCH_ABSENT;
		}
		if (json_object_get(v, "absent") != NULL) {
			nops++;
			conf__get_bool(x, v, q, "absent", 1, &b);
			k->op = b ? CONF_MATCH_ABSENT : CONF_MATCH_PRESENT;
		}
		s = conf__get_str(x, v, q, "equals", 0);
		if (json_object_get(v, "equals") != NULL)
			nops++;
		if (s != NULL) {
			k->op = CONF_MATCH_EQUALS;
			k->value = arena_strdup(x->c->arena, s);
			k->value_len = strlen(s);
		}
		s = conf__get_str(x, v, q, "regex", 0);
		if (json_object_get(v, "regex") != NULL)
			nops++;
		if (s != NULL) {
			jf_pathf(r, "%s.regex", q);
			k->op = CONF_MATCH_REGEX;
			k->re = conf_l7_regex(x, s, r);
		}
		if (nops > 1)
			errs_add(x->errs, q, "takes one of present, absent, equals or regex");
		(*nout)++;
	}
}

static void
conf_l7_match(struct conf_ctx *x, json_t *o, const char *path, struct conf_route *r)
{
	static const char *const keys[] = { "path_exact", "path_regex", "methods", "headers",
		"query", "client_cidrs", NULL };
	struct conf_l7_route *c = &r->l7;
	char p[PATH_LEN], q[PATH_LEN];
	const char *s;
	json_t *t, *arr, *v;
	size_t i;

	t = conf_l7_obj(x, o, path, "match", p);
	c->path_kind = CONF_PATH_PREFIX;
	if (t == NULL)
		return;
	conf__check_keys(x, t, p, keys);
	s = conf__get_str(x, t, p, "path_exact", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.path_exact", p);
		if (!conf_path_valid(s)) {
			errs_add(x->errs, q, "must start with '/' and contain no spaces or control characters");
		} else {
			c->path_kind = CONF_PATH_EXACT;
			c->path = arena_strdup(x->c->arena, s);
			c->path_len = strlen(s);
		}
	}
	s = conf__get_str(x, t, p, "path_regex", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.path_regex", p);
		if (c->path_kind != CONF_PATH_PREFIX) {
			errs_add(x->errs, q, "cannot be combined with path_exact");
		} else {
			c->path_re = conf_l7_regex(x, s, q);
			c->path_kind = CONF_PATH_REGEX;
			c->path = arena_strdup(x->c->arena, s);
		}
	}
	if (c->path_kind != CONF_PATH_PREFIX && json_object_get(o, "path_prefix") != NULL &&
	    strcmp(r->path_prefix, "/") != 0) {
		jf_pathf(q, "%s.path_prefix", path);
		errs_add(x->errs, q, "cannot be combined with match.path_exact or match.path_regex");
	}
	arr = json_object_get(t, "methods");
	if (arr != NULL) {
		jf_pathf(q, "%s.methods", p);
		if (!json_is_array(arr) || json_array_size(arr) == 0) {
			errs_add(x->errs, q, "must be a non-empty array of method names");
		} else {
			c->methods = arena_alloc(x->c->arena, json_array_size(arr) * sizeof(*c->methods));
			if (c->methods == NULL) {
				conf__oom(x);
				return;
			}
			json_array_foreach(arr, i, v) {
				jf_pathf(q, "%s.methods[%zu]", p, i);
				if (!json_is_string(v) || !conf__token_valid(json_string_value(v)))
					errs_add(x->errs, q, "must be a method name such as \"GET\"");
				else
					c->methods[c->nmethods++] = arena_strdup(x->c->arena,
										 json_string_value(v));
			}
		}
	}
	jf_pathf(q, "%s.headers", p);
	conf_l7_kv(x, json_object_get(t, "headers"), q, 1, &c->headers, &c->nheaders);
	jf_pathf(q, "%s.query", p);
	conf_l7_kv(x, json_object_get(t, "query"), q, 0, &c->query, &c->nquery);
	conf_l7_cidrs(x, t, p, "client_cidrs", &c->clients);
}

static void
conf_l7_hdr_ops(struct conf_ctx *x, json_t *o, const char *path, const char *key,
		struct conf_hdr_ops *ops)
{
	static const char *const keys[] = { "set", "add", "remove", NULL };
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection", "te",
		"upgrade", "transfer-encoding", "content-length", "host", "trailer", NULL };
	char p[PATH_LEN], q[PATH_LEN];
	json_t *t, *set, *add, *rem, *v;
	const char *k;
	size_t n = 0, i;

	t = conf_l7_obj(x, o, path, key, p);
	if (t == NULL)
		return;
	conf__check_keys(x, t, p, keys);
	set = json_object_get(t, "set");
	add = json_object_get(t, "add");
	rem = json_object_get(t, "remove");
	if (set != NULL && !json_is_object(set)) {
		jf_pathf(q, "%s.set", p);
		errs_add(x->errs, q, "must be an object of name: value");
		set = NULL;
	}
	if (add != NULL && !json_is_object(add)) {
		jf_pathf(q, "%s.add", p);
		errs_add(x->errs, q, "must be an object of name: value");
		add = NULL;
	}
	if (rem != NULL && !json_is_array(rem)) {
		jf_pathf(q, "%s.remove", p);
		errs_add(x->errs, q, "must be an array of header names");
		rem = NULL;
	}
	n = json_object_size(set) + json_object_size(add) + json_array_size(rem);
	ops->v = arena_alloc(x->c->arena, (n + 1) * sizeof(*ops->v));
	if (ops->v == NULL) {
		conf__oom(x);
		return;
	}
	/* remove first, then set, then add: the order they are applied in */
	json_array_foreach(rem, i, v) {
		jf_pathf(q, "%s.remove[%zu]", p, i);
		if (!json_is_string(v) || !conf__token_valid(json_string_value(v))) {
			errs_add(x->errs, q, "must be a header name");
			continue;
		}
		ops->v[ops->n].op = CONF_HDR_REMOVE;
		ops->v[ops->n].name = arena_strdup(x->c->arena, json_string_value(v));
		ops->v[ops->n].name_len = strlen(json_string_value(v));
		ops->n++;
	}
	for (i = 0; i < 2; i++) {
		json_t *obj = i == 0 ? set : add;

		json_object_foreach(obj, k, v) {
			const char *const *h;

			jf_pathf(q, "%s.%s.%s", p, i == 0 ? "set" : "add", k);
			if (!conf__token_valid(k)) {
				errs_add(x->errs, q, "is not a valid header name");
				continue;
			}
			for (h = hop; *h != NULL && strcasecmp(*h, k) != 0; h++)
				;
			if (*h != NULL) {
				errs_add(x->errs, q, "framing and hop-by-hop headers cannot be edited");
				continue;
			}
			if (!json_is_string(v) || !conf_l7_value_valid(json_string_value(v))) {
				errs_add(x->errs, q, "must be a string without control characters");
				continue;
			}
			ops->v[ops->n].op = i == 0 ? CONF_HDR_SET : CONF_HDR_ADD;
			ops->v[ops->n].name = arena_strdup(x->c->arena, k);
			ops->v[ops->n].name_len = strlen(k);
			ops->v[ops->n].value = arena_strdup(x->c->arena, json_string_value(v));
			ops->v[ops->n].value_len = strlen(json_string_value(v));
			ops->n++;
		}
	}
}

void
conf__l7_route(struct conf_ctx *x, json_t *o, const char *path, struct conf_route *r)
{
	static const char *const actions[] = { "forward", "redirect", "respond", "deny", NULL };
	static const char *const rkeys[] = { "status", "location", NULL };
	static const char *const bkeys[] = { "status", "body", "content_type", NULL };
	struct conf_l7_route *c = &r->l7;
	char p[PATH_LEN], q[PATH_LEN];
	const char *s;
	json_t *t;
	size_t i;

	conf_l7_match(x, o, path, r);
	s = conf__get_str(x, o, path, "action", 0);
	c->action = CONF_ACTION_FORWARD;
	if (s != NULL) {
		for (i = 0; actions[i] != NULL && strcmp(actions[i], s) != 0; i++)
			;
		jf_pathf(q, "%s.action", path);
		if (actions[i] == NULL)
			errs_add(x->errs, q, "must be forward, redirect, respond or deny");
		else
			c->action = (enum conf_action)i;
	}
	jf_pathf(q, "%s.pool", path);
	if (c->action == CONF_ACTION_FORWARD && json_object_get(o, "pool") == NULL)
		errs_add(x->errs, q, "is required");
	else if (c->action != CONF_ACTION_FORWARD && json_object_get(o, "pool") != NULL)
		errs_add(x->errs, q, "applies only to the forward action");

	t = conf_l7_obj(x, o, path, "redirect", p);
	if (t != NULL) {
		conf__check_keys(x, t, p, rkeys);
		if (c->action != CONF_ACTION_REDIRECT)
			errs_add(x->errs, p, "applies only to \"action\": \"redirect\"");
	} else if (c->action == CONF_ACTION_REDIRECT) {
		errs_add(x->errs, p, "is required");
	}
	if (c->action == CONF_ACTION_REDIRECT && t != NULL) {
		c->status = (int)conf_l7_uint(x, t, p, "status", 301, 308, 302);
		jf_pathf(q, "%s.status", p);
		if (c->status != 301 && c->status != 302 && c->status != 303 &&
		    c->status != 307 && c->status != 308)
			errs_add(x->errs, q, "must be 301, 302, 303, 307 or 308");
		s = conf__get_str(x, t, p, "location", 1);
		jf_pathf(q, "%s.location", p);
		if (s != NULL && (s[0] == '\0' || !conf_l7_value_valid(s)))
			errs_add(x->errs, q, "must be a URL template such as \"https://{host}{uri}\"");
		else if (s != NULL)
			c->location = arena_strdup(x->c->arena, s);
	}
	for (i = 0; i < 2; i++) {
		const char *key = i == 0 ? "respond" : "deny";
		enum conf_action want = i == 0 ? CONF_ACTION_RESPOND : CONF_ACTION_DENY;

		t = conf_l7_obj(x, o, path, key, p);
		if (t != NULL) {
			conf__check_keys(x, t, p, bkeys);
			if (c->action != want) {
				errs_add(x->errs, p, "applies only to \"action\": \"%s\"", key);
				continue;
			}
		}
		if (c->action != want)
			continue;
		c->status = (int)conf_l7_uint(x, t, p, "status", i == 0 ? 200 : 400, 599,
					      i == 0 ? 200 : 403);
		s = t ? conf__get_str(x, t, p, "body", 0) : NULL;
		if (s != NULL && strlen(s) > 8192) {
			jf_pathf(q, "%s.body", p);
			errs_add(x->errs, q, "must be at most 8192 bytes");
		} else if (s != NULL) {
			c->body = arena_strdup(x->c->arena, s);
			c->body_len = strlen(s);
		}
		s = t ? conf__get_str(x, t, p, "content_type", 0) : NULL;
		if (s != NULL && (!conf_l7_value_valid(s) || s[0] == '\0')) {
			jf_pathf(q, "%s.content_type", p);
			errs_add(x->errs, q, "must be a media type such as \"text/plain\"");
		} else {
			c->content_type = s ? arena_strdup(x->c->arena, s) : "text/plain";
		}
	}
	conf_l7_hdr_ops(x, o, path, "request_headers", &c->req_headers);
	conf_l7_hdr_ops(x, o, path, "response_headers", &c->resp_headers);
	s = conf__get_str(x, o, path, "rewrite_prefix", 0);
	if (s != NULL) {
		jf_pathf(q, "%s.rewrite_prefix", path);
		if (!conf_path_valid(s))
			errs_add(x->errs, q, "must start with '/' and contain no spaces or control characters");
		else if (c->path_kind != CONF_PATH_PREFIX || c->action != CONF_ACTION_FORWARD)
			errs_add(x->errs, q, "applies only to forward routes matching a path_prefix");
		else {
			c->rewrite_prefix = arena_strdup(x->c->arena, s);
			c->rewrite_prefix_len = strlen(s);
		}
	}
}

/* ---- route index ---- */

static struct conf_rtrie *
conf_l7_trie_node(struct arena *a, struct conf_rtrie *root, const char *path, size_t len)
{
	struct conf_rtrie *n = root;
	size_t i;

	for (i = 0; i < len; i++) {
		struct conf_rtrie *ch;

		for (ch = n->child; ch != NULL && ch->c != (unsigned char)path[i]; ch = ch->sibling)
			;
		if (ch == NULL) {
			ch = arena_alloc(a, sizeof(*ch));
			if (ch == NULL)
				return NULL;
			ch->c = (unsigned char)path[i];
			ch->sibling = n->child;
			n->child = ch;
		}
		n = ch;
	}
	return n;
}

/* Appends r to a list kept in rank order (routes arrive in rank order). */
static int
conf_l7_push(struct arena *a, struct conf_route ***list, size_t *n, struct conf_route *r)
{
	struct conf_route **nl = arena_alloc(a, (*n + 1) * sizeof(*nl));

	/* Arena memory is not reallocated: copy into a new array. Building is
	 * quadratic in routes per trie node, which stays small in practice. */
	if (nl == NULL)
		return -ENOMEM;
	if (*n > 0)
		memcpy(nl, *list, *n * sizeof(*nl));
	nl[(*n)++] = r;
	*list = nl;
	return 0;
}

static int
conf_l7_vhost_add(struct arena *a, struct conf_vhost *vh, struct conf_route *r)
{
	struct conf_rtrie *node;

	switch (r->l7.path_kind) {
	case CONF_PATH_REGEX:
		return conf_l7_push(a, &vh->regex, &vh->nregex, r);
	case CONF_PATH_EXACT:
		node = conf_l7_trie_node(a, &vh->root, r->l7.path, r->l7.path_len);
		return node ? conf_l7_push(a, &node->exact, &node->nexact, r) : -ENOMEM;
	case CONF_PATH_PREFIX:
		node = conf_l7_trie_node(a, &vh->root, r->path_prefix, r->path_prefix_len);
		return node ? conf_l7_push(a, &node->prefix, &node->nprefix, r) : -ENOMEM;
	}
	return -EINVAL;
}

static int
conf_l7_vhost_cmp(const void *a, const void *b)
{
	const struct conf_vhost *x = a, *y = b;

	return strcmp(x->host, y->host);
}

static int
conf_l7_wild_cmp(const void *a, const void *b)
{
	const struct conf_vhost *x = a, *y = b;

	if (x->host_len != y->host_len)
		return x->host_len > y->host_len ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* Builds listener l's index: one vhost per distinct host (exact or
 * wildcard), each holding its own routes and the any-host routes, so a
 * request looks at one vhost only. */
static int
conf_l7_index(struct conf_ctx *x, struct conf_listener *l)
{
	struct arena *a = x->c->arena;
	struct conf_route_index *ix;
	size_t i, j, ne = 0, nw = 0;

	ix = arena_alloc(a, sizeof(*ix));
	if (ix == NULL)
		return -ENOMEM;
	l->l7.index = ix;
	ix->any.host = "";
	ix->exact = arena_alloc(a, (l->nroutes + 1) * sizeof(*ix->exact));
	ix->wild = arena_alloc(a, (l->nroutes + 1) * sizeof(*ix->wild));
	if (ix->exact == NULL || ix->wild == NULL)
		return -ENOMEM;
	for (i = 0; i < l->nroutes; i++) {
		struct conf_route *r = l->routes[i];
		struct conf_vhost *set = r->l7.wildcard_host ? ix->wild : ix->exact;
		size_t *n = r->l7.wildcard_host ? &nw : &ne;

		r->l7.rank = i;
		if (r->host[0] == '\0')
			continue;
		for (j = 0; j < *n && strcmp(set[j].host, r->host) != 0; j++)
			;
		if (j == *n) {
			set[j].host = r->host;
			set[j].host_len = strlen(r->host);
			(*n)++;
		}
	}
	ix->nexact = ne;
	ix->nwild = nw;
	/* routes in rank order: each list stays sorted */
	for (i = 0; i < l->nroutes; i++) {
		struct conf_route *r = l->routes[i];

		if (r->host[0] == '\0') {
			if (conf_l7_vhost_add(a, &ix->any, r) < 0)
				return -ENOMEM;
			for (j = 0; j < ne; j++)
				if (conf_l7_vhost_add(a, &ix->exact[j], r) < 0)
					return -ENOMEM;
			for (j = 0; j < nw; j++)
				if (conf_l7_vhost_add(a, &ix->wild[j], r) < 0)
					return -ENOMEM;
			continue;
		}
		if (r->l7.wildcard_host) {
			for (j = 0; j < nw; j++)
				if (strcmp(ix->wild[j].host, r->host) == 0 &&
				    conf_l7_vhost_add(a, &ix->wild[j], r) < 0)
					return -ENOMEM;
		} else {
			for (j = 0; j < ne; j++)
				if (strcmp(ix->exact[j].host, r->host) == 0 &&
				    conf_l7_vhost_add(a, &ix->exact[j], r) < 0)
					return -ENOMEM;
		}
	}
	qsort(ix->exact, ne, sizeof(*ix->exact), conf_l7_vhost_cmp);
	qsort(ix->wild, nw, sizeof(*ix->wild), conf_l7_wild_cmp);
	return 0;
}

int
conf__l7_link(struct conf_ctx *x)
{
	struct conf *c = x->c;
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (conf_l7_index(x, &c->listeners[i]) < 0)
			return conf__oom(x);
	for (i = 0; i < c->npools; i++) {
		struct conf_pool *p = &c->pools[i];

		if (p->nmembers > UINT16_MAX - 1) {
			char q[PATH_LEN];

			jf_pathf(q, "$.pools[%zu].members", i);
			errs_add(x->errs, q, "at most %d members", UINT16_MAX - 1);
			return -EINVAL;
		}
		if (p->l7.lb == CONF_LB_CONSISTENT_HASH && conf_l7_maglev(x, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
conf_l7_validate(const char *kind, json_t *o, struct errs *errs)
{
	struct conf_ctx x = { .errs = errs, .nerr_start = errs->count };
	struct arena *a = arena_new(4096);
	int rc = 0;

	x.c = a ? arena_alloc(a, sizeof(*x.c)) : NULL;
	if (x.c == NULL) {
		arena_free(&a);
		errs_add(errs, "$", "out of memory");
		return -ENOMEM;
	}
	x.c->arena = a;
	if (strcmp(kind, "listener") == 0) {
		struct conf_listener l = { .name = "" };

		conf__l7_listener(&x, o, "$", &l);
	} else if (strcmp(kind, "pool") == 0) {
		struct conf_pool p = { .name = "" };

		conf__l7_pool(&x, o, "$", &p);
	} else if (strcmp(kind, "member") == 0) {
		struct conf_member m = { .id = NULL };

		conf__l7_member(&x, o, "$", &m);
	} else if (strcmp(kind, "route") == 0) {
		const char *pp = json_string_value(json_object_get(o, "path_prefix"));
		struct conf_route r = { .name = "", .host = "", .path_prefix = pp ? pp : "/" };

		r.path_prefix_len = strlen(r.path_prefix);
		conf__l7_route(&x, o, "$", &r);
	} else {
		errs_add(errs, "$", "unknown kind %s", kind);
	}
	if (errs->count != x.nerr_start)
		rc = -EINVAL;
	arena_free(&a);	/* runs the regex cleanups */
	return rc;
}
