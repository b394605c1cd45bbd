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
#include "l4_ipvs.h"
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
} l4 = { .available = -1 };

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

/* One pass: dump, diff, write-ahead record, apply, trim record. */
static int
l4_pass(const struct conf *c, struct l4_apply_result *res, size_t *nops)
{
	struct l4_table want = { 0 }, have = { 0 };
	struct l4_ops ops = { 0 };
	struct l4_svc_key *keys = NULL;
	size_t i, nkeys = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	*nops = 0;
	rc = l4_table_from_conf(&want, c);
	if (rc < 0)
		goto out;
	rc = l4_ipvs_dump(l4.ipvs, &have);
	if (rc < 0) {
		snprintf(res->first_error, sizeof(res->first_error), "dump: %s", strerror(-rc));
		goto out;
	}
	rc = l4_reconcile_diff(&want, &have, l4.owned, l4.nowned, &ops);
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
out:
	free(keys);
	l4_ops_release(&ops);
	l4_table_release(&want);
	l4_table_release(&have);
	return rc;
}

json_t *
l4_reconcile(const struct conf *c)
{
	struct l4_apply_result res;
	struct timespec t0;
	size_t nops = 0;
	json_t *j;
	int rc;

	if (l4_connect() < 0) {
		if (c->l4.nservices > 0)
			log_debug("l4: %zu services configured but %s", c->l4.nservices, l4.reason);
		return json_pack("{s:b,s:s}", "available", 0, "reason", l4.reason);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = l4_pass(c, &res, &nops);
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
		log_notice("l4: reconciled: %zu change%s in %.1f ms", res.sent,
			   res.sent == 1 ? "" : "s", l4.last_ms);
	}
	j = json_pack("{s:b,s:I,s:I,s:f}", "available", 1, "ops", (json_int_t)res.sent,
		      "failed", (json_int_t)res.failed, "ms", l4.last_ms);
	if (j != NULL && l4.last_error[0] != '\0')
		json_object_set_new(j, "error", json_string(l4.last_error));
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
	json_object_set_new(o, "reconcile", json_pack("{s:I,s:I,s:I,s:I,s:f,s:s}",
		"count", (json_int_t)l4.reconciles, "last_at", (json_int_t)l4.last_at,
		"last_ops", (json_int_t)l4.last_ops, "last_failed", (json_int_t)l4.last_failed,
		"last_ms", l4.last_ms, "last_error", l4.last_error));
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
