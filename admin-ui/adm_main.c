/*
 * tandem-admin - the configuration side of a Tandem node: owns the SQLite
 * database, serves the web console and REST API, and turns applied
 * revisions into the config file tandemd reads (see doc/admin.md).
 *
 * Start-up order matters: the state dir and database first (so a broken
 * database stops us before anything listens), then the first user, then
 * recovery of interrupted applies, then --import, and only then the
 * listening socket. Signals are blocked before MHD's thread starts so
 * SIGTERM/SIGINT arrive at sigwait() in the main thread.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adm_apply.h"
#include "adm_auth.h"
#include "adm_http.h"
#include "adm_pairmsg.h"
#include "adm_peerc.h"
#include "adm_sync.h"
#include "adm_tls.h"
#include "db.h"
#include "log.h"
#include "sdnotify.h"

#ifndef ADM_PKGDATADIR
#define ADM_PKGDATADIR "/usr/share/tandem"
#endif
#ifndef ADM_SRCDIR
#define ADM_SRCDIR "."
#endif

static time_t
adm_clock(void)
{
	return time(NULL);
}

static void
adm_usage(FILE *f)
{
	fprintf(f,
		"usage: tandem-admin [options]\n"
		"  --state-dir DIR     database and tls/ (default /var/lib/tandem)\n"
		"  --config-file PATH  rendered config tandemd reads (default /etc/tandem/tandem.json)\n"
		"  --ctl-socket PATH   tandemd control socket (default /run/tandem/tandemd.sock)\n"
		"  --listen ADDR:PORT  console and API address (default 127.0.0.1:8443)\n"
		"  --http              plain HTTP instead of HTTPS (loopback addresses only)\n"
		"  --www DIR           console files (default %s/www)\n"
		"  --node NAME         this node's name in the HA pair (default: the host name)\n"
		"  --console-url URL   where the pair's other console reaches this one\n"
		"                      (default https://<--listen>)\n"
		"  --peer-dir DIR      where pairing writes the peer link's certificates\n"
		"                      (tandemd --peer-dir; default <state-dir>/peer)\n"
		"  --pair-token-ttl S  seconds a pairing token stays valid (default 600)\n"
		"  --import FILE       load a tandemd config as a new revision and apply it\n"
		"  --exit              initialise (and import) then exit without serving\n"
		"  --verbose           log debug messages\n"
		"  --help, --version\n", ADM_PKGDATADIR);
}

/* Picks the console directory: --www, else the installed one, else the
 * source tree's (running from a build directory). */
static const char *
adm_pick_www(const char *opt)
{
	static char path[4096];
	struct stat sb;

	if (opt != NULL)
		return opt;
	snprintf(path, sizeof(path), "%s/www", ADM_PKGDATADIR);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return path;
	snprintf(path, sizeof(path), "%s/www", ADM_SRCDIR);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return path;
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "config-file", required_argument, NULL, 'c' },
		{ "ctl-socket", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "http", no_argument, NULL, 'H' },
		{ "www", required_argument, NULL, 'w' },
		{ "import", required_argument, NULL, 'i' },
		{ "exit", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "node", required_argument, NULL, 'n' },
		{ "console-url", required_argument, NULL, 'u' },
		{ "peer-dir", required_argument, NULL, 'p' },
		{ "pair-token-ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct adm a = {
		.state_dir = "/var/lib/tandem",
		.config_file = "/etc/tandem/tandem.json",
		.ctl_socket = "/run/tandem/tandemd.sock",
		.now = adm_clock,
		.ctl_timeout_ms = 5000,
		.pair_token_ttl = 600,
	};
	const char *listen = "127.0.0.1:8443", *www = NULL, *import = NULL;
	char dbpath[4096], tlsdir[4096], pw[32], console[128], peerdir[4096];
	const char *console_opt = NULL;
	struct db *syncdb = NULL;
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	char *key = NULL, *cert = NULL;
	struct adm_http *http = NULL;
	struct sockaddr_storage sa;
	int plain = 0, only_init = 0, verbose = 0, loopback = 0, opt, rc, sig, ret = 1;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': a.state_dir = optarg; break;
		case 'c': a.config_file = optarg; break;
		case 'k': a.ctl_socket = optarg; break;
		case 'l': listen = optarg; break;
		case 'H': plain = 1; break;
		case 'w': www = optarg; break;
		case 'i': import = optarg; break;
		case 'x': only_init = 1; break;
		case 'v': verbose = 1; break;
		case 'n': a.node = optarg; break;
		case 'u': console_opt = optarg; break;
		case 'p': a.peer_dir = optarg; break;
		case 't':
			a.pair_token_ttl = atoi(optarg);
			if (a.pair_token_ttl < 1 || a.pair_token_ttl > 86400) {
				fprintf(stderr, "tandem-admin: --pair-token-ttl wants 1-86400 seconds\n");
				return 2;
			}
			break;
		case 'V': printf("tandem-admin %s\n", PACKAGE_VERSION); return 0;
		case 'h': adm_usage(stdout); return 0;
		default: adm_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		adm_usage(stderr);
		return 2;
	}
	log_init("tandem-admin", verbose ? LOG_DEBUG : LOG_INFO);
	if (adm_listen_parse(listen, &sa, &loopback) < 0) {
		fprintf(stderr, "tandem-admin: --listen wants ADDR:PORT or [V6]:PORT, got \"%s\"\n", listen);
		return 2;
	}
	/* Plain HTTP would send the session cookie and passwords in clear text
	 * over the network; allow it only where the network is this host. */
	if (plain && !loopback) {
		fprintf(stderr, "tandem-admin: --http is only allowed on a loopback address\n");
		return 2;
	}
	a.www_dir = adm_pick_www(www);
	if (gethostname(a.hostname, sizeof(a.hostname) - 1) < 0)
		snprintf(a.hostname, sizeof(a.hostname), "unknown");
	if (a.node == NULL)
		a.node = a.hostname;
	if (!adm_pairmsg_node_ok(a.node)) {
		fprintf(stderr, "tandem-admin: --node wants 1-63 letters, digits, '.', '_', '-' (got \"%s\")\n",
			a.node);
		return 2;
	}
	if (adm_peerc_console(console_opt ? console_opt : listen, console, sizeof(console)) < 0) {
		fprintf(stderr, "tandem-admin: --console-url wants https://ADDR:PORT\n");
		return 2;
	}
	a.console_url = console;
	if (a.peer_dir == NULL) {
		snprintf(peerdir, sizeof(peerdir), "%s/peer", a.state_dir);
		a.peer_dir = peerdir;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The database holds password hashes and session digests: no access
	 * for others, whatever the caller's umask. */
	umask(027);

	if (mkdir(a.state_dir, 0700) < 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", a.state_dir, strerror(errno));
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/tandem.db", a.state_dir);
	rc = db_open(dbpath, DB_SCHEMA_LATEST, &a.db);
	if (rc < 0) {
		log_err("cannot open the database %s: %s", dbpath, strerror(-rc));
		return 1;
	}
	rc = adm_user_bootstrap(a.db, a.now(), pw, sizeof(pw));
	if (rc < 0) {
		log_err("cannot create the first user: %s", strerror(-rc));
		goto out;
	}
	if (rc == 1) {
		/* The only time the password exists outside the hash. */
		printf("admin password: %s\n", pw);
		fflush(stdout);
		memset(pw, 0, sizeof(pw));
	}
	adm_reconcile(&a);
	if (import != NULL && adm_import(&a, import) < 0)
		goto out;
	if (!plain) {
		snprintf(tlsdir, sizeof(tlsdir), "%s/tls", a.state_dir);
		rc = adm_tls_ensure(tlsdir, &key, &cert);
		if (rc < 0) {
			log_err("cannot set up TLS in %s: %s", tlsdir, strerror(-rc));
			goto out;
		}
		/* the fingerprint the other console pins when pairing */
		if (adm_peerc_pem_fingerprint(cert, a.fingerprint) < 0)
			a.fingerprint[0] = '\0';
	}
	if (only_init) {
		ret = 0;
		goto out;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);	/* adm_sync_kick: a sync round now */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* The pair's sync worker runs here, on its own database handle, so
	 * the HTTP thread keeps its own (doc/admin.md). */
	a.sync = adm_sync_new();
	if (a.sync == NULL || db_open(dbpath, DB_SCHEMA_LATEST, &syncdb) < 0) {
		log_err("cannot start the config sync worker");
		goto out;
	}
	adm_sync_tick(&a, syncdb, 1);
	http = adm_http_start(&a, listen, key, cert);
	if (http == NULL)
		goto out;
	log_notice("serving the console on %s://%s/ (node %s)", plain ? "http" : "https", listen, a.node);
	sdn_notify("READY=1\nSTATUS=serving the console");
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		adm_sync_tick(&a, syncdb, sig == SIGUSR1);
	}
	log_notice("signal %d: stopping", sig);
	sdn_notify("STOPPING=1");
	ret = 0;
out:
	adm_http_stop(&http);
	db_close(&syncdb);
	adm_sync_free(&a.sync);
	db_close(&a.db);
	free(key);
	free(cert);
	return ret;
}
