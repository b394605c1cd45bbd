#ifndef TANDEM_CONF_T_H
#define TANDEM_CONF_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "arena-t.h"
#include "conf_l7-t.h"

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
	struct conf_l7_member l7;
};

struct conf_pool {
	const char *name;
	struct conf_member *members;
	size_t nmembers;
	size_t index;			/* position in conf->pools */
	struct conf_l7_pool l7;
};

struct conf_listener;

struct conf_route {
	const char *name;
	const char *host;		/* lower case; "" matches any host */
	const char *path_prefix;	/* begins with '/' */
	size_t path_prefix_len;
	int priority;			/* lower is tried first */
	struct conf_listener *listener;
	struct conf_pool *pool;		/* NULL unless the action is forward */
	struct conf_l7_route l7;
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
	struct conf_l7_listener l7;
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
};

#endif
