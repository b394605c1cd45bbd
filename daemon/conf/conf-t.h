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

/*
 * L4 (IPVS) virtual services. The conf module only validates; daemon/l4 turns
 * these into kernel objects. Values use the config's own enums so this header
 * stays free of kernel headers (tandem-admin links it too).
 */
enum conf_l4_proto {
	CONF_L4_TCP = 1,
	CONF_L4_UDP,
	CONF_L4_FWMARK,
};

enum conf_l4_fwd {
	CONF_L4_NAT = 0,	/* masquerade */
	CONF_L4_DR,		/* direct routing (gatewaying) */
	CONF_L4_TUNNEL,		/* ipip / gue / gre */
};

enum conf_l4_tun {
	CONF_L4_TUN_IPIP = 0,
	CONF_L4_TUN_GUE,
	CONF_L4_TUN_GRE,
};

/* Scheduler flags, as named in the config ("sh-fallback", ...). */
#define CONF_L4_F_ONEPACKET	0x1u
#define CONF_L4_F_SCHED1	0x2u	/* sh-fallback / mh-fallback */
#define CONF_L4_F_SCHED2	0x4u	/* sh-port / mh-port */

struct conf_l4_real {
	const char *address;
	int af;				/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order, 4 bytes used for IPv4 */
	uint16_t port;
	unsigned weight;		/* 0..65535; 0 = no new connections */
	unsigned u_threshold;		/* 0 = no upper connection limit */
	unsigned l_threshold;
	int forward;			/* enum conf_l4_fwd */
	int tunnel_type;		/* enum conf_l4_tun, tunnel only */
	uint16_t tunnel_port;		/* gue only */
	const char *id;			/* stable: "service/address:port" */
};

/* nftables limits of one L4 service, per source address (doc/l4.md
 * "Rate rules"). Zero fields are off. */
enum conf_l4_per {
	CONF_L4_PER_SECOND = 1,
	CONF_L4_PER_MINUTE,
	CONF_L4_PER_HOUR,
	CONF_L4_PER_DAY,
};

struct conf_l4_limits {
	unsigned new_conns;		/* new connections per interval, 0 = off */
	int per;			/* enum conf_l4_per */
	unsigned burst;			/* extra new connections at once; default new_conns */
	unsigned concurrent;		/* open connections, 0 = off */
	unsigned table_size;		/* source addresses tracked, default 65535 */
};

/* An address or CIDR of the allow/deny lists, host bits cleared. */
struct conf_l4_cidr {
	int af;
	unsigned char addr[16];
	unsigned plen;
	const char *text;		/* "10.0.0.0/8" or "2001:db8::1/128", normalised */
};

struct conf_l4_filter {
	struct conf_l4_cidr *allow;	/* exempt from deny, bans and limits */
	size_t nallow;
	struct conf_l4_cidr *deny;	/* dropped */
	size_t ndeny;
	unsigned ban_timeout_s;		/* default for a ban without a timeout */
	int present;			/* the config has an l4.filter section */
};

/* Health check of a service's reals (doc/l4.md "Health checks"). */
enum conf_l4_check_type {
	CONF_L4_CHECK_NONE = 0,
	CONF_L4_CHECK_TCP,		/* TCP connect */
	CONF_L4_CHECK_SEND_EXPECT,	/* connect, send, expect a string in the reply */
	CONF_L4_CHECK_HTTP,		/* an HTTP/1.0 request, expect a status code */
};

struct conf_l4_check {
	int type;			/* enum conf_l4_check_type */
	unsigned interval_ms, timeout_ms;
	unsigned fall, rise;		/* failures to go down, successes to come back */
	uint16_t port;			/* 0 = the real's port */
	const char *send, *expect;	/* send_expect only (arena) */
	size_t send_len, expect_len;
	const char *method, *path;	/* http only (arena): "GET", "/health" */
	const char *host;		/* http only: Host header, NULL = the real's address */
	unsigned expect_status;		/* http only: 100-599 */
	unsigned remove_after_ms;	/* a DOWN real leaves IPVS after this; 0 = never */
};

struct conf_l4_service {
	const char *name;
	int protocol;			/* enum conf_l4_proto */
	int af;				/* AF_INET or AF_INET6 */
	const char *address;		/* NULL for fwmark services */
	unsigned char addr[16];
	uint16_t port;
	uint32_t fwmark;
	const char *scheduler;
	unsigned flags;			/* CONF_L4_F_* */
	unsigned persistence_timeout;	/* seconds, 0 = not persistent */
	unsigned persistence_netmask;	/* prefix length */
	struct conf_l4_real *reals;
	size_t nreals;
	struct conf_l4_limits limits;
	struct conf_l4_check check;
};

/* The IPVS connection sync daemon (doc/l4.md "Sync daemon"). */
enum conf_l4_sync_role {
	CONF_L4_SYNC_NONE = 0,
	CONF_L4_SYNC_MASTER,
	CONF_L4_SYNC_BACKUP,
	CONF_L4_SYNC_BOTH,		/* master and backup daemons (a bit mask: 1|2) */
	CONF_L4_SYNC_VRRP,		/* follows the node's VRRP role (doc/l4.md) */
};

struct conf_l4_sync {
	int role;			/* enum conf_l4_sync_role: the role at start */
	const char *interface;		/* NULL when role is none and none given */
	unsigned syncid;		/* 0-255 */
	int mcast_af;			/* 0 = kernel default group */
	unsigned char mcast_group[16];
	uint16_t mcast_port;		/* 0 = kernel default (8848) */
	unsigned ttl;			/* 0 = kernel default (1) */
	/* role "vrrp" only: the group whose role counts (NULL: every group)
	 * and what MASTER runs: CONF_L4_SYNC_MASTER or CONF_L4_SYNC_BOTH. */
	const char *vrrp_group;
	int on_master;
};

struct conf_l4 {
	struct conf_l4_service *services;
	size_t nservices;
	unsigned reconcile_interval_s;	/* timer between reconciles */
	struct conf_l4_filter filter;	/* nftables allow/deny/ban (conf_l4nft.c) */
	struct conf_l4_sync sync;
};

struct lim_rules;

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
	struct conf_l4 l4;
	struct lim_rules *rate_rules;	/* the "rate_rules" section (daemon/limit), or NULL */
	const char *metrics_address;	/* Prometheus text on this loopback ADDR:PORT, or NULL */
	unsigned workers;		/* L7 threads at start (1..256), 0 = not set */
	/* "tls": {"ticket_key_lifetime": S} (conf_process.c): seconds a ticket
	 * key encrypts, 0 = only on command; unset = tandemd's flag. */
	bool ticket_key_lifetime_set;
	unsigned ticket_key_lifetime;
};

#endif
