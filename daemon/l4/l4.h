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

/* Runs the L4 health checks on loop l; cb(data) is called when a real changes
 * state (tandemd then reconciles with full = 0). Borrowed. */
struct loop;
void l4_health_start(struct loop *l, void (*cb)(void *data), void *data);

/* Reconciles the kernel with c (borrowed; the current snapshot's conf).
 * tandemd calls it with full = 1 at start and from its timer
 * (c->l4.reconcile_interval_s): every service is dumped and compared, which
 * repairs drift. After a reload it passes full = 0: only services whose
 * config changed since the last clean pass are read and fixed (a full pass
 * is done anyway when the last one was not clean). Returns a new JSON object
 * describing the pass ({"available","ops","failed","ms","full","error"});
 * never fails the reload. */
json_t *l4_reconcile(const struct conf *c, int full);

/* Status (kernel view from a fresh dump, with counters) and stats, as new
 * JSON objects. */
json_t *l4_status_json(const struct conf *c);
json_t *l4_stats_json(void);

/* The control socket's "ban" command: {"address": "...", "timeout": s}
 * (borrowed) into the nftables ban set. Returns the answer (new object). */
json_t *l4_ctl_ban(const json_t *req);

/* The control socket's "l4-sync" command: {"role": "master" | "backup" |
 * "none" | "config"} sets the IPVS sync daemon's role at run time (it lasts
 * across reloads; "config" returns to l4.sync.role) and applies it at once.
 * c is the current snapshot's conf (borrowed). Returns the answer. */
json_t *l4_ctl_sync(const json_t *req, const struct conf *c);

/* The node's VRRP role changed (or the config did): role is the sync
 * daemon role it asks for (l4_sync_from_vrrp: CONF_L4_SYNC_NONE, _MASTER,
 * _BACKUP or _BOTH), vrrp_role the VRRP role that decided (for status;
 * copied). When l4.sync.role is "vrrp" and no role was set over the control
 * socket, the kernel's daemons are switched at once. c: the current
 * snapshot's conf (borrowed). */
void l4_sync_vrrp(const struct conf *c, int role, const char *vrrp_role);

/* Stops the timer and closes the netlink socket. IPVS stays programmed:
 * connections keep flowing while tandemd restarts. */
void l4_shutdown(void);

#endif
