/*
 * l4_syncrole - the IPVS sync daemon role from VRRP (see l4_syncrole.h).
 */
#include "config.h"

#include "conf-t.h"
#include "l4_syncrole.h"

int
l4_sync_from_vrrp(const enum vrrp_role *roles, size_t n, int on_master, enum vrrp_role *summary)
{
	enum vrrp_role best = VRRP_ROLE_UNKNOWN;
	size_t i;

	for (i = 0; i < n; i++) {
		if (roles[i] == VRRP_ROLE_MASTER)
			best = VRRP_ROLE_MASTER;
		else if ((roles[i] == VRRP_ROLE_BACKUP || roles[i] == VRRP_ROLE_FAULT) &&
			 best != VRRP_ROLE_MASTER && best != VRRP_ROLE_BACKUP)
			best = roles[i];	/* BACKUP outranks FAULT for the summary */
		else if (roles[i] == VRRP_ROLE_STOP && best == VRRP_ROLE_UNKNOWN)
			best = VRRP_ROLE_STOP;
	}
	if (summary != NULL)
		*summary = best;
	if (best == VRRP_ROLE_MASTER)
		return on_master == CONF_L4_SYNC_BOTH ? CONF_L4_SYNC_BOTH : CONF_L4_SYNC_MASTER;
	if (best == VRRP_ROLE_BACKUP || best == VRRP_ROLE_FAULT)
		return CONF_L4_SYNC_BACKUP;
	return best == VRRP_ROLE_STOP ? CONF_L4_SYNC_NONE : -1;
}
