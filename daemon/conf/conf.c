/*
 * conf - parse and validate a Tandem JSON config into one arena.
 *
 * The parser never stops at the first problem: it walks the whole document,
 * collects every error with the JSON path of the field ("$.pools[1].name"),
 * and only builds a struct conf when there were none. Unknown keys are errors,
 * so a typo never silently falls back to a default.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "conf__l4nft.h"
#include "conf__vrrp.h"
#include "conf__limits.h"
#include "errs.h"
#include "jfield.h"
#include "conf__priv.h"

#define PATH_LEN JF_PATH_LEN

static int
conf_oom(struct conf_ctx *x)
{
	errs_add(x->errs, "$", "out of memory");
	return -ENOMEM;
}

/* Reports every key of obj that is not in allowed (NULL-terminated). */
static void
conf_check_keys(struct conf_ctx *x, json_t *obj, const char *path, const char *const *allowed)
{
	jf_check_keys(x->errs, obj, path, allowed);
}

int
conf_name_valid(const char *s)
{
	return jf_name_valid(s, CONF_NAME_MAX);
}

/* Fetches a string field; required fields report absence. NULL when invalid. */
static const char *
conf_get_str(struct conf_ctx *x, json_t *obj, const char *path, const char *key, int required)
{
	return jf_str(x->errs, obj, path, key, required);
}

/* Fetches an integer field in [lo, hi]; returns 0 and sets *out, or -1. */
static int
conf_get_int(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
	     long lo, long hi, int required, long dflt, long *out)
{
	return jf_int(x->errs, obj, path, key, lo, hi, required, dflt, out);
}

static int
conf_get_bool(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
	      int dflt, bool *out)
{
	return jf_bool(x->errs, obj, path, key, dflt, out);
}

/* Shared with conf_l7.c (conf__priv.h). */
void
conf__check_keys(struct conf_ctx *x, json_t *obj, const char *path, const char *const *allowed)
{
	conf_check_keys(x, obj, path, allowed);
}

const char *
conf__get_str(struct conf_ctx *x, json_t *obj, const char *path, const char *key, int required)
{
	return conf_get_str(x, obj, path, key, required);
}

int
conf__get_int(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
	      long lo, long hi, int required, long dflt, long *out)
{
	return conf_get_int(x, obj, path, key, lo, hi, required, dflt, out);
}

int
conf__get_bool(struct conf_ctx *x, json_t *obj, const char *path, const char *key,
	       int dflt, bool *out)
{
	return conf_get_bool(x, obj, path, key, dflt, out);
}

int
conf__oom(struct conf_ctx *x)
{
	return conf_oom(x);
}

/* Fills sa from a numeric IPv4 or IPv6 address; host names are refused so a
 * reload never waits for DNS. */
static int
conf_addr(const char *addr, uint16_t port, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*salen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*salen = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* Reads "address" and "port" of obj into the out parameters. */
static int
conf_endpoint(struct conf_ctx *x, json_t *obj, const char *path, const char **addr,
	      uint16_t *port, struct sockaddr_storage *sa, socklen_t *salen)
{
	long p = 0;
	int rc = 0;

	*addr = conf_get_str(x, obj, path, "address", 1);
	if (conf_get_int(x, obj, path, "port", 1, 65535, 1, 0, &p) < 0)
		rc = -1;
	*port = (uint16_t)p;
	if (*addr == NULL)
		return -1;
	if (conf_addr(*addr, *port, sa, salen) < 0) {
		char pp[PATH_LEN];

		jf_pathf(pp, "%s.address", path);
		errs_add(x->errs, pp, "must be a numeric IPv4 or IPv6 address");
		return -1;
	}
	return rc;
}

/* Reads an array field; returns its length, or -1 when present but not an array. */
static long
conf_get_array(struct conf_ctx *x, json_t *root, const char *key, json_t **arr)
{
	char p[PATH_LEN];

	*arr = json_object_get(root, key);
	if (*arr == NULL)
		return 0;
	if (!json_is_array(*arr)) {
		jf_pathf(p, "$.%s", key);
		errs_add(x->errs, p, "must be an array");
		*arr = NULL;
		return -1;
	}
	return (long)json_array_size(*arr);
}

static void
conf_parse_listeners(struct conf_ctx *x, json_t *arr)
{
	static const char *const keys[] = { "name", "address", "port", CONF_L7_LISTENER_KEYS, NULL };
	struct conf *c = x->c;
	size_t i, j;
	json_t *o;

	json_array_foreach(arr, i, o) {
		struct conf_listener *l = &c->listeners[i];
		char path[PATH_LEN];
		const char *name;

		jf_pathf(path, "$.listeners[%zu]", i);
		l->index = i;
		l->name = "";	/* later listeners compare names with this one */
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_check_keys(x, o, path, keys);
		name = conf_get_str(x, o, path, "name", 1);
		if (name != NULL && !conf_name_valid(name)) {
			char p[PATH_LEN];

			jf_pathf(p, "%s.name", path);
			errs_add(x->errs, p, "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
		}
		l->name = name ? arena_strdup(c->arena, name) : "";
		conf_endpoint(x, o, path, &l->address, &l->port, &l->sa, &l->salen);
		if (l->address != NULL)
			l->address = arena_strdup(c->arena, l->address);
		conf__l7_listener(x, o, path, l);
		for (j = 0; j < i; j++) {
			char p[PATH_LEN];

			if (name != NULL && strcmp(c->listeners[j].name, name) == 0) {
				jf_pathf(p, "%s.name", path);
				errs_add(x->errs, p, "duplicate listener name \"%s\"", name);
			}
			if (l->address != NULL && c->listeners[j].address != NULL &&
			    l->port == c->listeners[j].port &&
			    strcmp(l->address, c->listeners[j].address) == 0) {
				jf_pathf(p, "%s.port", path);
				errs_add(x->errs, p, "%s:%u is already used by listener \"%s\"",
					 l->address, l->port, c->listeners[j].name);
			}
		}
	}
}

static void
conf_parse_members(struct conf_ctx *x, struct conf_pool *pool, json_t *arr, const char *ppath)
{
	static const char *const keys[] = { "address", "port", "weight", "enabled",
					    CONF_L7_MEMBER_KEYS, NULL };
	struct conf *c = x->c;
	size_t i, j;
	json_t *o;

	pool->nmembers = json_array_size(arr);
	pool->members = arena_alloc(c->arena, pool->nmembers * sizeof(*pool->members));
	if (pool->members == NULL) {
		conf_oom(x);
		pool->nmembers = 0;
		return;
	}
	json_array_foreach(arr, i, o) {
		struct conf_member *m = &pool->members[i];
		char path[PATH_LEN], id[PATH_LEN];
		long w;

		jf_pathf(path, "%s.members[%zu]", ppath, i);
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_check_keys(x, o, path, keys);
		if (conf_endpoint(x, o, path, &m->address, &m->port, &m->sa, &m->salen) == 0) {
			m->address = arena_strdup(c->arena, m->address);
			jf_pathf(id, strchr(m->address, ':') ? "%s/[%s]:%u" : "%s/%s:%u",
				 pool->name, m->address, m->port);
			m->id = arena_strdup(c->arena, id);
		} else {
			m->address = NULL;
		}
		conf_get_int(x, o, path, "weight", 0, CONF_WEIGHT_MAX, 0, 1, &w);
		m->weight = (unsigned)w;
		conf_get_bool(x, o, path, "enabled", 1, &m->enabled);
		conf__l7_member(x, o, path, m);
		for (j = 0; j < i && m->address != NULL; j++) {
			if (pool->members[j].address != NULL &&
			    pool->members[j].port == m->port &&
			    strcmp(pool->members[j].address, m->address) == 0) {
				errs_add(x->errs, path, "duplicate member %s:%u", m->address, m->port);
				break;
			}
		}
	}
}

static void
conf_parse_pools(struct conf_ctx *x, json_t *arr)
{
	static const char *const keys[] = { "name", "members", CONF_L7_POOL_KEYS, NULL };
	struct conf *c = x->c;
	size_t i, j;
	json_t *o;

	json_array_foreach(arr, i, o) {
		struct conf_pool *pool = &c->pools[i];
		char path[PATH_LEN], p[PATH_LEN];
		const char *name;
		json_t *members;

		jf_pathf(path, "$.pools[%zu]", i);
		pool->index = i;
		pool->name = "";
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_check_keys(x, o, path, keys);
		name = conf_get_str(x, o, path, "name", 1);
		jf_pathf(p, "%s.name", path);
		if (name != NULL && !conf_name_valid(name))
			errs_add(x->errs, p, "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
		if (name != NULL)
			pool->name = arena_strdup(c->arena, name);
		for (j = 0; j < i && name != NULL; j++)
			if (strcmp(c->pools[j].name, name) == 0)
				errs_add(x->errs, p, "duplicate pool name \"%s\"", name);
		members = json_object_get(o, "members");
		jf_pathf(p, "%s.members", path);
		if (members == NULL)
			errs_add(x->errs, p, "is required");
		else if (!json_is_array(members))
			errs_add(x->errs, p, "must be an array");
		else
			conf_parse_members(x, pool, members, path);
		conf__l7_pool(x, o, path, pool);
	}
}

int
conf_host_valid(const char *h)
{
	size_t i, n = strlen(h);

	if (n > CONF_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
			return 0;
	return 1;
}

int
conf_path_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > CONF_PATH_MAX || p[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

static void
conf_parse_routes(struct conf_ctx *x, json_t *arr)
{
	static const char *const keys[] = { "name", "listener", "host", "path_prefix",
					    "pool", "priority", CONF_L7_ROUTE_KEYS, NULL };
	struct conf *c = x->c;
	size_t i, j;
	json_t *o;

	json_array_foreach(arr, i, o) {
		struct conf_route *r = &c->routes[i];
		char path[PATH_LEN], p[PATH_LEN];
		const char *name, *s;
		long prio;

		jf_pathf(path, "$.routes[%zu]", i);
		r->name = "";
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_check_keys(x, o, path, keys);
		name = conf_get_str(x, o, path, "name", 1);
		jf_pathf(p, "%s.name", path);
		if (name != NULL && !conf_name_valid(name))
			errs_add(x->errs, p, "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
		if (name != NULL)
			r->name = arena_strdup(c->arena, name);
		for (j = 0; j < i && name != NULL; j++)
			if (strcmp(c->routes[j].name, name) == 0)
				errs_add(x->errs, p, "duplicate route name \"%s\"", name);

		s = conf_get_str(x, o, path, "listener", 1);
		if (s != NULL) {
			r->listener = conf_listener_find(c, s);
			if (r->listener == NULL) {
				jf_pathf(p, "%s.listener", path);
				errs_add(x->errs, p, "no listener named \"%s\"", s);
			}
		}
		/* required by forward routes only: conf__l7_route checks */
		s = conf_get_str(x, o, path, "pool", 0);
		if (s != NULL) {
			r->pool = conf_pool_find(c, s);
			if (r->pool == NULL) {
				jf_pathf(p, "%s.pool", path);
				errs_add(x->errs, p, "no pool named \"%s\"", s);
			}
		}
		s = conf_get_str(x, o, path, "host", 0);
		r->host = "";
		if (s != NULL) {
			jf_pathf(p, "%s.host", path);
			/* "*" means any host, like "" (a port never matches: the
			 * request's Host is compared without its port). */
			if (strncmp(s, "*.", 2) == 0 && conf_host_valid(s + 1) && s[2] != '\0') {
				/* wildcard: kept as ".suffix", flagged in l7 */
				char *h = arena_strdup(c->arena, s + 1);
				size_t k;

				for (k = 0; h != NULL && h[k] != '\0'; k++)
					h[k] = (char)tolower((unsigned char)h[k]);
				r->host = h ? h : "";
				r->l7.wildcard_host = true;
			} else if (strcmp(s, "*") != 0 && !conf_host_valid(s)) {
				errs_add(x->errs, p, "must be a host name (letters, digits, '.', '-') or empty for any host");
			} else {
				char *h = arena_strdup(c->arena, strcmp(s, "*") == 0 ? "" : s);
				size_t k;

				for (k = 0; h != NULL && h[k] != '\0'; k++)
					h[k] = (char)tolower((unsigned char)h[k]);
				r->host = h ? h : "";
			}
		}
		s = conf_get_str(x, o, path, "path_prefix", 0);
		r->path_prefix = "/";
		if (s != NULL) {
			jf_pathf(p, "%s.path_prefix", path);
			if (!conf_path_valid(s))
				errs_add(x->errs, p, "must start with '/' and contain no spaces or control characters");
			else
				r->path_prefix = arena_strdup(c->arena, s);
		}
		if (r->path_prefix == NULL)
			r->path_prefix = "/";
		r->path_prefix_len = strlen(r->path_prefix);
		conf_get_int(x, o, path, "priority", 0, 1000000, 0, 100, &prio);
		r->priority = (int)prio;
		conf__l7_route(x, o, path, r);
	}
}

/* How specific a route's path is: an exact path counts one more than its
 * length, so it goes before every prefix route that could match the same
 * path (a gRPC method before its service's prefix); a regex counts as "/". */
static size_t
conf_route_path_len(const struct conf_route *r)
{
	return r->l7.path_kind == CONF_PATH_EXACT ? r->l7.path_len + 1 : r->path_prefix_len;
}

/* Match order on a listener: lower priority first, then the more specific
 * path, then a host over the any-host route, then name. */
static int
conf_route_cmp(const void *a, const void *b)
{
	const struct conf_route *ra = *(struct conf_route *const *)a;
	const struct conf_route *rb = *(struct conf_route *const *)b;
	size_t la = conf_route_path_len(ra), lb = conf_route_path_len(rb);

	if (ra->priority != rb->priority)
		return ra->priority < rb->priority ? -1 : 1;
	if (la != lb)
		return la > lb ? -1 : 1;
	if ((ra->host[0] == '\0') != (rb->host[0] == '\0'))
		return ra->host[0] == '\0' ? 1 : -1;
	return strcmp(ra->name, rb->name);
}

static int
conf_link_routes(struct conf_ctx *x)
{
	struct conf *c = x->c;
	size_t i, j;

	for (i = 0; i < c->nlisteners; i++) {
		struct conf_listener *l = &c->listeners[i];

		for (j = 0; j < c->nroutes; j++)
			if (c->routes[j].listener == l)
				l->nroutes++;
		l->routes = arena_alloc(c->arena, (l->nroutes ? l->nroutes : 1) * sizeof(*l->routes));
		if (l->routes == NULL)
			return conf_oom(x);
		l->nroutes = 0;
		for (j = 0; j < c->nroutes; j++)
			if (c->routes[j].listener == l)
				l->routes[l->nroutes++] = &c->routes[j];
		qsort(l->routes, l->nroutes, sizeof(*l->routes), conf_route_cmp);
	}
	return 0;
}

struct conf_pool *
conf_pool_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->npools; i++)
		if (c->pools[i].name != NULL && strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

struct conf_listener *
conf_listener_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].name != NULL && strcmp(c->listeners[i].name, name) == 0)
			return &c->listeners[i];
	return NULL;
}

/*
 * The "l4" section: IPVS virtual services and their real servers.
 *
 * Service identity is what the kernel keys on (protocol, address, port or
 * fwmark and family), so two services with the same identity are refused;
 * names are the operator's handle and are unique too. Duplicates are found by
 * sorting keys, so a 10,000-service config validates in O(n log n).
 */
static const char *const conf_l4_schedulers[] = {
	"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
	"mh", "twos", NULL
};

struct conf_dupkey {
	char key[80];
	size_t index;
};

static int
conf_dupkey_cmp(const void *a, const void *b)
{
	const struct conf_dupkey *ka = a, *kb = b;
	int r = strcmp(ka->key, kb->key);

	if (r != 0)
		return r;
	return ka->index < kb->index ? -1 : ka->index > kb->index;
}

/* Sorts keys and reports each later duplicate at "prefix[index]suffix". */
static void
conf_report_dups(struct conf_ctx *x, struct conf_dupkey *keys, size_t n, const char *what,
		 const char *prefix, const char *suffix)
{
	size_t i;

	qsort(keys, n, sizeof(*keys), conf_dupkey_cmp);
	for (i = 1; i < n; i++) {
		char p[PATH_LEN];

		if (keys[i].key[0] == '\0' || strcmp(keys[i].key, keys[i - 1].key) != 0)
			continue;
		jf_pathf(p, "%s[%zu]%s", prefix, keys[i].index, suffix);
		errs_add(x->errs, p, "duplicate %s", what);
	}
}

/* Parses a numeric address into af/addr; 0 or -1. */
static int
conf_l4_addr(const char *s, int *af, unsigned char *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*af = AF_INET6;
		return 0;
	}
	return -1;
}

static void
conf_parse_l4_reals(struct conf_ctx *x, struct conf_l4_service *svc, json_t *arr, const char *spath)
{
	static const char *const keys[] = { "address", "port", "weight", "forward",
					    "upper_threshold", "lower_threshold",
					    "tunnel_type", "tunnel_port", NULL };
	struct conf *c = x->c;
	struct conf_dupkey *dk;
	size_t i;
	json_t *o;

	svc->nreals = json_array_size(arr);
	svc->reals = arena_alloc(c->arena, (svc->nreals + 1) * sizeof(*svc->reals));
	dk = calloc(svc->nreals + 1, sizeof(*dk));
	if (svc->reals == NULL || dk == NULL) {
		free(dk);
		conf_oom(x);
		svc->nreals = 0;
		return;
	}
	json_array_foreach(arr, i, o) {
		struct conf_l4_real *r = &svc->reals[i];
		char path[PATH_LEN], p[PATH_LEN], id[PATH_LEN];
		const char *s;
		long v;

		jf_pathf(path, "%s.reals[%zu]", spath, i);
		dk[i].index = i;
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_check_keys(x, o, path, keys);
		s = conf_get_str(x, o, path, "address", 1);
		jf_pathf(p, "%s.address", path);
		if (s != NULL && conf_l4_addr(s, &r->af, r->addr) < 0) {
			errs_add(x->errs, p, "must be a numeric IPv4 or IPv6 address");
			s = NULL;
		}
		r->address = s ? arena_strdup(c->arena, s) : NULL;
		/* A fwmark service matches many ports: its reals may leave the
		 * port out (0 = the port the client asked for). */
		conf_get_int(x, o, path, "port", svc->protocol == CONF_L4_FWMARK ? 0 : 1, 65535,
			     svc->protocol != CONF_L4_FWMARK, 0, &v);
		r->port = (uint16_t)v;
		conf_get_int(x, o, path, "weight", 0, CONF_L4_WEIGHT_MAX, 0, 1, &v);
		r->weight = (unsigned)v;
		conf_get_int(x, o, path, "upper_threshold", 0, 0x7fffffffL, 0, 0, &v);
		r->u_threshold = (unsigned)v;
		conf_get_int(x, o, path, "lower_threshold", 0, 0x7fffffffL, 0, 0, &v);
		r->l_threshold = (unsigned)v;
		if (r->u_threshold != 0 && r->l_threshold > r->u_threshold) {
			jf_pathf(p, "%s.lower_threshold", path);
			errs_add(x->errs, p, "must not be above upper_threshold");
		}
		r->forward = CONF_L4_NAT;
		s = conf_get_str(x, o, path, "forward", 0);
		if (s != NULL) {
			jf_pathf(p, "%s.forward", path);
			if (strcmp(s, "nat") == 0)
				r->forward = CONF_L4_NAT;
			else if (strcmp(s, "dr") == 0)
				r->forward = CONF_L4_DR;
			else if (strcmp(s, "tunnel") == 0)
				r->forward = CONF_L4_TUNNEL;
			else
				errs_add(x->errs, p, "must be \"nat\", \"dr\" or \"tunnel\"");
		}
		r->tunnel_type = CONF_L4_TUN_IPIP;
		s = conf_get_str(x, o, path, "tunnel_type", 0);
		jf_pathf(p, "%s.tunnel_type", path);
		if (s != NULL && r->forward != CONF_L4_TUNNEL)
			errs_add(x->errs, p, "only for \"forward\": \"tunnel\"");
		else if (s != NULL && strcmp(s, "ipip") == 0)
			r->tunnel_type = CONF_L4_TUN_IPIP;
		else if (s != NULL && strcmp(s, "gue") == 0)
			r->tunnel_type = CONF_L4_TUN_GUE;
		else if (s != NULL && strcmp(s, "gre") == 0)
			r->tunnel_type = CONF_L4_TUN_GRE;
		else if (s != NULL)
			errs_add(x->errs, p, "must be \"ipip\", \"gue\" or \"gre\"");
		conf_get_int(x, o, path, "tunnel_port", 1, 65535, 0, 0, &v);
		r->tunnel_port = (uint16_t)v;
		jf_pathf(p, "%s.tunnel_port", path);
		if (r->tunnel_type == CONF_L4_TUN_GUE && r->forward == CONF_L4_TUNNEL && v == 0)
			errs_add(x->errs, p, "is required for a gue tunnel");
		if (v != 0 && r->tunnel_type != CONF_L4_TUN_GUE)
			errs_add(x->errs, p, "only for \"tunnel_type\": \"gue\"");
		/* IPVS forwards to another address family only through a tunnel. */
		if (r->address != NULL && svc->af != 0 && r->af != svc->af &&
		    r->forward != CONF_L4_TUNNEL) {
			jf_pathf(p, "%s.address", path);
			errs_add(x->errs, p, "must be of the service's address family (or use a tunnel)");
		}
		if (r->address != NULL) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(r->af, r->addr, a, sizeof(a));
			jf_pathf(dk[i].key, "%s|%u", a, r->port);
			jf_pathf(id, r->af == AF_INET6 ? "%s/[%s]:%u" : "%s/%s:%u", svc->name, a, r->port);
			r->id = arena_strdup(c->arena, id);
		}
	}
	{
		char pre[PATH_LEN];

		jf_pathf(pre, "%s.reals", spath);
		conf_report_dups(x, dk, svc->nreals, "real server (address and port)", pre, "");
	}
	free(dk);
}

static void
conf_parse_l4_service(struct conf_ctx *x, struct conf_l4_service *svc, json_t *o, const char *path,
		      struct conf_dupkey *nk, struct conf_dupkey *ik)
{
	static const char *const keys[] = { "name", "protocol", "address", "port", "fwmark",
					    "family", "scheduler", "flags", "persistence_timeout",
					    "persistence_netmask", "reals", "limits", "check", NULL };
	struct conf *c = x->c;
	const char *s, *sched;
	char p[PATH_LEN];
	json_t *v;
	long n;
	size_t i;

	conf_check_keys(x, o, path, keys);
	s = conf_get_str(x, o, path, "name", 1);
	jf_pathf(p, "%s.name", path);
	if (s != NULL && !conf_name_valid(s)) {
		errs_add(x->errs, p, "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
		s = NULL;
	}
	svc->name = s ? arena_strdup(c->arena, s) : "";
	if (s != NULL)
		jf_pathf(nk->key, "%s", s);

	s = conf_get_str(x, o, path, "protocol", 1);
	jf_pathf(p, "%s.protocol", path);
	if (s != NULL && strcmp(s, "tcp") == 0)
		svc->protocol = CONF_L4_TCP;
	else if (s != NULL && strcmp(s, "udp") == 0)
		svc->protocol = CONF_L4_UDP;
	else if (s != NULL && strcmp(s, "fwmark") == 0)
		svc->protocol = CONF_L4_FWMARK;
	else if (s != NULL)
		errs_add(x->errs, p, "must be \"tcp\", \"udp\" or \"fwmark\"");

	if (svc->protocol == CONF_L4_FWMARK) {
		if (json_object_get(o, "address") != NULL) {
			jf_pathf(p, "%s.address", path);
			errs_add(x->errs, p, "a fwmark service has no address (use \"family\")");
		}
		if (json_object_get(o, "port") != NULL) {
			jf_pathf(p, "%s.port", path);
			errs_add(x->errs, p, "a fwmark service has no port");
		}
		conf_get_int(x, o, path, "fwmark", 1, 0xffffffffL, 1, 0, &n);
		svc->fwmark = (uint32_t)n;
		svc->af = AF_INET;
		s = conf_get_str(x, o, path, "family", 0);
		jf_pathf(p, "%s.family", path);
		if (s != NULL && strcmp(s, "ipv6") == 0)
			svc->af = AF_INET6;
		else if (s != NULL && strcmp(s, "ipv4") != 0)
			errs_add(x->errs, p, "must be \"ipv4\" or \"ipv6\"");
		jf_pathf(ik->key, "fwmark|%u|%d", svc->fwmark, svc->af);
	} else if (svc->protocol != 0) {
		if (json_object_get(o, "fwmark") != NULL) {
			jf_pathf(p, "%s.fwmark", path);
			errs_add(x->errs, p, "only for \"protocol\": \"fwmark\"");
		}
		if (json_object_get(o, "family") != NULL) {
			jf_pathf(p, "%s.family", path);
			errs_add(x->errs, p, "only for \"protocol\": \"fwmark\" (the address gives the family)");
		}
		s = conf_get_str(x, o, path, "address", 1);
		jf_pathf(p, "%s.address", path);
		if (s != NULL && conf_l4_addr(s, &svc->af, svc->addr) < 0) {
			errs_add(x->errs, p, "must be a numeric IPv4 or IPv6 address");
			s = NULL;
		}
		svc->address = s ? arena_strdup(c->arena, s) : NULL;
		conf_get_int(x, o, path, "port", 1, 65535, 1, 0, &n);
		svc->port = (uint16_t)n;
		if (s != NULL) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(svc->af, svc->addr, a, sizeof(a));
			jf_pathf(ik->key, "%s|%s|%u", svc->protocol == CONF_L4_TCP ? "tcp" : "udp",
				   a, svc->port);
		}
	}

	sched = conf_get_str(x, o, path, "scheduler", 0);
	jf_pathf(p, "%s.scheduler", path);
	svc->scheduler = "wlc";
	if (sched != NULL) {
		const char *const *k;

		for (k = conf_l4_schedulers; *k != NULL && strcmp(*k, sched) != 0; k++)
			;
		if (*k == NULL)
			errs_add(x->errs, p, "unknown scheduler \"%s\" (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos)", sched);
		else
			svc->scheduler = *k;
	}
	v = json_object_get(o, "flags");
	jf_pathf(p, "%s.flags", path);
	if (v != NULL && !json_is_array(v)) {
		errs_add(x->errs, p, "must be an array of strings");
	} else if (v != NULL) {
		json_t *f;

		json_array_foreach(v, i, f) {
			const char *fs = json_string_value(f);
			int sh = strcmp(svc->scheduler, "sh") == 0, mh = strcmp(svc->scheduler, "mh") == 0;

			jf_pathf(p, "%s.flags[%zu]", path, i);
			if (fs == NULL)
				errs_add(x->errs, p, "must be a string");
			else if (strcmp(fs, "one-packet") == 0)
				svc->flags |= CONF_L4_F_ONEPACKET;
			else if ((sh && strcmp(fs, "sh-fallback") == 0) || (mh && strcmp(fs, "mh-fallback") == 0))
				svc->flags |= CONF_L4_F_SCHED1;
			else if ((sh && strcmp(fs, "sh-port") == 0) || (mh && strcmp(fs, "mh-port") == 0))
				svc->flags |= CONF_L4_F_SCHED2;
			else
				errs_add(x->errs, p, "unknown flag \"%s\" for scheduler %s (one-packet; sh-fallback, sh-port with sh; mh-fallback, mh-port with mh)", fs, svc->scheduler);
		}
	}
	conf_get_int(x, o, path, "persistence_timeout", 0, 0x7fffffffL / 1000, 0, 0, &n);
	svc->persistence_timeout = (unsigned)n;
	conf_get_int(x, o, path, "persistence_netmask", svc->af == AF_INET6 ? 1 : 0,
		     svc->af == AF_INET6 ? 128 : 32, 0, svc->af == AF_INET6 ? 128 : 32, &n);
	svc->persistence_netmask = (unsigned)n;

	v = json_object_get(o, "reals");
	jf_pathf(p, "%s.reals", path);
	if (v == NULL)
		svc->nreals = 0;
	else if (!json_is_array(v))
		errs_add(x->errs, p, "must be an array");
	else
		conf_parse_l4_reals(x, svc, v, path);
	conf__l4_limits_parse(c, svc, json_object_get(o, "limits"), path, x->errs);
	conf__l4_check_parse(c, svc, json_object_get(o, "check"), path, x->errs);
}

static void
conf_parse_l4(struct conf_ctx *x, json_t *l4)
{
	static const char *const keys[] = { "services", "reconcile_interval", "filter", "sync", NULL };
	struct conf *c = x->c;
	struct conf_dupkey *nk = NULL, *ik = NULL;
	json_t *arr, *o;
	size_t i, n;
	long v;

	c->l4.reconcile_interval_s = 10;
	conf__l4_filter_parse(c, json_object_get(l4, "filter"), x->errs);
	conf__l4_sync_parse(c, json_object_get(l4, "sync"), x->errs);
	if (l4 == NULL)
		return;
	if (!json_is_object(l4)) {
		errs_add(x->errs, "$.l4", "must be an object");
		return;
	}
	conf_check_keys(x, l4, "$.l4", keys);
	conf_get_int(x, l4, "$.l4", "reconcile_interval", 1, 86400, 0, 10, &v);
	c->l4.reconcile_interval_s = (unsigned)v;
	arr = json_object_get(l4, "services");
	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		errs_add(x->errs, "$.l4.services", "must be an array");
		return;
	}
	n = json_array_size(arr);
	if (n > CONF_L4_SERVICES_MAX) {
		errs_add(x->errs, "$.l4.services", "at most %d services", CONF_L4_SERVICES_MAX);
		return;
	}
	c->l4.services = arena_alloc(c->arena, (n + 1) * sizeof(*c->l4.services));
	nk = calloc(n + 1, sizeof(*nk));
	ik = calloc(n + 1, sizeof(*ik));
	if (c->l4.services == NULL || nk == NULL || ik == NULL) {
		conf_oom(x);
		goto out;
	}
	c->l4.nservices = n;
	json_array_foreach(arr, i, o) {
		char path[PATH_LEN];

		jf_pathf(path, "$.l4.services[%zu]", i);
		nk[i].index = ik[i].index = i;
		c->l4.services[i].name = "";
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		conf_parse_l4_service(x, &c->l4.services[i], o, path, &nk[i], &ik[i]);
	}
	conf_report_dups(x, nk, n, "service name", "$.l4.services", ".name");
	conf_report_dups(x, ik, n, "virtual service (protocol, address and port, or fwmark and family)",
			 "$.l4.services", "");
out:
	free(nk);
	free(ik);
}

const struct conf_l4_service *
conf_l4_service_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->l4.nservices; i++)
		if (strcmp(c->l4.services[i].name, name) == 0)
			return &c->l4.services[i];
	return NULL;
}

struct conf *
conf_parse(const char *text, size_t len, struct errs *errs)
{
	static const char *const keys[] = { "version", "revision", "listeners", "pools",
					    "routes", "l4", "vrrp", "metrics", "workers", "rate_rules",
					    "tls", NULL };
	struct conf_ctx x = { .errs = errs, .nerr_start = errs->count };
	json_error_t jerr;
	json_t *root, *larr, *parr, *rarr;
	long nl, np, nr, v;
	struct arena *a;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		errs_add(errs, "$", "invalid JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		errs_add(errs, "$", "the config must be a JSON object");
		json_decref(root);
		return NULL;
	}
	a = arena_new(16384);
	x.c = a ? arena_alloc(a, sizeof(*x.c)) : NULL;
	if (x.c == NULL) {
		arena_free(&a);
		json_decref(root);
		conf_oom(&x);
		return NULL;
	}
	x.c->arena = a;
	conf_check_keys(&x, root, "$", keys);
	conf_get_int(&x, root, "$", "version", 1, 1, 1, 1, &v);
	conf_get_int(&x, root, "$", "revision", 0, 0x7fffffffL, 0, 0, &x.c->revision);
	nl = conf_get_array(&x, root, "listeners", &larr);
	np = conf_get_array(&x, root, "pools", &parr);
	nr = conf_get_array(&x, root, "routes", &rarr);
	x.c->nlisteners = nl > 0 ? (size_t)nl : 0;
	x.c->npools = np > 0 ? (size_t)np : 0;
	x.c->nroutes = nr > 0 ? (size_t)nr : 0;
	x.c->listeners = arena_alloc(a, (x.c->nlisteners + 1) * sizeof(*x.c->listeners));
	x.c->pools = arena_alloc(a, (x.c->npools + 1) * sizeof(*x.c->pools));
	x.c->routes = arena_alloc(a, (x.c->nroutes + 1) * sizeof(*x.c->routes));
	if (!x.c->listeners || !x.c->pools || !x.c->routes) {
		conf_oom(&x);
		goto fail;
	}
	if (larr)
		conf_parse_listeners(&x, larr);
	if (parr)
		conf_parse_pools(&x, parr);
	if (rarr)
		conf_parse_routes(&x, rarr);
	if (json_object_get(root, "vrrp") != NULL)	/* after the listeners: marks VIP listeners */
		conf__vrrp_parse(x.c, json_object_get(root, "vrrp"), errs);
	conf_parse_l4(&x, json_object_get(root, "l4"));
	conf__process_parse(&x, root);
	conf__limits_parse(x.c, json_object_get(root, "rate_rules"), errs);
	if (errs->count == x.nerr_start && conf_link_routes(&x) < 0)
		goto fail;
	if (errs->count == x.nerr_start && conf__l7_link(&x) < 0)
		goto fail;
	if (errs->count != x.nerr_start)
		goto fail;
	json_decref(root);
	return x.c;
fail:
	json_decref(root);
	arena_free(&a);
	return NULL;
}

struct conf *
conf_load_file(const char *path, struct errs *errs)
{
	FILE *f = fopen(path, "re");
	struct conf *c = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL) {
		errs_add(errs, "$", "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nt;

			if (cap >= CONF_MAX_FILE) {
				errs_add(errs, "$", "%s is larger than %d bytes", path, CONF_MAX_FILE);
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			nt = realloc(text, cap);
			if (nt == NULL) {
				errs_add(errs, "$", "out of memory");
				goto out;
			}
			text = nt;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				errs_add(errs, "$", "cannot read %s: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	c = conf_parse(text, len, errs);
out:
	free(text);
	fclose(f);
	return c;
}

void
conf_free(struct conf **cp)
{
	struct arena *a;

	if (*cp == NULL)
		return;
	a = (*cp)->arena;
	arena_free(&a);
	*cp = NULL;
}
