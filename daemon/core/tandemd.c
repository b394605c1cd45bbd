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
#include "ctl.h"
#include "errs.h"
#include "l7_health.h"
#include "l7_proxy.h"
#include "log.h"
#include "loop.h"
#include "snapshot.h"

#define TANDEMD_DEFAULT_SOCKET "/run/tandem/tandemd.sock"

struct tandemd {
	const char *config_path;
	const char *socket_path;
	const char *socket_group;
	unsigned workers;
	time_t started;
	unsigned long reloads_ok;
	unsigned long reloads_failed;
	struct loop *loop;
	struct loop_io sig_io;
	int sigfd;
};

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
		"  -v, --verbose            log at debug level\n"
		"      --check FILE         validate FILE, print every error, exit 1 on any\n"
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
	printf("%s: configuration OK (revision %ld: %zu listeners, %zu pools, %zu routes)\n",
	       file, c->revision, c->nlisteners, c->npools, c->nroutes);
	conf_free(&c);
	errs_release(&e);
	return 0;
}

/* Builds and publishes a new snapshot. Returns the control-socket answer. */
static json_t *
tandemd_reload(struct tandemd *d)
{
	unsigned long old_gen = snapshot_generation(), gen;
	struct snapshot *s;
	struct errs e;
	json_t *resp;

	errs_init(&e);
	s = snapshot_build(d->config_path, &e);
	if (s == NULL) {
		d->reloads_failed++;
		log_notice("reload gen %lu->%lu rejected: %s: %s", old_gen, old_gen + 1,
			   e.count && e.items ? e.items[0].path : "$",
			   e.count && e.items ? e.items[0].message : "error");
		resp = json_pack("{s:b,s:I,s:o}", "ok", 0, "generation", (json_int_t)old_gen,
				 "errors", errs_to_json(&e));
		errs_release(&e);
		return resp;
	}
	gen = snapshot_publish(s);
	l7_workers_wake();
	l7_health_wake();
	d->reloads_ok++;
	s = snapshot_acquire();
	log_notice("reload gen %lu->%lu applied (revision %ld)", old_gen, gen,
		   s ? s->conf->revision : 0L);
	resp = json_pack("{s:b,s:I,s:I}", "ok", 1, "generation", (json_int_t)gen,
			 "revision", (json_int_t)(s ? s->conf->revision : 0));
	snapshot_release(&s);
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
	snapshot_release(&s);
	return resp;
}

static json_t *
tandemd_stats(struct tandemd *d)
{
	return json_pack("{s:b,s:I,s:I,s:I,s:o}", "ok", 1,
			 "generation", (json_int_t)snapshot_generation(),
			 "reloads_ok", (json_int_t)d->reloads_ok,
			 "reloads_failed", (json_int_t)d->reloads_failed,
			 "l7", l7_stats_json());
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
	return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$.cmd",
			 "message", "unknown command (status, reload, stats)");
}

static void
tandemd_signal(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct tandemd *d = io->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			json_decref(tandemd_reload(d));
		} else {
			log_notice("signal %u: stopping", si.ssi_signo);
			loop_stop(l);
		}
	}
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tandemd d = { .socket_path = TANDEMD_DEFAULT_SOCKET, .workers = 0, .sigfd = -1 };
	struct ctl_server *ctl = NULL;
	struct snapshot *s;
	struct errs e;
	sigset_t mask;
	int opt, level = LOG_INFO, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:s:g:w:vfVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 's': d.socket_path = optarg; break;
		case 'g': d.socket_group = optarg; break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end != '\0' || n < 1 || n > 256) {
				fprintf(stderr, "tandemd: --workers must be 1-256\n");
				return 2;
			}
			d.workers = (unsigned)n;
			break;
		}
		case 'v': level = LOG_DEBUG; break;
		case 'f': break; /* always foreground: systemd supervises us */
		case 'C': return tandemd_check(optarg);
		case 'V': printf("tandemd %s\n", PACKAGE_VERSION); return 0;
		case 'h': tandemd_usage(stdout); return 0;
		default: tandemd_usage(stderr); return 2;
		}
	}
	if (d.config_path == NULL || optind != argc) {
		tandemd_usage(stderr);
		return 2;
	}
	log_init("tandemd", level);
	d.started = time(NULL);

	/* Signals are read from a signalfd in the main loop; workers inherit the
	 * blocked mask so only the main thread sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	errs_init(&e);
	if (d.workers == 0) {
		/* one worker per core by default (each with its own listening
		 * sockets, SO_REUSEPORT spreading the connections) */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		d.workers = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (unsigned)ncpu;
	}
	snapshot_workers_set(d.workers);
	s = snapshot_build(d.config_path, &e);
	if (s == NULL) {
		tandemd_print_errs(d.config_path, &e);
		log_err("cannot start: %s has %zu error%s", d.config_path, e.count,
			e.count == 1 ? "" : "s");
		errs_release(&e);
		return 1;
	}
	errs_release(&e);
	log_notice("tandemd %s starting: generation %lu (revision %ld)", PACKAGE_VERSION,
		   snapshot_publish(s), s->conf->revision);

	d.loop = loop_new();
	d.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d.loop == NULL || d.sigfd < 0 ||
	    loop_io_add(d.loop, &d.sig_io, d.sigfd, EPOLLIN, tandemd_signal, &d) < 0) {
		log_err("cannot set up the main loop: %s", strerror(errno));
		goto out;
	}
	/* Default to root:tandem when the tandem group exists (packaged installs). */
	if (d.socket_group == NULL && getgrnam("tandem") != NULL)
		d.socket_group = "tandem";
	if (ctl_server_start(d.loop, d.socket_path, d.socket_group, tandemd_ctl, &d, &ctl) < 0)
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
	log_notice("control socket %s; %u L7 worker%s", d.socket_path, d.workers,
		   d.workers == 1 ? "" : "s");
	rc = loop_run(d.loop) < 0 ? 1 : 0;
	l7_health_stop();
	l7_workers_stop();
out:
	ctl_server_stop(&ctl);
	if (d.sigfd >= 0)
		close(d.sigfd);
	loop_free(&d.loop);
	snapshot_shutdown();
	log_notice("tandemd stopped");
	return rc;
}
