/*
 * tandemd - the Tandem data plane.
 *
 * The main thread owns the configuration life cycle: it builds the first
 * snapshot (refusing to start on any error), starts the L7 workers, then runs
 * a loop that serves the control socket and signals (SIGHUP reloads,
 * SIGTERM/SIGINT stop). A reload builds a complete new snapshot beside the
 * serving one and publishes it only when every step succeeded.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "buf.h"
#include "ctl.h"
#include "errs.h"
#include "l7_health.h"
#include "l7_metrics.h"
#include "l4_metrics.h"
#include "l7_stats.h"
#include "l4.h"
#include "l4_nft.h"
#include "l4_syncrole.h"
#include "l7_proxy.h"
#include "l7_tlsconf.h"
#include "lim_rule.h"
#include "lim_run.h"
#include "log.h"
#include "loop.h"
#include "sdnotify.h"
#include "snapshot.h"
#include "upgrade.h"
#include "vrrp.h"
#include "peer.h"
#include "peer_sync.h"

#define TANDEMD_DEFAULT_SOCKET "/run/tandem/tandemd.sock"
#define TANDEMD_DEFAULT_VRRP_DIR "/run/tandem/vrrp"
#define TANDEMD_DEFAULT_PRIV_DIR "/run/tandem-priv"
#define TANDEMD_LIMIT_MAX_KEYS 1000000	/* per rate-rule table (~43 MB at the cap), and bans */

struct tandemd {
	const char *config_path;
	const char *socket_path;
	const char *socket_group;
	const char *metrics;		/* --metrics ADDR:PORT (loopback), or NULL */
	unsigned workers;
	bool workers_cli;		/* -w given: the config's "workers" is ignored */
	time_t started;
	unsigned long reloads_ok;
	unsigned long reloads_failed;
	struct loop *loop;
	struct loop_io sig_io;
	int sigfd;
	struct vrrp *vrrp;		/* keepalived supervisor (vrrp/) */
	struct vrrp_opts vrrp_opts;
	const char *l4_state_path;	/* owned-record file of the L4 tier */
	char l4_state_default[4096];
	struct loop_timer l4_timer;
	struct peer *peer;		/* the peer link (daemon/peer), or NULL */
	struct peer_opts peer_opts;
	struct loop_timer peer_timer;
	struct peer_sync *peer_sync;	/* what the link syncs: ticket keys, limiter */
	const char *cert_dir;		/* certificate files tandem-admin writes (l7_tlsconf) */
	unsigned ticket_key_lifetime;	/* seconds a ticket key encrypts */
	struct loop_timer tls_timer;
	struct loop_timer limit_timer;
	unsigned limit_node;		/* --limit-node: this node's counter slot (0 or 1) */
	int limit_node_set;		/* given: not derived from the peer link */
	const char *limit_state;	/* --limit-state FILE, or NULL */
	unsigned limit_state_s;		/* seconds between writes of it */
	struct loop_timer state_timer;
	struct upgrade *upg;		/* binary upgrade (upgrade.c) */
};

/* The limiter's key-hash seed (peer_seed.c says why each source): the
 * pair's CA with a peer link, FILE.seed beside --limit-state, else random.
 * A seed file that cannot be read costs the saved counters, never the
 * start. 0, or -1 when no seed at all can be had. */
static int
tandemd_limit_seed(const struct tandemd *d, uint64_t seed[2])
{
	char path[4096];
	int rc;

	if (d->peer_opts.dir != NULL) {
		if ((rc = peer_seed_pair(d->peer_opts.dir, seed)) == 0) {
			log_info("limiter: key seed from the pair's CA (%s/ca.pem)", d->peer_opts.dir);
			return 0;
		}
		log_err("limiter: cannot derive the key seed from %s/ca.pem: %s", d->peer_opts.dir,
			strerror(-rc));
		return -1;
	}
	if (d->limit_state != NULL) {
		snprintf(path, sizeof(path), "%s.seed", d->limit_state);
		if ((rc = peer_seed_file(path, seed)) == 0)
			return 0;
		log_warn("limiter: %s: %s; a random key seed this time (the saved counters do not "
			    "apply; bans do)", path, rc == -EINVAL ? "not 16 bytes" : strerror(-rc));
	}
	if ((rc = peer_seed_random(seed)) < 0) {
		log_err("limiter: no random key seed: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static void
tandemd_usage(FILE *f)
{
	fprintf(f,
		"usage: tandemd -c FILE [-s SOCKET] [-g GROUP] [-w N] [-v]\n"
		"       tandemd --check FILE\n"
		"  -c, --config FILE        JSON configuration to serve\n"
		"  -s, --socket PATH        control socket (default " TANDEMD_DEFAULT_SOCKET ")\n"
		"  -g, --socket-group NAME  group owning the control socket (mode 0660;\n"
		"                           default \"tandem\" when that group exists)\n"
		"  -w, --workers N          L7 worker threads (default: one per core)\n"
		"      --metrics ADDR:PORT  Prometheus text on a loopback address (e.g. 127.0.0.1:9145)\n"
		"      --l4-state FILE      record of the IPVS services tandemd created\n"
		"                           (default: the config file's path + \".l4-owned\")\n"
		"  -v, --verbose            log at debug level\n"
		"      --vrrp-run-dir DIR   keepalived's config, FIFO and pid files\n"
		"                           (default " TANDEMD_DEFAULT_VRRP_DIR ")\n"
		"      --keepalived PATH    the keepalived binary (default: keepalived in PATH)\n"
		"      --user NAME          privilege split: started as root, stay root only in a\n"
		"                           minimal supervisor of keepalived; the data plane runs\n"
		"                           as NAME with CAP_NET_ADMIN/NET_BIND_SERVICE/NET_RAW\n"
		"      --priv-dir DIR       the supervisor's own dir (default " TANDEMD_DEFAULT_PRIV_DIR ")\n"
		"      --peer-listen A:P    the peer link: this node's address, --peer the\n"
		"      --peer A:P           peer's, --peer-dir DIR the pair's certificates\n"
		"      --peer-dir DIR       (ca.pem, node.pem, node.key: tandemctl pair-init)\n"
		"      --peer-gate S        VRRP priority held at 1 until the peer's state is\n"
		"                           loaded, or S seconds passed (default 30)\n"
"      --cert-dir DIR       TLS certificate files written by tandem-admin\n"
		"                           (default " L7_TLSCONF_DEFAULT_DIR ")\n"
		"      --ticket-key-lifetime S  seconds a session ticket key encrypts before\n"
		"                           it is rotated (default 43200; 0 = only on command;\n"
		"                           the config's tls.ticket_key_lifetime wins)\n"
		"      --limit-node N       this node's slot in the rate-rule counters: 0 on one\n"
		"                           node of a pair, 1 on the other (default with a peer\n"
		"                           link: 0 on the node with the lower --peer-listen)\n"
		"      --limit-state FILE   the limiter's counters and bans, written every\n"
		"      --limit-state-interval S  S seconds (default 10) and at a clean stop,\n"
		"                           loaded at start\n"
		"      --check FILE         validate FILE, print every error, exit 1 on any\n"
		"      --upgrade            take the listeners over from the tandemd on -s SOCKET\n"
		"                           (binary upgrade; tandemctl upgrade does it for you)\n"
		"  -V, --version            print the version\n");
}

/* Prints every error of a failed parse as "FILE: PATH: MESSAGE". */
static void
tandemd_print_errs(const char *file, const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->count; i++) {
		if (i < e->cap && e->items[i].message != NULL)
			fprintf(stderr, "%s: %s: %s\n", file, e->items[i].path, e->items[i].message);
		else
			fprintf(stderr, "%s: $: out of memory\n", file);
	}
}

static int
tandemd_check(const char *file)
{
	struct errs e;
	struct conf *c;

	errs_init(&e);
	c = conf_load_file(file, &e);
	if (c == NULL) {
		tandemd_print_errs(file, &e);
		fprintf(stderr, "%s: %zu error%s\n", file, e.count, e.count == 1 ? "" : "s");
		errs_release(&e);
		return 1;
	}
	printf("%s: configuration OK (revision %ld: %zu listeners, %zu pools, %zu routes, "
	       "%zu L4 services)\n", file, c->revision, c->nlisteners, c->npools, c->nroutes,
	       c->l4.nservices);
	conf_free(&c);
	errs_release(&e);
	return 0;
}

static void tandemd_l4_timer(struct loop *l, struct loop_timer *t);

/* The IPVS sync daemon follows VRRP (l4.sync.role "vrrp", doc/l4.md): the
 * roles of the groups that count, from the supervisor's table. Runs on
 * every role change (a role hook) and before every L4 pass (the config may
 * have changed which groups count). */
static void
tandemd_sync_follow(struct tandemd *d, const struct conf *c)
{
	enum vrrp_role *roles, sum;
	size_t i, n = 0;
	int want;

	if (d->vrrp == NULL || c->vrrp == NULL || upgrade_handed_over(d->upg))
		return;
	roles = calloc(c->vrrp->ngroups + 1, sizeof(*roles));
	if (roles == NULL)
		return;
	for (i = 0; i < c->vrrp->ngroups; i++)
		if (c->l4.sync.vrrp_group == NULL || strcmp(c->l4.sync.vrrp_group, c->vrrp->groups[i].name) == 0)
			roles[n++] = vrrp_group_role(d->vrrp, c->vrrp->groups[i].name);
	want = l4_sync_from_vrrp(roles, n, c->l4.sync.on_master, &sum);
	free(roles);
	l4_sync_vrrp(c, want, vrrp_role_name(sum));
}

static void
tandemd_vrrp_role(const char *group, enum vrrp_role old_role, enum vrrp_role new_role, void *data)
{
	struct snapshot *s = snapshot_acquire();

	(void)group, (void)old_role, (void)new_role;
	if (s != NULL)
		tandemd_sync_follow(data, s->conf);
	snapshot_release(&s);
}

/* Reconciles IPVS with the current snapshot and re-arms the L4 timer.
 * Returns the pass's summary (new reference). */
static json_t *
tandemd_l4_reconcile(struct tandemd *d, int full)
{
	struct snapshot *s = NULL;
	json_t *r = NULL;

	if (upgrade_handed_over(d->upg))
		return NULL;	/* the new tandemd owns the kernel's state now */
	s = snapshot_acquire();
	if (s != NULL) {
		tandemd_sync_follow(d, s->conf);
		r = l4_reconcile(s->conf, full);
		loop_timer_set(d->loop, &d->l4_timer, (uint64_t)s->conf->l4.reconcile_interval_s * 1000,
			       tandemd_l4_timer, d);
	}
	snapshot_release(&s);
	return r;
}

static void
tandemd_l4_timer(struct loop *l, struct loop_timer *t)
{
	(void)l;
	json_decref(tandemd_l4_reconcile(t->data, 1));
}

/* A real server went DOWN or came back UP: its weight changes in IPVS. */
static void
tandemd_l4_health_changed(void *data)
{
	json_decref(tandemd_l4_reconcile(data, 0));
}

/* The config file's "workers" (0 when unset or the file is unreadable:
 * snapshot_build reports its errors next). Before the first snapshot, which
 * binds one socket per worker. */
static unsigned
tandemd_conf_workers(const char *path)
{
	struct errs e;
	struct conf *c;
	unsigned w;

	errs_init(&e);
	c = conf_load_file(path, &e);
	w = c != NULL ? c->workers : 0;
	conf_free(&c);
	errs_release(&e);
	return w;
}

/* Serves the metrics where the config (or --metrics, which wins) says.
 * 0 or -errno (address in use, ...). Main thread. */
static int
tandemd_metrics(struct tandemd *d, const struct conf *c)
{
	const char *a = d->metrics != NULL ? d->metrics : c->metrics_address;
	int rc = l7_metrics_apply(d->loop, a);

	if (rc < 0)
		log_err("cannot serve metrics on %s: %s", a,
			rc == -EPERM ? "not a loopback address" : strerror(-rc));
	return rc;
}

/* Builds and publishes a new snapshot. Returns the control-socket answer. */
static json_t *
tandemd_reload(struct tandemd *d)
{
	unsigned long old_gen = snapshot_generation(), gen;
	struct snapshot *s;
	struct errs e;
	json_t *resp;
	int rc;

	if (upgrade_handed_over(d->upg))
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$",
				 "message", "this tandemd handed over to a new one and drains");
	/* systemd shows "reloading" until the READY=1 below, whichever way the
	 * reload ends (a refusal still leaves the old snapshot serving). */
	sdn_notify("RELOADING=1");
	errs_init(&e);
	s = snapshot_build(d->config_path, &e);
	if (s != NULL && vrrp_prepare(d->vrrp, s->conf, &e) < 0)
		snapshot_release(&s);	/* keepalived -t refused: keep everything as is */
	if (s != NULL && d->loop != NULL && (rc = tandemd_metrics(d, s->conf)) < 0) {
		errs_add(&e, "$.metrics.address", "cannot listen: %s", strerror(-rc));
		snapshot_release(&s);
	}
	if (s == NULL) {
		d->reloads_failed++;
		sdn_notify("READY=1\nSTATUS=last reload rejected; serving the previous configuration");
		log_notice("reload gen %lu->%lu rejected: %s: %s", old_gen, old_gen + 1,
			   e.count && e.items ? e.items[0].path : "$",
			   e.count && e.items ? e.items[0].message : "error");
		resp = json_pack("{s:b,s:I,s:o}", "ok", 0, "generation", (json_int_t)old_gen,
				 "errors", errs_to_json(&e));
		errs_release(&e);
		return resp;
	}
	if (!d->workers_cli && s->conf->workers != 0 && s->conf->workers != d->workers)
		log_notice("workers: the config asks for %u, %u run; a restart applies it",
			   s->conf->workers, d->workers);
	l7_tlsconf_lifetime(s->conf, d->ticket_key_lifetime);
	gen = snapshot_publish(s);
	l7_workers_wake();
	vrrp_commit(d->vrrp);
	l7_health_wake();
	d->reloads_ok++;
	s = snapshot_acquire();
	log_notice("reload gen %lu->%lu applied (revision %ld)", old_gen, gen,
		   s ? s->conf->revision : 0L);
	sdn_notify("READY=1\nSTATUS=serving");
	resp = json_pack("{s:b,s:I,s:I}", "ok", 1, "generation", (json_int_t)gen,
			 "revision", (json_int_t)(s ? s->conf->revision : 0));
	snapshot_release(&s);
	/* L4 follows the published snapshot; its failures are reported, never
	 * a reason to refuse the reload (L7 is already serving it). */
	if (resp != NULL && d->loop != NULL)
		json_object_set_new(resp, "l4", tandemd_l4_reconcile(d, 0));
	errs_release(&e);
	return resp;
}

static json_t *
tandemd_status(struct tandemd *d)
{
	struct snapshot *s = snapshot_acquire();
	json_t *resp, *listeners;
	size_t i;

	resp = json_pack("{s:b,s:s,s:i,s:I,s:s,s:i}", "ok", 1, "version", PACKAGE_VERSION,
			 "pid", (int)getpid(), "uptime_s", (json_int_t)(time(NULL) - d->started),
			 "config", d->config_path, "workers", (int)d->workers);
	if (resp == NULL || s == NULL) {
		snapshot_release(&s);
		return resp;
	}
	json_object_set_new(resp, "generation", json_integer((json_int_t)s->generation));
	json_object_set_new(resp, "revision", json_integer(s->conf->revision));
	json_object_set_new(resp, "loaded_at", json_integer(s->loaded_at));
	listeners = json_array();
	for (i = 0; i < s->conf->nlisteners; i++) {
		const struct conf_listener *l = &s->conf->listeners[i];

		json_array_append_new(listeners, json_pack("{s:s,s:s,s:i,s:i}", "name", l->name,
							   "address", l->address, "port", l->port,
							   "routes", (int)l->nroutes));
	}
	json_object_set_new(resp, "listeners", listeners);
	json_object_set_new(resp, "pools", l7_pools_status_json(s));
	if (d->vrrp != NULL)
		json_object_set_new(resp, "vrrp", vrrp_status_json(d->vrrp));
	json_object_set_new(resp, "peer", d->peer ? peer_status_json(d->peer) :
			    json_pack("{s:s}", "state", "disabled"));
	json_object_set_new(resp, "l4", l4_status_json(s->conf));
	json_object_set_new(resp, "upgrade", upgrade_status_json(d->upg));
	json_object_set_new(resp, "tls", json_pack("{s:o}", "ticket_keys", l7_tlsconf_keys_json()));
	snapshot_release(&s);
	return resp;
}

static json_t *
tandemd_stats(struct tandemd *d)
{
	return json_pack("{s:b,s:I,s:I,s:I,s:o,s:o}", "ok", 1,
			 "generation", (json_int_t)snapshot_generation(),
			 "reloads_ok", (json_int_t)d->reloads_ok,
			 "reloads_failed", (json_int_t)d->reloads_failed,
			 "l7", l7_stats_json(), "l4", l4_stats_json());
}

/* "counters": per listener, route, pool and member (l7_stats). */
static json_t *
tandemd_counters(void)
{
	struct snapshot *s = snapshot_acquire();
	json_t *c = s != NULL ? l7_stats_counters_json(s->conf) : NULL;
	json_t *resp = json_pack("{s:b,s:I}", "ok", 1, "generation",
				 (json_int_t)snapshot_generation());

	snapshot_release(&s);
	if (resp != NULL && c != NULL)
		json_object_update(resp, c);
	json_decref(c);
	return resp;
}

/* "l4-sync": the IPVS sync daemon's role, against the current snapshot. */
static json_t *
tandemd_l4_sync(const json_t *req)
{
	struct snapshot *s = snapshot_acquire();
	json_t *r = s ? l4_ctl_sync(req, s->conf) : NULL;

	snapshot_release(&s);
	return r;
}

/* "limits": the live view of the current rate rules (counters, top keys,
 * WAF hits) and the ban set. {"top": N} rows per list, default 10. */
static json_t *
tandemd_limits(const json_t *req)
{
	struct snapshot *s = snapshot_acquire();
	json_int_t top = json_integer_value(json_object_get(req, "top"));
	json_t *r, *st = lim_run_status_json();

	if (json_object_get(req, "top") == NULL)
		top = 10;
	if (top < 0 || top > 32) {
		snapshot_release(&s);
		json_decref(st);
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.top",
				 "message", "must be 0-32");
	}
	r = s != NULL && s->conf->rate_rules != NULL ?
		lim_rules_stats_json(s->conf->rate_rules, (size_t)top) :
		json_pack("{s:[],s:[]}", "rules", "waf");
	snapshot_release(&s);
	if (r == NULL) {
		json_decref(st);
		return NULL;
	}
	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "bans", st ? st : json_object());
	return r;
}

/* Sweeps expired rate-rule keys (off the data path). */
#define TANDEMD_LIMIT_EXPIRE_MS 5000
static void
tandemd_limit_timer(struct loop *l, struct loop_timer *t)
{
	lim_run_expire(lim_run_now_ms());
	loop_timer_set(l, t, TANDEMD_LIMIT_EXPIRE_MS, tandemd_limit_timer, t->data);
}

/* Writes the limiter's state file (peer_snap: atomic, off the data path;
 * about 30 ms per 100,000 keys on the main loop). */
static void
tandemd_state_timer(struct loop *l, struct loop_timer *t)
{
	struct tandemd *d = t->data;

	peer_snap_save(d->peer_sync, d->limit_state);
	loop_timer_set(l, t, (uint64_t)d->limit_state_s * 1000, tandemd_state_timer, d);
}

/* The ban mirror of the rate rules: into the L4 tier's nftables ban set. */
static int
tandemd_ban_mirror(const char *addr, unsigned seconds, char *err, size_t errlen)
{
	return l4_nft_ban_add(addr, seconds, err, errlen);
}

static json_t *
tandemd_ctl(const json_t *req, void *data)
{
	struct tandemd *d = data;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (cmd == NULL)
		return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.cmd",
				 "message", "missing \"cmd\"");
	if (strcmp(cmd, "status") == 0)
		return tandemd_status(d);
	if (strcmp(cmd, "reload") == 0)
		return tandemd_reload(d);
	if (strcmp(cmd, "stats") == 0)
		return tandemd_stats(d);
	if (strcmp(cmd, "counters") == 0)
		return tandemd_counters();
	if (strcmp(cmd, "ban") == 0)
		return l4_ctl_ban(req);
	if (strcmp(cmd, "limits") == 0)
		return tandemd_limits(req);
	if (strcmp(cmd, "l4-sync") == 0)
		return tandemd_l4_sync(req);
	if (strcmp(cmd, "tls-rotate-keys") == 0)
		return l7_tlsconf_rotate_json((uint64_t)time(NULL));
	if (strncmp(cmd, "upgrade", 7) == 0)
		return upgrade_ctl(d->upg, cmd, req);
	if (strcmp(cmd, "peer_reconnect") == 0 && d->peer != NULL) {
		peer_kick(d->peer);
		return json_pack("{s:b}", "ok", 1);
	}
	return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.cmd",
			 "message", "unknown command (status, reload, stats, counters, peer_reconnect, limits, ban, l4-sync, tls-rotate-keys, upgrade)");
}

/* Ticket key rotation on its schedule (l7_tlsconf), checked every second. */
static void
tandemd_tls_timer(struct loop *l, struct loop_timer *t)
{
	l7_tlsconf_tick((uint64_t)time(NULL));
	loop_timer_set(l, t, 1000, tandemd_tls_timer, NULL);
}

/* After the L7 metrics: the L4 tier's, and with a peer link the link's and
 * the sync gate's. */
static int
tandemd_metrics_extra(struct buf *b, const struct conf *c, void *data)
{
	struct tandemd *d = data;
	int rc = c != NULL ? l4_metrics_append(b, c) : 0;

	if (d->peer == NULL)
		return rc;
	rc |= peer_metrics(d->peer, b);
	if (d->vrrp != NULL)
		rc |= buf_appendf(b, "# TYPE tandem_vrrp_gated gauge\ntandem_vrrp_gated %d\n",
				  vrrp_gated(d->vrrp));
	return rc;
}

/* Renders and applies the vrrp section of the current snapshot again (the
 * gate changed). A refusal keeps the old keepalived.conf; logged. */
static void
tandemd_vrrp_apply(struct tandemd *d)
{
	struct snapshot *s = snapshot_acquire();
	struct errs e;

	errs_init(&e);
	if (s != NULL && vrrp_prepare(d->vrrp, s->conf, &e) == 0)
		vrrp_commit(d->vrrp);
	else
		tandemd_print_errs(d->config_path, &e);
	errs_release(&e);
	snapshot_release(&s);
}

/* This node's health view for the peer link: every member of every pool
 * with its state, from the same table status shows. Main loop, every
 * TANDEMD_PEER_HEALTH_MS; the link sends it only when it changed. */
#define TANDEMD_PEER_HEALTH_MS 100
static void
tandemd_peer_timer(struct loop *l, struct loop_timer *t)
{
	struct tandemd *d = t->data;
	struct snapshot *s = snapshot_acquire();
	json_t *pools = s ? l7_pools_status_json(s) : NULL, *view = json_array(), *pool, *m;
	size_t i, j;

	json_array_foreach(pools, i, pool)
		json_array_foreach(json_object_get(pool, "members"), j, m)
			json_array_append_new(view, json_pack("{s:O, s:O, s:O, s:O}",
				"pool", json_object_get(pool, "name") ?: json_null(),
				"address", json_object_get(m, "address") ?: json_null(),
				"port", json_object_get(m, "port") ?: json_null(),
				"state", json_object_get(m, "state") ?: json_null()));
	if (view != NULL)
		peer_health_set(d->peer, view);
	json_decref(view);
	json_decref(pools);
	snapshot_release(&s);
	/* The sync gate: a node that started without the peer's state holds
	 * its VRRP priority at 1 until it loaded a full batch (or gave up
	 * waiting), then takes its configured priority (doc/ha.md). */
	if (d->vrrp != NULL && peer_synced(d->peer) && vrrp_set_gated(d->vrrp, 0))
		tandemd_vrrp_apply(d);
	loop_timer_set(l, t, TANDEMD_PEER_HEALTH_MS, tandemd_peer_timer, d);
}

/* Starts the keepalived supervisor on the first snapshot (main loop only).
 * A vrrp section that keepalived -t refuses stops the start, like any other
 * error of the first config. */
static int
tandemd_vrrp_start(struct tandemd *d, int upgrading)
{
	struct snapshot *s;
	struct errs e;
	int rc;

	if (vrrp_new(d->loop, &d->vrrp_opts, &d->vrrp) < 0 ||
	    vrrp_role_hook_add(d->vrrp, tandemd_vrrp_role, d) < 0)
		return -1;
	/* Until the peer's state is loaded; not on a binary upgrade: the old
	 * process's MASTER must not drop its priority for the handover. */
	if (d->peer_opts.connect != NULL && !upgrading)
		vrrp_set_gated(d->vrrp, 1);
	errs_init(&e);
	s = snapshot_acquire();
	rc = vrrp_prepare(d->vrrp, s->conf, &e);
	snapshot_release(&s);
	if (rc < 0) {
		tandemd_print_errs(d->config_path, &e);
		log_err("cannot start: the vrrp section was refused");
	} else {
		vrrp_commit(d->vrrp);
	}
	errs_release(&e);
	return rc;
}

/* Binary upgrade, old side: what the new tandemd serves from now on stops
 * here (VRRP and the listeners are upgrade.c's). */
static void
tandemd_handover(void *data)
{
	struct tandemd *d = data;

	loop_timer_cancel(d->loop, &d->l4_timer);
	loop_timer_cancel(d->loop, &d->peer_timer);
	peer_stop(&d->peer);
	l7_metrics_extra_set(NULL, NULL);
	l7_metrics_stop();
	/* the new tandemd writes the limiter's state file from now on */
	loop_timer_cancel(d->loop, &d->state_timer);
	d->limit_state = NULL;
}

/* The sockets that are not SO_REUSEPORT listeners: the peer link, the
 * control socket and metrics. On a binary upgrade they start only after
 * the takeover (the old tandemd holds them until then). 0 or -1. */
static int
tandemd_serve_more(struct tandemd *d, struct ctl_server **ctl)
{
	struct snapshot *s;
	int rc;

	if (d->peer_opts.connect != NULL || d->peer_opts.listen != NULL || d->peer_opts.dir != NULL) {
		if (d->peer_opts.connect == NULL || d->peer_opts.listen == NULL || d->peer_opts.dir == NULL) {
			log_err("the peer link needs --peer-listen, --peer and --peer-dir together");
			return -1;
		}
		if (peer_start(&d->peer_opts, &d->peer) < 0)
			return -1;
		loop_timer_set(d->loop, &d->peer_timer, 0, tandemd_peer_timer, d);
	}
	/* Default to root:tandem when the tandem group exists (packaged installs). */
	if (d->socket_group == NULL && getgrnam("tandem") != NULL)
		d->socket_group = "tandem";
	if (ctl_server_start(d->loop, d->socket_path, d->socket_group, tandemd_ctl, d, ctl) < 0)
		return -1;
	l7_metrics_extra_set(tandemd_metrics_extra, d);	/* L4 and the peer link */
	/* --metrics, else the config's metrics.address (errors logged) */
	s = snapshot_acquire();
	rc = s != NULL ? tandemd_metrics(d, s->conf) : 0;
	snapshot_release(&s);
	return rc < 0 ? -1 : 0;
}

static void
tandemd_signal(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct tandemd *d = io->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (!upgrade_handed_over(d->upg))
				json_decref(tandemd_reload(d));
		} else {
			log_notice("signal %u: stopping", si.ssi_signo);
			loop_stop(l);
		}
	}
}

/* A numeric option lo..hi into *out; 0, or -1 after saying why. */
static int
tandemd_num_opt(const char *name, const char *arg, long lo, long hi, const char *unit,
		unsigned *out)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "tandemd: --%s must be %ld-%ld%s\n", name, lo, hi, unit);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "workers", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "l4-state", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "vrrp-run-dir", required_argument, NULL, 'R' },
		{ "keepalived", required_argument, NULL, 'K' },
		{ "user", required_argument, NULL, 'U' },
		{ "priv-dir", required_argument, NULL, 'P' },
		{ "peer-listen", required_argument, NULL, 'A' },
		{ "peer", required_argument, NULL, 'B' },
		{ "peer-dir", required_argument, NULL, 'D' },
		{ "peer-gate", required_argument, NULL, 'G' },
		{ "limit-state", required_argument, NULL, 'Y' },
		{ "limit-state-interval", required_argument, NULL, 'Z' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "cert-dir", required_argument, NULL, 'T' },
		{ "ticket-key-lifetime", required_argument, NULL, 'k' },
		{ "limit-node", required_argument, NULL, 'N' },
		{ "upgrade", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	struct tandemd d = { .socket_path = TANDEMD_DEFAULT_SOCKET, .workers = 0, .sigfd = -1,
			     .cert_dir = L7_TLSCONF_DEFAULT_DIR, .limit_state_s = 10, .ticket_key_lifetime = L7_TLSCONF_KEY_LIFETIME,
			     .vrrp_opts = { .run_dir = TANDEMD_DEFAULT_VRRP_DIR, .keepalived = "keepalived" } };
	struct ctl_server *ctl = NULL;
	struct snapshot *s;
	struct errs e;
	sigset_t mask;
	int opt, level = LOG_INFO, rc = 1, upgrading = upgrade_requested();
	const char *user = NULL, *priv_dir = TANDEMD_DEFAULT_PRIV_DIR;
	char priv_fifo[PATH_MAX];

	while ((opt = getopt_long(argc, argv, "c:s:g:w:vfVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 's': d.socket_path = optarg; break;
		case 'g': d.socket_group = optarg; break;
		case 'M': d.metrics = optarg; break;
		case 'N':
			if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0) {
				fprintf(stderr, "tandemd: --limit-node must be 0 or 1\n");
				return 2;
			}
			d.limit_node = (unsigned)(optarg[0] - '0');
			d.limit_node_set = 1;
			break;
		case 'Y': d.limit_state = optarg; break;
		case 'Z':
			if (tandemd_num_opt("limit-state-interval", optarg, 1, 86400, " seconds",
					    &d.limit_state_s) < 0)
				return 2;
			break;
		case 'w':
			if (tandemd_num_opt("workers", optarg, 1, 256, "", &d.workers) < 0)
				return 2;
			break;
		case 'v': level = LOG_DEBUG; break;
		case 'f': break; /* always foreground: systemd supervises us */
		case 'C': return tandemd_check(optarg);
		case 'L': d.l4_state_path = optarg; break;
		case 'V': printf("tandemd %s\n", PACKAGE_VERSION); return 0;
		case 'h': tandemd_usage(stdout); return 0;
		case 'R': d.vrrp_opts.run_dir = optarg; break;
		case 'K': d.vrrp_opts.keepalived = optarg; break;
		case 'U': user = optarg; break;
		case 'P': priv_dir = optarg; break;
		case 'A': d.peer_opts.listen = optarg; break;
		case 'B': d.peer_opts.connect = optarg; break;
		case 'D': d.peer_opts.dir = optarg; break;
		case 'G':
			if (tandemd_num_opt("peer-gate", optarg, 1, 3600, " seconds", &d.peer_opts.gate_ms) < 0)
				return 2;
			d.peer_opts.gate_ms *= 1000;
			break;
		case 'T': d.cert_dir = optarg; break;
		case 'k':
			if (tandemd_num_opt("ticket-key-lifetime", optarg, 0, 7 * 86400, " seconds",
					    &d.ticket_key_lifetime) < 0)
				return 2;
			break;
		case 'X': upgrading = 1; break;
		default: tandemd_usage(stderr); return 2;
		}
	}
	if (d.config_path == NULL || optind != argc) {
		tandemd_usage(stderr);
		return 2;
	}
	log_init("tandemd", level);
	vrrp_priv_exec_args(argv);
	/* The privilege split comes first, before any thread or file: from here
	 * on this process is the unprivileged data plane, its parent the root
	 * supervisor of keepalived (vrrp/vrrp_priv.c, doc/ha.md). */
	if (user != NULL) {
		if (upgrading && getuid() == 0) {
			fprintf(stderr, "tandemd: --upgrade with --user: use tandemctl upgrade (the "
				"supervisor upgrades in place and keeps keepalived)\n");
			return 2;
		}
		if (vrrp_priv_split(user, d.vrrp_opts.run_dir, priv_dir, d.vrrp_opts.keepalived,
				    d.socket_path,
				    &d.vrrp_opts.priv_fd, priv_fifo, sizeof(priv_fifo)) < 0)
			return 1;
		if (d.vrrp_opts.priv_fd > 0)
			d.vrrp_opts.fifo_path = priv_fifo;
		/* the supervisor's exec marks its new data plane */
		upgrading |= upgrade_requested();
	}
	d.started = time(NULL);
	if (d.l4_state_path == NULL) {
		if (snprintf(d.l4_state_default, sizeof(d.l4_state_default), "%s.l4-owned",
			     d.config_path) >= (int)sizeof(d.l4_state_default)) {
			fprintf(stderr, "tandemd: config path too long\n");
			return 2;
		}
		d.l4_state_path = d.l4_state_default;
	}

	/* Signals are read from a signalfd in the main loop; workers inherit the
	 * blocked mask so only the main thread sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	errs_init(&e);
	d.workers_cli = d.workers != 0;
	if (d.workers == 0)
		d.workers = tandemd_conf_workers(d.config_path);
	if (d.workers == 0) {
		/* one worker per core by default (each with its own listening
		 * sockets, SO_REUSEPORT spreading the connections) */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		d.workers = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (unsigned)ncpu;
	}
	/* A binary upgrade takes the old tandemd's listening sockets first. */
	if (upgrading && upgrade_receive(d.socket_path, &d.workers) < 0)
		return 1;
	snapshot_workers_set(d.workers);
	/* The limiter's tables outlive snapshots: the store exists before the
	 * first build binds rules to it. Its key-hash seed: see peer_seed.c. */
	{
		uint64_t seed[2];

		if (tandemd_limit_seed(&d, seed) < 0)
			return 1;

		/* The two nodes must count in different slots: with a peer link
		 * and no --limit-node, the dialling node (lower listen address)
		 * takes 0 and the other 1. */
		if (!d.limit_node_set && d.peer_opts.listen != NULL && d.peer_opts.connect != NULL)
			d.limit_node = strcmp(d.peer_opts.listen, d.peer_opts.connect) < 0 ? 0 : 1;
		log_info("limiter: counter slot %u%s", d.limit_node,
			 d.limit_node_set ? "" : d.peer_opts.connect ? " (from the peer link)" : "");

		if (lim_run_start(d.limit_node, seed, TANDEMD_LIMIT_MAX_KEYS, tandemd_ban_mirror) < 0) {
			log_err("cannot start the rate-rule state: out of memory");
			return 1;
		}
	}
	if ((rc = l7_tlsconf_init(d.cert_dir, d.ticket_key_lifetime, (uint64_t)time(NULL))) < 0) {
		log_err("cannot set up TLS: %s", strerror(-rc));
		errs_release(&e);
		return 1;
	}
	/* A binary upgrade keeps the old tandemd's ticket keys, so its tickets
	 * resume here; without them (logged) the upgrade goes on. */
	if (upgrading)
		upgrade_receive_keys(l7_tlsconf_keys());
	rc = 1;
	s = snapshot_build(d.config_path, &e);
	if (s == NULL) {
		tandemd_print_errs(d.config_path, &e);
		log_err("cannot start: %s has %zu error%s", d.config_path, e.count,
			e.count == 1 ? "" : "s");
		errs_release(&e);
		lim_run_stop();
		return 1;
	}
	errs_release(&e);
	l7_tlsconf_lifetime(s->conf, d.ticket_key_lifetime);
	log_notice("tandemd %s starting: generation %lu (revision %ld)", PACKAGE_VERSION,
		   snapshot_publish(s), s->conf->revision);

	d.loop = loop_new();
	d.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d.loop == NULL || d.sigfd < 0 ||
	    loop_io_add(d.loop, &d.sig_io, d.sigfd, EPOLLIN, tandemd_signal, &d) < 0) {
		log_err("cannot set up the main loop: %s", strerror(errno));
		goto out;
	}
	/* The limiter's state: the peer link syncs it, the state file keeps
	 * it across a restart of both nodes (loaded before the workers serve). */
	d.peer_sync = peer_sync_new(lim_run_store(), lim_run_ban_apply, l7_tlsconf_keys());
	if (d.peer_sync == NULL)
		goto out;
	if (d.limit_state != NULL) {
		size_t n;

		if (peer_snap_load(d.peer_sync, d.limit_state, &n) == -ENOENT)
			log_notice("limiter state: no %s yet; starting with empty counters", d.limit_state);
		loop_timer_set(d.loop, &d.state_timer, (uint64_t)d.limit_state_s * 1000,
			       tandemd_state_timer, &d);
	}
	if (tandemd_vrrp_start(&d, upgrading) < 0)
		goto out;
	loop_timer_set(d.loop, &d.tls_timer, 1000, tandemd_tls_timer, NULL);
	d.peer_opts.sync = peer_sync_ops(d.peer_sync);
	{
		struct upgrade_opts uo = { .loop = d.loop, .argv = argv, .priv_fd = d.vrrp_opts.priv_fd,
					   .vrrp = d.vrrp, .handover = tandemd_handover, .data = &d };

		if (upgrade_new(&uo, &d.upg) < 0)
			goto out;
	}
	if (!upgrading && tandemd_serve_more(&d, &ctl) < 0)
		goto out;
	if (l7_workers_start(d.workers) < 0) {
		log_err("cannot start the L7 workers");
		goto out;
	}
	if (l7_health_start() < 0) {
		log_err("cannot start the health check thread");
		l7_workers_stop();
		goto out;
	}
	rc = 1;
	log_notice("control socket %s; %u L7 worker%s", d.socket_path, d.workers,
		   d.workers == 1 ? "" : "s");
	l4_health_start(d.loop, tandemd_l4_health_changed, &d);
	rc = l4_init(d.l4_state_path);
	if (rc < 0)
		log_warn("l4: cannot read %s: %s (services removed from the config while "
			 "tandemd was down stay in the kernel)", d.l4_state_path, strerror(-rc));
	json_decref(tandemd_l4_reconcile(&d, 1));
	loop_timer_set(d.loop, &d.limit_timer, TANDEMD_LIMIT_EXPIRE_MS, tandemd_limit_timer, &d);
	/* Upgrade: serving on the inherited sockets; now the old tandemd stops
	 * accepting and hands keepalived over, and we take the other sockets. */
	if (upgrading && (upgrade_takeover(d.vrrp, d.vrrp_opts.priv_fd) < 0 ||
			  tandemd_serve_more(&d, &ctl) < 0)) {
		l7_metrics_stop();
		l7_health_stop();
		l7_workers_stop();
		goto out;
	}
	/* Without the split, this process becomes systemd's main one. */
	if (upgrading && d.vrrp_opts.priv_fd <= 0) {
		char st[64];

		snprintf(st, sizeof(st), "MAINPID=%d", (int)getpid());
		sdn_notify(st);
	}
	/* Ready means: listeners bound, workers running, control socket
	 * answering. Under systemd (Type=notify) this is what lets
	 * tandem-admin start after us. */
	sdn_notify("READY=1\nSTATUS=serving");
	rc = loop_run(d.loop) < 0 ? 1 : 0;
	if (!upgrade_handed_over(d.upg))	/* else the new tandemd is the service */
		sdn_notify("STOPPING=1");
	/* keepalived first: the VIPs leave (and the peer takes them) while our
	 * listeners still answer; then the data plane stops. */
	vrrp_free(&d.vrrp);
	l7_metrics_stop();
	l7_health_stop();
	l7_workers_stop();
	/* Only after a clean run: a start that failed must not overwrite the
	 * state file with empty counters. */
	if (d.limit_state != NULL)
		peer_snap_save(d.peer_sync, d.limit_state);
out:
	l7_metrics_stop();
	if (d.loop != NULL)
		loop_timer_cancel(d.loop, &d.peer_timer);
	peer_stop(&d.peer);
	peer_sync_free(&d.peer_sync);
	vrrp_free(&d.vrrp);
	if (d.loop != NULL) {
		loop_timer_cancel(d.loop, &d.l4_timer);
		loop_timer_cancel(d.loop, &d.tls_timer);
		loop_timer_cancel(d.loop, &d.limit_timer);
		loop_timer_cancel(d.loop, &d.state_timer);
	}
	l4_shutdown();
	ctl_server_stop(&ctl);
	upgrade_free(&d.upg);
	if (d.sigfd >= 0)
		close(d.sigfd);
	loop_free(&d.loop);
	snapshot_shutdown();
	l7_tlsconf_shutdown();	/* after the last snapshot: contexts borrow the key store */
	lim_run_stop();		/* after the workers and the last snapshot */
	log_notice("tandemd stopped");
	return rc;
}
