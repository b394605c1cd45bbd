#ifndef TANDEM_CONF_T_H
#define TANDEM_CONF_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "arena-t.h"

/*
 * The parsed, validated configuration. Every object lives in conf->arena and
 * is immutable once conf_parse() returns: workers read it without locks.
 * Cross-references (route -> listener, route -> pool) are resolved pointers.
 */

struct conf_member {
	const char *address;
	uint16_t port;
	unsigned weight;		/* 0 = takes no new requests */
	bool enabled;
	const char *id;			/* stable across reloads: "pool/address:port" */
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct conf_pool {
	const char *name;
	struct conf_member *members;
	size_t nmembers;
	size_t index;			/* position in conf->pools */
};

struct conf_listener;

struct conf_route {
	const char *name;
	const char *host;		/* lower case; "" matches any host */
	const char *path_prefix;	/* begins with '/' */
	size_t path_prefix_len;
	int priority;			/* lower is tried first */
	struct conf_listener *listener;
	struct conf_pool *pool;
};

struct conf_listener {
	const char *name;
	const char *address;
	uint16_t port;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct conf_route **routes;	/* match order: priority, longer prefix, name */
	size_t nroutes;
	size_t index;			/* position in conf->listeners */
	bool freebind;			/* address is a VRRP VIP: bind before owning it */
};

/* ---- vrrp section (conf_vrrp.c; rendered to keepalived.conf by vrrp/) ---- */

struct conf_vrrp_vip {
	const char *address;		/* numeric, as written */
	unsigned prefix;		/* 32/128 when not written */
	struct sockaddr_storage sa;
};

/*
 * One VIP group = one keepalived vrrp_instance (named after the group).
 * interface, priority and unicast_source are per-node: they come from
 * vrrp.local (or its per-group override), never from the shared part, so
 * config sync can replace vrrp.groups without touching them.
 */
struct conf_vrrp_group {
	const char *name;
	unsigned vrid;			/* 1-255 */
	unsigned advert_ms;		/* 10-40950, a multiple of 10 */
	bool unicast;			/* false = multicast */
	bool preempt;
	int family;			/* AF_INET or AF_INET6, of every VIP */
	const char **peers;		/* unicast peers, this node's own address left out */
	size_t npeers;
	struct conf_vrrp_vip *vips;
	size_t nvips;
	/* per-node */
	const char *interface;
	unsigned priority;		/* 1-254 */
	const char *unicast_source;	/* NULL in multicast mode */
};

struct conf_vrrp {
	const char *router_id;		/* per-node; keepalived's router_id */
	struct conf_vrrp_group *groups;
	size_t ngroups;
};

struct conf {
	struct arena *arena;		/* owns everything below */
	long revision;			/* admin revision number, 0 when hand-written */
	struct conf_listener *listeners;
	size_t nlisteners;
	struct conf_pool *pools;
	size_t npools;
	struct conf_route *routes;
	size_t nroutes;
	struct conf_vrrp *vrrp;		/* NULL when the file has no vrrp section */
};

#endif
