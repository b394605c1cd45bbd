#ifndef TANDEM_L4_H
#define TANDEM_L4_H

#include <jansson.h>

#include "conf-t.h"

/*
 * l4 - tandemd's L4 tier: keeps the kernel's IPVS table equal to the
 * snapshot's "l4" section by reconciling (never flushing) after every reload
 * and on a timer, remembers which services it created (the owned record), and
 * reports the kernel's view with counters. A kernel without IPVS makes L4
 * inactive with the reason in status; nothing else is affected.
 * Main thread only (the netlink socket is not shared).
 */

/* Sets up the tier: owned_path is the owned-record file (read now, rewritten
 * atomically when it changes). Borrows owned_path for the daemon's life.
 * 0, or -errno when the record exists but cannot be read. */
int l4_init(const char *owned_path);

/* Reconciles the kernel with c (borrowed; the current snapshot's conf).
 * tandemd calls it after every publish and from its timer
 * (c->l4.reconcile_interval_s). Returns a new JSON object describing
 * the pass ({"available","ops","failed","error"}); never fails the reload. */
json_t *l4_reconcile(const struct conf *c);

/* Status (kernel view from a fresh dump, with counters) and stats, as new
 * JSON objects. */
json_t *l4_status_json(const struct conf *c);
json_t *l4_stats_json(void);

/* Stops the timer and closes the netlink socket. IPVS stays programmed:
 * connections keep flowing while tandemd restarts. */
void l4_shutdown(void);

#endif
