/*
 * conf_l4nft - validation of the nftables parts of the "l4" section: the
 * allow/deny lists and the ban default ("l4.filter") and the per-service
 * "limits". Only validation and normalisation: daemon/l4/l4_nft.c turns the
 * result into Tandem's own nftables table. CIDRs are normalised (host bits
 * cleared) so that equal lists render to equal rulesets.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "arena.h"
#include "conf.h"
#include "conf__l4nft.h"
#include "conf__vrrp.h"
#include "errs.h"
#include "jfield.h"

#define PATH_LEN 256

static const char *const conf_l4_pers[] = { NULL, "second", "minute", "hour", "day", NULL };

/* Parses "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n" into out (text
 * normalised in arena). 0 or -1. */
static int
conf_l4_cidr_parse(struct conf *c, const char *s, struct conf_l4_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN], *slash;
	unsigned max, i;
	long plen;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->af = AF_INET6;
	else
		return -1;
	max = out->af == AF_INET ? 32 : 128;
	plen = max;
	if (slash != NULL) {
		char *end;

		if (*slash == '\0')
			return -1;
		plen = strtol(slash, &end, 10);
		if (*end != '\0' || plen < 0 || plen > (long)max)
			return -1;
	}
	out->plen = (unsigned)plen;
	for (i = 0; i < max; i++)
		if (i >= out->plen)
			out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	inet_ntop(out->af, out->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s/%u", a, out->plen);
	out->text = arena_strdup(c->arena, buf);
	return out->text ? 0 : -1;
}

/* 1 when a and b overlap (one contains the other). */
static int
conf_cidr_overlap(const struct conf_l4_cidr *a, const struct conf_l4_cidr *b)
{
	unsigned p = a->plen < b->plen ? a->plen : b->plen, i;

	if (a->af != b->af)
		return 0;
	for (i = 0; i < p; i++) {
		unsigned m = 0x80u >> (i % 8);

		if ((a->addr[i / 8] & m) != (b->addr[i / 8] & m))
			return 0;
	}
	return 1;
}

static void
conf_cidr_list(struct conf *c, json_t *v, const char *path, struct conf_l4_cidr **out, size_t *n,
	       struct errs *errs)
{
	char p[PATH_LEN];
	size_t i, j;
	json_t *e;

	*n = 0;
	if (v == NULL)
		return;
	if (!json_is_array(v)) {
		errs_add(errs, path, "must be an array of addresses or CIDRs");
		return;
	}
	*out = arena_alloc(c->arena, (json_array_size(v) + 1) * sizeof(**out));
	if (*out == NULL) {
		errs_add(errs, "$", "out of memory");
		return;
	}
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (s == NULL || conf_l4_cidr_parse(c, s, &(*out)[*n]) < 0) {
			errs_add(errs, p, "must be a numeric IPv4 or IPv6 address or CIDR (\"10.0.0.0/8\")");
			continue;
		}
		/* nftables refuses overlapping intervals in one set. */
		for (j = 0; j < *n; j++)
			if (conf_cidr_overlap(&(*out)[j], &(*out)[*n])) {
				errs_add(errs, p, "%s overlaps %s in the same list", (*out)[*n].text,
					 (*out)[j].text);
				break;
			}
		if (j == *n)
			(*n)++;
	}
}

/* An optional integer in [lo, hi]; dflt when absent or invalid. */
static unsigned
conf_uint(json_t *o, const char *path, const char *key, long lo, long hi, long dflt, struct errs *errs)
{
	long v;

	jf_int(errs, o, path, key, lo, hi, 0, dflt, &v);
	return (unsigned)v;
}

static void
conf_keys(json_t *o, const char *path, const char *const *allowed, struct errs *errs)
{
	jf_check_keys(errs, o, path, allowed);
}

void
conf__l4_filter_parse(struct conf *c, json_t *v, struct errs *errs)
{
	static const char *const keys[] = { "allow", "deny", "ban_timeout", NULL };
	const char *path = "$.l4.filter";

	memset(&c->l4.filter, 0, sizeof(c->l4.filter));
	c->l4.filter.ban_timeout_s = 600;
	if (v == NULL)
		return;
	if (!json_is_object(v)) {
		errs_add(errs, path, "must be an object");
		return;
	}
	c->l4.filter.present = 1;
	conf_keys(v, path, keys, errs);
	conf_cidr_list(c, json_object_get(v, "allow"), "$.l4.filter.allow", &c->l4.filter.allow,
		       &c->l4.filter.nallow, errs);
	conf_cidr_list(c, json_object_get(v, "deny"), "$.l4.filter.deny", &c->l4.filter.deny,
		       &c->l4.filter.ndeny, errs);
	c->l4.filter.ban_timeout_s = conf_uint(v, path, "ban_timeout", 1, 30 * 86400, 600, errs);
}

void
conf__l4_limits_parse(struct conf *c, struct conf_l4_service *svc, json_t *v, const char *spath,
		      struct errs *errs)
{
	static const char *const keys[] = { "new_conns", "per", "burst", "concurrent", "table_size", NULL };
	struct conf_l4_limits *l = &svc->limits;
	char path[PATH_LEN], p[PATH_LEN + 16];
	json_t *per;

	(void)c;
	memset(l, 0, sizeof(*l));
	if (v == NULL)
		return;
	snprintf(path, sizeof(path), "%s.limits", spath);
	if (!json_is_object(v)) {
		errs_add(errs, path, "must be an object");
		return;
	}
	conf_keys(v, path, keys, errs);
	l->new_conns = conf_uint(v, path, "new_conns", 0, 1000000, 0, errs);
	l->per = CONF_L4_PER_MINUTE;
	per = json_object_get(v, "per");
	if (per != NULL) {
		const char *s = json_string_value(per);
		int i;

		snprintf(p, sizeof(p), "%s.per", path);
		for (i = 1; conf_l4_pers[i] != NULL && (s == NULL || strcmp(s, conf_l4_pers[i]) != 0); i++)
			;
		if (conf_l4_pers[i] == NULL)
			errs_add(errs, p, "must be \"second\", \"minute\", \"hour\" or \"day\"");
		else
			l->per = i;
		if (l->new_conns == 0)
			errs_add(errs, p, "only with \"new_conns\"");
	}
	l->burst = conf_uint(v, path, "burst", 1, 1000000, l->new_conns, errs);
	if (json_object_get(v, "burst") != NULL && l->new_conns == 0) {
		snprintf(p, sizeof(p), "%s.burst", path);
		errs_add(errs, p, "only with \"new_conns\"");
	}
	l->concurrent = conf_uint(v, path, "concurrent", 0, 1000000, 0, errs);
	l->table_size = conf_uint(v, path, "table_size", 16, 1 << 24, 65535, errs);
}

/* An optional number of seconds in [lo, hi], as milliseconds. */
static unsigned
conf_secs_ms(json_t *o, const char *path, const char *key, double lo, double hi, unsigned dflt_ms,
	     struct errs *errs)
{
	json_t *v = json_object_get(o, key);
	char p[PATH_LEN + 16];

	if (v == NULL)
		return dflt_ms;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
		errs_add(errs, p, "must be a number of seconds from %g to %g", lo, hi);
		return dflt_ms;
	}
	return (unsigned)(json_number_value(v) * 1000.0 + 0.5);
}

/* The http check's fields: method (1-16 capital letters, default GET),
 * path (default "/"), host (default: the real's address) and
 * expect_status (default 200). Refused on other check types. */
static void
conf_l4_check_http(struct conf *c, struct conf_l4_check *k, json_t *v, const char *path,
		   struct errs *errs)
{
	static const char *const fields[] = { "method", "path", "host", "expect_status", NULL };
	const char *m = json_string_value(json_object_get(v, "method"));
	const char *pa = json_string_value(json_object_get(v, "path"));
	const char *h = json_string_value(json_object_get(v, "host"));
	char p[PATH_LEN + 16];
	size_t i;

	if (k->type != CONF_L4_CHECK_HTTP) {
		for (i = 0; fields[i] != NULL; i++)
			if (json_object_get(v, fields[i]) != NULL) {
				snprintf(p, sizeof(p), "%s.%s", path, fields[i]);
				errs_add(errs, p, "needs \"type\": \"http\"");
			}
		return;
	}
	snprintf(p, sizeof(p), "%s.method", path);
	if (json_object_get(v, "method") != NULL) {
		size_t n = m ? strlen(m) : 0;

		for (i = 0; i < n && m[i] >= 'A' && m[i] <= 'Z'; i++)
			;
		if (n == 0 || n > 16 || i != n)
			errs_add(errs, p, "must be 1-16 capital letters (GET, HEAD, ...)");
	}
	snprintf(p, sizeof(p), "%s.path", path);
	if (json_object_get(v, "path") != NULL && (pa == NULL || !conf_path_valid(pa)))
		errs_add(errs, p, "must start with '/' and contain no spaces or control characters");
	snprintf(p, sizeof(p), "%s.host", path);
	if (json_object_get(v, "host") != NULL && (h == NULL || h[0] == '\0' || !conf_host_valid(h)))
		errs_add(errs, p, "must be a host name (letters, digits, '.', '-')");
	k->method = arena_strdup(c->arena, m ? m : "GET");
	k->path = arena_strdup(c->arena, pa ? pa : "/");
	k->host = h ? arena_strdup(c->arena, h) : NULL;
	k->expect_status = conf_uint(v, path, "expect_status", 100, 599, 200, errs);
}

void
conf__l4_check_parse(struct conf *c, struct conf_l4_service *svc, json_t *v, const char *spath,
		     struct errs *errs)
{
	static const char *const keys[] = { "type", "interval", "timeout", "fall", "rise", "port",
					    "send", "expect", "method", "path", "host",
					    "expect_status", "remove_after", NULL };
	struct conf_l4_check *k = &svc->check;
	char path[PATH_LEN], p[PATH_LEN + 16];
	const char *type;

	memset(k, 0, sizeof(*k));
	if (v == NULL)
		return;
	snprintf(path, sizeof(path), "%s.check", spath);
	if (!json_is_object(v)) {
		errs_add(errs, path, "must be an object");
		return;
	}
	conf_keys(v, path, keys, errs);
	type = json_string_value(json_object_get(v, "type"));
	snprintf(p, sizeof(p), "%s.type", path);
	if (type != NULL && strcmp(type, "tcp") == 0)
		k->type = CONF_L4_CHECK_TCP;
	else if (type != NULL && strcmp(type, "send_expect") == 0)
		k->type = CONF_L4_CHECK_SEND_EXPECT;
	else if (type != NULL && strcmp(type, "http") == 0)
		k->type = CONF_L4_CHECK_HTTP;
	else
		errs_add(errs, p, "must be \"tcp\", \"http\" or \"send_expect\"");
	if (svc->protocol == CONF_L4_UDP)
		errs_add(errs, p, "a UDP service has no TCP check");
	k->interval_ms = conf_secs_ms(v, path, "interval", 0.1, 3600, 2000, errs);
	/* Default: 1 s, but never above the interval. */
	k->timeout_ms = conf_secs_ms(v, path, "timeout", 0.05, 3600,
				     k->interval_ms < 1000 ? k->interval_ms : 1000, errs);
	if (k->timeout_ms > k->interval_ms) {
		snprintf(p, sizeof(p), "%s.timeout", path);
		errs_add(errs, p, "must not be above interval");
	}
	k->fall = conf_uint(v, path, "fall", 1, 100, 3, errs);
	k->rise = conf_uint(v, path, "rise", 1, 100, 2, errs);
	k->port = (uint16_t)conf_uint(v, path, "port", 1, 65535, 0, errs);
	if (svc->protocol == CONF_L4_FWMARK && k->port == 0 && k->type != CONF_L4_CHECK_NONE) {
		size_t i;

		for (i = 0; i < svc->nreals; i++)
			if (svc->reals[i].port == 0) {
				snprintf(p, sizeof(p), "%s.port", path);
				errs_add(errs, p, "required: a real of this fwmark service has no port");
				break;
			}
	}
	if (k->type == CONF_L4_CHECK_SEND_EXPECT) {
		const char *snd = json_string_value(json_object_get(v, "send"));
		const char *exp = json_string_value(json_object_get(v, "expect"));

		snprintf(p, sizeof(p), "%s.expect", path);
		if (exp == NULL || exp[0] == '\0' || strlen(exp) > 512)
			errs_add(errs, p, "required: 1-512 characters expected in the reply");
		snprintf(p, sizeof(p), "%s.send", path);
		if (snd != NULL && strlen(snd) > 4096)
			errs_add(errs, p, "at most 4096 characters");
		k->send = arena_strdup(c->arena, snd ? snd : "");
		k->send_len = snd ? strlen(snd) : 0;
		k->expect = arena_strdup(c->arena, exp ? exp : "");
		k->expect_len = exp ? strlen(exp) : 0;
	} else if (json_object_get(v, "send") || json_object_get(v, "expect")) {
		snprintf(p, sizeof(p), "%s.send", path);
		errs_add(errs, p, "\"send\" and \"expect\" need \"type\": \"send_expect\"");
	}
	conf_l4_check_http(c, k, v, path, errs);
	/* 0 (default) = never: a DOWN real keeps weight 0 until it recovers. */
	k->remove_after_ms = json_object_get(v, "remove_after") == NULL ? 0 :
		conf_secs_ms(v, path, "remove_after", 1, 86400, 0, errs);
}

/* role "vrrp": vrrp_group (a group of the vrrp section, parsed before l4)
 * and on_master ("master" or "both"). Both only make sense with it. */
static void
conf__l4_sync_vrrp_parse(struct conf *c, json_t *v, struct errs *errs)
{
	struct conf_l4_sync *y = &c->l4.sync;
	json_t *g = json_object_get(v, "vrrp_group"), *m = json_object_get(v, "on_master");
	const char *gs = json_string_value(g), *ms = json_string_value(m);
	size_t i;

	y->on_master = CONF_L4_SYNC_MASTER;
	if (y->role != CONF_L4_SYNC_VRRP) {
		if (g != NULL || m != NULL)
			errs_add(errs, g ? "$.l4.sync.vrrp_group" : "$.l4.sync.on_master",
				 "only with \"role\": \"vrrp\"");
		return;
	}
	if (c->vrrp == NULL || c->vrrp->ngroups == 0)
		errs_add(errs, "$.l4.sync.role", "\"vrrp\" needs a vrrp section with groups");
	if (m != NULL && ms != NULL && strcmp(ms, "both") == 0)
		y->on_master = CONF_L4_SYNC_BOTH;
	else if (m != NULL && (ms == NULL || strcmp(ms, "master") != 0))
		errs_add(errs, "$.l4.sync.on_master", "must be \"master\" or \"both\"");
	if (g == NULL)
		return;
	for (i = 0; gs != NULL && c->vrrp != NULL && i < c->vrrp->ngroups; i++)
		if (strcmp(c->vrrp->groups[i].name, gs) == 0) {
			y->vrrp_group = c->vrrp->groups[i].name;
			return;
		}
	errs_add(errs, "$.l4.sync.vrrp_group", "must name a group of the vrrp section");
}

void
conf__l4_sync_parse(struct conf *c, json_t *v, struct errs *errs)
{
	static const char *const keys[] = { "role", "interface", "syncid", "mcast_group", "mcast_port",
					    "ttl", "vrrp_group", "on_master", NULL };
	static const char *const path = "$.l4.sync";
	struct conf_l4_sync *y = &c->l4.sync;
	const char *role, *ifn, *grp;

	memset(y, 0, sizeof(*y));
	if (v == NULL)
		return;
	if (!json_is_object(v)) {
		errs_add(errs, path, "must be an object");
		return;
	}
	conf_keys(v, path, keys, errs);
	role = json_string_value(json_object_get(v, "role"));
	if (json_object_get(v, "role") == NULL || (role != NULL && strcmp(role, "none") == 0))
		y->role = CONF_L4_SYNC_NONE;
	else if (role != NULL && strcmp(role, "master") == 0)
		y->role = CONF_L4_SYNC_MASTER;
	else if (role != NULL && strcmp(role, "backup") == 0)
		y->role = CONF_L4_SYNC_BACKUP;
	else if (role != NULL && strcmp(role, "both") == 0)
		y->role = CONF_L4_SYNC_BOTH;
	else if (role != NULL && strcmp(role, "vrrp") == 0)
		y->role = CONF_L4_SYNC_VRRP;
	else
		errs_add(errs, "$.l4.sync.role",
			 "must be \"none\", \"master\", \"backup\", \"both\" or \"vrrp\"");
	conf__l4_sync_vrrp_parse(c, v, errs);
	ifn = json_string_value(json_object_get(v, "interface"));
	if (json_object_get(v, "interface") == NULL)
		errs_add(errs, "$.l4.sync.interface", "required: the interface sync messages use");
	else if (ifn == NULL || !conf__ifname_valid(ifn))
		errs_add(errs, "$.l4.sync.interface", "must be an interface name (1-15 characters)");
	else
		y->interface = arena_strdup(c->arena, ifn);
	y->syncid = conf_uint(v, path, "syncid", 0, 255, 0, errs);
	y->mcast_port = (uint16_t)conf_uint(v, path, "mcast_port", 1, 65535, 0, errs);
	y->ttl = conf_uint(v, path, "ttl", 1, 255, 0, errs);
	grp = json_string_value(json_object_get(v, "mcast_group"));
	if (json_object_get(v, "mcast_group") != NULL) {
		if (grp != NULL && inet_pton(AF_INET, grp, y->mcast_group) == 1 &&
		    (y->mcast_group[0] & 0xf0) == 0xe0)
			y->mcast_af = AF_INET;
		else if (grp != NULL && inet_pton(AF_INET6, grp, y->mcast_group) == 1 &&
			 y->mcast_group[0] == 0xff)
			y->mcast_af = AF_INET6;
		else
			errs_add(errs, "$.l4.sync.mcast_group", "must be an IPv4 or IPv6 multicast address");
	}
}
