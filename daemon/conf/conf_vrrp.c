/*
 * conf_vrrp - the "vrrp" section: VIP groups that keepalived announces.
 *
 *   "vrrp": {
 *     "local":  { per-node fields, never synced between the nodes:
 *                 router_id, interface, address, priority,
 *                 groups: [ { name, interface?, address?, priority? } ] },
 *     "groups": [ { shared fields: name, virtual_router_id,
 *                   advert_interval_ms, mode, unicast_peers, preempt, vips } ]
 *   }
 *
 * The shared part lists the addresses of *both* nodes in unicast_peers, so
 * the same bytes serve either node: each node leaves its own address (the
 * per-node "address") out when it resolves the group. Like the rest of conf,
 * every problem is collected with its JSON path; nothing here touches the
 * system. Everything keepalived will read is validated to a strict alphabet
 * here, so rendering never has to quote or escape.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "conf.h"
#include "jfield.h"
#include "conf__vrrp.h"
#include "errs.h"

#define VP_LEN JF_PATH_LEN

struct vctx {
	struct conf *c;
	struct errs *errs;
};

int
conf__ifname_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 15)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-' && s[i] != '@')
			return 0;
	return 1;
}

static void
vkeys(struct vctx *x, json_t *o, const char *path, const char *const *allowed)
{
	jf_check_keys(x->errs, o, path, allowed);
}

/* String field; NULL when absent (error if required) or invalid. */
static const char *
vstr(struct vctx *x, json_t *o, const char *path, const char *key, int required)
{
	return jf_str(x->errs, o, path, key, required);
}

/* Integer field in [lo, hi]; *out = dflt when absent. -1 when invalid. */
static int
vint(struct vctx *x, json_t *o, const char *path, const char *key, long lo, long hi,
     int required, long dflt, long *out)
{
	return jf_int(x->errs, o, path, key, lo, hi, required, dflt, out);
}

/* Parses "addr" or "addr/prefix" (prefix allowed only when want_prefix). */
static int
vaddr(const char *s, int want_prefix, struct sockaddr_storage *sa, unsigned *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	long pl = -1;

	if (alen == 0 || alen >= sizeof(buf) - 1 || (slash && !want_prefix))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (slash != NULL) {
		char *end;

		if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
			return -1;
		pl = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			return -1;
	}
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		sa->ss_family = AF_INET;
		if (pl > 32)
			return -1;
		if (prefix)
			*prefix = pl < 0 ? 32 : (unsigned)pl;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		sa->ss_family = AF_INET6;
		if (pl > 128)
			return -1;
		if (prefix)
			*prefix = pl < 0 ? 128 : (unsigned)pl;
		return 0;
	}
	return -1;
}

/* Same address (family and bytes; ports ignored). */
static int
vsame(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* The per-node part: defaults for every group and per-group overrides. */
struct vlocal {
	const char *router_id;
	const char *interface;
	const char *address;
	long priority;
	json_t *overrides;	/* array or NULL */
};

static const char *
vlocal_ifname(struct vctx *x, json_t *o, const char *path)
{
	const char *s = vstr(x, o, path, "interface", 0);
	char p[VP_LEN];

	if (s != NULL && !conf__ifname_valid(s)) {
		jf_pathf(p, "%s.interface", path);
		errs_add(x->errs, p, "must be an interface name (1-15 letters, digits, '.', '_', '-', '@')");
		return NULL;
	}
	return s;
}

static const char *
vlocal_address(struct vctx *x, json_t *o, const char *path)
{
	const char *s = vstr(x, o, path, "address", 0);
	struct sockaddr_storage sa;
	char p[VP_LEN];

	if (s != NULL && vaddr(s, 0, &sa, NULL) < 0) {
		jf_pathf(p, "%s.address", path);
		errs_add(x->errs, p, "must be a numeric IPv4 or IPv6 address");
		return NULL;
	}
	return s;
}

static void
vparse_local(struct vctx *x, json_t *o, struct vlocal *lo)
{
	static const char *const keys[] = { "router_id", "interface", "address", "priority",
					    "groups", NULL };
	const char *path = "$.vrrp.local";

	memset(lo, 0, sizeof(*lo));
	lo->priority = 100;
	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		errs_add(x->errs, path, "must be an object");
		return;
	}
	vkeys(x, o, path, keys);
	lo->router_id = vstr(x, o, path, "router_id", 0);
	if (lo->router_id != NULL && !conf_name_valid(lo->router_id)) {
		errs_add(x->errs, "$.vrrp.local.router_id",
			 "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
		lo->router_id = NULL;
	}
	lo->interface = vlocal_ifname(x, o, path);
	lo->address = vlocal_address(x, o, path);
	vint(x, o, path, "priority", 1, 254, 0, 100, &lo->priority);
	lo->overrides = json_object_get(o, "groups");
	if (lo->overrides != NULL && !json_is_array(lo->overrides)) {
		errs_add(x->errs, "$.vrrp.local.groups", "must be an array");
		lo->overrides = NULL;
	}
}

/* Applies vrrp.local.groups[*] (per-node overrides) to the parsed groups. */
static void
vapply_overrides(struct vctx *x, struct conf_vrrp *v, const struct vlocal *lo,
		 const char **ifn, const char **addr, long *prio)
{
	static const char *const keys[] = { "name", "interface", "address", "priority", NULL };
	size_t i, j;
	json_t *o;

	if (lo->overrides == NULL)
		return;
	json_array_foreach(lo->overrides, i, o) {
		char path[VP_LEN];
		const char *name, *s;
		long pr;

		jf_pathf(path, "$.vrrp.local.groups[%zu]", i);
		if (!json_is_object(o)) {
			errs_add(x->errs, path, "must be an object");
			continue;
		}
		vkeys(x, o, path, keys);
		name = vstr(x, o, path, "name", 1);
		if (name == NULL)
			continue;
		for (j = 0; j < v->ngroups; j++)
			if (v->groups[j].name != NULL && strcmp(v->groups[j].name, name) == 0)
				break;
		if (j == v->ngroups) {
			char p[VP_LEN];

			jf_pathf(p, "%s.name", path);
			errs_add(x->errs, p, "no vrrp group named \"%s\"", name);
			continue;
		}
		if ((s = vlocal_ifname(x, o, path)) != NULL)
			ifn[j] = s;
		if ((s = vlocal_address(x, o, path)) != NULL)
			addr[j] = s;
		if (json_object_get(o, "priority") != NULL &&
		    vint(x, o, path, "priority", 1, 254, 0, 100, &pr) == 0)
			prio[j] = pr;
	}
}

static void
vparse_vips(struct vctx *x, struct conf_vrrp_group *g, json_t *arr, const char *gpath)
{
	struct arena *a = x->c->arena;
	char p[VP_LEN];
	size_t i, j;
	json_t *e;

	jf_pathf(p, "%s.vips", gpath);
	if (arr == NULL || !json_is_array(arr) || json_array_size(arr) == 0) {
		errs_add(x->errs, p, "must be a non-empty array of addresses (\"192.0.2.10/24\")");
		return;
	}
	g->vips = arena_alloc(a, json_array_size(arr) * sizeof(*g->vips));
	if (g->vips == NULL) {
		errs_add(x->errs, "$", "out of memory");
		return;
	}
	json_array_foreach(arr, i, e) {
		struct conf_vrrp_vip *vip = &g->vips[g->nvips];

		jf_pathf(p, "%s.vips[%zu]", gpath, i);
		if (!json_is_string(e) || vaddr(json_string_value(e), 1, &vip->sa, &vip->prefix) < 0) {
			errs_add(x->errs, p, "must be a numeric address with an optional /prefix");
			continue;
		}
		if (g->family == 0)
			g->family = vip->sa.ss_family;
		if (vip->sa.ss_family != g->family) {
			errs_add(x->errs, p, "every VIP of a group must be of one address family");
			continue;
		}
		for (j = 0; j < g->nvips; j++)
			if (vsame(&g->vips[j].sa, &vip->sa))
				break;
		if (j < g->nvips) {
			errs_add(x->errs, p, "duplicate VIP");
			continue;
		}
		vip->address = arena_strndup(a, json_string_value(e),
					     strcspn(json_string_value(e), "/"));
		g->nvips++;
	}
}

/* Resolves unicast source and peers of g for this node. */
static void
vresolve_unicast(struct vctx *x, struct conf_vrrp_group *g, json_t *peers,
		 const char *source, const char *gpath)
{
	struct sockaddr_storage src, sa;
	char p[VP_LEN];
	size_t i, j;
	json_t *e;

	if (source == NULL) {
		errs_add(x->errs, gpath, "unicast mode needs this node's address: set vrrp.local.address "
			 "(or vrrp.local.groups[].address)");
		return;
	}
	vaddr(source, 0, &src, NULL);
	if (g->family != 0 && src.ss_family != g->family) {
		errs_add(x->errs, gpath, "this node's address %s is not of the VIPs' address family", source);
		return;
	}
	g->unicast_source = arena_strdup(x->c->arena, source);
	jf_pathf(p, "%s.unicast_peers", gpath);
	if (peers == NULL || !json_is_array(peers) || json_array_size(peers) == 0) {
		errs_add(x->errs, p, "unicast mode needs the peers' addresses");
		return;
	}
	g->peers = arena_alloc(x->c->arena, json_array_size(peers) * sizeof(*g->peers));
	if (g->peers == NULL) {
		errs_add(x->errs, "$", "out of memory");
		return;
	}
	json_array_foreach(peers, i, e) {
		jf_pathf(p, "%s.unicast_peers[%zu]", gpath, i);
		if (!json_is_string(e) || vaddr(json_string_value(e), 0, &sa, NULL) < 0) {
			errs_add(x->errs, p, "must be a numeric IPv4 or IPv6 address");
			continue;
		}
		if (sa.ss_family != src.ss_family) {
			errs_add(x->errs, p, "must be of the same address family as this node's address");
			continue;
		}
		if (vsame(&sa, &src))
			continue;	/* our own entry of the shared list */
		for (j = 0; j < i; j++) {
			struct sockaddr_storage o;
			json_t *prev = json_array_get(peers, j);

			if (json_is_string(prev) && vaddr(json_string_value(prev), 0, &o, NULL) == 0 &&
			    vsame(&o, &sa))
				break;
		}
		if (j < i) {
			errs_add(x->errs, p, "duplicate peer");
			continue;
		}
		g->peers[g->npeers++] = arena_strdup(x->c->arena, json_string_value(e));
	}
	if (g->npeers == 0) {
		jf_pathf(p, "%s.unicast_peers", gpath);
		errs_add(x->errs, p, "lists no address other than this node's own (%s)", source);
	}
}

static void
vparse_group(struct vctx *x, struct conf_vrrp_group *g, json_t *o, size_t i, json_t **peers)
{
	static const char *const keys[] = { "name", "virtual_router_id", "advert_interval_ms",
					    "mode", "unicast_peers", "preempt", "vips", NULL };
	char path[VP_LEN], p[VP_LEN];
	const char *s;
	json_t *b;
	long n;

	jf_pathf(path, "$.vrrp.groups[%zu]", i);
	*peers = NULL;
	if (!json_is_object(o)) {
		errs_add(x->errs, path, "must be an object");
		return;
	}
	vkeys(x, o, path, keys);
	s = vstr(x, o, path, "name", 1);
	if (s != NULL && !conf_name_valid(s)) {
		jf_pathf(p, "%s.name", path);
		errs_add(x->errs, p, "must be 1-%d letters, digits, '.', '_' or '-'", CONF_NAME_MAX);
	} else if (s != NULL) {
		g->name = arena_strdup(x->c->arena, s);
	}
	vint(x, o, path, "virtual_router_id", 1, 255, 1, 0, &n);
	g->vrid = (unsigned)n;
	if (vint(x, o, path, "advert_interval_ms", 10, 40950, 0, 1000, &n) == 0 && n % 10 != 0) {
		jf_pathf(p, "%s.advert_interval_ms", path);
		errs_add(x->errs, p, "must be a multiple of 10 (VRRPv3 counts centiseconds)");
	}
	g->advert_ms = (unsigned)n;
	s = vstr(x, o, path, "mode", 0);
	g->unicast = true;
	if (s != NULL && strcmp(s, "multicast") == 0) {
		g->unicast = false;
	} else if (s != NULL && strcmp(s, "unicast") != 0) {
		jf_pathf(p, "%s.mode", path);
		errs_add(x->errs, p, "must be \"unicast\" or \"multicast\"");
	}
	b = json_object_get(o, "preempt");
	g->preempt = true;
	if (b != NULL && !json_is_boolean(b)) {
		jf_pathf(p, "%s.preempt", path);
		errs_add(x->errs, p, "must be true or false");
	} else if (b != NULL) {
		g->preempt = json_is_true(b);
	}
	*peers = json_object_get(o, "unicast_peers");
	if (*peers != NULL && !g->unicast &&
	    (!json_is_array(*peers) || json_array_size(*peers) != 0)) {
		jf_pathf(p, "%s.unicast_peers", path);
		errs_add(x->errs, p, "must be absent in multicast mode");
	}
	vparse_vips(x, g, json_object_get(o, "vips"), path);
}

/* Cross-group rules: unique names, VIPs and (interface, family, VRID). */
static void
vcheck_groups(struct vctx *x, const struct conf_vrrp *v)
{
	size_t i, j, k, l;

	for (i = 0; i < v->ngroups; i++) {
		const struct conf_vrrp_group *g = &v->groups[i];
		char p[VP_LEN];

		for (j = 0; j < i; j++) {
			const struct conf_vrrp_group *h = &v->groups[j];

			if (g->name && h->name && strcmp(g->name, h->name) == 0) {
				jf_pathf(p, "$.vrrp.groups[%zu].name", i);
				errs_add(x->errs, p, "duplicate vrrp group name \"%s\"", g->name);
			}
			if (g->vrid == h->vrid && g->family == h->family && g->interface &&
			    h->interface && strcmp(g->interface, h->interface) == 0) {
				jf_pathf(p, "$.vrrp.groups[%zu].virtual_router_id", i);
				errs_add(x->errs, p, "virtual router id %u is already used on %s by group \"%s\"",
					 g->vrid, g->interface, h->name ? h->name : "?");
			}
			for (k = 0; k < g->nvips; k++)
				for (l = 0; l < h->nvips; l++)
					if (vsame(&g->vips[k].sa, &h->vips[l].sa)) {
						jf_pathf(p, "$.vrrp.groups[%zu].vips", i);
						errs_add(x->errs, p, "VIP %s is also in group \"%s\"",
							 g->vips[k].address, h->name ? h->name : "?");
					}
		}
	}
}

/* Listeners on a VIP bind with IP_FREEBIND, so the BACKUP can hold the
 * socket before the address arrives. */
static void
vmark_freebind(struct conf *c)
{
	size_t i, j, k;

	for (i = 0; i < c->nlisteners; i++)
		for (j = 0; j < c->vrrp->ngroups; j++)
			for (k = 0; k < c->vrrp->groups[j].nvips; k++)
				if (c->listeners[i].address != NULL &&
				    vsame(&c->listeners[i].sa, &c->vrrp->groups[j].vips[k].sa))
					c->listeners[i].freebind = true;
}

void
conf__vrrp_parse(struct conf *c, json_t *v, struct errs *errs)
{
	static const char *const keys[] = { "local", "groups", NULL };
	struct vctx x = { .c = c, .errs = errs };
	struct vlocal lo;
	const char **ifn = NULL, **addr = NULL;
	json_t *garr, *o, **peers = NULL;
	long *prio = NULL;
	size_t i, n;

	if (!json_is_object(v)) {
		errs_add(errs, "$.vrrp", "must be an object");
		return;
	}
	vkeys(&x, v, "$.vrrp", keys);
	c->vrrp = arena_alloc(c->arena, sizeof(*c->vrrp));
	if (c->vrrp == NULL) {
		errs_add(errs, "$", "out of memory");
		return;
	}
	vparse_local(&x, json_object_get(v, "local"), &lo);
	c->vrrp->router_id = arena_strdup(c->arena, lo.router_id ? lo.router_id : "tandem");
	garr = json_object_get(v, "groups");
	if (garr == NULL || !json_is_array(garr)) {
		errs_add(errs, "$.vrrp.groups", garr ? "must be an array" : "is required");
		return;
	}
	n = json_array_size(garr);
	c->vrrp->groups = arena_alloc(c->arena, (n + 1) * sizeof(*c->vrrp->groups));
	ifn = calloc(n + 1, sizeof(*ifn));
	addr = calloc(n + 1, sizeof(*addr));
	prio = calloc(n + 1, sizeof(*prio));
	peers = calloc(n + 1, sizeof(*peers));
	if (c->vrrp->groups == NULL || !ifn || !addr || !prio || !peers) {
		errs_add(errs, "$", "out of memory");
		goto out;
	}
	c->vrrp->ngroups = n;
	json_array_foreach(garr, i, o) {
		vparse_group(&x, &c->vrrp->groups[i], o, i, &peers[i]);
		ifn[i] = lo.interface;
		addr[i] = lo.address;
		prio[i] = lo.priority;
	}
	vapply_overrides(&x, c->vrrp, &lo, ifn, addr, prio);
	for (i = 0; i < n; i++) {
		struct conf_vrrp_group *g = &c->vrrp->groups[i];
		char path[VP_LEN];

		jf_pathf(path, "$.vrrp.groups[%zu]", i);
		g->priority = (unsigned)prio[i];
		if (ifn[i] == NULL)
			errs_add(errs, path, "no interface: set vrrp.local.interface (or vrrp.local.groups[].interface)");
		else
			g->interface = arena_strdup(c->arena, ifn[i]);
		if (g->unicast && json_is_object(json_array_get(garr, i)))
			vresolve_unicast(&x, g, peers[i], addr[i], path);
	}
	vcheck_groups(&x, c->vrrp);
	vmark_freebind(c);
out:
	free(ifn);
	free(addr);
	free(prio);
	free(peers);
}
