#ifndef TANDEM_L7_METRICS_H
#define TANDEM_L7_METRICS_H

#include "loop-t.h"

/*
 * l7_metrics - Prometheus text of the L7 counters on a loopback address,
 * served from the main thread's loop (l7_metrics.c).
 */

/* Listens on addrport ("127.0.0.1:9145", "[::1]:9145") in loop l. 0, -EPERM
 * when the address is not loopback, -EINVAL when malformed, or -errno.
 * Main thread only. */
int l7_metrics_start(struct loop *l, const char *addrport);

/* Serves on addrport from now on (NULL: stop serving). Keeps the socket
 * when the address did not change; binds a new one before closing the old
 * one, so a failure (returned as l7_metrics_start's) leaves things as they
 * were. Main thread only. */
int l7_metrics_apply(struct loop *l, const char *addrport);

/* Adds fn's text after the L7 metrics on every scrape (tandemd's: the L4
 * tier's and the peer link's): fn appends to b what it has for the current
 * snapshot's conf c (NULL when there is none), 0 or -1 (out of memory).
 * NULL removes it. Main thread. */
struct buf;
struct conf;
typedef int (*l7_metrics_extra_fn)(struct buf *b, const struct conf *c, void *data);
void l7_metrics_extra_set(l7_metrics_extra_fn fn, void *data);

/* Stops listening. Main thread only. */
void l7_metrics_stop(void);

#endif
