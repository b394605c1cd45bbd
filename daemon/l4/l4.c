/*
 * l4 - the L4 tier's life cycle in tandemd (see l4.h).
 *
 * Ownership (doc/l4.md): a service declared in the config is ours, whoever
 * created it; a kernel service not in the config is ours only when it is in
 * the owned record, the list of keys we programmed. The record is written
 * ahead of every pass that adds services (union of old record and desired
 * keys) and trimmed after it, so a crash mid-pass never forgets a service we
 * may have created; a service someone else added by hand is never in it.
 *
 * The netlink socket is opened lazily and reopened after a failure, so a
 * kernel that gains IPVS later (module loaded) is picked up by the timer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>

#include "conf.h"
#include "jh.h"
#include "l4.h"
#include "l4_health.h"
#include "l4_ipvs.h"
#include "l4_nft.h"
#include "l4_reconcile.h"
#include "l4_table.h"
#include "log.h"

static struct {
	const char *owned_path;
	struct l4_svc_key *owned;	/* sorted */
	size_t nowned;
	struct l4_ipvs *ipvs;
	uint64_t changes_base, dumps_base;	/* counts of closed sockets */
	int available;			/* -1 unknown, 0 no, 1 yes */
	char reason[160];
	char record_error[160];
	unsigned long reconciles, reconcile_errors;
	unsigned long ops_sent, ops_failed;
	size_t last_ops, last_failed;
	double last_ms;
	long last_at;
	char last_error[160];
	int last_full;			/* the last pass dumped everything */
	/* The desired table of the last pass the kernel fully accepted (names
	 * cleared: they borrowed from a snapshot that may be gone). A reload
	 * diffs against it and looks only at changed services. */
	struct l4_table prev;
	int prev_ok;
	/* Sync daemon: the role set over the control socket (-1 = the
	 * config's), the parameters we last started with, the last error. */
	int sync_override;
	struct l4_sync_daemon sync_started;
	int sync_started_ok;
	char sync_error[160];
	int sync_running[2];		/* master, backup running (last look) */
	/* What the node's VRRP role asks for (l4_sync_vrrp), and that role. */
	int sync_vrrp;
	char sync_vrrp_role[16];
} l4 = { .available = -1, .sync_override = -1, .sync_vrrp = -1,
      .sync_vrrp_role = "UNKNOWN" };

static int
l4_key_qcmp(const void *a, const void *b)
{
	return l4_svc_key_cmp(a, b);
}

/* Reads the owned record; a missing file is an empty record. */
static int
l4_owned_load(void)
{
	FILE *f = fopen(l4.owned_path, "re");
	char line[128];
	size_t cap = 0;
	int rc = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct l4_svc_key k;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (l4_svc_key_parse(line, &k) < 0) {
			log_warn("l4: %s: ignoring bad line \"%.60s\"", l4.owned_path, line);
			continue;
		}
		if (l4.nowned == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct l4_svc_key *n = realloc(l4.owned, ncap * sizeof(*n));

			if (n == NULL) {
				rc = -ENOMEM;
				break;
			}
			l4.owned = n;
			cap = ncap;
		}
		l4.owned[l4.nowned++] = k;
	}
	fclose(f);
	if (l4.nowned > 1)
		qsort(l4.owned, l4.nowned, sizeof(*l4.owned), l4_key_qcmp);
	return rc;
}

/* Replaces the record with keys (sorted, taken) and writes it when it changed. */
static void
l4_owned_set(struct l4_svc_key *keys, size_t n)
{
	char *text = NULL, line[128];
	size_t i, len = 0, cap = 0;
	int rc;

	if (n == l4.nowned && (n == 0 || memcmp(keys, l4.owned, n * sizeof(*keys)) == 0)) {
		free(keys);
		return;
	}
	free(l4.owned);
	l4.owned = keys;
	l4.nowned = n;
	cap = 64 + n * 64;
	text = malloc(cap);
	if (text == NULL) {
		snprintf(l4.record_error, sizeof(l4.record_error), "out of memory");
		return;
	}
	len = (size_t)snprintf(text, cap, "# IPVS services created by tandemd (doc/l4.md); do not edit\n");
	for (i = 0; i < n; i++) {
		l4_svc_key_record(&keys[i], line, sizeof(line));
		len += (size_t)snprintf(text + len, cap - len, "%s\n", line);
	}
	rc = jh_write_file_atomic(l4.owned_path, text, 0600);
	free(text);
	if (rc < 0) {
		if (l4.record_error[0] == '\0')
			log_warn("l4: cannot write the owned record %s: %s (services removed from the "
				 "config while tandemd is down will not be deleted)", l4.owned_path, strerror(-rc));
		snprintf(l4.record_error, sizeof(l4.record_error), "cannot write %s: %s",
			 l4.owned_path, strerror(-rc));
	} else {
		l4.record_error[0] = '\0';
	}
}

/* Sorted union of the record and extra keys (sorted), as a new array. */
static struct l4_svc_key *
l4_keys_union(const struct l4_svc_key *a, size_t na, const struct l4_svc_key *b, size_t nb,
	      size_t *n)
{
	struct l4_svc_key *out = malloc((na + nb + 1) * sizeof(*out));
	size_t i = 0, j = 0;

	*n = 0;
	if (out == NULL)
		return NULL;
	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : l4_svc_key_cmp(&a[i], &b[j]);

		if (r <= 0) {
			out[(*n)++] = a[i++];
			if (r == 0)
				j++;
		} else {
			out[(*n)++] = b[j++];
		}
	}
	return out;
}

static void
l4_set_unavailable(int rc)
{
	char reason[160];

	if (rc == -ENOENT)
		snprintf(reason, sizeof(reason), "IPVS not available: the kernel has no ip_vs "
			 "(generic netlink family \"IPVS\" not found)");
	else if (rc == -EPERM || rc == -EACCES)
		snprintf(reason, sizeof(reason), "IPVS not permitted: tandemd needs CAP_NET_ADMIN");
	else
		snprintf(reason, sizeof(reason), "IPVS unreachable: %s", strerror(-rc));
	if (l4.available != 0 || strcmp(reason, l4.reason) != 0)
		log_notice("l4: inactive: %s (L7 unaffected)", reason);
	memcpy(l4.reason, reason, sizeof(reason));
	l4.available = 0;
}

static void
l4_disconnect(void)
{
	l4.prev_ok = 0;
	l4.changes_base += l4_ipvs_changes(l4.ipvs);
	l4.dumps_base += l4_ipvs_dumps(l4.ipvs);
	l4_ipvs_close(&l4.ipvs);
}

/* Opens the socket when needed. 0 or -errno (and L4 marked unavailable). */
static int
l4_connect(void)
{
	int rc;

	if (l4.ipvs != NULL)
		return 0;
	rc = l4_ipvs_open(&l4.ipvs);
	if (rc < 0) {
		l4_set_unavailable(rc);
		return rc;
	}
	if (l4.available != 1)
		log_notice("l4: IPVS available");
	l4.available = 1;
	l4.reason[0] = '\0';
	return 0;
}

static double
l4_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * The reload pass's kernel view: only the services whose desired state changed
 * since the last clean pass (changed keys from l4_reconcile_changed), read one
 * by one, and the matching part of want. Unchanged services are not read at
 * all: at 10,000 services a full dump is 10,001 round trips, while one
 * changed weight needs two. Drift on unchanged services is the timer's job.
 */
static int
l4_view_changed(const struct l4_table *want, struct l4_table *pwant, struct l4_table *have)
{
	struct l4_svc_key *keys = NULL;
	size_t i, k, nkeys = 0;
	int rc;

	rc = l4_reconcile_changed(want, &l4.prev, &keys, &nkeys);
	for (i = 0; rc == 0 && i < nkeys; i++) {
		const struct l4_svc *w = l4_table_find(want, &keys[i]);

		rc = l4_ipvs_get(l4.ipvs, &keys[i], have);
		if (rc < 0 || w == NULL) {
			rc = rc > 0 ? 0 : rc;
			continue;
		}
		rc = 0;
		{
			struct l4_svc *p = l4_table_add_svc(pwant, w);

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			for (k = 0; rc == 0 && k < w->ndests; k++)
				rc = l4_svc_add_dest(p, &w->dests[k]);
		}
	}
	free(keys);
	l4_table_sort(pwant);
	l4_table_sort(have);
	return rc;
}

/*
 * The reload pass when no service was added or removed (the common case: a
 * weight, a real, a scheduler changed). It walks the config without building
 * a table: each service is converted into scratch storage, found in prev by
 * binary search and compared; only changed services are copied, read from
 * the kernel and fixed, and prev is patched in place. No allocation per
 * unchanged service, and the owned record cannot change (same keys). Returns
 * 1 when it did the pass, 0 when the caller must do the table-building pass
 * (a service added or removed), or -errno.
 */
static int
l4_fast_pass(const struct conf *c, struct l4_apply_result *res, size_t *nops)
{
	struct l4_table pwant = { 0 }, have = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_dest *scratch = NULL;
	unsigned char *seen = NULL;
	size_t i, k, scap = 0, nseen = 0, next = 0;
	int rc = 0, handled = 0;

	if (c->l4.nservices != l4.prev.n)
		return 0;
	seen = calloc(l4.prev.n + 1, 1);
	if (seen == NULL)
		return -ENOMEM;
	for (i = 0; i < c->l4.nservices; i++) {
		const struct conf_l4_service *cs = &c->l4.services[i];
		struct l4_svc s, *p, *n;

		if (cs->nreals > scap) {
			struct l4_dest *nd = realloc(scratch, cs->nreals * 2 * sizeof(*nd));

			if (nd == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			scratch = nd;
			scap = cs->nreals * 2;
		}
		l4_svc_from_conf(cs, &s, scratch);
		l4_health_apply_svc(&s);
		/* The config is usually in the table's order: try the next
		 * entry before searching. */
		p = NULL;
		if (next < l4.prev.n && l4_svc_key_cmp(&l4.prev.svcs[next].key, &s.key) == 0)
			p = &l4.prev.svcs[next];
		else
			p = l4_table_find(&l4.prev, &s.key);
		if (p == NULL)
			goto out;		/* added: not for this pass */
		next = (size_t)(p - l4.prev.svcs) + 1;
		if (!seen[p - l4.prev.svcs]) {
			seen[p - l4.prev.svcs] = 1;
			nseen++;
		}
		if (!l4_svc_changed(&s, p))
			continue;
		n = l4_table_add_svc(&pwant, &s);
		for (k = 0; n != NULL && k < s.ndests; k++)
			if (l4_svc_add_dest(n, &s.dests[k]) < 0)
				n = NULL;
		if (n == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (nseen != l4.prev.n)
		goto out;			/* removed: not for this pass */
	handled = 1;
	for (i = 0; i < pwant.n; i++) {
		rc = l4_ipvs_get(l4.ipvs, &pwant.svcs[i].key, &have);
		if (rc < 0) {
			snprintf(res->first_error, sizeof(res->first_error), "dump: %s", strerror(-rc));
			goto out;
		}
	}
	rc = 0;
	l4_table_sort(&pwant);
	l4_table_sort(&have);
	rc = l4_reconcile_diff(&pwant, &have, l4.owned, l4.nowned, &ops);
	if (rc < 0)
		goto out;
	*nops = ops.n;
	if (ops.n > 0) {
		rc = l4_ipvs_apply(l4.ipvs, &ops, res);
		if (rc < 0 && rc != -EIO && res->first_error[0] == '\0')
			snprintf(res->first_error, sizeof(res->first_error), "netlink: %s", strerror(-rc));
	}
	/* Patch prev: the changed services now hold pwant's state. */
	for (i = 0; rc == 0 && i < pwant.n; i++) {
		struct l4_svc *p = l4_table_find(&l4.prev, &pwant.svcs[i].key);
		struct l4_svc *w = &pwant.svcs[i];

		free(p->dests);
		*p = *w;
		p->name = NULL;
		w->dests = NULL;	/* moved */
		w->ndests = w->dcap = 0;
	}
out:
	if (handled && rc < 0)
		l4.prev_ok = 0;
	free(seen);
	free(scratch);
	l4_ops_release(&ops);
	l4_table_release(&pwant);
	l4_table_release(&have);
	return rc < 0 ? rc : handled;
}

/* One pass: dump (everything when full, else only changed services), diff,
 * write-ahead record, apply, trim record. */
static int
l4_pass(const struct conf *c, int full, struct l4_apply_result *res, size_t *nops)
{
	struct l4_table want = { 0 }, have = { 0 }, pwant = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_svc_key *keys = NULL;
	size_t i, nkeys = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	*nops = 0;
	if (!full && l4.prev_ok) {
		l4.last_full = 0;
		rc = l4_fast_pass(c, res, nops);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	rc = l4_table_from_conf(&want, c);
	if (rc < 0)
		goto out;
	l4_health_apply(&want);		/* DOWN reals: weight 0 */
	full = full || !l4.prev_ok;
	l4.last_full = full;
	if (full)
		rc = l4_ipvs_dump(l4.ipvs, &have);
	else
		rc = l4_view_changed(&want, &pwant, &have);
	if (rc < 0) {
		snprintf(res->first_error, sizeof(res->first_error), "dump: %s", strerror(-rc));
		goto out;
	}
	rc = l4_reconcile_diff(full ? &want : &pwant, &have, l4.owned, l4.nowned, &ops);
	if (rc < 0)
		goto out;
	*nops = ops.n;
	/* Write ahead: everything desired is (about to be) ours. */
	keys = malloc((want.n + 1) * sizeof(*keys));
	if (keys == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < want.n; i++)
		keys[i] = want.svcs[i].key;
	nkeys = want.n;
	{
		size_t nu;
		struct l4_svc_key *u = l4_keys_union(l4.owned, l4.nowned, keys, nkeys, &nu);

		if (u == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		l4_owned_set(u, nu);
	}
	if (ops.n > 0) {
		rc = l4_ipvs_apply(l4.ipvs, &ops, res);
		if (rc < 0 && rc != -EIO && res->first_error[0] == '\0')
			snprintf(res->first_error, sizeof(res->first_error), "netlink: %s", strerror(-rc));
	}
	/* Trim: the record is the desired keys plus owned services that are
	 * still in the kernel because their delete failed. */
	for (i = 0; i < ops.n; i++) {
		if (ops.ops[i].kind == L4_OP_SVC_DEL && rc == -EIO) {
			struct l4_svc_key *n = realloc(keys, (nkeys + 1) * sizeof(*keys));

			if (n == NULL)
				break;
			keys = n;
			keys[nkeys++] = ops.ops[i].svc->key;
		}
	}
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(*keys), l4_key_qcmp);
	l4_owned_set(keys, nkeys);
	keys = NULL;
	/* Remember what the kernel now holds, for the next reload's diff. */
	l4.prev_ok = rc == 0;
	if (rc == 0) {
		l4_table_release(&l4.prev);
		l4.prev = want;
		memset(&want, 0, sizeof(want));
		for (i = 0; i < l4.prev.n; i++)
			l4.prev.svcs[i].name = NULL;
	}
out:
	if (rc < 0)
		l4.prev_ok = 0;
	free(keys);
	l4_ops_release(&ops);
	l4_table_release(&want);
	l4_table_release(&pwant);
	l4_table_release(&have);
	return rc;
}

/* The role in force: the control socket's, else the config's; the config's
 * "vrrp" is what the node's VRRP role asks for (l4_sync_vrrp). A mask of
 * CONF_L4_SYNC_MASTER (1) and CONF_L4_SYNC_BACKUP (2). */
static int
l4_sync_role(const struct conf *c)
{
	int r = l4.sync_override >= 0 ? l4.sync_override : c->l4.sync.role;

	return r == CONF_L4_SYNC_VRRP ? l4.sync_vrrp : r;
}

static const char *
l4_sync_state_name(int state)
{
	return state == IP_VS_STATE_MASTER ? "master" : "backup";
}

/* Makes the kernel's sync daemons match the desired role: the master
 * and/or the backup daemon, with the configured parameters, nothing else.
 * Runs every pass (one GET_DAEMON dump) so a daemon stopped by hand comes
 * back. */
static void
l4_sync_reconcile(const struct conf *c)
{
	const struct conf_l4_sync *y = &c->l4.sync;
	struct l4_sync_daemon run[2], want;
	int role = l4_sync_role(c), n, i, have = 0, rc, st;
	static const int states[2] = { IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP };

	/* The parameters both daemons share (state left 0). */
	memset(&want, 0, sizeof(want));
	snprintf(want.ifname, sizeof(want.ifname), "%s", y->interface ? y->interface : "");
	want.syncid = y->syncid;
	want.mcast_port = y->mcast_port;
	want.ttl = (uint8_t)y->ttl;
	want.mcast_af = (uint16_t)y->mcast_af;
	memcpy(want.mcast_group, y->mcast_group, sizeof(want.mcast_group));
	n = l4_ipvs_daemon_list(l4.ipvs, run, 2);
	if (n < 0) {
		snprintf(l4.sync_error, sizeof(l4.sync_error), "list daemons: %s", strerror(-n));
		return;
	}
	l4.sync_error[0] = '\0';
	l4.sync_running[0] = l4.sync_running[1] = 0;
	if (role < 0) {		/* VRRP has not spoken yet: hands off */
		for (i = 0; i < n; i++)
			l4.sync_running[run[i].state == IP_VS_STATE_MASTER ? 0 : 1] = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		int bit = run[i].state == IP_VS_STATE_MASTER ? CONF_L4_SYNC_MASTER : CONF_L4_SYNC_BACKUP;
		/* Wanted and unchanged: the kernel's view plus what we started.
		 * (A daemon left by a previous tandemd with the same role,
		 * interface and id is adopted, not restarted.) */
		int same = (role & bit) && !(have & bit) && strcmp(run[i].ifname, want.ifname) == 0 &&
			   run[i].syncid == want.syncid &&
			   (!l4.sync_started_ok || memcmp(&l4.sync_started, &want, sizeof(want)) == 0);

		if (same) {
			have |= bit;
			l4.sync_running[bit - 1] = 1;
			continue;
		}
		rc = l4_ipvs_daemon_stop(l4.ipvs, run[i].state);
		if (rc < 0)
			snprintf(l4.sync_error, sizeof(l4.sync_error), "stop %s sync daemon: %s",
				 l4_sync_state_name(run[i].state), strerror(-rc));
		else
			log_notice("l4: IPVS sync daemon (%s on %s, syncid %u) stopped",
				   l4_sync_state_name(run[i].state), run[i].ifname, run[i].syncid);
	}
	if (have != 0) {
		l4.sync_started = want;
		l4.sync_started_ok = 1;
	}
	for (i = 0; i < 2; i++) {
		int bit = i == 0 ? CONF_L4_SYNC_MASTER : CONF_L4_SYNC_BACKUP;

		if (!(role & bit) || (have & bit))
			continue;
		st = states[i];
		want.state = st;
		rc = l4_ipvs_daemon_start(l4.ipvs, &want);
		want.state = 0;
		if (rc < 0) {
			snprintf(l4.sync_error, sizeof(l4.sync_error), "start %s sync daemon on %s: %s",
				 l4_sync_state_name(st), want.ifname, strerror(-rc));
			log_warn("l4: %s", l4.sync_error);
			continue;
		}
		l4.sync_started = want;
		l4.sync_started_ok = 1;
		l4.sync_running[i] = 1;
		log_notice("l4: IPVS sync daemon started: %s on %s, syncid %u", l4_sync_state_name(st),
			   want.ifname, want.syncid);
	}
}

static const char *
l4_sync_role_name(int role)
{
	static const char *const names[] = { "none", "master", "backup", "both", "vrrp" };

	/* (-1: role "vrrp" before keepalived's first report) */
	return role >= 0 && role <= CONF_L4_SYNC_VRRP ? names[role] : "pending";
}

json_t *
l4_ctl_sync(const json_t *req, const struct conf *c)
{
	const char *role = json_string_value(json_object_get(req, "role"));
	int r;

	if (role != NULL && strcmp(role, "config") == 0)
		l4.sync_override = -1;
	else {
		for (r = CONF_L4_SYNC_NONE; r <= CONF_L4_SYNC_BOTH; r++)
			if (role != NULL && strcmp(role, l4_sync_role_name(r)) == 0)
				break;
		if (r > CONF_L4_SYNC_BOTH)
			return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.role", "message",
					 "must be \"master\", \"backup\", \"both\", \"none\" or \"config\"");
		l4.sync_override = r;
	}
	if (l4_sync_role(c) != CONF_L4_SYNC_NONE && c->l4.sync.interface == NULL) {
		l4.sync_override = -1;
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.l4.sync",
				 "message", "no l4.sync section (interface) in the config");
	}
	if (l4_connect() == 0)
		l4_sync_reconcile(c);
	return json_pack("{s:b,s:s,s:s}", "ok", l4.sync_error[0] == '\0', "role",
			 l4_sync_role_name(l4_sync_role(c)), "error", l4.sync_error);
}

void
l4_sync_vrrp(const struct conf *c, int role, const char *vrrp_role)
{
	int follows = l4.sync_override < 0 && c->l4.sync.role == CONF_L4_SYNC_VRRP;

	snprintf(l4.sync_vrrp_role, sizeof(l4.sync_vrrp_role), "%s", vrrp_role);
	if (role == l4.sync_vrrp)
		return;
	if (follows)
		log_notice("l4: VRRP %s: IPVS sync daemon role %s -> %s", vrrp_role,
			   l4_sync_role_name(l4.sync_vrrp), l4_sync_role_name(role));
	l4.sync_vrrp = role;
	/* At once, not at the next pass: the new MASTER's connections must
	 * reach the peer from its first second. */
	if (follows && l4_connect() == 0)
		l4_sync_reconcile(c);
}

static json_t *
l4_sync_json(const struct conf *c)
{
	int r = l4.sync_override >= 0 ? l4.sync_override : c->l4.sync.role;

	return json_pack("{s:s,s:s,s:b,s:s,s:s?,s:s?,s:s?,s:I,s:b,s:b,s:s}",
			 "role", l4_sync_role_name(l4_sync_role(c)),
			 "config_role", l4_sync_role_name(c->l4.sync.role),
			 "overridden", l4.sync_override >= 0,
			 "source", l4.sync_override >= 0 ? "control" : r == CONF_L4_SYNC_VRRP ? "vrrp" : "config",
			 "vrrp_role", r == CONF_L4_SYNC_VRRP ? l4.sync_vrrp_role : NULL,
			 "vrrp_group", c->l4.sync.role == CONF_L4_SYNC_VRRP ? c->l4.sync.vrrp_group : NULL,
			 "interface", c->l4.sync.interface,
			 "syncid", (json_int_t)c->l4.sync.syncid, "master_running", l4.sync_running[0],
			 "backup_running", l4.sync_running[1], "error", l4.sync_error);
}

json_t *
l4_reconcile(const struct conf *c, int full)
{
	struct l4_apply_result res;
	struct timespec t0;
	size_t nops = 0;
	json_t *j;
	int rc;

	json_t *nj = l4_nft_reconcile(c);	/* nftables does not need IPVS */

	l4_health_sync(c);		/* checks follow the snapshot, IPVS or not */
	if (l4_connect() < 0) {
		if (c->l4.nservices > 0)
			log_debug("l4: %zu services configured but %s", c->l4.nservices, l4.reason);
		return json_pack("{s:b,s:s,s:o*}", "available", 0, "reason", l4.reason, "nft", nj);
	}
	l4_sync_reconcile(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = l4_pass(c, full, &res, &nops);
	l4.last_ms = l4_ms_since(&t0);
	l4.last_at = (long)time(NULL);
	l4.reconciles++;
	l4.last_ops = res.sent;
	l4.last_failed = res.failed;
	l4.ops_sent += res.sent;
	l4.ops_failed += res.failed;
	snprintf(l4.last_error, sizeof(l4.last_error), "%s", res.first_error);
	if (rc < 0) {
		l4.reconcile_errors++;
		if (l4.last_error[0] == '\0')
			snprintf(l4.last_error, sizeof(l4.last_error), "%s", strerror(-rc));
		log_warn("l4: reconcile: %zu of %zu ops refused: %s", res.failed, res.sent, l4.last_error);
		/* A socket-level failure: reopen next time (the kernel may
		 * have lost IPVS, or the socket is in a bad state). */
		if (rc != -EIO)
			l4_disconnect();
	} else if (res.sent > 0) {
		log_notice("l4: reconciled: %zu change%s in %.1f ms (%s)", res.sent,
			   res.sent == 1 ? "" : "s", l4.last_ms, l4.last_full ? "full" : "changed services");
	}
	j = json_pack("{s:b,s:I,s:I,s:f,s:b}", "available", 1, "ops", (json_int_t)res.sent,
		      "failed", (json_int_t)res.failed, "ms", l4.last_ms, "full", l4.last_full);
	if (j != NULL && l4.last_error[0] != '\0')
		json_object_set_new(j, "error", json_string(l4.last_error));
	if (j != NULL && nj != NULL)
		json_object_set_new(j, "nft", nj);
	else
		json_decref(nj);
	return j;
}

int
l4_init(const char *owned_path)
{
	l4.owned_path = owned_path;
	return l4_owned_load();
}

void
l4_shutdown(void)
{
	l4_disconnect();
	l4_nft_shutdown();
	l4_health_shutdown();
	l4_table_release(&l4.prev);
	free(l4.owned);
	l4.owned = NULL;
	l4.nowned = 0;
}

static json_t *
l4_stats_obj(const struct l4_stats *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "conns", (json_int_t)st->conns, "inpkts", (json_int_t)st->inpkts,
			 "outpkts", (json_int_t)st->outpkts, "inbytes", (json_int_t)st->inbytes,
			 "outbytes", (json_int_t)st->outbytes, "cps", (json_int_t)st->cps,
			 "inpps", (json_int_t)st->inpps, "outpps", (json_int_t)st->outpps,
			 "inbps", (json_int_t)st->inbps, "outbps", (json_int_t)st->outbps);
}

static const char *
l4_fwd_name(uint32_t fwd)
{
	switch (fwd & IP_VS_CONN_F_FWD_MASK) {
	case IP_VS_CONN_F_MASQ: return "nat";
	case IP_VS_CONN_F_DROUTE: return "dr";
	case IP_VS_CONN_F_TUNNEL: return "tunnel";
	case IP_VS_CONN_F_LOCALNODE: return "local";
	default: return "bypass";
	}
}

/* One kernel service as JSON; name is the config's or NULL. */
static json_t *
l4_svc_json(const struct l4_svc *s, const char *name)
{
	json_t *o = json_object(), *reals = json_array(), *flags = json_array();
	char a[64];
	size_t i;

	if (o == NULL || reals == NULL || flags == NULL) {
		json_decref(o);
		json_decref(reals);
		json_decref(flags);
		return NULL;
	}
	json_object_set_new(o, "name", name ? json_string(name) : json_null());
	json_object_set_new(o, "managed", json_boolean(name != NULL));
	json_object_set_new(o, "family", json_string(s->key.af == AF_INET6 ? "ipv6" : "ipv4"));
	if (s->key.fwmark != 0) {
		json_object_set_new(o, "protocol", json_string("fwmark"));
		json_object_set_new(o, "fwmark", json_integer(s->key.fwmark));
	} else {
		json_object_set_new(o, "protocol", json_string(s->key.protocol == IPPROTO_TCP ? "tcp" :
								s->key.protocol == IPPROTO_UDP ? "udp" : "sctp"));
		inet_ntop(s->key.af, s->key.addr, a, sizeof(a));
		json_object_set_new(o, "address", json_string(a));
		json_object_set_new(o, "port", json_integer(s->key.port));
	}
	json_object_set_new(o, "scheduler", json_string(s->sched));
	if (s->flags & IP_VS_SVC_F_ONEPACKET)
		json_array_append_new(flags, json_string("one-packet"));
	if (s->flags & IP_VS_SVC_F_SCHED1)
		json_array_append_new(flags, json_string(strcmp(s->sched, "mh") == 0 ? "mh-fallback" :
							 strcmp(s->sched, "sh") == 0 ? "sh-fallback" : "flag-1"));
	if (s->flags & IP_VS_SVC_F_SCHED2)
		json_array_append_new(flags, json_string(strcmp(s->sched, "mh") == 0 ? "mh-port" :
							 strcmp(s->sched, "sh") == 0 ? "sh-port" : "flag-2"));
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "persistence_timeout",
			    json_integer((s->flags & IP_VS_SVC_F_PERSISTENT) ? s->timeout : 0));
	json_object_set_new(o, "stats", l4_stats_obj(&s->stats));
	for (i = 0; i < s->ndests; i++) {
		const struct l4_dest *d = &s->dests[i];
		json_t *r;

		inet_ntop(d->af, d->addr, a, sizeof(a));
		r = json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "address", a,
			      "port", (int)d->port, "forward", l4_fwd_name(d->fwd),
			      "weight", (json_int_t)d->weight, "upper_threshold", (json_int_t)d->u_thresh,
			      "lower_threshold", (json_int_t)d->l_thresh,
			      "active_conns", (json_int_t)d->activeconns,
			      "inactive_conns", (json_int_t)d->inactconns,
			      "persist_conns", (json_int_t)d->persistconns,
			      "stats", l4_stats_obj(&d->stats));
		if (r != NULL && (d->fwd & IP_VS_CONN_F_FWD_MASK) == IP_VS_CONN_F_TUNNEL) {
			json_object_set_new(r, "tunnel_type", json_string(
				d->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GUE ? "gue" :
				d->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GRE ? "gre" : "ipip"));
			if (d->tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GUE)
				json_object_set_new(r, "tunnel_port", json_integer(d->tun_port));
		}
		json_array_append_new(reals, r);
	}
	json_object_set_new(o, "reals", reals);
	return o;
}

json_t *
l4_status_json(const struct conf *c)
{
	struct l4_table want = { 0 }, have = { 0 };
	json_t *o, *svcs, *missing;
	size_t i;
	int rc;

	o = json_pack("{s:b,s:I,s:s}", "available", l4.available == 1,
		      "configured", (json_int_t)c->l4.nservices, "owned_record", l4.owned_path);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "nft", l4_nft_status_json());
	json_object_set_new(o, "health", l4_health_json());
	json_object_set_new(o, "sync", l4_sync_json(c));
	json_object_set_new(o, "reconcile", json_pack("{s:I,s:I,s:I,s:I,s:f,s:s}",
		"count", (json_int_t)l4.reconciles, "last_at", (json_int_t)l4.last_at,
		"last_ops", (json_int_t)l4.last_ops, "last_failed", (json_int_t)l4.last_failed,
		"last_ms", l4.last_ms, "last_error", l4.last_error));
	json_object_set_new(json_object_get(o, "reconcile"), "last_full", json_boolean(l4.last_full));
	if (l4.record_error[0] != '\0')
		json_object_set_new(o, "owned_record_error", json_string(l4.record_error));
	if (l4_connect() < 0) {
		json_object_set_new(o, "available", json_false());
		json_object_set_new(o, "reason", json_string(l4.reason));
		return o;
	}
	json_object_set_new(o, "available", json_true());
	rc = l4_table_from_conf(&want, c);
	if (rc == 0)
		rc = l4_ipvs_dump(l4.ipvs, &have);
	if (rc < 0) {
		json_object_set_new(o, "error", json_string(strerror(-rc)));
		goto out;
	}
	svcs = json_array();
	missing = json_array();
	for (i = 0; i < have.n; i++) {
		const struct l4_svc *w = l4_table_find(&want, &have.svcs[i].key);

		json_array_append_new(svcs, l4_svc_json(&have.svcs[i], w ? w->name : NULL));
	}
	for (i = 0; i < want.n; i++)
		if (l4_table_find(&have, &want.svcs[i].key) == NULL)
			json_array_append_new(missing, json_string(want.svcs[i].name));
	json_object_set_new(o, "services", svcs);
	json_object_set_new(o, "missing", missing);
out:
	l4_table_release(&want);
	l4_table_release(&have);
	return o;
}

json_t *
l4_stats_json(void)
{
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "available", l4.available == 1,
			 "nl_changes", (json_int_t)(l4.changes_base + l4_ipvs_changes(l4.ipvs)),
			 "nl_dumps", (json_int_t)(l4.dumps_base + l4_ipvs_dumps(l4.ipvs)),
			 "reconciles", (json_int_t)l4.reconciles,
			 "reconcile_errors", (json_int_t)l4.reconcile_errors,
			 "ops_sent", (json_int_t)l4.ops_sent, "ops_failed", (json_int_t)l4.ops_failed);
}

json_t *
l4_ctl_ban(const json_t *req)
{
	const char *addr = json_string_value(json_object_get(req, "address"));
	json_int_t t = json_integer_value(json_object_get(req, "timeout"));
	char err[256] = "";
	int rc;

	if (addr == NULL || t < 0 || t > 30 * 86400)
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.address",
				 "message", "needs \"address\" and a \"timeout\" of 0-2592000 s");
	rc = l4_nft_ban_add(addr, (unsigned)t, err, sizeof(err));
	if (rc == -EINVAL)
		snprintf(err, sizeof(err), "not a numeric IPv4 or IPv6 address");
	if (rc < 0)
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.address",
				 "message", err[0] ? err : strerror(-rc));
	return json_pack("{s:b}", "ok", 1);
}

void
l4_health_start(struct loop *l, void (*cb)(void *data), void *data)
{
	l4_health_init(l, cb, data);
}
