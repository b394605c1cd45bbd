#ifndef TANDEM_L4_SYNCROLE_H
#define TANDEM_L4_SYNCROLE_H

#include <stddef.h>

#include "vrrp-t.h"

/*
 * l4_syncrole - which IPVS sync daemons VRRP asks for (l4.sync.role "vrrp",
 * doc/l4.md "Sync daemon follows VRRP"). Pure.
 */

/* roles: the VRRP roles of the groups that count (the one l4.sync.vrrp_group
 * names, or every group). Returns a mask of CONF_L4_SYNC_MASTER (1) and
 * CONF_L4_SYNC_BACKUP (2): a MASTER of any group runs the master daemon
 * (and the backup one too when on_master is CONF_L4_SYNC_BOTH); otherwise a
 * BACKUP or FAULT group runs the backup daemon (a faulted node still takes
 * the connections in, to be ready when it recovers); otherwise a STOP group
 * (keepalived stopped or died): none (CONF_L4_SYNC_NONE); nothing reported
 * yet (UNKNOWN, DELETED, no group): -1, leave the kernel's daemons as they
 * are, so a restarted or upgraded tandemd does not stop the MASTER's
 * daemon before keepalived speaks. *summary gets the role that decided. */
int l4_sync_from_vrrp(const enum vrrp_role *roles, size_t n, int on_master,
		      enum vrrp_role *summary);

#endif
