#ifndef TANDEM_L4_METRICS_H
#define TANDEM_L4_METRICS_H

#include "buf.h"
#include "conf-t.h"

/*
 * l4_metrics - the L4 tier in Prometheus text (doc/l4.md "Counters"):
 * availability, and per virtual service and real server the kernel's
 * counters (connections, packets, bytes) and rate estimates, the real's
 * weight, connection counts and health. Read from a fresh kernel dump, as
 * status is. Main thread only (it uses the L4 netlink socket).
 */

/* Appends the L4 metrics for config c (borrowed; the current snapshot's) to
 * b. 0, or -1 when b could not grow. */
int l4_metrics_append(struct buf *b, const struct conf *c);

#endif
