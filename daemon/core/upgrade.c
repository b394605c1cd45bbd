/*
 * upgrade - binary upgrade: the old tandemd hands its listening sockets to
 * the new one over the control socket (see upgrade.h, doc/tandemd.md).
 *
 * Wire (JSON lines on the control socket, new -> old):
 *   {"cmd":"upgrade-fds","offset":K}  -> {"ok","workers","total","keys":[...]}
 *       with one descriptor per key attached (SCM_RIGHTS), at most
 *       UPGRADE_BATCH per answer (the kernel takes 253 per message)
 *   {"cmd":"upgrade-keys"}            -> {"ok","bytes":N} with the read end
 *       of a pipe attached that holds the N bytes of l7_tls_keys_export():
 *       the session ticket key ring, which is secret, so it stays out of
 *       the JSON (no copy in jansson's or the control socket's buffers) and
 *       goes only to the process this upgrade started (SO_PEERCRED)
 *   {"cmd":"upgrade-takeover"}        -> {"ok","vrrp":[{"name","role",...}]}
 * The old tandemd never closes a listening socket before the takeover and
 * the new one holds a copy of each from the first answer, so no SYN meets a
 * closed port and no accept queue is thrown away.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "jh.h"
#include "l7_proxy.h"
#include "l7_tls.h"
#include "l7_tlsconf.h"
#include "log.h"
#include "loop.h"
#include "snapshot.h"
#include "upgrade.h"
#include "vrrp.h"

#define UPGRADE_ENV "TANDEMD_UPGRADE"
#define UPGRADE_BATCH 64
#define UPGRADE_TIMEOUT_MS 30000	/* the new tandemd must take over by then */
#define UPGRADE_DRAIN_S 300		/* default drain bound of the old one */
#define UPGRADE_POLL_MS 200

enum upgrade_state { UPG_NONE, UPG_STARTED, UPG_FAILED, UPG_DRAINING };

struct upgrade {
	struct upgrade_opts o;
	char exe[PATH_MAX];
	enum upgrade_state state;
	char why[256];
	pid_t child;			/* without the split: the new tandemd */
	long new_pid;
	unsigned drain_s;
	uint64_t deadline;		/* ms: takeover (STARTED) or drain end */
	struct loop_timer timer;
	int fds[UPGRADE_BATCH];		/* the answer being sent (borrowed fds) */
	int keyfd;			/* "upgrade-keys": the pipe's read end, until sent */
};

extern char **environ;

int
upgrade_new(const struct upgrade_opts *o, struct upgrade **out)
{
	struct upgrade *u = calloc(1, sizeof(*u));
	ssize_t n;

	*out = NULL;
	if (u == NULL)
		return -ENOMEM;
	u->o = *o;
	u->keyfd = -1;
	n = readlink("/proc/self/exe", u->exe, sizeof(u->exe) - 1);
	u->exe[n > 0 ? n : 0] = '\0';
	*out = u;
	return 0;
}

void
upgrade_free(struct upgrade **up)
{
	struct upgrade *u = *up;

	if (u == NULL)
		return;
	loop_timer_cancel(u->o.loop, &u->timer);
	if (u->keyfd >= 0)
		close(u->keyfd);
	free(u);
	*up = NULL;
}

int
upgrade_handed_over(const struct upgrade *u)
{
	return u != NULL && u->state == UPG_DRAINING;
}

static json_t * __attribute__((format(printf, 1, 2)))
upgrade_err(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:[{s:s,s:s}]}", "ok", 0, "errors", "path", "$", "message", msg);
}

static void
upgrade_fail(struct upgrade *u, const char *why)
{
	u->state = UPG_FAILED;
	snprintf(u->why, sizeof(u->why), "%s", why);
	log_err("binary upgrade failed: %s; this tandemd keeps serving", why);
}

/* Old side, on the main loop: the new tandemd must take over in time;
 * after the takeover, stop once every connection is gone. */
static void
upgrade_tick(struct loop *l, struct loop_timer *t)
{
	struct upgrade *u = t->data;
	uint64_t now = loop_clock_ms();
	int status;

	if (u->keyfd >= 0) {	/* sent with its answer by now */
		close(u->keyfd);
		u->keyfd = -1;
	}
	if (u->state == UPG_STARTED) {
		if (u->child > 0 && waitpid(u->child, &status, WNOHANG) == u->child) {
			u->child = 0;
			upgrade_fail(u, "the new tandemd exited before taking over (see its log)");
			return;
		}
		if (now >= u->deadline) {
			upgrade_fail(u, "the new tandemd did not take over in 30 s");
			return;
		}
	} else if (u->state == UPG_DRAINING) {
		json_t *st = l7_stats_json();
		json_int_t active = json_integer_value(json_object_get(st, "connections_active"));

		json_decref(st);
		if (active == 0 || now >= u->deadline) {
			if (active > 0)
				log_warn("upgrade: drain time over, closing %lld connection%s",
					 (long long)active, active == 1 ? "" : "s");
			else
				log_notice("upgrade: drained; the old tandemd exits");
			loop_stop(l);
			return;
		}
	} else {
		return;
	}
	loop_timer_set(l, t, UPGRADE_POLL_MS, upgrade_tick, u);
}

/* Without the split: fork and exec the binary we were started from with
 * the same arguments; the child finds UPGRADE_ENV and takes over. */
static long
upgrade_spawn_child(struct upgrade *u)
{
	size_t n = 0, i;
	char **envp;
	pid_t pid;

	while (environ[n] != NULL)
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (envp == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	envp[n] = UPGRADE_ENV "=1";
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(u->exe, u->o.argv, envp);
		_exit(127);
	}
	free(envp);
	if (pid < 0)
		return -errno;
	u->child = pid;
	return pid;
}

/* "upgrade" {"drain": seconds}: start the new binary. */
static json_t *
upgrade_start(struct upgrade *u, const json_t *req)
{
	json_t *drain = json_object_get(req, "drain"), *vs;
	long pid;
	int running;

	if (u->state == UPG_STARTED || u->state == UPG_DRAINING)
		return upgrade_err("an upgrade is already %s", u->state == UPG_STARTED ?
				   "starting" : "done: this tandemd is draining");
	if (drain != NULL && (!json_is_integer(drain) || json_integer_value(drain) < 1 ||
			      json_integer_value(drain) > 86400))
		return upgrade_err("%s", "\"drain\" must be 1-86400 seconds");
	vs = u->o.vrrp ? vrrp_status_json(u->o.vrrp) : NULL;
	running = json_is_true(json_object_get(json_object_get(vs, "keepalived"), "running"));
	json_decref(vs);
	if (u->o.priv_fd <= 0 && running)
		return upgrade_err("%s", "keepalived is this process's child and would stop with it: "
				   "a binary upgrade with a vrrp section needs the privilege split "
				   "(--user)");
	u->drain_s = drain ? (unsigned)json_integer_value(drain) : UPGRADE_DRAIN_S;
	u->why[0] = '\0';
	if (u->o.priv_fd > 0) {
		char why[256];

		/* the supervisor execs the new binary in place and answers with
		 * the new data plane's pid */
		pid = vrrp_priv_call(u->o.priv_fd, "UPGRADE", why, sizeof(why), NULL);
		if (pid <= 0)
			return upgrade_err("the supervisor cannot upgrade: %s",
					   why[0] ? why : pid < 0 ? strerror((int)-pid) : "no pid");
	} else {
		if (u->exe[0] == '\0')
			return upgrade_err("%s", "cannot tell which binary this is (/proc/self/exe)");
		pid = upgrade_spawn_child(u);
		if (pid < 0)
			return upgrade_err("cannot start the new binary: %s", strerror((int)-pid));
	}
	u->new_pid = pid;
	u->state = UPG_STARTED;
	u->deadline = loop_clock_ms() + UPGRADE_TIMEOUT_MS;
	loop_timer_set(u->o.loop, &u->timer, UPGRADE_POLL_MS, upgrade_tick, u);
	log_notice("binary upgrade: new tandemd started (pid %ld); it takes the listeners over",
		   pid);
	return json_pack("{s:b,s:i,s:I}", "ok", 1, "pid", (int)getpid(), "new_pid",
			 (json_int_t)pid);
}

/* "upgrade-fds" {"offset": K}: the listening sockets K.. of the current
 * snapshot (every worker's socket of every listener, in order). */
static json_t *
upgrade_fds(struct upgrade *u, const json_t *req)
{
	struct snapshot *s = snapshot_acquire();
	json_int_t off = json_integer_value(json_object_get(req, "offset")), k = 0;
	json_t *keys = json_array(), *resp;
	unsigned workers = 0;
	size_t i, n = 0;

	if (s == NULL || keys == NULL || off < 0 || u->state == UPG_DRAINING) {
		snapshot_release(&s);
		json_decref(keys);
		return upgrade_err("%s", "no listeners to hand over");
	}
	for (i = 0; i < s->conf->nlisteners; i++) {
		const struct lsock *ls = s->lsocks[i];

		workers = ls->nfds;
		for (unsigned j = 0; j < ls->nfds; j++, k++) {
			if (k < off || n == UPGRADE_BATCH)
				continue;
			u->fds[n++] = ls->fds[j];
			json_array_append_new(keys, json_string(ls->key));
		}
	}
	snapshot_release(&s);	/* the sockets stay: the next snapshot has them too */
	resp = json_pack("{s:b,s:i,s:I,s:o}", "ok", 1, "workers", (int)workers, "total",
			 (json_int_t)k, "keys", keys);
	if (resp != NULL && n > 0)
		ctl_answer_fds(u->fds, n);
	return resp;
}

/* "upgrade-keys": the ticket key ring through a pipe (see the top). Only
 * for the new tandemd this upgrade started, running as our user: the
 * control socket is open to its group, which must not read the keys. */
static json_t *
upgrade_keys(struct upgrade *u)
{
	unsigned char buf[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	struct l7_tls_keys *ks = l7_tlsconf_keys();
	pid_t pid;
	uid_t uid;
	ssize_t n;
	int p[2];

	if (u->state != UPG_STARTED || ctl_peer(&pid, &uid) < 0 || (long)pid != u->new_pid ||
	    uid != geteuid())
		return upgrade_err("%s", "ticket keys go only to the tandemd this upgrade started");
	n = ks ? l7_tls_keys_export(ks, buf, sizeof(buf)) : -ENOENT;
	if (n < 0 || pipe2(p, O_CLOEXEC) < 0) {
		explicit_bzero(buf, sizeof(buf));
		return upgrade_err("%s", "cannot export the ticket keys");
	}
	/* a few hundred bytes: below PIPE_BUF, so one write that never blocks */
	if (write(p[1], buf, (size_t)n) != n) {
		explicit_bzero(buf, sizeof(buf));
		close(p[0]);
		close(p[1]);
		return upgrade_err("%s", "cannot export the ticket keys");
	}
	explicit_bzero(buf, sizeof(buf));
	close(p[1]);
	if (u->keyfd >= 0)
		close(u->keyfd);
	u->keyfd = p[0];	/* closed by the next tick, after ctl sent it */
	ctl_answer_fds(&u->keyfd, 1);
	return json_pack("{s:b,s:I}", "ok", 1, "bytes", (json_int_t)n);
}

/* "upgrade-takeover": the new tandemd serves; stop accepting and drain. */
static json_t *
upgrade_takeover_ctl(struct upgrade *u)
{
	json_t *roles = NULL;

	if (u->state == UPG_DRAINING)
		return upgrade_err("%s", "already handed over");
	if (u->o.vrrp != NULL) {
		json_t *vs = vrrp_status_json(u->o.vrrp);

		roles = json_incref(json_object_get(vs, "groups"));
		json_decref(vs);
		vrrp_detach(u->o.vrrp);
	}
	if (u->o.handover != NULL)
		u->o.handover(u->o.data);
	l7_workers_drain();
	u->state = UPG_DRAINING;
	if (u->drain_s == 0)
		u->drain_s = UPGRADE_DRAIN_S;	/* a new tandemd started by hand */
	u->deadline = loop_clock_ms() + (uint64_t)u->drain_s * 1000;
	loop_timer_set(u->o.loop, &u->timer, UPGRADE_POLL_MS, upgrade_tick, u);
	log_notice("binary upgrade: the new tandemd took over; draining (at most %u s)",
		   u->drain_s);
	return json_pack("{s:b,s:o}", "ok", 1, "vrrp", roles ? roles : json_array());
}

json_t *
upgrade_ctl(struct upgrade *u, const char *cmd, const json_t *req)
{
	if (strcmp(cmd, "upgrade") == 0)
		return upgrade_start(u, req);
	if (strcmp(cmd, "upgrade-fds") == 0)
		return upgrade_fds(u, req);
	if (strcmp(cmd, "upgrade-keys") == 0)
		return upgrade_keys(u);
	if (strcmp(cmd, "upgrade-takeover") == 0)
		return upgrade_takeover_ctl(u);
	return upgrade_err("unknown command %s", cmd);
}

json_t *
upgrade_status_json(const struct upgrade *u)
{
	static const char *const names[] = { "none", "started", "failed", "draining" };

	return json_pack("{s:s,s:s?,s:I}", "state", names[u->state],
			 "error", u->why[0] ? u->why : NULL, "new_pid", (json_int_t)u->new_pid);
}

/* ------------------------------------------------------------ new side */

static int upgrade_conn = -1;	/* to the old tandemd, from receive to takeover */

int
upgrade_requested(void)
{
	int r = getenv(UPGRADE_ENV) != NULL;

	unsetenv(UPGRADE_ENV);
	return r;
}

/* Sends req and reads one answer line, collecting attached descriptors
 * into fds (at most *nfds; the count comes back in *nfds). NULL on error. */
static json_t *
upgrade_call(const json_t *req, int *fds, size_t *nfds)
{
	char *line = jh_dump_line(req), buf[65536], cbuf[CMSG_SPACE(UPGRADE_BATCH * sizeof(int))];
	size_t len = 0, max = *nfds;
	json_t *resp;

	*nfds = 0;
	if (line == NULL || send(upgrade_conn, line, strlen(line), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(line)) {
		free(line);
		return NULL;
	}
	free(line);
	while (memchr(buf, '\n', len) == NULL) {
		struct iovec iov = { .iov_base = buf + len, .iov_len = sizeof(buf) - 1 - len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t n;

		if (iov.iov_len == 0)
			return NULL;
		n = recvmsg(upgrade_conn, &m, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
			size_t k, cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			for (k = 0; k < cnt; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (*nfds < max)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
	}
	resp = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', len) - buf), 0, NULL);
	if (!json_is_true(json_object_get(resp, "ok"))) {
		json_t *e = json_array_get(json_object_get(resp, "errors"), 0);

		log_err("upgrade: the old tandemd refused %s: %s",
			json_string_value(json_object_get(req, "cmd")),
			json_string_value(json_object_get(e, "message")) ?: "no answer");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

int
upgrade_receive(const char *socket_path, unsigned *workers)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = UPGRADE_TIMEOUT_MS / 1000 };
	json_int_t off = 0, total = 0;
	unsigned got = 0;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	upgrade_conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (upgrade_conn < 0 ||
	    setsockopt(upgrade_conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(upgrade_conn, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_err("upgrade: cannot reach the old tandemd at %s: %s", socket_path,
			strerror(errno));
		return -1;
	}
	do {
		json_t *req = json_pack("{s:s,s:I}", "cmd", "upgrade-fds", "offset", off), *resp, *keys;
		int fds[UPGRADE_BATCH];
		size_t nfds = UPGRADE_BATCH, i;

		resp = req ? upgrade_call(req, fds, &nfds) : NULL;
		json_decref(req);
		keys = json_object_get(resp, "keys");
		if (resp == NULL || json_array_size(keys) != nfds) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			json_decref(resp);
			log_err("upgrade: no listening sockets from the old tandemd");
			return -1;
		}
		total = json_integer_value(json_object_get(resp, "total"));
		got = (unsigned)json_integer_value(json_object_get(resp, "workers"));
		for (i = 0; i < nfds; i++)
			if (snapshot_inherit(json_string_value(json_array_get(keys, i)), fds[i]) < 0)
				close(fds[i]);
		off += (json_int_t)nfds;
		json_decref(resp);
		if (nfds == 0)
			break;
	} while (off < total);
	if (got > 0 && got != *workers)
		log_notice("upgrade: %u L7 worker%s like the old tandemd (one per socket it hands over)",
			   got, got == 1 ? "" : "s");
	if (got > 0)
		*workers = got;
	log_notice("upgrade: received %lld listening socket%s from the old tandemd",
		   (long long)off, off == 1 ? "" : "s");
	return 0;
}

int
upgrade_receive_keys(struct l7_tls_keys *ks)
{
	unsigned char buf[L7_TLS_KEYS_EXPORT_LEN(L7_TLS_KEYS_MAX)];
	json_t *req = json_pack("{s:s}", "cmd", "upgrade-keys"), *resp = NULL;
	struct l7_tls_ticket_key k[L7_TLS_KEYS_MAX];
	size_t nfds = 1, got = 0, want = 0, nkeys = 0;
	unsigned long long made = 0;
	int fd = -1, rc = -1;

	if (req != NULL && upgrade_conn >= 0 && ks != NULL)
		resp = upgrade_call(req, &fd, &nfds);
	json_decref(req);
	if (resp != NULL && nfds == 1) {
		json_int_t b = json_integer_value(json_object_get(resp, "bytes"));

		want = b > 0 && (size_t)b <= sizeof(buf) ? (size_t)b : 0;
		/* the old tandemd closed the write end: this ends at EOF */
		while (got < want) {
			ssize_t r = read(fd, buf + got, want - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (want > 0 && got == want && l7_tls_keys_import(ks, buf, got) == 0) {
			nkeys = l7_tls_keys_get(ks, k, L7_TLS_KEYS_MAX);
			made = nkeys > 0 ? (unsigned long long)k[0].created : 0;
			explicit_bzero(k, sizeof(k));
			rc = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	explicit_bzero(buf, sizeof(buf));
	json_decref(resp);
	if (rc == 0)
		/* the current key's creation time, not a secret: rotation
		 * continues from it */
		log_notice("upgrade: took over %zu session ticket key%s from the old tandemd "
			   "(current key made at unix time %llu)", nkeys, nkeys == 1 ? "" : "s", made);
	else
		log_warn("upgrade: no session ticket keys from the old tandemd; new keys, so "
			 "clients with a ticket make a full handshake once");
	return rc;
}

/* Feeds the old tandemd's roles as notify lines for groups we know no
 * role of yet (keepalived wrote its last lines to the old one). */
static void
upgrade_roles(struct vrrp *v, const json_t *groups)
{
	const json_t *g;
	size_t i;

	json_array_foreach(groups, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		const char *role = json_string_value(json_object_get(g, "role"));
		json_int_t prio = json_integer_value(json_object_get(g, "reported_priority"));
		char line[256];
		int n;

		if (name == NULL || role == NULL || vrrp_group_role(v, name) != VRRP_ROLE_UNKNOWN ||
		    (strcmp(role, "MASTER") != 0 && strcmp(role, "BACKUP") != 0 &&
		     strcmp(role, "FAULT") != 0))
			continue;
		n = snprintf(line, sizeof(line), "INSTANCE \"%s\" %s %lld", name, role,
			     (long long)prio);
		if (n > 0 && (size_t)n < sizeof(line))
			vrrp_fifo_line(v, line, (size_t)n);
	}
}

int
upgrade_takeover(struct vrrp *v, int priv_fd)
{
	json_t *req = json_pack("{s:s}", "cmd", "upgrade-takeover"), *resp;
	size_t nfds = 0;

	resp = req ? upgrade_call(req, NULL, &nfds) : NULL;
	json_decref(req);
	close(upgrade_conn);
	upgrade_conn = -1;
	if (resp == NULL)
		return -1;
	if (v != NULL)
		upgrade_roles(v, json_object_get(resp, "vrrp"));
	json_decref(resp);
	if (priv_fd > 0)
		vrrp_priv_call(priv_fd, "TOOK", NULL, 0, NULL);
	snapshot_inherit_drop();
	log_notice("upgrade: took over from the old tandemd, which drains and exits");
	return 0;
}
