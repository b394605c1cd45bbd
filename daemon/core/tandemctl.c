/*
 * tandemctl - the operator's command line for tandemd: status, reload, stats
 * over the control socket, and an offline check of a config file.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "ctlc.h"
#include "errs.h"
#include "jh.h"
#include "peer.h"

#define TANDEMCTL_DEFAULT_SOCKET "/run/tandem/tandemd.sock"
#define TANDEMCTL_TIMEOUT_MS 10000

static void
tandemctl_usage(FILE *f)
{
	fprintf(f,
		"usage: tandemctl [-s SOCKET] status [--json]\n"
		"       tandemctl [-s SOCKET] reload\n"
		"       tandemctl [-s SOCKET] stats\n"
		"       tandemctl [-s SOCKET] counters\n"
		"       tandemctl [-s SOCKET] limits   (rate rules: counters, top keys, WAF hits, bans)\n"
		"       tandemctl [-s SOCKET] ban ADDRESS [SECONDS]   (L4 ban set, nftables)\n"
		"       tandemctl [-s SOCKET] sync-role master|backup|both|none|config   (IPVS sync daemon)\n"
		"       tandemctl check FILE\n"
		"       tandemctl pair-init DIR NODE_A NODE_B   the peer link's CA and node certificates\n"
		"       tandemctl [-s SOCKET] peer-reconnect\n"
		"       tandemctl [-s SOCKET] tls-rotate-keys   new session ticket key now\n"
		"       tandemctl [-s SOCKET] upgrade [DRAIN_SECONDS]   binary upgrade: the new binary\n"
		"                           takes the listeners over, the old process drains\n"
		"  -s, --socket PATH   tandemd control socket (default " TANDEMCTL_DEFAULT_SOCKET ")\n");
}

static void
tandemctl_print_errors(const json_t *errors)
{
	size_t i;
	json_t *e;

	json_array_foreach(errors, i, e)
		fprintf(stderr, "  %s: %s\n", json_string_value(json_object_get(e, "path")),
			json_string_value(json_object_get(e, "message")));
}

/* Sends req (consumed) and reads the answer into *resp; -1 (said on
 * stderr) when tandemd cannot be reached. */
static int
tandemctl_request(const char *sock, json_t *req, json_t **resp)
{
	int rc = ctlc_call(sock, req, resp, TANDEMCTL_TIMEOUT_MS);

	json_decref(req);
	if (rc < 0) {
		fprintf(stderr, "tandemctl: cannot reach tandemd at %s: %s\n", sock, strerror(-rc));
		return -1;
	}
	return 0;
}

static int
tandemctl_call(const char *sock, const char *cmd, json_t **resp)
{
	return tandemctl_request(sock, json_pack("{s:s}", "cmd", cmd), resp);
}

/* "ban ADDRESS [SECONDS]": adds the address to tandemd's nftables ban set. */
static int
tandemctl_ban(const char *sock, const char *addr, const char *secs)
{
	json_t *req = json_pack("{s:s,s:s,s:I}", "cmd", "ban", "address", addr,
				"timeout", (json_int_t)(secs ? strtol(secs, NULL, 10) : 0));
	json_t *resp = NULL;
	int rc;

	if (tandemctl_request(sock, req, &resp) < 0)
		return 1;
	rc = json_is_true(json_object_get(resp, "ok")) ? 0 : 1;
	if (rc)
		tandemctl_print_errors(json_object_get(resp, "errors"));
	else
		printf("banned %s\n", addr);
	json_decref(resp);
	return rc;
}

/* "sync-role ROLE": the IPVS sync daemon's role at run time. */
static int
tandemctl_sync_role(const char *sock, const char *role)
{
	json_t *resp = NULL;
	int rc;

	if (tandemctl_request(sock, json_pack("{s:s,s:s}", "cmd", "l4-sync", "role", role), &resp) < 0)
		return 1;
	rc = json_is_true(json_object_get(resp, "ok")) ? 0 : 1;
	if (json_object_get(resp, "errors") != NULL)
		tandemctl_print_errors(json_object_get(resp, "errors"));
	else
		printf("IPVS sync daemon role: %s%s%s\n", json_string_value(json_object_get(resp, "role")),
		       rc ? " (not applied: " : "", rc ? json_string_value(json_object_get(resp, "error")) : "");
	if (rc && json_object_get(resp, "errors") == NULL)
		printf(")\n");
	json_decref(resp);
	return rc;
}

/* The peer link's part of status: one line, and the peer's health view. */
static void
tandemctl_print_peer(const json_t *pe)
{
	const json_t *c = json_object_get(pe, "counters"), *m;
	const char *state = json_string_value(json_object_get(pe, "state"));
	char lagbuf[32];
	size_t i;

	if (state == NULL || strcmp(state, "disabled") == 0)
		return;
	printf("\nPEER %s (%s) state %s; sent seq %lld, acked %lld; received seq %lld; "
	       "rtt %lld ms; connects %lld, resumes %lld, full syncs %lld sent / %lld received, "
	       "refused %lld\n",
	       json_string_value(json_object_get(pe, "peer_node")) ?: "?",
	       json_string_value(json_object_get(pe, "connect")) ?: "?", state,
	       json_integer_value(json_object_get(pe, "out_seq")),
	       json_integer_value(json_object_get(pe, "acked")),
	       json_integer_value(json_object_get(pe, "rx_seq")),
	       json_integer_value(json_object_get(pe, "rtt_ms")),
	       json_integer_value(json_object_get(c, "connects")),
	       json_integer_value(json_object_get(c, "resumes")),
	       json_integer_value(json_object_get(c, "fulls_sent")),
	       json_integer_value(json_object_get(c, "fulls_received")),
	       json_integer_value(json_object_get(c, "refused")));
	{
		const json_t *sy = json_object_get(pe, "sync");
		const json_t *p99 = json_object_get(sy, "lag_p99_ms");

		snprintf(lagbuf, sizeof(lagbuf), "%lld", json_integer_value(p99));
		printf("  sync: peer's state %s; lag p99 %s ms, max %lld ms; records applied %lld, "
		       "refused %lld\n",
		       json_is_true(json_object_get(pe, "synced")) ? "loaded" :
		       json_is_true(json_object_get(pe, "gate_open")) ? "not loaded (gate timed out)" :
		       "not loaded yet (VRRP priority gated)",
		       json_is_integer(p99) ? lagbuf : "-",
		       json_integer_value(json_object_get(sy, "lag_max_ms")),
		       json_integer_value(json_object_get(sy, "records_applied")),
		       json_integer_value(json_object_get(sy, "records_refused")));
	}
	if (json_is_string(json_object_get(pe, "last_error")))
		printf("  last error: %s\n", json_string_value(json_object_get(pe, "last_error")));
	json_array_foreach(json_object_get(pe, "peer_health"), i, m)
		printf("  peer sees %s %s:%lld %s\n", json_string_value(json_object_get(m, "pool")) ?: "?",
		       json_string_value(json_object_get(m, "address")) ?: "?",
		       json_integer_value(json_object_get(m, "port")),
		       json_string_value(json_object_get(m, "state")) ?: "?");
}

/* The vrrp part of status: keepalived and one line per VIP group. */
static void
tandemctl_print_vrrp(const json_t *vr)
{
	const json_t *ka = json_object_get(vr, "keepalived"), *g, *vip;
	size_t i, j;

	if (!json_is_true(json_object_get(vr, "enabled")))
		return;
	printf("\nVRRP node role %s; keepalived %s (pid %lld, %lld starts)\n",
	       json_string_value(json_object_get(vr, "role")),
	       json_is_true(json_object_get(ka, "running")) ? "running" : "NOT RUNNING",
	       json_integer_value(json_object_get(ka, "pid")),
	       json_integer_value(json_object_get(ka, "starts")));
	printf("GROUP                ROLE     PRIO VRID INTERFACE        VIPS\n");
	json_array_foreach(json_object_get(vr, "groups"), i, g) {
		printf("%-20s %-8s %4lld %4lld %-16s", json_string_value(json_object_get(g, "name")),
		       json_string_value(json_object_get(g, "role")),
		       json_integer_value(json_object_get(g, "priority")),
		       json_integer_value(json_object_get(g, "virtual_router_id")),
		       json_string_value(json_object_get(g, "interface")));
		json_array_foreach(json_object_get(g, "vips"), j, vip)
			printf(" %s", json_string_value(vip));
		printf("\n");
	}
}

/* A unix time as ISO 8601 UTC in buf ("?" when it is not one). */
static const char *
tandemctl_utc(const json_t *t, char *buf, size_t len)
{
	time_t at = (time_t)json_integer_value(t);
	struct tm tm;

	if (!json_is_integer(t) || gmtime_r(&at, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

static void
tandemctl_print_status(const json_t *st)
{
	json_t *l, *p, *m, *tk = json_object_get(json_object_get(st, "tls"), "ticket_keys");
	size_t i, j;
	char when[32];

	printf("tandemd %s  pid %lld  up %llds  workers %lld\n",
	       json_string_value(json_object_get(st, "version")),
	       json_integer_value(json_object_get(st, "pid")),
	       json_integer_value(json_object_get(st, "uptime_s")),
	       json_integer_value(json_object_get(st, "workers")));
	printf("config %s  generation %lld  revision %lld\n",
	       json_string_value(json_object_get(st, "config")),
	       json_integer_value(json_object_get(st, "generation")),
	       json_integer_value(json_object_get(st, "revision")));
	if (json_is_object(tk))
		printf("ticket keys %lld  current made %s  lifetime %llds (from the %s)\n",
		       json_integer_value(json_object_get(tk, "keys")),
		       tandemctl_utc(json_object_get(tk, "current_created"), when, sizeof(when)),
		       json_integer_value(json_object_get(tk, "lifetime_s")),
		       json_string_value(json_object_get(tk, "lifetime_from")) ?: "?");
	printf("\nLISTENER             ADDRESS                                  ROUTES\n");
	json_array_foreach(json_object_get(st, "listeners"), i, l) {
		char addr[80];

		snprintf(addr, sizeof(addr), "%s:%lld", json_string_value(json_object_get(l, "address")),
			 json_integer_value(json_object_get(l, "port")));
		printf("%-20s %-40s %lld\n", json_string_value(json_object_get(l, "name")), addr,
		       json_integer_value(json_object_get(l, "routes")));
	}
	printf("\nPOOL                 MEMBER                                   WEIGHT STATE    ACTIVE REASON\n");
	json_array_foreach(json_object_get(st, "pools"), i, p) {
		json_array_foreach(json_object_get(p, "members"), j, m) {
			const char *reason = json_string_value(json_object_get(m, "reason"));
			char addr[80];

			snprintf(addr, sizeof(addr), "%s:%lld%s",
				 json_string_value(json_object_get(m, "address")),
				 json_integer_value(json_object_get(m, "port")),
				 json_is_true(json_object_get(m, "backup")) ? " (backup)" : "");
			printf("%-20s %-40s %6lld %-8s %6lld %s\n",
			       j == 0 ? json_string_value(json_object_get(p, "name")) : "",
			       addr, json_integer_value(json_object_get(m, "weight")),
			       json_string_value(json_object_get(m, "state")),
			       json_integer_value(json_object_get(m, "active")), reason ? reason : "");
		}
	}
	tandemctl_print_vrrp(json_object_get(st, "vrrp"));
	tandemctl_print_peer(json_object_get(st, "peer"));
}

/* The kernel's counters of one service or real, ending the line. */
static void
tandemctl_print_l4_stats(const json_t *st)
{
	printf("%10lld %10lld %10lld %12lld %12lld %6lld\n",
	       json_integer_value(json_object_get(st, "conns")),
	       json_integer_value(json_object_get(st, "inpkts")),
	       json_integer_value(json_object_get(st, "outpkts")),
	       json_integer_value(json_object_get(st, "inbytes")),
	       json_integer_value(json_object_get(st, "outbytes")),
	       json_integer_value(json_object_get(st, "cps")));
}

/* The sync daemon line: its role and where the role comes from. */
static void
tandemctl_print_l4_sync(const json_t *y)
{
	const char *cr = json_string_value(json_object_get(y, "config_role"));
	const char *src = json_string_value(json_object_get(y, "source"));

	if (y == NULL || cr == NULL || (strcmp(cr, "none") == 0 && src != NULL && strcmp(src, "config") == 0))
		return;
	printf("IPVS sync daemon: role %s (%s%s%s); master %s, backup %s%s%s\n",
	       json_string_value(json_object_get(y, "role")) ?: "?",
	       src != NULL && strcmp(src, "control") == 0 ? "set by sync-role" :
	       src != NULL && strcmp(src, "vrrp") == 0 ? "follows VRRP: " : "config",
	       src != NULL && strcmp(src, "vrrp") == 0 ? json_string_value(json_object_get(y, "vrrp_role")) ?: "?" : "",
	       "", json_is_true(json_object_get(y, "master_running")) ? "running" : "stopped",
	       json_is_true(json_object_get(y, "backup_running")) ? "running" : "stopped",
	       json_string_length(json_object_get(y, "error")) ? "; error: " : "",
	       json_string_value(json_object_get(y, "error")) ?: "");
}

/* The L4 part of status: availability, last reconcile, the kernel's view. */
static void
tandemctl_print_l4(const json_t *l4)
{
	const json_t *rc = json_object_get(l4, "reconcile"), *s, *r;
	size_t i, j;

	if (l4 == NULL)
		return;
	if (!json_is_true(json_object_get(l4, "available"))) {
		printf("\nL4 inactive: %s (%lld services configured)\n",
		       json_string_value(json_object_get(l4, "reason")) ?: "unknown",
		       json_integer_value(json_object_get(l4, "configured")));
		return;
	}
	printf("\nL4 IPVS: %lld services configured, %zu missing; reconciles %lld, last %lld changes "
	       "(%lld refused) in %.1f ms%s%s\n",
	       json_integer_value(json_object_get(l4, "configured")),
	       json_array_size(json_object_get(l4, "missing")),
	       json_integer_value(json_object_get(rc, "count")),
	       json_integer_value(json_object_get(rc, "last_ops")),
	       json_integer_value(json_object_get(rc, "last_failed")),
	       json_real_value(json_object_get(rc, "last_ms")),
	       json_string_length(json_object_get(rc, "last_error")) ? ": " : "",
	       json_string_value(json_object_get(rc, "last_error")) ?: "");
	tandemctl_print_l4_sync(json_object_get(l4, "sync"));
	printf("%-16s %-30s %-6s %-28s %-6s %6s %7s %7s %10s %10s %10s %12s %12s %6s\n", "SERVICE",
	       "VIRTUAL", "SCHED", "REAL", "FWD", "WEIGHT", "ACTIVE", "INACT", "CONNS", "INPKTS",
	       "OUTPKTS", "INBYTES", "OUTBYTES", "CPS");
	json_array_foreach(json_object_get(l4, "services"), i, s) {
		const char *proto = json_string_value(json_object_get(s, "protocol"));
		char v[80];

		if (proto != NULL && strcmp(proto, "fwmark") == 0)
			snprintf(v, sizeof(v), "fwmark %lld %s", json_integer_value(json_object_get(s, "fwmark")),
				 json_string_value(json_object_get(s, "family")));
		else
			snprintf(v, sizeof(v), "%s %s:%lld", proto ? proto : "?",
				 json_string_value(json_object_get(s, "address")),
				 json_integer_value(json_object_get(s, "port")));
		printf("%-16s %-30s %-6s %-28s %-6s %6s %7s %7s ",
		       json_is_string(json_object_get(s, "name")) ?
		       json_string_value(json_object_get(s, "name")) : "(not ours)",
		       v, json_string_value(json_object_get(s, "scheduler")), "", "", "", "", "");
		tandemctl_print_l4_stats(json_object_get(s, "stats"));
		json_array_foreach(json_object_get(s, "reals"), j, r) {
			char a[80];

			snprintf(a, sizeof(a), "%s:%lld", json_string_value(json_object_get(r, "address")),
				 json_integer_value(json_object_get(r, "port")));
			printf("%-16s %-30s %-6s %-28s %-6s %6lld %7lld %7lld ", "", "", "", a,
			       json_string_value(json_object_get(r, "forward")),
			       json_integer_value(json_object_get(r, "weight")),
			       json_integer_value(json_object_get(r, "active_conns")),
			       json_integer_value(json_object_get(r, "inactive_conns")));
			tandemctl_print_l4_stats(json_object_get(r, "stats"));
		}
	}
}

/* upgrade [DRAIN]: asks tandemd to start its (new) binary, then waits until
 * the control socket answers from the new process, or the old one reports
 * the failure. The old process drains in the background. */
static int
tandemctl_upgrade(const char *sock, const char *drain)
{
	json_t *req, *resp = NULL;
	json_int_t old_pid, new_pid;
	char *end;
	long d = drain ? strtol(drain, &end, 10) : 0;
	int i, rc;

	if (drain != NULL && (*end != '\0' || d < 1 || d > 86400)) {
		fprintf(stderr, "tandemctl: upgrade: DRAIN_SECONDS must be 1-86400\n");
		return 2;
	}
	req = d ? json_pack("{s:s,s:I}", "cmd", "upgrade", "drain", (json_int_t)d) :
		  json_pack("{s:s}", "cmd", "upgrade");
	if (tandemctl_request(sock, req, &resp) < 0)
		return 1;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "tandemctl: upgrade refused:\n");
		tandemctl_print_errors(json_object_get(resp, "errors"));
		json_decref(resp);
		return 1;
	}
	old_pid = json_integer_value(json_object_get(resp, "pid"));
	json_decref(resp);
	for (i = 0; i < 600; i++) {	/* 60 s: more than tandemd's 30 s takeover bound */
		usleep(100000);
		resp = NULL;
		req = json_pack("{s:s}", "cmd", "status");
		rc = ctlc_call(sock, req, &resp, TANDEMCTL_TIMEOUT_MS);
		json_decref(req);
		if (rc < 0)	/* between the new socket's unlink and bind */
			continue;
		new_pid = json_integer_value(json_object_get(resp, "pid"));
		if (new_pid != old_pid && json_is_true(json_object_get(resp, "ok"))) {
			printf("upgraded: tandemd %s (pid %lld) serves; the old one (pid %lld) drains\n",
			       json_string_value(json_object_get(resp, "version")), (long long)new_pid,
			       (long long)old_pid);
			json_decref(resp);
			return 0;
		}
		if (strcmp(json_string_value(json_object_get(json_object_get(resp, "upgrade"),
							      "state")) ?: "", "failed") == 0) {
			fprintf(stderr, "tandemctl: upgrade failed: %s (the running tandemd keeps "
				"serving)\n", json_string_value(json_object_get(json_object_get(resp,
				"upgrade"), "error")) ?: "see its log");
			json_decref(resp);
			return 1;
		}
		json_decref(resp);
	}
	fprintf(stderr, "tandemctl: upgrade: no new tandemd answered in 60 s\n");
	return 1;
}

static int
tandemctl_check(const char *file)
{
	struct errs e;
	struct conf *c;
	size_t i;

	errs_init(&e);
	c = conf_load_file(file, &e);
	if (c == NULL) {
		for (i = 0; i < e.count && i < e.cap; i++)
			fprintf(stderr, "%s: %s: %s\n", file, e.items[i].path, e.items[i].message);
		errs_release(&e);
		return 1;
	}
	printf("%s: configuration OK\n", file);
	conf_free(&c);
	errs_release(&e);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = TANDEMCTL_DEFAULT_SOCKET, *cmd;
	json_t *resp = NULL;
	int opt, as_json = 0, rc = 1;

	while ((opt = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': as_json = 1; break;
		case 'h': tandemctl_usage(stdout); return 0;
		default: tandemctl_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		tandemctl_usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--json") == 0) {
		as_json = 1;
		optind++;
	}
	if (strcmp(cmd, "check") == 0) {
		if (optind + 1 != argc) {
			tandemctl_usage(stderr);
			return 2;
		}
		return tandemctl_check(argv[optind]);
	}
	if (strcmp(cmd, "sync-role") == 0) {
		if (optind + 1 != argc) {
			tandemctl_usage(stderr);
			return 2;
		}
		return tandemctl_sync_role(sock, argv[optind]);
	}
	if (strcmp(cmd, "ban") == 0) {
		if (optind >= argc || argc - optind > 2) {
			tandemctl_usage(stderr);
			return 2;
		}
		return tandemctl_ban(sock, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL);
	}
	if (optind != argc || (strcmp(cmd, "status") && strcmp(cmd, "reload") && strcmp(cmd, "stats"))) {
}

	if (strcmp(cmd, "pair-init") == 0) {
		char msg[512];

		if (optind + 3 != argc) {
			tandemctl_usage(stderr);
			return 2;
		}
		if (peer_pki_pair_init(argv[optind], argv[optind + 1], argv[optind + 2], msg,
				       sizeof(msg)) < 0) {
			fprintf(stderr, "tandemctl: pair-init: %s\n", msg);
			return 1;
		}
		printf("pair made in %s: copy %s/%s/ to node %s and %s/%s/ to node %s (--peer-dir);\n"
		       "keep %s/ca.key offline\n", argv[optind], argv[optind], argv[optind + 1],
		       argv[optind + 1], argv[optind], argv[optind + 2], argv[optind + 2], argv[optind]);
		return 0;
	}
	if (strcmp(cmd, "upgrade") == 0) {
		if (argc - optind > 1) {
			tandemctl_usage(stderr);
			return 2;
		}
		return tandemctl_upgrade(sock, optind < argc ? argv[optind] : NULL);
	}
	if (strcmp(cmd, "peer-reconnect") == 0)
		cmd = "peer_reconnect";
	if (optind != argc || (strcmp(cmd, "status") && strcmp(cmd, "reload") && strcmp(cmd, "stats") &&
			       strcmp(cmd, "counters") && strcmp(cmd, "peer_reconnect") &&
			       strcmp(cmd, "tls-rotate-keys") &&
			       strcmp(cmd, "limits"))) {
		tandemctl_usage(stderr);
		return 2;
	}
	if (tandemctl_call(sock, cmd, &resp) < 0)
		return 1;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "tandemctl: %s refused:\n", cmd);
		tandemctl_print_errors(json_object_get(resp, "errors"));
		goto out;
	}
	if (as_json || strcmp(cmd, "stats") == 0 || strcmp(cmd, "counters") == 0 || strcmp(cmd, "limits") == 0) {
		char *text = jh_dump_canonical(resp);

		fputs(text ? text : "{}\n", stdout);
		free(text);
	} else if (strcmp(cmd, "status") == 0) {
		tandemctl_print_status(resp);
		tandemctl_print_l4(json_object_get(resp, "l4"));
	} else if (strcmp(cmd, "peer_reconnect") == 0) {
		printf("peer link: reconnecting\n");
	} else if (strcmp(cmd, "tls-rotate-keys") == 0) {
		char when[32];

		printf("ticket key rotated: %lld keys held (the older ones still decrypt); "
		       "current key made %s\n", json_integer_value(json_object_get(resp, "keys")),
		       tandemctl_utc(json_object_get(resp, "current_created"), when, sizeof(when)));
	} else {
		printf("reloaded: generation %lld, revision %lld\n",
		       json_integer_value(json_object_get(resp, "generation")),
		       json_integer_value(json_object_get(resp, "revision")));
	}
	rc = 0;
out:
	json_decref(resp);
	return rc;
}
