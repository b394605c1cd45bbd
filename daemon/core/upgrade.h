#ifndef TANDEM_UPGRADE_H
#define TANDEM_UPGRADE_H

#include <jansson.h>

#include "loop-t.h"

/*
 * upgrade - binary upgrade without a dropped connection (doc/tandemd.md
 * "Binary upgrade").
 *
 * Old side: `tandemctl upgrade` asks the running tandemd to start the new
 * binary (through the root supervisor's exec in place with the privilege
 * split, else as its own child). The new tandemd connects to the control
 * socket, receives every listening socket with SCM_RIGHTS
 * ("upgrade-fds"), starts serving on them, then says "upgrade-takeover":
 * the old one stops accepting, hands keepalived and the VRRP roles over,
 * drains its connections and exits. Nothing is closed in between, so the
 * kernel's accept queues carry every waiting connection across.
 *
 * Main thread only.
 */

struct vrrp;
struct upgrade;

struct upgrade_opts {
	struct loop *loop;
	char **argv;		/* tandemd's command line, for the new binary */
	int priv_fd;		/* > 0: the privilege split's supervisor */
	struct vrrp *vrrp;	/* keepalived's glue (borrowed) */
	/* old side, at takeover: stop what the new tandemd serves from now
	 * (peer link, metrics, L4 timers); the drain starts after it */
	void (*handover)(void *data);
	void *data;
};

/* Records the binary's path (call first thing: the package replaces the
 * file later) and the options. 0 or -ENOMEM. */
int upgrade_new(const struct upgrade_opts *o, struct upgrade **out);
void upgrade_free(struct upgrade **up);

/* The control socket's "upgrade", "upgrade-fds" and "upgrade-takeover"
 * commands (req borrowed). Returns the answer. */
json_t *upgrade_ctl(struct upgrade *u, const char *cmd, const json_t *req);

/* {"state": "none" | "started" | "failed" | "draining", ...} for status. */
json_t *upgrade_status_json(const struct upgrade *u);

/* 1 once this (old) tandemd handed its listeners over. */
int upgrade_handed_over(const struct upgrade *u);

/* New side. 1 when this tandemd was started to take over (environment
 * TANDEMD_UPGRADE, set by the old one or its supervisor; cleared here). */
int upgrade_requested(void);

/* Connects to the old tandemd's control socket and receives its listening
 * sockets (snapshot_inherit); *workers becomes the old one's worker count
 * (one socket per worker in each SO_REUSEPORT group). 0 or -1 (logged). */
int upgrade_receive(const char *socket_path, unsigned *workers);

/* After upgrade_receive, before serving: replaces ks's keys with the old
 * tandemd's session ticket key ring (l7_tls_keys_export's bytes, through
 * a pipe: never logged, wiped after the import), so tickets it issued
 * resume here and rotation keeps its schedule. On failure ks keeps its own
 * fresh key and a warning is logged; the upgrade goes on. 0 or -1. */
struct l7_tls_keys;
int upgrade_receive_keys(struct l7_tls_keys *ks);

/* After the new tandemd serves: tells the old one to stop accepting and
 * drain, takes over the VRRP roles it knew into v, tells the supervisor
 * (priv_fd > 0) and closes inherited sockets no listener claimed. 0 or -1. */
int upgrade_takeover(struct vrrp *v, int priv_fd);

#endif
