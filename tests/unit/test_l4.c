/* Unit tests for daemon/l4: the reconcile diff (pure), netlink message
 * building and parsing (libnl messages, no socket, no kernel), the owned
 * record lines, and conversion from a config. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/ip_vs.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "conf.h"
#include "errs.h"
#include "l4_httpck.h"
#include "l4_ipvs.h"
#include "l4_nft.h"
#include "l4_reconcile.h"
#include "l4_syncrole.h"
#include "l4_table.h"
#include "testconf.h"

#define FAMILY 42	/* any genl family id: nothing is sent */

static struct l4_svc
svc4(const char *addr, uint16_t port, const char *sched)
{
	struct l4_svc s;

	memset(&s, 0, sizeof(s));
	s.key.af = AF_INET;
	s.key.protocol = IPPROTO_TCP;
	inet_pton(AF_INET, addr, s.key.addr);
	s.key.port = port;
	snprintf(s.sched, sizeof(s.sched), "%s", sched);
	s.netmask = 0xffffffffu;
	return s;
}

static struct l4_dest
dest4(const char *addr, uint16_t port, uint32_t weight)
{
	struct l4_dest d;

	memset(&d, 0, sizeof(d));
	d.af = AF_INET;
	inet_pton(AF_INET, addr, d.addr);
	d.port = port;
	d.weight = weight;
	d.fwd = IP_VS_CONN_F_MASQ;
	return d;
}

/* n services 10.1.x.y:80 with 4 reals each, the same in want and have. */
static void
make_tables(struct l4_table *want, struct l4_table *have, int n)
{
	int i, j;

	memset(want, 0, sizeof(*want));
	memset(have, 0, sizeof(*have));
	for (i = 0; i < n; i++) {
		char a[32];
		struct l4_svc s;
		struct l4_svc *w, *h;

		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250 + 1);
		s = svc4(a, 80, "wrr");
		w = l4_table_add_svc(want, &s);
		h = l4_table_add_svc(have, &s);
		assert_non_null(w);
		assert_non_null(h);
		for (j = 0; j < 4; j++) {
			struct l4_dest d;

			snprintf(a, sizeof(a), "10.2.%d.%d", i / 250, i % 250 + 1);
			d = dest4(a, (uint16_t)(8000 + j), 1);
			assert_int_equal(l4_svc_add_dest(w, &d), 0);
			assert_int_equal(l4_svc_add_dest(h, &d), 0);
		}
	}
	l4_table_sort(want);
	l4_table_sort(have);
}

static void
test_diff_identical_is_empty(void **state)
{
	struct l4_table want, have;
	struct l4_ops ops = { 0 };

	(void)state;
	make_tables(&want, &have, 1000);
	assert_int_equal(l4_reconcile_diff(&want, &have, NULL, 0, &ops), 0);
	assert_int_equal(ops.n, 0);
	l4_ops_release(&ops);
	l4_table_release(&want);
	l4_table_release(&have);
}

static void
test_diff_one_weight_is_one_op(void **state)
{
	struct l4_table want, have;
	struct l4_ops ops = { 0 };

	(void)state;
	make_tables(&want, &have, 1000);
	want.svcs[517].dests[2].weight = 7;
	assert_int_equal(l4_reconcile_diff(&want, &have, NULL, 0, &ops), 0);
	assert_int_equal(ops.n, 1);
	assert_int_equal(ops.ops[0].kind, L4_OP_DEST_EDIT);
	assert_ptr_equal(ops.ops[0].svc, &want.svcs[517]);
	assert_int_equal(ops.ops[0].dest->weight, 7);
	l4_ops_release(&ops);
	l4_table_release(&want);
	l4_table_release(&have);
}

static void
test_diff_new_service_and_reals(void **state)
{
	struct l4_table want = { 0 }, have = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_svc s = svc4("10.0.0.1", 443, "rr"), *w;
	struct l4_dest d1 = dest4("10.0.1.1", 443, 1), d2 = dest4("10.0.1.2", 443, 2);

	(void)state;
	w = l4_table_add_svc(&want, &s);
	l4_svc_add_dest(w, &d2);
	l4_svc_add_dest(w, &d1);
	l4_table_sort(&want);
	assert_int_equal(l4_reconcile_diff(&want, &have, NULL, 0, &ops), 0);
	assert_int_equal(ops.n, 3);
	assert_int_equal(ops.ops[0].kind, L4_OP_SVC_ADD);
	assert_int_equal(ops.ops[1].kind, L4_OP_DEST_ADD);
	assert_int_equal(ops.ops[2].kind, L4_OP_DEST_ADD);
	assert_int_equal(ops.ops[1].dest->weight, 1);	/* sorted by address */
	l4_ops_release(&ops);
	l4_table_release(&want);
}

/* A kernel service nobody declared and that is not in the owned record (added
 * by hand with ipvsadm) is left alone; an owned one is deleted with one op. */
static void
test_diff_foreign_kept_owned_deleted(void **state)
{
	struct l4_table want = { 0 }, have = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_svc foreign = svc4("10.9.9.9", 80, "rr"), ours = svc4("10.0.0.5", 80, "wlc");
	struct l4_svc *h;
	struct l4_dest d = dest4("10.0.1.1", 80, 1);

	(void)state;
	h = l4_table_add_svc(&have, &foreign);
	l4_svc_add_dest(h, &d);
	h = l4_table_add_svc(&have, &ours);
	l4_svc_add_dest(h, &d);
	l4_table_sort(&have);
	assert_int_equal(l4_reconcile_diff(&want, &have, NULL, 0, &ops), 0);
	assert_int_equal(ops.n, 0);
	assert_int_equal(l4_reconcile_diff(&want, &have, &ours.key, 1, &ops), 0);
	assert_int_equal(ops.n, 1);
	assert_int_equal(ops.ops[0].kind, L4_OP_SVC_DEL);
	assert_int_equal(l4_svc_key_cmp(&ops.ops[0].svc->key, &ours.key), 0);
	l4_ops_release(&ops);
	l4_table_release(&have);
}

static void
test_diff_attrs_and_reals(void **state)
{
	struct l4_table want = { 0 }, have = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_svc sw = svc4("10.0.0.1", 80, "wrr"), sh = svc4("10.0.0.1", 80, "rr");
	struct l4_svc *w, *h;
	struct l4_dest keep = dest4("10.0.1.1", 80, 1), gone = dest4("10.0.1.2", 80, 1);
	struct l4_dest moved_old = dest4("10.0.1.3", 80, 1), moved_new = dest4("10.0.1.3", 81, 1);
	struct l4_dest dr = dest4("10.0.1.1", 80, 1);

	(void)state;
	sh.flags = IP_VS_SVC_F_HASHED;	/* kernel bookkeeping, not a difference */
	dr.fwd = IP_VS_CONN_F_DROUTE;
	w = l4_table_add_svc(&want, &sw);
	l4_svc_add_dest(w, &dr);
	l4_svc_add_dest(w, &moved_new);
	h = l4_table_add_svc(&have, &sh);
	l4_svc_add_dest(h, &keep);
	l4_svc_add_dest(h, &gone);
	l4_svc_add_dest(h, &moved_old);
	l4_table_sort(&want);
	l4_table_sort(&have);
	assert_int_equal(l4_reconcile_diff(&want, &have, NULL, 0, &ops), 0);
	assert_int_equal(ops.n, 5);
	assert_int_equal(ops.ops[0].kind, L4_OP_SVC_EDIT);	/* rr -> wrr */
	assert_int_equal(ops.ops[1].kind, L4_OP_DEST_EDIT);	/* nat -> dr */
	assert_int_equal(ops.ops[2].kind, L4_OP_DEST_DEL);	/* 10.0.1.2 */
	assert_int_equal(ops.ops[3].kind, L4_OP_DEST_DEL);	/* port changed: old out */
	assert_int_equal(ops.ops[3].dest->port, 80);
	assert_int_equal(ops.ops[4].kind, L4_OP_DEST_ADD);	/* and new in */
	assert_int_equal(ops.ops[4].dest->port, 81);
	/* Tunnel parameters matter only for tunnels. */
	keep.tun_type = 1;
	assert_false(l4_dest_attrs_differ(&keep, &dr) && keep.fwd == dr.fwd);
	l4_ops_release(&ops);
	l4_table_release(&want);
	l4_table_release(&have);
}

/* Build a message for an op and parse it back with the dump parser. */
static void
test_msg_roundtrip_v4(void **state)
{
	struct l4_svc s = svc4("192.0.2.10", 5432, "mh"), ps;
	struct l4_dest d = dest4("198.51.100.7", 6432, 300), pd;
	struct l4_op op = { L4_OP_SVC_ADD, &s, NULL };
	struct nl_msg *m;

	(void)state;
	s.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1;
	s.timeout = 360;
	s.netmask = htonl(0xffffff00u);
	m = l4_ipvs_msg_op(FAMILY, &op);
	assert_non_null(m);
	assert_int_equal(nlmsg_hdr(m)->nlmsg_type, FAMILY);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(m)))->cmd, IPVS_CMD_NEW_SERVICE);
	assert_int_equal(l4_ipvs_parse_svc(nlmsg_hdr(m), &ps), 0);
	assert_int_equal(l4_svc_key_cmp(&ps.key, &s.key), 0);
	assert_string_equal(ps.sched, "mh");
	assert_int_equal(ps.flags, s.flags);
	assert_int_equal(ps.timeout, 360);
	assert_int_equal(ps.netmask, htonl(0xffffff00u));
	nlmsg_free(m);

	d.u_thresh = 1000;
	d.l_thresh = 10;
	op.kind = L4_OP_DEST_EDIT;
	op.dest = &d;
	m = l4_ipvs_msg_op(FAMILY, &op);
	assert_non_null(m);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(m)))->cmd, IPVS_CMD_SET_DEST);
	assert_int_equal(l4_ipvs_parse_dest(nlmsg_hdr(m), &pd), 0);
	assert_int_equal(l4_dest_cmp(&pd, &d), 0);
	assert_int_equal(pd.weight, 300);
	assert_int_equal(pd.u_thresh, 1000);
	assert_int_equal(pd.l_thresh, 10);
	assert_int_equal(pd.fwd, IP_VS_CONN_F_MASQ);
	assert_false(l4_dest_attrs_differ(&pd, &d));
	nlmsg_free(m);
}

static void
test_msg_roundtrip_v6_fwmark_tunnel(void **state)
{
	struct l4_svc s, ps;
	struct l4_dest d, pd;
	struct l4_op op = { L4_OP_DEST_ADD, &s, &d };
	struct nl_msg *m;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.key.af = AF_INET6;
	s.key.fwmark = 77;
	snprintf(s.sched, sizeof(s.sched), "sh");
	s.netmask = 128;
	memset(&d, 0, sizeof(d));
	d.af = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", d.addr);
	d.port = 0;
	d.weight = 1;
	d.fwd = IP_VS_CONN_F_TUNNEL;
	d.tun_type = IP_VS_CONN_F_TUNNEL_TYPE_GUE;
	d.tun_port = 6080;
	m = l4_ipvs_msg_op(FAMILY, &op);
	assert_non_null(m);
	assert_int_equal(l4_ipvs_parse_svc(nlmsg_hdr(m), &ps), 0);
	assert_int_equal(ps.key.fwmark, 77);
	assert_int_equal(ps.key.af, AF_INET6);
	assert_int_equal(l4_svc_key_cmp(&ps.key, &s.key), 0);
	assert_int_equal(l4_ipvs_parse_dest(nlmsg_hdr(m), &pd), 0);
	assert_int_equal(pd.af, AF_INET6);
	assert_int_equal(l4_dest_cmp(&pd, &d), 0);
	assert_int_equal(pd.tun_type, IP_VS_CONN_F_TUNNEL_TYPE_GUE);
	assert_int_equal(pd.tun_port, 6080);
	nlmsg_free(m);

	/* A delete carries only the keys. */
	op.kind = L4_OP_DEST_DEL;
	m = l4_ipvs_msg_op(FAMILY, &op);
	assert_non_null(m);
	assert_int_equal(l4_ipvs_parse_dest(nlmsg_hdr(m), &pd), 0);
	assert_int_equal(pd.weight, 0);
	nlmsg_free(m);
	op.kind = 99;
	assert_null(l4_ipvs_msg_op(FAMILY, &op));
}

/* A dump entry as the kernel sends it: 64-bit stats, HASHED flag set. */
static void
test_parse_kernel_dump_entry(void **state)
{
	struct nl_msg *m = nlmsg_alloc();
	struct nlattr *n, *st;
	struct ip_vs_flags fl = { IP_VS_SVC_F_HASHED | IP_VS_SVC_F_PERSISTENT, ~0u };
	uint8_t addr[16] = { 10, 0, 0, 1 };
	struct l4_svc s;

	(void)state;
	genlmsg_put(m, 0, 1, FAMILY, 0, NLM_F_MULTI, IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
	n = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
	nla_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
	nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_UDP);
	nla_put(m, IPVS_SVC_ATTR_ADDR, 16, addr);
	nla_put_u16(m, IPVS_SVC_ATTR_PORT, htons(53));
	nla_put_string(m, IPVS_SVC_ATTR_SCHED_NAME, "wlc");
	nla_put(m, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl);
	nla_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, 300);
	nla_put_u32(m, IPVS_SVC_ATTR_NETMASK, 0xffffffffu);
	st = nla_nest_start(m, IPVS_SVC_ATTR_STATS64);
	nla_put_u64(m, IPVS_STATS_ATTR_CONNS, 5000000000ull);
	nla_put_u64(m, IPVS_STATS_ATTR_INBYTES, 123456789012ull);
	nla_nest_end(m, st);
	nla_nest_end(m, n);
	assert_int_equal(l4_ipvs_parse_svc(nlmsg_hdr(m), &s), 0);
	assert_int_equal(s.key.protocol, IPPROTO_UDP);
	assert_int_equal(s.key.port, 53);
	assert_int_equal(s.flags, IP_VS_SVC_F_PERSISTENT);
	assert_int_equal(s.stats.conns, 5000000000ull);
	assert_int_equal(s.stats.inbytes, 123456789012ull);
	nlmsg_free(m);

	/* Missing address: refused, not guessed. */
	m = nlmsg_alloc();
	genlmsg_put(m, 0, 1, FAMILY, 0, 0, IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
	n = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
	nla_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
	nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
	nla_put_u16(m, IPVS_SVC_ATTR_PORT, htons(53));
	nla_nest_end(m, n);
	assert_int_equal(l4_ipvs_parse_svc(nlmsg_hdr(m), &s), -EINVAL);
	nlmsg_free(m);
}

static void
test_owned_record_lines(void **state)
{
	static const char *const lines[] = { "tcp 10.0.0.1 80", "udp 2001:db8::1 53",
					     "fwmark ipv6 7", "fwmark ipv4 4294967295" };
	static const char *const bad[] = { "tcp 10.0.0.1", "icmp 1.2.3.4 1", "tcp 1.2.3.4 65536",
					   "fwmark ipv4 0", "tcp nowhere 80", "" };
	struct l4_svc_key k;
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(l4_svc_key_parse(lines[i], &k), 0);
		l4_svc_key_record(&k, buf, sizeof(buf));
		assert_string_equal(buf, lines[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(l4_svc_key_parse(bad[i], &k), -EINVAL);
}

static void
test_table_from_conf(void **state)
{
	static const char text[] =
		"{\"version\":1,\"l4\":{\"services\":["
		"{\"name\":\"db\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":5432,"
		" \"scheduler\":\"sh\",\"flags\":[\"sh-port\"],\"persistence_timeout\":60,\"persistence_netmask\":24,"
		" \"reals\":[{\"address\":\"10.0.1.2\",\"port\":5432,\"weight\":5,\"forward\":\"dr\"}]},"
		"{\"name\":\"m\",\"protocol\":\"fwmark\",\"fwmark\":9,\"family\":\"ipv6\","
		" \"reals\":[{\"address\":\"2001:db8::9\",\"forward\":\"tunnel\",\"tunnel_type\":\"gre\"}]}]}}";
	struct conf *c;
	struct l4_table t = { 0 };
	struct l4_svc_key k;

	(void)state;
	c = testconf_load(text);
	assert_int_equal(l4_table_from_conf(&t, c), 0);
	assert_int_equal(t.n, 2);
	/* sorted: IPv4 before IPv6 */
	assert_string_equal(t.svcs[0].name, "db");
	assert_string_equal(t.svcs[0].sched, "sh");
	assert_int_equal(t.svcs[0].flags, IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED2);
	assert_int_equal(t.svcs[0].timeout, 60);
	assert_int_equal(t.svcs[0].netmask, htonl(0xffffff00u));
	assert_int_equal(t.svcs[0].dests[0].fwd, IP_VS_CONN_F_DROUTE);
	assert_int_equal(t.svcs[0].dests[0].weight, 5);
	assert_string_equal(t.svcs[1].sched, "wlc");
	assert_int_equal(t.svcs[1].netmask, 128);
	assert_int_equal(t.svcs[1].dests[0].fwd, IP_VS_CONN_F_TUNNEL);
	assert_int_equal(t.svcs[1].dests[0].tun_type, IP_VS_CONN_F_TUNNEL_TYPE_GRE);
	assert_int_equal(l4_svc_key_parse("fwmark ipv6 9", &k), 0);
	assert_ptr_equal(l4_table_find(&t, &k), &t.svcs[1]);
	l4_table_release(&t);
	conf_free(&c);
}

/* The reload pass's pre-filter: only changed services are looked at. */
static void
test_changed_keys(void **state)
{
	struct l4_table want, prev;
	struct l4_svc_key *keys = NULL;
	size_t n = 99;

	(void)state;
	make_tables(&want, &prev, 10000);
	assert_int_equal(l4_reconcile_changed(&want, &prev, &keys, &n), 0);
	assert_int_equal(n, 0);
	free(keys);
	want.svcs[5000].dests[1].weight = 7;		/* one weight */
	want.svcs[7].timeout = 30;			/* one attribute */
	prev.svcs[9000].dests[3].port = 1;		/* a real replaced */
	l4_table_sort(&prev);
	assert_int_equal(l4_reconcile_changed(&want, &prev, &keys, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(&keys[0], &want.svcs[7].key, sizeof(keys[0]));
	assert_memory_equal(&keys[1], &want.svcs[5000].key, sizeof(keys[1]));
	assert_memory_equal(&keys[2], &want.svcs[9000].key, sizeof(keys[2]));
	free(keys);
	/* a service only in prev (removed) and one only in want (added) */
	want.svcs[5000].dests[1].weight = 1;
	want.svcs[7].timeout = prev.svcs[7].timeout;
	want.n--;
	assert_int_equal(l4_reconcile_changed(&want, &prev, &keys, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&keys[1], &prev.svcs[9999].key, sizeof(keys[1]));
	free(keys);
	want.n++;
	l4_table_release(&want);
	l4_table_release(&prev);
}

/* --- nftables: the ruleset builder and the listing parser --- */

static const char nft_conf_a[] =
	"{\"version\":1,\"l4\":{\"filter\":{\"deny\":[\"10.9.0.0/16\",\"2001:db8::/32\"],"
	"\"allow\":[\"10.8.0.1\"]},\"services\":["
	"{\"name\":\"web\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80,"
	" \"limits\":{\"new_conns\":%d,\"per\":\"minute\"}},"
	"{\"name\":\"db\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":5432,"
	" \"limits\":{\"concurrent\":20}},"
	"{\"name\":\"v6\",\"protocol\":\"udp\",\"address\":\"2001:db8::1\",\"port\":53,"
	" \"limits\":{\"new_conns\":10,\"per\":\"second\",\"burst\":20}}]}}";

static struct conf *
nft_conf(int new_conns)
{
	char text[1024];

	snprintf(text, sizeof(text), nft_conf_a, new_conns);
	return testconf_load(text);
}

/* The state the kernel would hold after script ran: every "add set|chain
 * inet tandem NAME" line, and the base chain's jump at handle 5. */
static void
nft_state_after(const char *script, struct l4_nft_state *st)
{
	const char *p;

	memset(st, 0, sizeof(*st));
	st->exists = 1;
	st->base = 1;
	st->jump_handle = 5;
	st->names = calloc(64, sizeof(*st->names));
	for (p = script; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char kind[16], name[L4_NFT_NAME_MAX];

		if (sscanf(p, "add %15s inet tandem %63s", kind, name) == 2 &&
		    (strcmp(kind, "set") == 0 || strcmp(kind, "chain") == 0) && strcmp(name, "pre") != 0)
			snprintf(st->names[st->nnames++], L4_NFT_NAME_MAX, "%s", name);
		if (sscanf(p, "add rule inet tandem pre jump %63s", name) == 1 ||
		    sscanf(p, "replace rule inet tandem pre handle %*u jump %63s", name) == 1)
			snprintf(st->jump_to, sizeof(st->jump_to), "%s", name);
	}
}

static void
test_nft_build_from_empty(void **state)
{
	struct conf *c = nft_conf(100);
	struct l4_nft_state st = { 0 };
	char *text = NULL;
	size_t n = 0;

	(void)state;
	assert_true(l4_nft_wanted(c));
	assert_int_equal(l4_nft_build(c, &st, &text, &n), 0);
	assert_non_null(strstr(text, "add table inet tandem\n"));
	assert_non_null(strstr(text, "add set inet tandem ban4 { type ipv4_addr; flags timeout; }"));
	assert_non_null(strstr(text, "flags interval; elements = { 10.9.0.0/16 }"));
	assert_non_null(strstr(text, "flags interval; elements = { 2001:db8::/32 }"));
	assert_non_null(strstr(text, "ip saddr @a4_"));
	assert_non_null(strstr(text, "ip daddr 10.0.0.1 tcp dport 80 ct state new update @r_"));
	assert_non_null(strstr(text, "{ ip saddr limit rate over 100/minute burst 100 packets }"));
	assert_non_null(strstr(text, "ip daddr 10.0.0.1 tcp dport 5432 ct state new add @n_"));
	assert_non_null(strstr(text, "{ ip saddr ct count over 20 }"));
	assert_non_null(strstr(text, "ip6 daddr 2001:db8::1 udp dport 53 ct state new update @r_"));
	assert_non_null(strstr(text, "{ ip6 saddr limit rate over 10/second burst 20 packets }"));
	assert_non_null(strstr(text, "hook prerouting priority -140"));
	assert_non_null(strstr(text, "add rule inet tandem pre jump c_"));
	assert_null(strstr(text, "flush"));
	assert_null(strstr(text, "delete"));
	/* only our table is ever named */
	{
		const char *p;

		for (p = text; *p; p = strchr(p, '\n') + 1)
			assert_non_null(strstr(p, "inet tandem"));
	}
	assert_true(n > 10);
	free(text);
	conf_free(&c);
}

static void
test_nft_build_unchanged_and_swap(void **state)
{
	struct conf *c = nft_conf(100), *c2 = nft_conf(50);
	struct l4_nft_state st, st2;
	char *text = NULL, *t2 = NULL, *t3 = NULL, oldr[L4_NFT_NAME_MAX] = "", needle[128];
	size_t n = 0, i;

	(void)state;
	assert_int_equal(l4_nft_build(c, &(struct l4_nft_state){ 0 }, &text, &n), 0);
	nft_state_after(text, &st);
	/* the same config against what it created: nothing to send */
	assert_int_equal(l4_nft_build(c, &st, &t2, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(t2, "");
	free(t2);
	/* one limit changed: new chain and rate set, one replace, old ones deleted */
	assert_int_equal(l4_nft_build(c2, &st, &t3, &n), 0);
	snprintf(needle, sizeof(needle), "replace rule inet tandem pre handle 5 jump c_");
	assert_non_null(strstr(t3, needle));
	snprintf(needle, sizeof(needle), "delete chain inet tandem %s\n", st.jump_to);
	assert_non_null(strstr(t3, needle));
	assert_non_null(strstr(t3, "limit rate over 50/minute"));
	for (i = 0; i < st.nnames; i++)
		if (strncmp(st.names[i], "r_", 2) == 0 && strstr(text, st.names[i]) &&
		    strstr(text, "over 100/minute") && oldr[0] == '\0') {
			/* the web rate set is the first r_ created */
			snprintf(oldr, sizeof(oldr), "%s", st.names[i]);
		}
	snprintf(needle, sizeof(needle), "delete set inet tandem %s\n", oldr);
	assert_non_null(strstr(t3, needle));
	/* untouched: the ban sets, the deny/allow sets, the count set */
	assert_null(strstr(t3, "ban4 {"));
	assert_null(strstr(t3, "delete set inet tandem n_"));
	assert_null(strstr(t3, "delete set inet tandem d4_"));
	assert_null(strstr(t3, "elements"));
	assert_null(strstr(t3, "flush"));
	/* after the swap (old objects gone, new ones there), nothing to do */
	nft_state_after(t3, &st2);
	for (i = 0; i < st.nnames; i++) {
		char del[128];

		snprintf(del, sizeof(del), "inet tandem %s\n", st.names[i]);
		if (strstr(t3, del) == NULL)
			snprintf(st2.names[st2.nnames++], L4_NFT_NAME_MAX, "%s", st.names[i]);
	}
	t2 = NULL;
	assert_int_equal(l4_nft_build(c2, &st2, &t2, &n), 0);
	assert_int_equal(n, 0);
	free(t2);
	free(text);
	free(t3);
	l4_nft_state_release(&st);
	l4_nft_state_release(&st2);
	conf_free(&c);
	conf_free(&c2);
}

static void
test_nft_state_parse(void **state)
{
	static const char json[] =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
		" {\"table\": {\"family\": \"inet\", \"name\": \"tandem\", \"handle\": 3}},"
		" {\"set\": {\"family\": \"inet\", \"name\": \"ban4\", \"table\": \"tandem\", \"type\": \"ipv4_addr\"}},"
		" {\"set\": {\"family\": \"inet\", \"name\": \"d4_0123456789ab\", \"table\": \"tandem\"}},"
		" {\"chain\": {\"family\": \"inet\", \"table\": \"tandem\", \"name\": \"c_00000000abcd\", \"handle\": 4}},"
		" {\"chain\": {\"family\": \"inet\", \"table\": \"tandem\", \"name\": \"pre\", \"handle\": 1,"
		"   \"type\": \"filter\", \"hook\": \"prerouting\", \"prio\": -140, \"policy\": \"accept\"}},"
		" {\"rule\": {\"family\": \"inet\", \"table\": \"tandem\", \"chain\": \"pre\", \"handle\": 9,"
		"   \"expr\": [{\"jump\": {\"target\": \"c_00000000abcd\"}}]}}]}";
	struct l4_nft_state st;

	(void)state;
	assert_int_equal(l4_nft_state_parse(json, &st), 0);
	assert_true(st.exists);
	assert_true(st.base);
	assert_int_equal(st.jump_handle, 9);
	assert_string_equal(st.jump_to, "c_00000000abcd");
	assert_int_equal(st.nnames, 3);
	l4_nft_state_release(&st);
	assert_int_equal(l4_nft_state_parse("not json", &st), -EINVAL);
	l4_nft_state_release(&st);
}

/* Validation of l4.filter and limits: errors carry their JSON path. */
static void
test_nft_conf_errors(void **state)
{
	static const char text[] =
		"{\"version\":1,\"l4\":{\"filter\":{\"deny\":[\"10.0.0.0/8\",\"10.1.0.0/16\",\"bad\",\"10.0.0.1/33\"],"
		"\"ban_timeout\":0,\"x\":1},\"services\":["
		"{\"name\":\"a\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80,"
		" \"limits\":{\"per\":\"week\",\"burst\":3,\"concurrent\":-1}}]}}";
	static const char *const want[] = {
		"$.l4.filter.deny[1]", "$.l4.filter.deny[2]", "$.l4.filter.deny[3]",
		"$.l4.filter.ban_timeout", "$.l4.filter.x", "$.l4.services[0].limits.per",
		"$.l4.services[0].limits.burst", "$.l4.services[0].limits.concurrent", NULL,
	};
	const char *const *w;
	struct errs e;
	struct conf *c;
	size_t i;

	(void)state;
	errs_init(&e);
	c = conf_parse(text, strlen(text), &e);
	assert_null(c);
	for (w = want; *w; w++) {
		for (i = 0; i < e.count && strcmp(e.items[i].path, *w) != 0; i++)
			;
		if (i == e.count)
			fail_msg("no error at %s", *w);
	}
	errs_release(&e);
}

/* Parses text, which must be refused, and checks that every path of want
 * (NULL-terminated) has an error. */
static void
assert_errors_at(const char *text, const char *const *want)
{
	const char *const *w;
	struct errs e;
	size_t i;

	errs_init(&e);
	assert_null(conf_parse(text, strlen(text), &e));
	for (w = want; *w; w++) {
		for (i = 0; i < e.count && strcmp(e.items[i].path, *w) != 0; i++)
			;
		if (i == e.count)
			fail_msg("no error at %s", *w);
	}
	errs_release(&e);
}

/* Validation of a service's health check. */
static void
test_check_conf_errors(void **state)
{
	static const char text[] =
		"{\"version\":1,\"l4\":{\"services\":["
		"{\"name\":\"a\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80,"
		" \"check\":{\"type\":\"tcp\",\"interval\":1,\"timeout\":2,\"send\":\"x\",\"fall\":0}},"
		"{\"name\":\"b\",\"protocol\":\"udp\",\"address\":\"10.0.0.1\",\"port\":53,"
		" \"check\":{\"type\":\"icmp\"}},"
		"{\"name\":\"c\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":6379,"
		" \"check\":{\"type\":\"send_expect\",\"send\":\"PING\\r\\n\"}}]}}";
	static const char *const want[] = {
		"$.l4.services[0].check.timeout", "$.l4.services[0].check.send",
		"$.l4.services[0].check.fall", "$.l4.services[1].check.type",
		"$.l4.services[2].check.expect", NULL,
	};
	static const char good[] =
		"{\"version\":1,\"l4\":{\"services\":["
		"{\"name\":\"c\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":6379,"
		" \"check\":{\"type\":\"send_expect\",\"send\":\"PING\\r\\n\",\"expect\":\"+PONG\",\"interval\":0.5}}]}}";
	struct errs e;
	struct conf *c;

	(void)state;
	assert_errors_at(text, want);
	errs_init(&e);
	c = conf_parse(good, strlen(good), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.services[0].check.type, CONF_L4_CHECK_SEND_EXPECT);
	assert_int_equal(c->l4.services[0].check.interval_ms, 500);
	assert_int_equal(c->l4.services[0].check.send_len, 6);
	assert_string_equal(c->l4.services[0].check.expect, "+PONG");
	assert_int_equal(c->l4.services[0].check.fall, 3);
	conf_free(&c);
	errs_release(&e);
}

/* The http check and remove_after: defaults, and errors on their fields. */
static void
test_check_http_conf(void **state)
{
	static const char bad[] =
		"{\"version\":1,\"l4\":{\"services\":["
		"{\"name\":\"a\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80,"
		" \"check\":{\"type\":\"http\",\"method\":\"get\",\"path\":\"no slash\",\"host\":\"a b\","
		"  \"expect_status\":600,\"remove_after\":0}},"
		"{\"name\":\"b\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":81,"
		" \"check\":{\"type\":\"tcp\",\"path\":\"/\"}}]}}";
	static const char *const want[] = {
		"$.l4.services[0].check.method", "$.l4.services[0].check.path",
		"$.l4.services[0].check.host", "$.l4.services[0].check.expect_status",
		"$.l4.services[0].check.remove_after", "$.l4.services[1].check.path", NULL,
	};
	static const char good[] =
		"{\"version\":1,\"l4\":{\"services\":["
		"{\"name\":\"a\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":80,"
		" \"check\":{\"type\":\"http\",\"remove_after\":30}},"
		"{\"name\":\"b\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\",\"port\":81,"
		" \"check\":{\"type\":\"http\",\"method\":\"HEAD\",\"path\":\"/health?x=1\","
		"  \"host\":\"app.example\",\"expect_status\":204}}]}}";
	struct errs e;
	struct conf *c;

	(void)state;
	assert_errors_at(bad, want);
	errs_init(&e);
	c = conf_parse(good, strlen(good), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.services[0].check.type, CONF_L4_CHECK_HTTP);
	assert_string_equal(c->l4.services[0].check.method, "GET");
	assert_string_equal(c->l4.services[0].check.path, "/");
	assert_null(c->l4.services[0].check.host);
	assert_int_equal(c->l4.services[0].check.expect_status, 200);
	assert_int_equal(c->l4.services[0].check.remove_after_ms, 30000);
	assert_string_equal(c->l4.services[1].check.method, "HEAD");
	assert_string_equal(c->l4.services[1].check.path, "/health?x=1");
	assert_string_equal(c->l4.services[1].check.host, "app.example");
	assert_int_equal(c->l4.services[1].check.expect_status, 204);
	assert_int_equal(c->l4.services[1].check.remove_after_ms, 0);
	conf_free(&c);
	errs_release(&e);
}

/* The http check's status line: complete, incomplete, wrong. */
static void
test_httpck(void **state)
{
	unsigned code = 0;

	(void)state;
	assert_int_equal(l4_httpck_status("HTTP/1.1 200 OK\r\n", 17, &code), 1);
	assert_int_equal(code, 200);
	assert_int_equal(l4_httpck_status("HTTP/1.0 503\r\n", 14, &code), 1);
	assert_int_equal(code, 503);
	assert_int_equal(l4_httpck_status("HTTP/1.1 20", 11, &code), 0);	/* more to come */
	assert_int_equal(l4_httpck_status("HTTP/1.1 204", 12, &code), 0);	/* the next byte decides */
	assert_int_equal(l4_httpck_status("", 0, &code), 0);
	assert_int_equal(l4_httpck_status("-ERR", 4, &code), -1);		/* wrong from the first byte */
	assert_int_equal(l4_httpck_status("HTTP/1.1 2000", 13, &code), -1);
	assert_int_equal(l4_httpck_status("HTTP/1.1 099 x", 14, &code), -1);
	assert_int_equal(l4_httpck_status("HTTP/x.1 200 OK", 15, &code), -1);
}

/* Validation of l4.sync. */
static void
test_sync_conf(void **state)
{
	static const char bad[] =
		"{\"version\":1,\"l4\":{\"sync\":{\"role\":\"leader\",\"syncid\":300,"
		"\"mcast_group\":\"10.0.0.1\",\"interface\":\"this-name-is-too-long\"}}}";
	static const char *const want[] = { "$.l4.sync.role", "$.l4.sync.syncid",
		"$.l4.sync.mcast_group", "$.l4.sync.interface", NULL };
	static const char good[] =
		"{\"version\":1,\"l4\":{\"sync\":{\"role\":\"backup\",\"interface\":\"eth1\","
		"\"syncid\":9,\"mcast_group\":\"224.0.0.81\",\"mcast_port\":8848}}}";
	const char *const *w;
	struct errs e;
	struct conf *c;
	size_t i;

	(void)state;
	errs_init(&e);
	assert_null(conf_parse(bad, strlen(bad), &e));
	for (w = want; *w; w++) {
		for (i = 0; i < e.count && strcmp(e.items[i].path, *w) != 0; i++)
			;
		if (i == e.count)
			fail_msg("no error at %s", *w);
	}
	errs_release(&e);
	errs_init(&e);
	c = conf_parse(good, strlen(good), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.sync.role, CONF_L4_SYNC_BACKUP);
	assert_string_equal(c->l4.sync.interface, "eth1");
	assert_int_equal(c->l4.sync.syncid, 9);
	assert_int_equal(c->l4.sync.mcast_af, AF_INET);
	assert_int_equal(c->l4.sync.mcast_port, 8848);
	conf_free(&c);
	errs_release(&e);
}

/* role "vrrp": its options, and the cross-check with the vrrp section. */
#define SYNC_VRRP_SECTION "\"vrrp\":{\"local\":{\"interface\":\"eth0\",\"address\":\"192.0.2.11\"}," \
	"\"groups\":[{\"name\":\"web\",\"virtual_router_id\":51,\"unicast_peers\":[\"192.0.2.12\"]," \
	"\"vips\":[\"192.0.2.10\"]}]},"
static void
test_sync_conf_vrrp(void **state)
{
	static const struct { const char *json, *path; } bad[] = {
		{ "{\"version\":1,\"l4\":{\"sync\":{\"role\":\"vrrp\",\"interface\":\"eth1\"}}}",
		  "$.l4.sync.role" },
		{ "{\"version\":1," SYNC_VRRP_SECTION "\"l4\":{\"sync\":{\"role\":\"vrrp\",\"interface\":\"eth1\","
		  "\"vrrp_group\":\"db\"}}}", "$.l4.sync.vrrp_group" },
		{ "{\"version\":1," SYNC_VRRP_SECTION "\"l4\":{\"sync\":{\"role\":\"vrrp\",\"interface\":\"eth1\","
		  "\"on_master\":\"backup\"}}}", "$.l4.sync.on_master" },
		{ "{\"version\":1," SYNC_VRRP_SECTION "\"l4\":{\"sync\":{\"role\":\"master\",\"interface\":\"eth1\","
		  "\"vrrp_group\":\"web\"}}}", "$.l4.sync.vrrp_group" },
	};
	static const char good[] = "{\"version\":1," SYNC_VRRP_SECTION "\"l4\":{\"sync\":{\"role\":\"vrrp\","
		"\"interface\":\"eth1\",\"vrrp_group\":\"web\",\"on_master\":\"both\"}}}";
	static const char both[] = "{\"version\":1,\"l4\":{\"sync\":{\"role\":\"both\",\"interface\":\"eth1\"}}}";
	struct errs e;
	struct conf *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errs_init(&e);
		assert_null(conf_parse(bad[i].json, strlen(bad[i].json), &e));
		assert_true(e.count >= 1);
		assert_string_equal(e.items[0].path, bad[i].path);
		errs_release(&e);
	}
	errs_init(&e);
	c = conf_parse(good, strlen(good), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.sync.role, CONF_L4_SYNC_VRRP);
	assert_string_equal(c->l4.sync.vrrp_group, "web");
	assert_int_equal(c->l4.sync.on_master, CONF_L4_SYNC_BOTH);
	conf_free(&c);
	c = conf_parse(both, strlen(both), &e);
	assert_non_null(c);
	assert_int_equal(c->l4.sync.role, CONF_L4_SYNC_BOTH);
	conf_free(&c);
	errs_release(&e);
}

/* Which daemons VRRP roles ask for. */
static void
test_sync_from_vrrp(void **state)
{
	enum vrrp_role r[3] = { VRRP_ROLE_UNKNOWN, VRRP_ROLE_UNKNOWN, VRRP_ROLE_UNKNOWN }, sum;

	(void)state;
	assert_int_equal(l4_sync_from_vrrp(r, 0, CONF_L4_SYNC_MASTER, &sum), -1);
	r[0] = VRRP_ROLE_UNKNOWN;
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_MASTER, &sum), -1);
	r[0] = VRRP_ROLE_MASTER;
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_MASTER);
	assert_int_equal(sum, VRRP_ROLE_MASTER);
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_BOTH, &sum), CONF_L4_SYNC_BOTH);
	r[0] = VRRP_ROLE_BACKUP;
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_BOTH, &sum), CONF_L4_SYNC_BACKUP);
	r[0] = VRRP_ROLE_FAULT;
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_BACKUP);
	assert_int_equal(sum, VRRP_ROLE_FAULT);
	r[0] = VRRP_ROLE_STOP;
	assert_int_equal(l4_sync_from_vrrp(r, 1, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_NONE);
	assert_int_equal(sum, VRRP_ROLE_STOP);
	/* several groups: any MASTER wins, then BACKUP over FAULT, then STOP */
	r[0] = VRRP_ROLE_FAULT, r[1] = VRRP_ROLE_BACKUP, r[2] = VRRP_ROLE_STOP;
	assert_int_equal(l4_sync_from_vrrp(r, 3, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_BACKUP);
	assert_int_equal(sum, VRRP_ROLE_BACKUP);
	r[2] = VRRP_ROLE_MASTER;
	assert_int_equal(l4_sync_from_vrrp(r, 3, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_MASTER);
	r[0] = VRRP_ROLE_DELETED, r[1] = VRRP_ROLE_STOP, r[2] = VRRP_ROLE_UNKNOWN;
	assert_int_equal(l4_sync_from_vrrp(r, 3, CONF_L4_SYNC_MASTER, &sum), CONF_L4_SYNC_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_identical_is_empty),
		cmocka_unit_test(test_diff_one_weight_is_one_op),
		cmocka_unit_test(test_diff_new_service_and_reals),
		cmocka_unit_test(test_diff_foreign_kept_owned_deleted),
		cmocka_unit_test(test_diff_attrs_and_reals),
		cmocka_unit_test(test_msg_roundtrip_v4),
		cmocka_unit_test(test_msg_roundtrip_v6_fwmark_tunnel),
		cmocka_unit_test(test_parse_kernel_dump_entry),
		cmocka_unit_test(test_owned_record_lines),
		cmocka_unit_test(test_table_from_conf),
		cmocka_unit_test(test_changed_keys),
		cmocka_unit_test(test_nft_build_from_empty),
		cmocka_unit_test(test_nft_build_unchanged_and_swap),
		cmocka_unit_test(test_nft_state_parse),
		cmocka_unit_test(test_nft_conf_errors),
		cmocka_unit_test(test_check_conf_errors),
		cmocka_unit_test(test_check_http_conf),
		cmocka_unit_test(test_httpck),
		cmocka_unit_test(test_sync_conf),
		cmocka_unit_test(test_sync_conf_vrrp),
		cmocka_unit_test(test_sync_from_vrrp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
