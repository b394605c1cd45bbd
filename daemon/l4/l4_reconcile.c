/*
 * l4_reconcile - merge-join two sorted service tables into kernel ops.
 *
 * Both tables are sorted by key, so the diff is one linear pass over services
 * and, inside each service present on both sides, one pass over its reals:
 * O(n) after the sorts, which matters at 10,000 services.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ip_vs.h>

#include "l4_reconcile.h"
#include "l4_table.h"

/* The service flags we set; HASHED is the kernel's own bookkeeping. */
#define L4_SVC_FLAGS_MASK (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | \
			   IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3)

static int
l4_ops_push(struct l4_ops *o, int kind, const struct l4_svc *svc, const struct l4_dest *d)
{
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		struct l4_op *n = realloc(o->ops, ncap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		o->ops = n;
		o->cap = ncap;
	}
	o->ops[o->n].kind = kind;
	o->ops[o->n].svc = svc;
	o->ops[o->n].dest = d;
	o->n++;
	return 0;
}

void
l4_ops_release(struct l4_ops *ops)
{
	free(ops->ops);
	ops->ops = NULL;
	ops->n = ops->cap = 0;
}

int
l4_svc_attrs_differ(const struct l4_svc *a, const struct l4_svc *b)
{
	return strncmp(a->sched, b->sched, sizeof(a->sched)) != 0 ||
	       (a->flags & L4_SVC_FLAGS_MASK) != (b->flags & L4_SVC_FLAGS_MASK) ||
	       a->timeout != b->timeout || a->netmask != b->netmask;
}

int
l4_dest_attrs_differ(const struct l4_dest *a, const struct l4_dest *b)
{
	if ((a->fwd & IP_VS_CONN_F_FWD_MASK) != (b->fwd & IP_VS_CONN_F_FWD_MASK) ||
	    a->weight != b->weight || a->u_thresh != b->u_thresh || a->l_thresh != b->l_thresh)
		return 1;
	/* Tunnel parameters only mean something for a tunnel. */
	if ((a->fwd & IP_VS_CONN_F_FWD_MASK) == IP_VS_CONN_F_TUNNEL)
		return a->tun_type != b->tun_type ||
		       (a->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GUE && a->tun_port != b->tun_port);
	return 0;
}

static int
l4_owned_has(const struct l4_svc_key *owned, size_t n, const struct l4_svc_key *k)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = l4_svc_key_cmp(&owned[mid], k);

		if (r == 0)
			return 1;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Reals of one service present on both sides. */
static int
l4_diff_dests(const struct l4_svc *want, const struct l4_svc *have, struct l4_ops *out)
{
	size_t i = 0, j = 0;

	while (i < want->ndests || j < have->ndests) {
		int r;

		if (i == want->ndests)
			r = 1;
		else if (j == have->ndests)
			r = -1;
		else
			r = l4_dest_cmp(&want->dests[i], &have->dests[j]);
		if (r < 0) {
			if (l4_ops_push(out, L4_OP_DEST_ADD, want, &want->dests[i++]) < 0)
				return -ENOMEM;
		} else if (r > 0) {
			if (l4_ops_push(out, L4_OP_DEST_DEL, want, &have->dests[j++]) < 0)
				return -ENOMEM;
		} else {
			if (l4_dest_attrs_differ(&want->dests[i], &have->dests[j]) &&
			    l4_ops_push(out, L4_OP_DEST_EDIT, want, &want->dests[i]) < 0)
				return -ENOMEM;
			i++;
			j++;
		}
	}
	return 0;
}

int
l4_reconcile_diff(const struct l4_table *want, const struct l4_table *have,
		  const struct l4_svc_key *owned, size_t nowned, struct l4_ops *out)
{
	size_t i = 0, j = 0, k;

	while (i < want->n || j < have->n) {
		int r;

		if (i == want->n)
			r = 1;
		else if (j == have->n)
			r = -1;
		else
			r = l4_svc_key_cmp(&want->svcs[i].key, &have->svcs[j].key);
		if (r < 0) {
			const struct l4_svc *s = &want->svcs[i++];

			if (l4_ops_push(out, L4_OP_SVC_ADD, s, NULL) < 0)
				return -ENOMEM;
			for (k = 0; k < s->ndests; k++)
				if (l4_ops_push(out, L4_OP_DEST_ADD, s, &s->dests[k]) < 0)
					return -ENOMEM;
		} else if (r > 0) {
			const struct l4_svc *s = &have->svcs[j++];

			/* Deleting a service deletes its reals with it: one op. */
			if (l4_owned_has(owned, nowned, &s->key) &&
			    l4_ops_push(out, L4_OP_SVC_DEL, s, NULL) < 0)
				return -ENOMEM;
		} else {
			const struct l4_svc *w = &want->svcs[i++], *h = &have->svcs[j++];

			if (l4_svc_attrs_differ(w, h) && l4_ops_push(out, L4_OP_SVC_EDIT, w, NULL) < 0)
				return -ENOMEM;
			if (l4_diff_dests(w, h, out) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}
