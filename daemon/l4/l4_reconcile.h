#ifndef TANDEM_L4_RECONCILE_H
#define TANDEM_L4_RECONCILE_H

#include "l4-t.h"

/*
 * l4_reconcile - the pure diff between the desired IPVS state and a kernel
 * dump. No I/O: the caller sends the ops (l4_ipvs_apply) and unit tests check
 * them directly.
 *
 * Rules (doc/l4.md "Ownership"):
 *  - a desired service missing from the kernel: add it, then its reals;
 *  - a desired service present: edit its attributes when they differ, add,
 *    edit or delete reals so they match exactly (the reals of a service we
 *    manage are ours);
 *  - a kernel service that is not desired: delete it only when it is in the
 *    owned record (we created it earlier); anything else is left alone.
 * A change of one weight therefore gives exactly one op.
 */

/* Appends to out the ops turning have into want. want and have must be sorted
 * (l4_table_sort); owned is a sorted array of keys (l4_svc_key_cmp). The ops
 * borrow pointers into want and have. 0 or -ENOMEM (out then holds a prefix;
 * the caller discards it). */
int l4_reconcile_diff(const struct l4_table *want, const struct l4_table *have,
		      const struct l4_svc_key *owned, size_t nowned, struct l4_ops *out);

/* True when the service attributes (scheduler, flags, persistence) differ. */
int l4_svc_attrs_differ(const struct l4_svc *a, const struct l4_svc *b);
/* True when the real server attributes (method, weight, thresholds, tunnel) differ. */
int l4_dest_attrs_differ(const struct l4_dest *a, const struct l4_dest *b);

/* Frees the op array; out is empty and reusable afterwards. */
void l4_ops_release(struct l4_ops *ops);

#endif
