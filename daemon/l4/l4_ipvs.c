/*
 * l4_ipvs - IPVS over generic netlink, on libnl-genl-3.
 *
 * Why our own client: ipvsadm's libipvs is not packaged as a library, keeps
 * global state and has unchecked reallocs (STYLE.md §12); keepalived's copy is
 * tied to keepalived. The protocol is small: services and dests are nested
 * attribute sets (linux/ip_vs.h), changes are acknowledged one by one, dumps
 * are multipart.
 *
 * Changes are pipelined: up to L4_IPVS_WINDOW requests are in flight, each
 * with NLM_F_ACK, and the acks (or errors, matched by sequence number) are
 * collected before the next window. One message per op, never a flush.
 *
 * Invariant: every request this module sends is counted in changes or dumps,
 * so "one weight change sends one message" is measurable (tandemctl stats).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ip_vs.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "l4_ipvs.h"
#include "l4_table.h"

#define L4_IPVS_WINDOW 64
#define L4_IPVS_BUF (4 * 1024 * 1024)

struct l4_ipvs {
	struct nl_sock *sk;
	int family;
	uint64_t changes;
	uint64_t dumps;
};

/* ------------------------------------------------------------------ build */

static struct nl_msg *
l4_ipvs_msg_new(int family, int cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m == NULL)
		return NULL;
	if (genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, (uint8_t)cmd,
			IPVS_GENL_VERSION) == NULL) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static size_t
l4_addr_len(int af)
{
	return af == AF_INET6 ? 16 : 4;
}

/* The service key (and with full, its attributes) as IPVS_CMD_ATTR_SERVICE. */
static int
l4_ipvs_put_svc(struct nl_msg *m, const struct l4_svc *s, const struct l4_svc_key *k, int full)
{
	struct nlattr *n = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);

	if (n == NULL)
		return -ENOMEM;
	if (nla_put_u16(m, IPVS_SVC_ATTR_AF, k->af) < 0)
		return -ENOMEM;
	if (k->fwmark != 0) {
		if (nla_put_u32(m, IPVS_SVC_ATTR_FWMARK, k->fwmark) < 0)
			return -ENOMEM;
	} else {
		/* The kernel copies nla_len bytes into a union nf_inet_addr. */
		if (nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, k->protocol) < 0 ||
		    nla_put(m, IPVS_SVC_ATTR_ADDR, (int)l4_addr_len(k->af), k->addr) < 0 ||
		    nla_put_u16(m, IPVS_SVC_ATTR_PORT, htons(k->port)) < 0)
			return -ENOMEM;
	}
	if (full) {
		struct ip_vs_flags fl = { .flags = s->flags, .mask = ~0u };

		if (nla_put_string(m, IPVS_SVC_ATTR_SCHED_NAME, s->sched) < 0 ||
		    nla_put(m, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl) < 0 ||
		    nla_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, s->timeout) < 0 ||
		    nla_put_u32(m, IPVS_SVC_ATTR_NETMASK, s->netmask) < 0)
			return -ENOMEM;
	}
	nla_nest_end(m, n);
	return 0;
}

static int
l4_ipvs_put_dest(struct nl_msg *m, const struct l4_dest *d, int full)
{
	struct nlattr *n = nla_nest_start(m, IPVS_CMD_ATTR_DEST);

	if (n == NULL)
		return -ENOMEM;
	if (nla_put(m, IPVS_DEST_ATTR_ADDR, (int)l4_addr_len(d->af), d->addr) < 0 ||
	    nla_put_u16(m, IPVS_DEST_ATTR_PORT, htons(d->port)) < 0 ||
	    nla_put_u16(m, IPVS_DEST_ATTR_ADDR_FAMILY, d->af) < 0)
		return -ENOMEM;
	if (full) {
		if (nla_put_u32(m, IPVS_DEST_ATTR_FWD_METHOD, d->fwd & IP_VS_CONN_F_FWD_MASK) < 0 ||
		    nla_put_u32(m, IPVS_DEST_ATTR_WEIGHT, d->weight) < 0 ||
		    nla_put_u32(m, IPVS_DEST_ATTR_U_THRESH, d->u_thresh) < 0 ||
		    nla_put_u32(m, IPVS_DEST_ATTR_L_THRESH, d->l_thresh) < 0)
			return -ENOMEM;
		if ((d->fwd & IP_VS_CONN_F_FWD_MASK) == IP_VS_CONN_F_TUNNEL &&
		    (nla_put_u8(m, IPVS_DEST_ATTR_TUN_TYPE, d->tun_type) < 0 ||
		     nla_put_u16(m, IPVS_DEST_ATTR_TUN_PORT, htons(d->tun_port)) < 0 ||
		     nla_put_u16(m, IPVS_DEST_ATTR_TUN_FLAGS, d->tun_flags) < 0))
			return -ENOMEM;
	}
	nla_nest_end(m, n);
	return 0;
}

struct nl_msg *
l4_ipvs_msg_op(int family, const struct l4_op *op)
{
	static const int cmds[] = {
		[L4_OP_SVC_ADD] = IPVS_CMD_NEW_SERVICE, [L4_OP_SVC_EDIT] = IPVS_CMD_SET_SERVICE,
		[L4_OP_SVC_DEL] = IPVS_CMD_DEL_SERVICE, [L4_OP_DEST_ADD] = IPVS_CMD_NEW_DEST,
		[L4_OP_DEST_EDIT] = IPVS_CMD_SET_DEST, [L4_OP_DEST_DEL] = IPVS_CMD_DEL_DEST,
	};
	struct nl_msg *m;
	int rc, svc_full;

	if (op->kind < L4_OP_SVC_ADD || op->kind > L4_OP_DEST_DEL)
		return NULL;
	m = l4_ipvs_msg_new(family, cmds[op->kind], 0);
	if (m == NULL)
		return NULL;
	svc_full = op->kind == L4_OP_SVC_ADD || op->kind == L4_OP_SVC_EDIT;
	rc = l4_ipvs_put_svc(m, op->svc, &op->svc->key, svc_full);
	if (rc == 0 && op->dest != NULL)
		rc = l4_ipvs_put_dest(m, op->dest, op->kind != L4_OP_DEST_DEL);
	if (rc < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *
l4_ipvs_msg_dump_dests(int family, const struct l4_svc_key *k)
{
	struct nl_msg *m = l4_ipvs_msg_new(family, IPVS_CMD_GET_DEST, NLM_F_DUMP);

	if (m != NULL && l4_ipvs_put_svc(m, NULL, k, 0) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ------------------------------------------------------------------ parse */

static int
l4_get_u16(struct nlattr *a, uint16_t *out)
{
	if (a == NULL || nla_len(a) < 2)
		return -EINVAL;
	*out = nla_get_u16(a);
	return 0;
}

static int
l4_get_u32(struct nlattr *a, uint32_t *out)
{
	if (a == NULL || nla_len(a) < 4)
		return -EINVAL;
	*out = nla_get_u32(a);
	return 0;
}

/* Optional u32: absent leaves *out at 0. */
static void
l4_opt_u32(struct nlattr *a, uint32_t *out)
{
	if (a != NULL && nla_len(a) >= 4)
		*out = nla_get_u32(a);
}

static int
l4_get_addr(struct nlattr *a, int af, uint8_t *out)
{
	size_t need = l4_addr_len(af);

	memset(out, 0, 16);
	if (a == NULL || (size_t)nla_len(a) < need)
		return -EINVAL;
	memcpy(out, nla_data(a), need);
	return 0;
}

/* Stats come as a nested set of u32 (STATS) or u64 (STATS64) counters. */
static void
l4_parse_stats(struct nlattr *nest, struct l4_stats *st)
{
	struct nlattr *tb[IPVS_STATS_ATTR_MAX + 1];
	uint64_t *slot[IPVS_STATS_ATTR_MAX + 1] = {
		[IPVS_STATS_ATTR_CONNS] = &st->conns, [IPVS_STATS_ATTR_INPKTS] = &st->inpkts,
		[IPVS_STATS_ATTR_OUTPKTS] = &st->outpkts, [IPVS_STATS_ATTR_INBYTES] = &st->inbytes,
		[IPVS_STATS_ATTR_OUTBYTES] = &st->outbytes, [IPVS_STATS_ATTR_CPS] = &st->cps,
		[IPVS_STATS_ATTR_INPPS] = &st->inpps, [IPVS_STATS_ATTR_OUTPPS] = &st->outpps,
		[IPVS_STATS_ATTR_INBPS] = &st->inbps, [IPVS_STATS_ATTR_OUTBPS] = &st->outbps,
	};
	int i;

	if (nest == NULL || nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, nest, NULL) < 0)
		return;
	for (i = 1; i <= IPVS_STATS_ATTR_MAX; i++) {
		if (tb[i] == NULL || slot[i] == NULL)
			continue;
		if (nla_len(tb[i]) >= 8)
			*slot[i] = nla_get_u64(tb[i]);
		else if (nla_len(tb[i]) >= 4)
			*slot[i] = nla_get_u32(tb[i]);
	}
}

/* Parses the nested service attribute set into out (key and attributes). */
static int
l4_parse_svc_nest(struct nlattr *nest, struct l4_svc *out)
{
	struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (nest == NULL || nla_parse_nested(tb, IPVS_SVC_ATTR_MAX, nest, NULL) < 0)
		return -EINVAL;
	if (l4_get_u16(tb[IPVS_SVC_ATTR_AF], &out->key.af) < 0 ||
	    (out->key.af != AF_INET && out->key.af != AF_INET6))
		return -EINVAL;
	if (tb[IPVS_SVC_ATTR_FWMARK] != NULL &&
	    l4_get_u32(tb[IPVS_SVC_ATTR_FWMARK], &out->key.fwmark) < 0)
		return -EINVAL;
	if (out->key.fwmark == 0) {
		uint16_t port;

		if (l4_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL], &out->key.protocol) < 0 ||
		    l4_get_addr(tb[IPVS_SVC_ATTR_ADDR], out->key.af, out->key.addr) < 0 ||
		    l4_get_u16(tb[IPVS_SVC_ATTR_PORT], &port) < 0)
			return -EINVAL;
		out->key.port = ntohs(port);
	} else {
		/* The kernel reports protocol/addr/port of fwmark services as
		 * zero; the key is the mark and the family only. */
		out->key.protocol = 0;
	}
	if (tb[IPVS_SVC_ATTR_SCHED_NAME] != NULL) {
		int len = nla_len(tb[IPVS_SVC_ATTR_SCHED_NAME]);

		if (len <= 0 || len > L4_SCHED_MAX)
			return -EINVAL;
		memcpy(out->sched, nla_data(tb[IPVS_SVC_ATTR_SCHED_NAME]), (size_t)len);
		out->sched[L4_SCHED_MAX - 1] = '\0';
	}
	if (tb[IPVS_SVC_ATTR_FLAGS] != NULL) {
		struct ip_vs_flags fl;

		if ((size_t)nla_len(tb[IPVS_SVC_ATTR_FLAGS]) < sizeof(fl))
			return -EINVAL;
		memcpy(&fl, nla_data(tb[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
		out->flags = fl.flags & ~(uint32_t)IP_VS_SVC_F_HASHED;
	}
	l4_opt_u32(tb[IPVS_SVC_ATTR_TIMEOUT], &out->timeout);
	l4_opt_u32(tb[IPVS_SVC_ATTR_NETMASK], &out->netmask);
	l4_parse_stats(tb[IPVS_SVC_ATTR_STATS64] ? tb[IPVS_SVC_ATTR_STATS64] : tb[IPVS_SVC_ATTR_STATS],
		       &out->stats);
	return 0;
}

static int
l4_parse_dest_nest(struct nlattr *nest, uint16_t svc_af, struct l4_dest *out)
{
	struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (nest == NULL || nla_parse_nested(tb, IPVS_DEST_ATTR_MAX, nest, NULL) < 0)
		return -EINVAL;
	/* Older kernels omit the family: a dest then has the service's. */
	out->af = svc_af;
	if (tb[IPVS_DEST_ATTR_ADDR_FAMILY] != NULL &&
	    l4_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY], &out->af) < 0)
		return -EINVAL;
	if (out->af != AF_INET && out->af != AF_INET6)
		return -EINVAL;
	if (l4_get_addr(tb[IPVS_DEST_ATTR_ADDR], out->af, out->addr) < 0 ||
	    l4_get_u16(tb[IPVS_DEST_ATTR_PORT], &port) < 0)
		return -EINVAL;
	out->port = ntohs(port);
	l4_opt_u32(tb[IPVS_DEST_ATTR_FWD_METHOD], &out->fwd);
	out->fwd &= IP_VS_CONN_F_FWD_MASK;
	l4_opt_u32(tb[IPVS_DEST_ATTR_WEIGHT], &out->weight);
	l4_opt_u32(tb[IPVS_DEST_ATTR_U_THRESH], &out->u_thresh);
	l4_opt_u32(tb[IPVS_DEST_ATTR_L_THRESH], &out->l_thresh);
	l4_opt_u32(tb[IPVS_DEST_ATTR_ACTIVE_CONNS], &out->activeconns);
	l4_opt_u32(tb[IPVS_DEST_ATTR_INACT_CONNS], &out->inactconns);
	l4_opt_u32(tb[IPVS_DEST_ATTR_PERSIST_CONNS], &out->persistconns);
	if (tb[IPVS_DEST_ATTR_TUN_TYPE] != NULL && nla_len(tb[IPVS_DEST_ATTR_TUN_TYPE]) >= 1)
		out->tun_type = nla_get_u8(tb[IPVS_DEST_ATTR_TUN_TYPE]);
	if (tb[IPVS_DEST_ATTR_TUN_PORT] != NULL && l4_get_u16(tb[IPVS_DEST_ATTR_TUN_PORT], &port) == 0)
		out->tun_port = ntohs(port);
	if (tb[IPVS_DEST_ATTR_TUN_FLAGS] != NULL)
		l4_get_u16(tb[IPVS_DEST_ATTR_TUN_FLAGS], &out->tun_flags);
	l4_parse_stats(tb[IPVS_DEST_ATTR_STATS64] ? tb[IPVS_DEST_ATTR_STATS64] : tb[IPVS_DEST_ATTR_STATS],
		       &out->stats);
	return 0;
}

int
l4_ipvs_parse_svc(struct nlmsghdr *nlh, struct l4_svc *out)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, NULL) < 0)
		return -EINVAL;
	return l4_parse_svc_nest(tb[IPVS_CMD_ATTR_SERVICE], out);
}

int
l4_ipvs_parse_dest(struct nlmsghdr *nlh, struct l4_dest *out)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, NULL) < 0)
		return -EINVAL;
	return l4_parse_dest_nest(tb[IPVS_CMD_ATTR_DEST], AF_INET, out);
}

/* ------------------------------------------------------------------ socket */

int
l4_ipvs_open(struct l4_ipvs **out)
{
	struct l4_ipvs *v;
	int rc;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->sk = nl_socket_alloc();
	if (v->sk == NULL) {
		free(v);
		return -ENOMEM;
	}
	rc = genl_connect(v->sk);
	if (rc < 0) {
		rc = rc == -NLE_PERM ? -EPERM : -EIO;
		goto fail;
	}
	/* Acks and errors are matched by sequence number ourselves, so several
	 * requests can be in flight. */
	nl_socket_disable_seq_check(v->sk);
	nl_socket_set_buffer_size(v->sk, L4_IPVS_BUF, L4_IPVS_BUF);
	v->family = genl_ctrl_resolve(v->sk, IPVS_GENL_NAME);
	if (v->family < 0) {
		rc = v->family == -NLE_PERM ? -EPERM : -ENOENT;
		goto fail;
	}
	*out = v;
	return 0;
fail:
	nl_socket_free(v->sk);
	free(v);
	return rc;
}

void
l4_ipvs_close(struct l4_ipvs **vp)
{
	if (*vp == NULL)
		return;
	nl_socket_free((*vp)->sk);
	free(*vp);
	*vp = NULL;
}

uint64_t
l4_ipvs_changes(const struct l4_ipvs *v)
{
	return v ? v->changes : 0;
}

uint64_t
l4_ipvs_dumps(const struct l4_ipvs *v)
{
	return v ? v->dumps : 0;
}

/* State of one dump or one window of changes, shared with the callbacks. */
struct l4_rx {
	struct l4_table *table;		/* dump target */
	struct l4_svc *svc;		/* dest dump target */
	struct l4_sync_daemon *daemons;	/* daemon dump target */
	int ndaemons, maxdaemons;
	int error;			/* first -errno of a dump or a parse */
	/* change windows */
	uint32_t seq0;			/* sequence number of window entry 0 */
	int pending;
	int errs[L4_IPVS_WINDOW];	/* per window entry: 0 or -errno */
};

static int
l4_rx_svc(struct nl_msg *msg, void *arg)
{
	struct l4_rx *rx = arg;
	struct l4_svc s;

	if (l4_ipvs_parse_svc(nlmsg_hdr(msg), &s) < 0) {
		rx->error = rx->error ? rx->error : -EPROTO;
		return NL_SKIP;
	}
	if (l4_table_add_svc(rx->table, &s) == NULL)
		rx->error = -ENOMEM;
	return NL_OK;
}

static int
l4_rx_dest(struct nl_msg *msg, void *arg)
{
	struct l4_rx *rx = arg;
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	struct l4_dest d;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, IPVS_CMD_ATTR_MAX, NULL) < 0 ||
	    l4_parse_dest_nest(tb[IPVS_CMD_ATTR_DEST], rx->svc->key.af, &d) < 0) {
		rx->error = rx->error ? rx->error : -EPROTO;
		return NL_SKIP;
	}
	if (l4_svc_add_dest(rx->svc, &d) < 0)
		rx->error = -ENOMEM;
	return NL_OK;
}

static int
l4_rx_dump_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct l4_rx *rx = arg;

	(void)nla;
	rx->error = e->error < 0 ? e->error : -EIO;
	return NL_STOP;
}

/* Sends a dump request (takes m) and reads every reply through cb_valid. */
static int
l4_ipvs_dump_one(struct l4_ipvs *v, struct nl_msg *m, nl_recvmsg_msg_cb_t cb_valid, struct l4_rx *rx)
{
	struct nl_cb *cb;
	int rc;

	if (m == NULL)
		return -ENOMEM;
	cb = nl_cb_clone(nl_socket_get_cb(v->sk));
	if (cb == NULL) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, rx);
	nl_cb_err(cb, NL_CB_CUSTOM, l4_rx_dump_err, rx);
	v->dumps++;
	rc = nl_send_auto(v->sk, m);
	nlmsg_free(m);
	if (rc >= 0)
		rc = nl_recvmsgs(v->sk, cb);
	nl_cb_put(cb);
	if (rx->error < 0)
		return rx->error;
	return rc < 0 ? -EIO : 0;
}

int
l4_ipvs_dump(struct l4_ipvs *v, struct l4_table *out)
{
	struct l4_rx rx = { .table = out };
	size_t i;
	int rc;

	rc = l4_ipvs_dump_one(v, l4_ipvs_msg_new(v->family, IPVS_CMD_GET_SERVICE, NLM_F_DUMP),
			      l4_rx_svc, &rx);
	if (rc < 0)
		return rc;
	for (i = 0; i < out->n; i++) {
		struct l4_rx drx = { .svc = &out->svcs[i] };

		rc = l4_ipvs_dump_one(v, l4_ipvs_msg_dump_dests(v->family, &out->svcs[i].key),
				      l4_rx_dest, &drx);
		/* A service deleted between the two dumps (by someone else) is
		 * simply reported without reals; the next reconcile sees it gone. */
		if (rc < 0 && rc != -ESRCH && rc != -ENOENT)
			return rc;
	}
	l4_table_sort(out);
	return 0;
}

static int
l4_rx_ack(struct nl_msg *msg, void *arg)
{
	struct l4_rx *rx = arg;
	uint32_t i = nlmsg_hdr(msg)->nlmsg_seq - rx->seq0;

	if (i < L4_IPVS_WINDOW && rx->pending > 0)
		rx->pending--;
	return NL_OK;
}

static int
l4_rx_change_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct l4_rx *rx = arg;
	uint32_t i = e->msg.nlmsg_seq - rx->seq0;

	(void)nla;
	if (i < L4_IPVS_WINDOW) {
		rx->errs[i] = e->error;
		if (rx->pending > 0)
			rx->pending--;
	}
	return NL_SKIP;
}

static const char *
l4_op_verb(int kind)
{
	switch (kind) {
	case L4_OP_SVC_ADD: return "add service";
	case L4_OP_SVC_EDIT: return "edit service";
	case L4_OP_SVC_DEL: return "delete service";
	case L4_OP_DEST_ADD: return "add real";
	case L4_OP_DEST_EDIT: return "edit real";
	default: return "delete real";
	}
}

/* Sends one window of at most L4_IPVS_WINDOW ops and collects every ack. */
static int
l4_ipvs_window(struct l4_ipvs *v, const struct l4_op *ops, size_t n, struct l4_apply_result *res)
{
	struct l4_rx rx;
	struct nl_cb *cb;
	size_t i, sent = 0;
	int rc = 0;

	memset(&rx, 0, sizeof(rx));
	cb = nl_cb_clone(nl_socket_get_cb(v->sk));
	if (cb == NULL)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, l4_rx_ack, &rx);
	nl_cb_err(cb, NL_CB_CUSTOM, l4_rx_change_err, &rx);
	for (i = 0; i < n; i++) {
		struct nl_msg *m = l4_ipvs_msg_op(v->family, &ops[i]);

		if (m == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = nl_send_auto(v->sk, m);
		if (i == 0)
			rx.seq0 = nlmsg_hdr(m)->nlmsg_seq;
		nlmsg_free(m);
		if (rc < 0) {
			rc = -EIO;
			break;
		}
		rc = 0;
		sent++;
		rx.pending++;
		v->changes++;
	}
	while (rx.pending > 0) {
		if (nl_recvmsgs(v->sk, cb) < 0) {
			rc = -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	res->sent += sent;
	for (i = 0; i < sent; i++) {
		char k[80], d[64];

		if (rx.errs[i] == 0)
			continue;
		res->failed++;
		if (res->first_error[0] != '\0')
			continue;
		l4_svc_key_format(&ops[i].svc->key, k, sizeof(k));
		d[0] = '\0';
		if (ops[i].dest != NULL) {
			d[0] = ' ';
			l4_dest_format(ops[i].dest, d + 1, sizeof(d) - 1);
		}
		snprintf(res->first_error, sizeof(res->first_error), "%s %s%s: %s",
			 l4_op_verb(ops[i].kind), k, d, strerror(-rx.errs[i]));
	}
	return rc;
}

int
l4_ipvs_apply(struct l4_ipvs *v, const struct l4_ops *ops, struct l4_apply_result *res)
{
	size_t off;
	int rc;

	memset(res, 0, sizeof(*res));
	for (off = 0; off < ops->n; off += L4_IPVS_WINDOW) {
		size_t n = ops->n - off < L4_IPVS_WINDOW ? ops->n - off : L4_IPVS_WINDOW;

		rc = l4_ipvs_window(v, ops->ops + off, n, res);
		if (rc < 0)
			return rc;
	}
	return res->failed ? -EIO : 0;
}

/* ------------------------------------------------------------- sync daemon */

/* Sends one change request (takes m) and waits for its ack. 0 or -errno. */
static int
l4_ipvs_change_sync(struct l4_ipvs *v, struct nl_msg *m)
{
	struct l4_rx rx;
	struct nl_cb *cb;
	int rc;

	if (m == NULL)
		return -ENOMEM;
	memset(&rx, 0, sizeof(rx));
	cb = nl_cb_clone(nl_socket_get_cb(v->sk));
	if (cb == NULL) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, l4_rx_ack, &rx);
	nl_cb_err(cb, NL_CB_CUSTOM, l4_rx_change_err, &rx);
	rc = nl_send_auto(v->sk, m);
	rx.seq0 = nlmsg_hdr(m)->nlmsg_seq;
	nlmsg_free(m);
	v->changes++;
	if (rc >= 0) {
		rx.pending = 1;
		rc = 0;
		while (rx.pending > 0 && rc == 0)
			rc = nl_recvmsgs(v->sk, cb) < 0 ? -EIO : 0;
	} else {
		rc = -EIO;
	}
	nl_cb_put(cb);
	return rc < 0 ? rc : rx.errs[0];
}

int
l4_ipvs_daemon_start(struct l4_ipvs *v, const struct l4_sync_daemon *d)
{
	struct nl_msg *m = l4_ipvs_msg_new(v->family, IPVS_CMD_NEW_DAEMON, 0);
	struct nlattr *n;

	if (m == NULL)
		return -ENOMEM;
	n = nla_nest_start(m, IPVS_CMD_ATTR_DAEMON);
	if (n == NULL || nla_put_u32(m, IPVS_DAEMON_ATTR_STATE, (uint32_t)d->state) < 0 ||
	    nla_put_string(m, IPVS_DAEMON_ATTR_MCAST_IFN, d->ifname) < 0 ||
	    nla_put_u32(m, IPVS_DAEMON_ATTR_SYNC_ID, d->syncid) < 0 ||
	    (d->mcast_port && nla_put_u16(m, IPVS_DAEMON_ATTR_MCAST_PORT, d->mcast_port) < 0) ||
	    (d->ttl && nla_put_u8(m, IPVS_DAEMON_ATTR_MCAST_TTL, d->ttl) < 0) ||
	    (d->mcast_af == AF_INET &&
	     nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP, 4, d->mcast_group) < 0) ||
	    (d->mcast_af == AF_INET6 &&
	     nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, d->mcast_group) < 0)) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nla_nest_end(m, n);
	return l4_ipvs_change_sync(v, m);
}

int
l4_ipvs_daemon_stop(struct l4_ipvs *v, int state)
{
	struct nl_msg *m = l4_ipvs_msg_new(v->family, IPVS_CMD_DEL_DAEMON, 0);
	struct nlattr *n;

	if (m == NULL)
		return -ENOMEM;
	n = nla_nest_start(m, IPVS_CMD_ATTR_DAEMON);
	if (n == NULL || nla_put_u32(m, IPVS_DAEMON_ATTR_STATE, (uint32_t)state) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nla_nest_end(m, n);
	return l4_ipvs_change_sync(v, m);
}

static int
l4_rx_daemon(struct nl_msg *msg, void *arg)
{
	struct l4_rx *rx = arg;
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1], *dt[IPVS_DAEMON_ATTR_MAX + 1];
	struct l4_sync_daemon *d;
	uint32_t u;

	if (rx->ndaemons >= rx->maxdaemons ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, IPVS_CMD_ATTR_MAX, NULL) < 0 ||
	    tb[IPVS_CMD_ATTR_DAEMON] == NULL ||
	    nla_parse_nested(dt, IPVS_DAEMON_ATTR_MAX, tb[IPVS_CMD_ATTR_DAEMON], NULL) < 0)
		return NL_SKIP;
	d = &rx->daemons[rx->ndaemons];
	memset(d, 0, sizeof(*d));
	if (l4_get_u32(dt[IPVS_DAEMON_ATTR_STATE], &u) < 0)
		return NL_SKIP;
	d->state = (int)u;
	if (dt[IPVS_DAEMON_ATTR_MCAST_IFN] != NULL)
		nla_strlcpy(d->ifname, dt[IPVS_DAEMON_ATTR_MCAST_IFN], sizeof(d->ifname));
	l4_opt_u32(dt[IPVS_DAEMON_ATTR_SYNC_ID], &d->syncid);
	if (dt[IPVS_DAEMON_ATTR_MCAST_PORT] != NULL)
		l4_get_u16(dt[IPVS_DAEMON_ATTR_MCAST_PORT], &d->mcast_port);
	rx->ndaemons++;
	return NL_OK;
}

int
l4_ipvs_daemon_list(struct l4_ipvs *v, struct l4_sync_daemon *out, int max)
{
	struct l4_rx rx = { .daemons = out, .maxdaemons = max };
	int rc;

	rc = l4_ipvs_dump_one(v, l4_ipvs_msg_new(v->family, IPVS_CMD_GET_DAEMON, NLM_F_DUMP),
			      l4_rx_daemon, &rx);
	return rc < 0 ? rc : rx.ndaemons;
}
