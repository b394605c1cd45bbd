#ifndef TANDEM_ADM_SYNC_H
#define TANDEM_ADM_SYNC_H

#include <stddef.h>

#include <jansson.h>

#include "adm-t.h"

/*
 * adm_sync - config sync between the pair's consoles (doc/ha.md "Pairing
 * and config sync"). A worker on tandem-admin's main thread, with its own
 * database handle, ticks every 200 ms: it reads this node's VRRP role from
 * tandemd, asks the other console for its state, and pushes the revisions
 * the other node lacks when this node is the source (the one that moved on
 * since the last common revision; after a split brain the one with the
 * higher priority). The HTTP thread reads the resulting view (locked) to
 * refuse writes on a BACKUP and to show who is MASTER.
 */

struct db;

struct adm_sync_view {
	int paired, broken, peer_up, writable;
	char local_role[16], peer_role[16];	/* tandemd's vrrp.role, "UNREACHABLE", "UNKNOWN" */
	char peer_node[64], peer_console[128];
	int local_priority, peer_priority;
	long peer_revision;
	char last_error[256];
	long long last_contact;			/* unix time of the last good answer */
};

/* Called on the worker's thread, which must block SIGUSR1 and take it in
 * its sigtimedwait: adm_sync_kick wakes it for a round at once. */
struct adm_sync *adm_sync_new(void);
/* After an apply: push now rather than at the next tick. Any thread. */
void adm_sync_kick(struct adm_sync *s);
void adm_sync_free(struct adm_sync **sp);
/* A copy of the current view. Any thread. */
void adm_sync_view(struct adm_sync *s, struct adm_sync_view *v);
/* Makes the view unpaired at once (after an unpair on the HTTP thread). */
void adm_sync_forget(struct adm_sync *s);

/* One round of the worker (main thread; db is its own handle): the local
 * role always, the peer every fifth round or when now is set (kicked). */
void adm_sync_tick(struct adm *a, struct db *db, int now);

/* For a mutating request: 1 with rs set to 409 "read_only" when this node
 * is the pair's BACKUP and the path is shared configuration; else 0. */
int adm_sync_guard(struct adm *a, const struct adm_req *rq, char *const *segs, size_t nsegs,
		   struct adm_resp *rs);

/* The shared part of a revision's content (per-node fields removed: vrrp.local,
 * l4.sync), as a new object; NULL when content is not a JSON object. */
json_t *adm_sync_shared(const char *content);
/* SHA-256 (hex) of the canonical shared part; "" for NULL/empty content. */
int adm_sync_hash(const char *content, char out[65]);
/* This node's VRRP priority as configured (vrrp.local.priority, default 100). */
int adm_sync_priority(struct db *db);
/* The VRRP role tandemd reports ("MASTER", "BACKUP", ..., "NONE"), or
 * "UNREACHABLE". */
void adm_sync_role(struct adm *a, char *out, size_t len);

#endif
