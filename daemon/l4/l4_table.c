/*
 * l4_table - sets of IPVS services and the conversion from a config.
 *
 * Invariants: after l4_table_sort() services are ordered by l4_svc_key_cmp
 * and each service's dests by l4_dest_cmp, without duplicates when the input
 * had none (the config validator refuses duplicates; the kernel has none).
 * Growth is checked: a failed realloc leaves the table as it was.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ip_vs.h>

#include "conf.h"
#include "l4_table.h"

/* Grows *arr (of elem bytes each) to hold at least need items. 0 or -ENOMEM. */
static int
l4_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (n == NULL)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

struct l4_svc *
l4_table_add_svc(struct l4_table *t, const struct l4_svc *svc)
{
	struct l4_svc *s;

	if (l4_grow((void **)&t->svcs, &t->cap, t->n + 1, sizeof(*t->svcs)) < 0)
		return NULL;
	s = &t->svcs[t->n++];
	*s = *svc;
	s->dests = NULL;
	s->ndests = s->dcap = 0;
	return s;
}

int
l4_svc_add_dest(struct l4_svc *svc, const struct l4_dest *d)
{
	if (l4_grow((void **)&svc->dests, &svc->dcap, svc->ndests + 1, sizeof(*svc->dests)) < 0)
		return -ENOMEM;
	svc->dests[svc->ndests++] = *d;
	return 0;
}

int
l4_svc_key_cmp(const struct l4_svc_key *a, const struct l4_svc_key *b)
{
	int r;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if (a->fwmark != b->fwmark)
		return a->fwmark < b->fwmark ? -1 : 1;
	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

int
l4_dest_cmp(const struct l4_dest *a, const struct l4_dest *b)
{
	int r;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

static int
l4_svc_qcmp(const void *a, const void *b)
{
	return l4_svc_key_cmp(&((const struct l4_svc *)a)->key, &((const struct l4_svc *)b)->key);
}

static int
l4_dest_qcmp(const void *a, const void *b)
{
	return l4_dest_cmp(a, b);
}

void
l4_table_sort(struct l4_table *t)
{
	size_t i;

	if (t->n > 1)
		qsort(t->svcs, t->n, sizeof(*t->svcs), l4_svc_qcmp);
	for (i = 0; i < t->n; i++)
		if (t->svcs[i].ndests > 1)
			qsort(t->svcs[i].dests, t->svcs[i].ndests, sizeof(struct l4_dest), l4_dest_qcmp);
}

struct l4_svc *
l4_table_find(const struct l4_table *t, const struct l4_svc_key *k)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = l4_svc_key_cmp(&t->svcs[mid].key, k);

		if (r == 0)
			return &t->svcs[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
l4_table_release(struct l4_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->svcs[i].dests);
	free(t->svcs);
	t->svcs = NULL;
	t->n = t->cap = 0;
}

/* IPv4 netmasks are a mask in network order; IPv6 ones a prefix length. */
static uint32_t
l4_netmask(int af, unsigned prefix)
{
	if (af == AF_INET6)
		return prefix;
	return htonl(prefix == 0 ? 0 : 0xffffffffu << (32 - prefix));
}

int
l4_table_from_conf(struct l4_table *t, const struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->l4.nservices; i++) {
		const struct conf_l4_service *cs = &c->l4.services[i];
		struct l4_svc s, *ns;

		memset(&s, 0, sizeof(s));
		s.key.af = (uint16_t)cs->af;
		if (cs->protocol == CONF_L4_FWMARK) {
			s.key.fwmark = cs->fwmark;
		} else {
			s.key.protocol = cs->protocol == CONF_L4_TCP ? IPPROTO_TCP : IPPROTO_UDP;
			memcpy(s.key.addr, cs->addr, cs->af == AF_INET ? 4 : 16);
			s.key.port = cs->port;
		}
		snprintf(s.sched, sizeof(s.sched), "%s", cs->scheduler);
		if (cs->persistence_timeout > 0)
			s.flags |= IP_VS_SVC_F_PERSISTENT;
		if (cs->flags & CONF_L4_F_ONEPACKET)
			s.flags |= IP_VS_SVC_F_ONEPACKET;
		if (cs->flags & CONF_L4_F_SCHED1)
			s.flags |= IP_VS_SVC_F_SCHED1;
		if (cs->flags & CONF_L4_F_SCHED2)
			s.flags |= IP_VS_SVC_F_SCHED2;
		s.timeout = cs->persistence_timeout;
		s.netmask = l4_netmask(cs->af, cs->persistence_netmask);
		s.name = cs->name;
		ns = l4_table_add_svc(t, &s);
		if (ns == NULL)
			return -ENOMEM;
		for (j = 0; j < cs->nreals; j++) {
			const struct conf_l4_real *r = &cs->reals[j];
			struct l4_dest d;

			memset(&d, 0, sizeof(d));
			d.af = (uint16_t)r->af;
			memcpy(d.addr, r->addr, r->af == AF_INET ? 4 : 16);
			d.port = r->port;
			d.fwd = r->forward == CONF_L4_DR ? IP_VS_CONN_F_DROUTE :
				r->forward == CONF_L4_TUNNEL ? IP_VS_CONN_F_TUNNEL : IP_VS_CONN_F_MASQ;
			d.weight = r->weight;
			d.u_thresh = r->u_threshold;
			d.l_thresh = r->l_threshold;
			if (r->forward == CONF_L4_TUNNEL) {
				d.tun_type = r->tunnel_type == CONF_L4_TUN_GUE ? IP_VS_CONN_F_TUNNEL_TYPE_GUE :
					     r->tunnel_type == CONF_L4_TUN_GRE ? IP_VS_CONN_F_TUNNEL_TYPE_GRE :
					     IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
				d.tun_port = r->tunnel_port;
			}
			if (l4_svc_add_dest(ns, &d) < 0)
				return -ENOMEM;
		}
	}
	l4_table_sort(t);
	return 0;
}

void
l4_svc_key_format(const struct l4_svc_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (k->fwmark != 0) {
		snprintf(buf, len, "FWM %u %s", k->fwmark, k->af == AF_INET6 ? "IPv6" : "IPv4");
		return;
	}
	inet_ntop(k->af, k->addr, a, sizeof(a));
	snprintf(buf, len, k->af == AF_INET6 ? "%s [%s]:%u" : "%s %s:%u",
		 k->protocol == IPPROTO_TCP ? "TCP" : k->protocol == IPPROTO_UDP ? "UDP" :
		 k->protocol == IPPROTO_SCTP ? "SCTP" : "?", a, k->port);
}

void
l4_dest_format(const struct l4_dest *d, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(d->af, d->addr, a, sizeof(a));
	snprintf(buf, len, d->af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, d->port);
}

void
l4_svc_key_record(const struct l4_svc_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (k->fwmark != 0) {
		snprintf(buf, len, "fwmark %s %u", k->af == AF_INET6 ? "ipv6" : "ipv4", k->fwmark);
		return;
	}
	inet_ntop(k->af, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s %s %u", k->protocol == IPPROTO_TCP ? "tcp" :
		 k->protocol == IPPROTO_UDP ? "udp" : k->protocol == IPPROTO_SCTP ? "sctp" : "?",
		 a, k->port);
}

int
l4_svc_key_parse(const char *line, struct l4_svc_key *k)
{
	char w1[8], w2[INET6_ADDRSTRLEN];
	unsigned long n;
	char *end;
	const char *p;

	memset(k, 0, sizeof(*k));
	if (sscanf(line, "%7s %45s", w1, w2) != 2)
		return -EINVAL;
	p = strrchr(line, ' ');
	if (p == NULL)
		return -EINVAL;
	errno = 0;
	n = strtoul(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || (*end != '\0' && *end != '\n'))
		return -EINVAL;
	if (strcmp(w1, "fwmark") == 0) {
		if (n == 0 || n > 0xffffffffUL)
			return -EINVAL;
		if (strcmp(w2, "ipv4") == 0)
			k->af = AF_INET;
		else if (strcmp(w2, "ipv6") == 0)
			k->af = AF_INET6;
		else
			return -EINVAL;
		k->fwmark = (uint32_t)n;
		return 0;
	}
	if (strcmp(w1, "tcp") == 0)
		k->protocol = IPPROTO_TCP;
	else if (strcmp(w1, "udp") == 0)
		k->protocol = IPPROTO_UDP;
	else if (strcmp(w1, "sctp") == 0)
		k->protocol = IPPROTO_SCTP;
	else
		return -EINVAL;
	if (n > 65535)
		return -EINVAL;
	k->port = (uint16_t)n;
	if (inet_pton(AF_INET, w2, k->addr) == 1)
		k->af = AF_INET;
	else if (inet_pton(AF_INET6, w2, k->addr) == 1)
		k->af = AF_INET6;
	else
		return -EINVAL;
	return 0;
}
