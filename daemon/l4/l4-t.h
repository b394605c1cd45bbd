#ifndef TANDEM_L4_T_H
#define TANDEM_L4_T_H

#include <stddef.h>
#include <stdint.h>

/*
 * L4 (IPVS) objects as Tandem sees them, independent of libnl: the desired
 * state built from a snapshot and the kernel state read from a dump share
 * these types, so the reconcile diff compares like with like.
 *
 * Ports are in host order here; l4_ipvs converts on the wire. Addresses are
 * 16 bytes in network order (IPv4 uses the first 4, the rest are zero).
 */

#define L4_SCHED_MAX 16		/* IP_VS_SCHEDNAME_MAXLEN */

/* What the kernel keys a virtual service on. */
struct l4_svc_key {
	uint16_t af;		/* AF_INET or AF_INET6 */
	uint16_t protocol;	/* IPPROTO_TCP / IPPROTO_UDP; 0 for a fwmark service */
	uint8_t addr[16];
	uint16_t port;
	uint32_t fwmark;	/* 0 unless a fwmark service */
};

/* Counters read from the kernel (64-bit attributes when present). */
struct l4_stats {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	uint64_t cps, inpps, outpps, inbps, outbps;
};

struct l4_dest {
	uint16_t af;
	uint8_t addr[16];
	uint16_t port;
	uint32_t fwd;		/* IP_VS_CONN_F_MASQ / _DROUTE / _TUNNEL */
	uint32_t weight;
	uint32_t u_thresh, l_thresh;
	uint8_t tun_type;	/* IP_VS_CONN_F_TUNNEL_TYPE_* */
	uint16_t tun_port;	/* host order */
	uint16_t tun_flags;
	uint32_t activeconns, inactconns, persistconns;	/* kernel only */
	struct l4_stats stats;				/* kernel only */
};

struct l4_svc {
	struct l4_svc_key key;
	char sched[L4_SCHED_MAX];
	uint32_t flags;		/* IP_VS_SVC_F_*, without HASHED */
	uint32_t timeout;	/* persistence, seconds */
	uint32_t netmask;	/* IPv4: mask in network order; IPv6: prefix length */
	struct l4_stats stats;	/* kernel only */
	struct l4_dest *dests;	/* sorted by (af, addr, port) once in a table */
	size_t ndests;
	size_t dcap;
	const char *name;	/* config name (borrowed from the snapshot); NULL from a dump */
};

/*
 * A set of services: the desired state or a kernel dump. Owns svcs and each
 * service's dests (malloc'd); free with l4_table_release().
 */
struct l4_table {
	struct l4_svc *svcs;
	size_t n;
	size_t cap;
};

enum l4_op_kind {
	L4_OP_SVC_ADD = 1,
	L4_OP_SVC_EDIT,
	L4_OP_SVC_DEL,
	L4_OP_DEST_ADD,
	L4_OP_DEST_EDIT,
	L4_OP_DEST_DEL,
};

/* One kernel change. Pointers borrow from the tables the diff was made from. */
struct l4_op {
	int kind;			/* enum l4_op_kind */
	const struct l4_svc *svc;	/* the service (key, and attributes for add/edit) */
	const struct l4_dest *dest;	/* dest ops only */
};

struct l4_ops {
	struct l4_op *ops;
	size_t n;
	size_t cap;
};

#endif
