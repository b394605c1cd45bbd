#ifndef TANDEM_VRRP_T_H
#define TANDEM_VRRP_T_H

#include <stdbool.h>
#include <stddef.h>

/* The role of one VIP group on this node, as keepalived last reported it. */
enum vrrp_role {
	VRRP_ROLE_UNKNOWN = 0,	/* configured, keepalived has not said yet */
	VRRP_ROLE_BACKUP,
	VRRP_ROLE_MASTER,
	VRRP_ROLE_FAULT,
	VRRP_ROLE_STOP,		/* keepalived stopped (or died) */
	VRRP_ROLE_DELETED,	/* removed from keepalived's config by a reload */
};

/* What one notify-FIFO line says. */
enum vrrp_fifo_kind {
	VRRP_FIFO_STATE = 1,		/* a state transition: role is set */
	VRRP_FIFO_MASTER_RX_LOWER_PRI,	/* event: a MASTER heard a lower-priority MASTER */
	VRRP_FIFO_MASTER_PRIORITY,	/* event: priority changed while MASTER */
	VRRP_FIFO_BACKUP_PRIORITY,	/* event: priority changed while BACKUP */
};

#define VRRP_NAME_MAX 127

/* One parsed line: TYPE "NAME" WORD [PRIORITY]. */
struct vrrp_fifo_msg {
	bool group;			/* GROUP (a sync group) rather than INSTANCE */
	char name[VRRP_NAME_MAX + 1];
	enum vrrp_fifo_kind kind;
	enum vrrp_role role;		/* for VRRP_FIFO_STATE */
	int priority;			/* -1 when the line has none */
};

/* Called on the main loop after a group's role changed (old != new). The
 * group name is borrowed for the duration of the call. */
typedef void (*vrrp_role_cb)(const char *group, enum vrrp_role old_role,
			     enum vrrp_role new_role, void *data);

#endif
