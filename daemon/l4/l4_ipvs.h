#ifndef TANDEM_L4_IPVS_H
#define TANDEM_L4_IPVS_H

#include <stdint.h>

#include "l4-t.h"

/*
 * l4_ipvs - Tandem's IPVS client over generic netlink (libnl-genl-3). The
 * only module that includes libnl: everything else speaks struct l4_svc /
 * l4_dest / l4_op. Main thread only (one socket, synchronous calls).
 *
 * The message builders and parsers are pure and exported for the unit tests;
 * they take a libnl message, not a socket.
 */

struct l4_ipvs;
struct nl_msg;
struct nlmsghdr;

/* Sync daemon settings (IPVS_CMD_NEW_DAEMON). */
struct l4_sync_daemon {
	int state;		/* IP_VS_STATE_MASTER or IP_VS_STATE_BACKUP */
	char ifname[16];
	uint32_t syncid;
	uint16_t mcast_port;	/* 0 = kernel default */
	uint8_t mcast_group[16];/* all zero = kernel default */
	uint16_t mcast_af;	/* AF_INET / AF_INET6 when mcast_group is set */
	uint8_t ttl;		/* 0 = kernel default */
};

/* Result of l4_ipvs_apply(): what was sent and the first failure. */
struct l4_apply_result {
	size_t sent;		/* messages sent */
	size_t failed;		/* of which the kernel refused */
	char first_error[160];	/* "add TCP 10.0.0.1:80: No such file or directory" */
};

/* Connects and resolves the IPVS family. Returns 0 and *out, or -errno:
 * -ENOENT when the kernel has no IPVS (no module, no family), -EPERM/-EACCES
 * without CAP_NET_ADMIN, -ENOMEM. The caller owns *out. */
int l4_ipvs_open(struct l4_ipvs **out);

/* Closes the socket and frees v; sets *vp to NULL. */
void l4_ipvs_close(struct l4_ipvs **vp);

/* Dumps every service and its reals into out (which must be empty), sorted.
 * 0 or -errno (out then holds a partial dump the caller releases). */
int l4_ipvs_dump(struct l4_ipvs *v, struct l4_table *out);

/* Sends ops in order (pipelined, each acknowledged) and fills res. Never stops
 * at a refused op: the others are independent. Returns 0 when every op was
 * accepted, -EIO when some were refused, or -errno when the socket failed. */
int l4_ipvs_apply(struct l4_ipvs *v, const struct l4_ops *ops, struct l4_apply_result *res);

/* Starts (state MASTER/BACKUP) the connection sync daemon, or stops the
 * daemon of that state (l4_ipvs_daemon_stop). 0 or -errno. */
int l4_ipvs_daemon_start(struct l4_ipvs *v, const struct l4_sync_daemon *d);
int l4_ipvs_daemon_stop(struct l4_ipvs *v, int state);
/* Reads the running daemons (up to 2) into out; returns how many, or -errno. */
int l4_ipvs_daemon_list(struct l4_ipvs *v, struct l4_sync_daemon *out, int max);

/* Change messages sent on this socket since open (adds, edits, deletes,
 * daemon changes; not dump requests). */
uint64_t l4_ipvs_changes(const struct l4_ipvs *v);
/* Dump requests sent since open. */
uint64_t l4_ipvs_dumps(const struct l4_ipvs *v);

/* --- pure message building and parsing (unit-tested) --- */

/* Returns a new message for op addressed to genl family id family, or NULL on
 * out of memory. The caller frees it with nlmsg_free(). */
struct nl_msg *l4_ipvs_msg_op(int family, const struct l4_op *op);

/* Returns a new IPVS_CMD_GET_DEST dump request for the service key k. */
struct nl_msg *l4_ipvs_msg_dump_dests(int family, const struct l4_svc_key *k);

/* Parse one IPVS_CMD_NEW_SERVICE / NEW_DEST message (a dump entry, or a
 * request built above). 0, or -EINVAL when a required attribute is missing or
 * malformed. out is fully overwritten (dests of a service are left empty). */
int l4_ipvs_parse_svc(struct nlmsghdr *nlh, struct l4_svc *out);
int l4_ipvs_parse_dest(struct nlmsghdr *nlh, struct l4_dest *out);

#endif
