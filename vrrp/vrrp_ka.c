/*
 * vrrp_ka - keepalived as a supervised child of tandemd.
 *
 * Invariants:
 *  - keepalived runs only while the live snapshot has a vrrp section; its
 *    config file is always one that `keepalived -t` accepted.
 *  - keepalived dies with tandemd: the child sets PR_SET_PDEATHSIG(SIGKILL)
 *    before exec, so when tandemd dies for any reason keepalived's parent is
 *    killed, and keepalived's own VRRP child (which keepalived ties to its
 *    parent the same way, with SIGTERM) shuts down cleanly: it sends a
 *    priority-0 advert and removes the VIPs, so the peer takes over at once.
 *    A dead data plane never holds MASTER.
 *  - The notify FIFO is opened read-write by tandemd before keepalived
 *    starts, so keepalived's open never fails (ENXIO without a reader) and
 *    tandemd never reads EOF when keepalived restarts.
 *  - The role table holds one entry per configured group; a role changes
 *    only from a FIFO line or because keepalived stopped (all STOP).
 *
 * Everything here runs on tandemd's main loop. The children are forked from
 * the main thread (PDEATHSIG follows the thread that forked) and exec at
 * once, calling only async-signal-safe functions in between.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errs.h"
#include "log.h"
#include "loop.h"
#include "vrrp.h"
#include "vrrp__child.h"

#define VRRP_FIFO_LINE_MAX 512
#define VRRP_CHECK_TIMEOUT_MS 5000
#define VRRP_STOP_TIMEOUT_MS 5000
#define VRRP_BACKOFF_MIN_MS 100
#define VRRP_BACKOFF_MAX_MS 5000
#define VRRP_STABLE_MS 10000	/* a run this long resets the back-off */
#define VRRP_MAX_HOOKS 8

enum vrrp_pending {
	VRRP_PENDING_NONE = 0,	/* nothing prepared, or no change */
	VRRP_PENDING_NEW,	/* new file beside the live one, checked */
	VRRP_PENDING_REMOVE,	/* the section is gone: stop keepalived */
};

struct vrrp_group {
	char *name;
	enum vrrp_role role;
	int priority;		/* last reported, -1 before */
	long since;		/* wall clock of the last role change */
	unsigned long transitions;
	unsigned long rx_lower_pri;	/* MASTER_RX_LOWER_PRI events */
	json_t *info;		/* configured fields for status (owned) */
};

struct vrrp_hook {
	vrrp_role_cb cb;
	void *data;
};

struct vrrp {
	struct loop *loop;
	char *run_dir;
	char *keepalived;
	char conf_path[PATH_MAX], new_path[PATH_MAX], fifo_path[PATH_MAX];
	char pid_path[PATH_MAX], vrrp_pid_path[PATH_MAX], chk_pid_path[PATH_MAX],
	     bfd_pid_path[PATH_MAX];

	/* the notify FIFO */
	int fifo_fd;
	struct loop_io fifo_io;
	char fifo_buf[VRRP_FIFO_LINE_MAX];
	size_t fifo_len;
	int fifo_skip;		/* dropping the rest of an overlong line */
	unsigned long fifo_bad;

	/* the child; with the privilege split, the supervisor's */
	int priv_fd;		/* > 0: ask the supervisor (vrrp_priv.c) */
	pid_t pid;
	int pidfd;
	struct loop_io pid_io;
	struct loop_timer restart_timer;
	uint64_t started_ms;
	unsigned backoff_ms;
	unsigned long starts;
	int last_exit;		/* wait status of the last exit, -1 none */

	/* live and prepared configuration */
	char *live_text;
	enum vrrp_pending pending;
	char *pending_text;
	struct vrrp_group *groups, *pending_groups;
	size_t ngroups, npending;

	struct vrrp_hook hooks[VRRP_MAX_HOOKS];
	size_t nhooks;
	int gated;		/* priorities held at VRRP_GATED_PRIORITY */
};

static void vrrp_start(struct vrrp *v);

static int
vrrp_pathf(char *out, const char *dir, const char *file)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The run dir goes into keepalived.conf unquoted: allow a safe alphabet. */
static int
vrrp_dir_valid(const char *s)
{
	size_t i;

	if (s[0] != '/')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("/._-+", s[i]) != NULL))
			return 0;
	return 1;
}

int
vrrp_new(struct loop *l, const struct vrrp_opts *opts, struct vrrp **out)
{
	struct vrrp *v;
	int rc = -ENOMEM;

	*out = NULL;
	if (!vrrp_dir_valid(opts->run_dir)) {
		log_err("vrrp run dir \"%s\" must be an absolute path of letters, digits, '/._-+'",
			opts->run_dir);
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->loop = l;
	v->fifo_fd = -1;
	v->pidfd = -1;
	v->last_exit = -1;
	v->backoff_ms = VRRP_BACKOFF_MIN_MS;
	v->run_dir = strdup(opts->run_dir);
	v->keepalived = strdup(opts->keepalived ? opts->keepalived : "keepalived");
	if (v->run_dir == NULL || v->keepalived == NULL)
		goto fail;
	rc = -ENAMETOOLONG;
	if (vrrp_pathf(v->conf_path, v->run_dir, "keepalived.conf") < 0 ||
	    vrrp_pathf(v->new_path, v->run_dir, "keepalived.conf.new") < 0 ||
	    vrrp_pathf(v->fifo_path, v->run_dir, "notify.fifo") < 0 ||
	    vrrp_pathf(v->pid_path, v->run_dir, "keepalived.pid") < 0 ||
	    vrrp_pathf(v->vrrp_pid_path, v->run_dir, "vrrp.pid") < 0 ||
	    vrrp_pathf(v->chk_pid_path, v->run_dir, "checkers.pid") < 0 ||
	    vrrp_pathf(v->bfd_pid_path, v->run_dir, "bfd.pid") < 0)
		goto fail;
	v->priv_fd = opts->priv_fd;
	if (v->priv_fd > 0 && opts->fifo_path != NULL &&
	    snprintf(v->fifo_path, sizeof(v->fifo_path), "%s", opts->fifo_path) >= PATH_MAX)
		goto fail;
	*out = v;
	return 0;
fail:
	free(v->run_dir);
	free(v->keepalived);
	free(v);
	return rc;
}

/* ------------------------------------------------------------------ roles */

static void
vrrp_groups_free(struct vrrp_group *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].name);
		json_decref(g[i].info);
	}
	free(g);
}

static struct vrrp_group *
vrrp_group_find(const struct vrrp *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->ngroups; i++)
		if (strcmp(v->groups[i].name, name) == 0)
			return &v->groups[i];
	return NULL;
}

static void
vrrp_set_role(struct vrrp *v, struct vrrp_group *g, enum vrrp_role role, int prio)
{
	enum vrrp_role old = g->role;
	size_t i;

	if (prio >= 0)
		g->priority = prio;
	if (old == role)
		return;
	g->role = role;
	g->since = (long)time(NULL);
	g->transitions++;
	log_notice("vrrp group %s: %s -> %s (priority %d)", g->name, vrrp_role_name(old),
		   vrrp_role_name(role), g->priority);
	for (i = 0; i < v->nhooks; i++)
		v->hooks[i].cb(g->name, old, role, v->hooks[i].data);
}

/* keepalived is gone: no group is MASTER on this node any more. */
static void
vrrp_all_stopped(struct vrrp *v)
{
	size_t i;

	for (i = 0; i < v->ngroups; i++)
		if (v->groups[i].role != VRRP_ROLE_UNKNOWN)
			vrrp_set_role(v, &v->groups[i], VRRP_ROLE_STOP, -1);
}

void
vrrp_fifo_line(struct vrrp *v, const char *line, size_t len)
{
	struct vrrp_fifo_msg m;
	struct vrrp_group *g;
	const char *err;
	int rc = vrrp_fifo_parse(line, len, &m, &err);

	if (rc == -ENOTSUP)
		return;
	if (rc < 0) {
		/* Count every bad line, log the first ones only. */
		if (v->fifo_bad++ < 10)
			log_warn("vrrp: unparsable notify line (%s): %.*s", err,
				 (int)(len > 120 ? 120 : len), line);
		return;
	}
	if (m.group)
		return;	/* tandemd renders no sync groups; nothing of ours */
	g = vrrp_group_find(v, m.name);
	if (g == NULL) {
		log_debug("vrrp: notify for unknown instance \"%s\"", m.name);
		return;
	}
	switch (m.kind) {
	case VRRP_FIFO_STATE:
		vrrp_set_role(v, g, m.role, m.priority);
		break;
	case VRRP_FIFO_MASTER_RX_LOWER_PRI:
		/* Another node claimed MASTER with a lower priority (a split
		 * that healed): keepalived stays MASTER and re-announces. */
		g->rx_lower_pri++;
		log_info("vrrp group %s: MASTER heard a lower-priority master", g->name);
		break;
	case VRRP_FIFO_MASTER_PRIORITY:
	case VRRP_FIFO_BACKUP_PRIORITY:
		if (m.priority >= 0)
			g->priority = m.priority;
		break;
	}
}

static void
vrrp_fifo_read(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct vrrp *v = io->data;
	int rounds;

	(void)l;
	(void)events;
	for (rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(v->fifo_fd, v->fifo_buf + v->fifo_len,
				 sizeof(v->fifo_buf) - v->fifo_len);
		char *nl;

		if (n <= 0)
			return;	/* EAGAIN; never EOF: we hold a write end too */
		v->fifo_len += (size_t)n;
		while ((nl = memchr(v->fifo_buf, '\n', v->fifo_len)) != NULL) {
			size_t ll = (size_t)(nl - v->fifo_buf);

			if (!v->fifo_skip)
				vrrp_fifo_line(v, v->fifo_buf, ll);
			v->fifo_skip = 0;
			memmove(v->fifo_buf, nl + 1, v->fifo_len - ll - 1);
			v->fifo_len -= ll + 1;
		}
		if (v->fifo_len == sizeof(v->fifo_buf)) {
			/* A line longer than any keepalived writes: drop it. */
			if (v->fifo_bad++ < 10)
				log_warn("vrrp: notify line over %d bytes dropped", VRRP_FIFO_LINE_MAX);
			v->fifo_len = 0;
			v->fifo_skip = 1;
		}
	}
}

/* Creates the run dir and the FIFO and opens it (read-write, see above). */
static int
vrrp_fifo_open(struct vrrp *v)
{
	struct stat st;

	if (v->fifo_fd >= 0)
		return 0;
	if (mkdir(v->run_dir, 0700) < 0 && errno != EEXIST) {
		log_err("vrrp: cannot create %s: %s", v->run_dir, strerror(errno));
		return -errno;
	}
	if (lstat(v->fifo_path, &st) == 0 && !S_ISFIFO(st.st_mode))
		unlink(v->fifo_path);
	if (mkfifo(v->fifo_path, 0600) < 0 && errno != EEXIST) {
		log_err("vrrp: cannot create the FIFO %s: %s", v->fifo_path, strerror(errno));
		return -errno;
	}
	v->fifo_fd = open(v->fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (v->fifo_fd < 0) {
		log_err("vrrp: cannot open %s: %s", v->fifo_path, strerror(errno));
		return -errno;
	}
	if (loop_io_add(v->loop, &v->fifo_io, v->fifo_fd, EPOLLIN, vrrp_fifo_read, v) < 0) {
		close(v->fifo_fd);
		v->fifo_fd = -1;
		return -ENOMEM;
	}
	return 0;
}

static void
vrrp_fifo_close(struct vrrp *v)
{
	if (v->fifo_fd < 0)
		return;
	loop_io_del(v->loop, &v->fifo_io);
	close(v->fifo_fd);
	v->fifo_fd = -1;
	v->fifo_len = 0;
}

/* ------------------------------------------------------------- children */

/* Runs `keepalived -t -f path`, collecting its output into msg. Returns the
 * exit status (0 = accepted), or -errno when it could not be run. */
static int
vrrp_run_check(struct vrrp *v, const char *path, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (v->priv_fd > 0)	/* the supervisor checks its own copy of path */
		return (int)vrrp_priv_call(v->priv_fd, "CHECK", msg, msglen, NULL);
	return vrrp_keepalived_check(v->keepalived, path, VRRP_CHECK_TIMEOUT_MS, msg, msglen);
}

static void
vrrp_restart_cb(struct loop *l, struct loop_timer *t)
{
	struct vrrp *v = t->data;

	(void)l;
	if (v->pid <= 0 && v->live_text != NULL)
		vrrp_start(v);
}

/* Reaps keepalived after it exited; schedules a restart unless we stopped it. */
static void
vrrp_reap(struct vrrp *v, int restart)
{
	int status = 0;
	uint64_t ran = loop_clock_ms() - v->started_ms;

	if (v->priv_fd > 0)
		status = (int)vrrp_priv_call(v->priv_fd, "WAIT", NULL, 0, NULL);
	else
		while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR)
			;
	v->last_exit = status;
	if (v->pidfd >= 0) {
		loop_io_del(v->loop, &v->pid_io);
		close(v->pidfd);
		v->pidfd = -1;
	}
	v->pid = 0;
	vrrp_all_stopped(v);
	if (!restart)
		return;
	if (ran >= VRRP_STABLE_MS)
		v->backoff_ms = VRRP_BACKOFF_MIN_MS;
	if (WIFSIGNALED(status))
		log_err("vrrp: keepalived killed by signal %d after %llu ms; restarting in %u ms",
			WTERMSIG(status), (unsigned long long)ran, v->backoff_ms);
	else
		log_err("vrrp: keepalived exited with status %d after %llu ms; restarting in %u ms",
			WEXITSTATUS(status), (unsigned long long)ran, v->backoff_ms);
	loop_timer_set(v->loop, &v->restart_timer, v->backoff_ms, vrrp_restart_cb, v);
	v->backoff_ms = v->backoff_ms * 2 > VRRP_BACKOFF_MAX_MS ? VRRP_BACKOFF_MAX_MS : v->backoff_ms * 2;
}

static void
vrrp_child_exited(struct loop *l, struct loop_io *io, uint32_t events)
{
	(void)l;
	(void)events;
	vrrp_reap(io->data, 1);
}

/* Watches keepalived's pidfd for its exit (either way of starting it). */
static void
vrrp_watch(struct vrrp *v, pid_t pid)
{
	if (v->pidfd < 0 ||
	    loop_io_add(v->loop, &v->pid_io, v->pidfd, EPOLLIN, vrrp_child_exited, v) < 0) {
		log_err("vrrp: cannot watch keepalived (pid %d): %s", (int)pid, strerror(errno));
		if (v->pidfd >= 0)
			close(v->pidfd);
		v->pidfd = -1;
	}
}

/* START through the supervisor: it answers with keepalived's pid and a
 * pidfd, so its exit wakes our loop exactly as a child's would. */
static void
vrrp_start_priv(struct vrrp *v)
{
	char why[512];
	long pid = vrrp_priv_call(v->priv_fd, "START", why, sizeof(why), &v->pidfd);

	if (pid <= 0) {
		log_err("vrrp: the supervisor cannot start keepalived: %s%s%s",
			pid < 0 ? strerror((int)-pid) : "no pid", why[0] ? ": " : "", why);
		loop_timer_set(v->loop, &v->restart_timer, v->backoff_ms, vrrp_restart_cb, v);
		return;
	}
	v->pid = (pid_t)pid;
	v->started_ms = loop_clock_ms();
	v->starts++;
	vrrp_watch(v, v->pid);
	log_notice("vrrp: keepalived started by the supervisor (pid %ld, config %s)", pid,
		   v->conf_path);
}

/* Sends sig (SIGHUP, SIGTERM, SIGKILL) to keepalived, directly or through
 * the supervisor (which re-checks the file before a SIGHUP). */
static void
vrrp_signal(struct vrrp *v, int sig)
{
	char why[512];
	long rc;

	if (v->priv_fd <= 0) {
		kill(v->pid, sig);
		return;
	}
	rc = vrrp_priv_call(v->priv_fd, sig == SIGHUP ? "HUP" : sig == SIGTERM ? "TERM" : "KILL",
			    why, sizeof(why), NULL);
	if (rc < 0)
		log_err("vrrp: the supervisor refused signal %d for keepalived: %s%s%s", sig,
			strerror((int)-rc), why[0] ? ": " : "", why);
}

static void
vrrp_start(struct vrrp *v)
{
	char *const argv[] = { v->keepalived, "-n", "-P", "-l", "-G",
			       "-f", v->conf_path, "-p", v->pid_path, "-r", v->vrrp_pid_path,
			       "-c", v->chk_pid_path, "-b", v->bfd_pid_path, NULL };
	pid_t parent = getpid(), pid;

	if (vrrp_fifo_open(v) < 0)
		goto retry;
	if (v->priv_fd > 0) {
		vrrp_start_priv(v);
		return;
	}
	/* keepalived refuses to start when its pid file names a live process;
	 * after a SIGKILL the file is stale and the pid may have been reused. */
	unlink(v->pid_path);
	unlink(v->vrrp_pid_path);
	unlink(v->chk_pid_path);
	unlink(v->bfd_pid_path);
	pid = fork();
	if (pid < 0) {
		log_err("vrrp: cannot fork keepalived: %s", strerror(errno));
		goto retry;
	}
	if (pid == 0) {
		vrrp_child_setup(parent);
		execvp(argv[0], argv);
		_exit(127);
	}
	v->pid = pid;
	v->started_ms = loop_clock_ms();
	v->starts++;
	v->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	vrrp_watch(v, pid);
	log_notice("vrrp: keepalived started (pid %d, config %s)", (int)pid, v->conf_path);
	return;
retry:
	loop_timer_set(v->loop, &v->restart_timer, v->backoff_ms, vrrp_restart_cb, v);
}

/* SIGTERM, wait up to VRRP_STOP_TIMEOUT_MS, then SIGKILL. Blocks. */
static void
vrrp_stop_child(struct vrrp *v)
{
	uint64_t deadline = loop_clock_ms() + VRRP_STOP_TIMEOUT_MS;

	loop_timer_cancel(v->loop, &v->restart_timer);
	if (v->pid <= 0)
		return;
	vrrp_signal(v, SIGTERM);
	while (v->pidfd >= 0) {
		struct pollfd pfd = { .fd = v->pidfd, .events = POLLIN };
		uint64_t now = loop_clock_ms();

		if (now >= deadline) {
			log_warn("vrrp: keepalived (pid %d) ignored SIGTERM; killing it", (int)v->pid);
			vrrp_signal(v, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) > 0)
			break;
	}
	if (v->pidfd < 0) {
		/* Not watchable: wait for it directly. */
		usleep(100000);
	}
	vrrp_reap(v, 0);
	log_notice("vrrp: keepalived stopped");
}

/* --------------------------------------------------------------- config */

static json_t *
vrrp_group_info(const struct conf_vrrp_group *g)
{
	json_t *vips = json_array(), *peers = json_array();
	size_t i;

	for (i = 0; i < g->nvips; i++) {
		char a[96];

		snprintf(a, sizeof(a), "%s/%u", g->vips[i].address, g->vips[i].prefix);
		json_array_append_new(vips, json_string(a));
	}
	for (i = 0; i < g->npeers; i++)
		json_array_append_new(peers, json_string(g->peers[i]));
	return json_pack("{s:s,s:i,s:i,s:i,s:s,s:b,s:o,s:o,s:s?}", "interface", g->interface,
			 "virtual_router_id", (int)g->vrid, "priority", (int)g->priority,
			 "advert_interval_ms", (int)g->advert_ms,
			 "mode", g->unicast ? "unicast" : "multicast", "preempt", g->preempt,
			 "vips", vips, "unicast_peers", peers, "unicast_source", g->unicast_source);
}

static void
vrrp_pending_clear(struct vrrp *v)
{
	vrrp_groups_free(v->pending_groups, v->npending);
	v->pending_groups = NULL;
	v->npending = 0;
	free(v->pending_text);
	v->pending_text = NULL;
	v->pending = VRRP_PENDING_NONE;
}

int
vrrp_prepare(struct vrrp *v, const struct conf *c, struct errs *errs)
{
	const struct conf_vrrp *cv = c->vrrp;
	char msg[2048];
	size_t i, len;
	char *text;
	int fd, rc;

	vrrp_pending_clear(v);
	if (cv == NULL) {
		v->pending = v->live_text != NULL ? VRRP_PENDING_REMOVE : VRRP_PENDING_NONE;
		return 0;
	}
	text = vrrp_conf_render_gated(cv, v->fifo_path, v->gated);
	if (text == NULL) {
		errs_add(errs, "$.vrrp", "out of memory");
		return -1;
	}
	v->pending_groups = calloc(cv->ngroups + 1, sizeof(*v->pending_groups));
	if (v->pending_groups == NULL) {
		free(text);
		errs_add(errs, "$.vrrp", "out of memory");
		return -1;
	}
	for (i = 0; i < cv->ngroups; i++) {
		v->pending_groups[i].name = strdup(cv->groups[i].name);
		v->pending_groups[i].info = vrrp_group_info(&cv->groups[i]);
		v->pending_groups[i].priority = -1;
		v->npending++;
		if (v->pending_groups[i].name == NULL) {
			free(text);
			vrrp_pending_clear(v);
			errs_add(errs, "$.vrrp", "out of memory");
			return -1;
		}
	}
	v->pending_text = text;
	if (v->live_text != NULL && strcmp(v->live_text, text) == 0) {
		v->pending = VRRP_PENDING_NEW;	/* same file: groups only, no SIGHUP */
		return 0;
	}
	if (mkdir(v->run_dir, 0700) < 0 && errno != EEXIST) {
		errs_add(errs, "$.vrrp", "cannot create %s: %s", v->run_dir, strerror(errno));
		goto fail;
	}
	fd = open(v->new_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		errs_add(errs, "$.vrrp", "cannot write %s: %s", v->new_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	rc = vrrp_run_check(v, v->new_path, msg, sizeof(msg));
	if (rc != 0) {
		char *nl;

		/* One line per error in the answer; the rest is in the log. */
		for (nl = msg; (nl = strchr(nl, '\n')) != NULL; nl++)
			*nl = ' ';
		if (rc == -ENOENT)
			errs_add(errs, "$.vrrp", "cannot run %s (is keepalived installed?)", v->keepalived);
		else if (rc < 0)
			errs_add(errs, "$.vrrp", "cannot run keepalived -t: %s", strerror(-rc));
		else
			errs_add(errs, "$.vrrp", "keepalived -t refused the rendered config (status %d): %s",
				 rc, msg[0] ? msg : "no message");
		log_warn("vrrp: keepalived -t refused %s: %s", v->new_path, msg);
		unlink(v->new_path);
		goto fail;
	}
	v->pending = VRRP_PENDING_NEW;
	return 0;
fail:
	vrrp_pending_clear(v);
	return -1;
}

void
vrrp_abort(struct vrrp *v)
{
	if (v->pending == VRRP_PENDING_NEW && (v->live_text == NULL ||
					       strcmp(v->live_text, v->pending_text) != 0))
		unlink(v->new_path);
	vrrp_pending_clear(v);
}

/* Moves the pending group table in, keeping the role of groups that stay. */
static void
vrrp_groups_swap(struct vrrp *v)
{
	size_t i;

	for (i = 0; i < v->npending; i++) {
		struct vrrp_group *old = vrrp_group_find(v, v->pending_groups[i].name);

		if (old == NULL)
			continue;
		v->pending_groups[i].role = old->role;
		v->pending_groups[i].priority = old->priority;
		v->pending_groups[i].since = old->since;
		v->pending_groups[i].transitions = old->transitions;
		v->pending_groups[i].rx_lower_pri = old->rx_lower_pri;
		old->role = VRRP_ROLE_UNKNOWN;	/* carried over, not deleted */
	}
	for (i = 0; i < v->ngroups; i++)
		if (v->groups[i].role != VRRP_ROLE_UNKNOWN)
			vrrp_set_role(v, &v->groups[i], VRRP_ROLE_DELETED, -1);
	vrrp_groups_free(v->groups, v->ngroups);
	v->groups = v->pending_groups;
	v->ngroups = v->npending;
	v->pending_groups = NULL;
	v->npending = 0;
}

void
vrrp_commit(struct vrrp *v)
{
	int changed;

	switch (v->pending) {
	case VRRP_PENDING_NONE:
		return;
	case VRRP_PENDING_REMOVE:
		vrrp_stop_child(v);
		vrrp_fifo_close(v);
		unlink(v->conf_path);
		free(v->live_text);
		v->live_text = NULL;
		vrrp_groups_swap(v);	/* an empty table: every group DELETED */
		vrrp_pending_clear(v);
		log_notice("vrrp: section removed, keepalived stopped");
		return;
	case VRRP_PENDING_NEW:
		break;
	}
	changed = v->live_text == NULL || strcmp(v->live_text, v->pending_text) != 0;
	if (changed && rename(v->new_path, v->conf_path) < 0) {
		/* Cannot happen on one file system; keep the old file serving. */
		log_err("vrrp: cannot rename %s: %s", v->new_path, strerror(errno));
		vrrp_pending_clear(v);
		return;
	}
	vrrp_groups_swap(v);
	free(v->live_text);
	v->live_text = v->pending_text;
	v->pending_text = NULL;
	vrrp_pending_clear(v);
	if (v->pid > 0 && changed) {
		log_notice("vrrp: config changed, keepalived reloads (SIGHUP)");
		vrrp_signal(v, SIGHUP);
	} else if (v->pid <= 0 && !loop_timer_armed(&v->restart_timer)) {
		vrrp_start(v);
	}
}

void
vrrp_free(struct vrrp **vp)
{
	struct vrrp *v = *vp;

	if (v == NULL)
		return;
	vrrp_stop_child(v);
	vrrp_fifo_close(v);
	vrrp_pending_clear(v);
	vrrp_groups_free(v->groups, v->ngroups);
	free(v->live_text);
	free(v->run_dir);
	free(v->keepalived);
	free(v);
	*vp = NULL;
}

void
vrrp_detach(struct vrrp *v)
{
	loop_timer_cancel(v->loop, &v->restart_timer);
	if (v->pidfd >= 0) {
		loop_io_del(v->loop, &v->pid_io);
		close(v->pidfd);
		v->pidfd = -1;
	}
	if (v->pid > 0)
		log_notice("vrrp: keepalived (pid %d) handed over to the new tandemd", (int)v->pid);
	v->pid = 0;
	vrrp_fifo_close(v);
	vrrp_pending_clear(v);
	free(v->live_text);
	v->live_text = NULL;	/* nothing starts it again from here */
}

int
vrrp_role_hook_add(struct vrrp *v, vrrp_role_cb cb, void *data)
{
	if (v->nhooks == VRRP_MAX_HOOKS)
		return -ENOMEM;
	v->hooks[v->nhooks].cb = cb;
	v->hooks[v->nhooks].data = data;
	v->nhooks++;
	return 0;
}

enum vrrp_role
vrrp_group_role(const struct vrrp *v, const char *name)
{
	const struct vrrp_group *g = vrrp_group_find(v, name);

	return g ? g->role : VRRP_ROLE_UNKNOWN;
}

int
vrrp_set_gated(struct vrrp *v, int gated)
{
	if (v->gated == !!gated)
		return 0;
	v->gated = !!gated;
	log_notice("vrrp: priorities %s", gated ? "gated (held at 1 until the peer's state is loaded)" :
		   "ungated (the configured ones)");
	return 1;
}

int
vrrp_gated(const struct vrrp *v)
{
	return v->gated;
}

json_t *
vrrp_status_json(const struct vrrp *v)
{
	json_t *groups = json_array(), *ka;
	size_t i, nmaster = 0;
	const char *node;

	for (i = 0; i < v->ngroups; i++) {
		const struct vrrp_group *g = &v->groups[i];
		json_t *o = json_deep_copy(g->info);

		if (o == NULL)
			o = json_object();
		json_object_set_new(o, "name", json_string(g->name));
		json_object_set_new(o, "role", json_string(vrrp_role_name(g->role)));
		json_object_set_new(o, "reported_priority",
				    g->priority >= 0 ? json_integer(g->priority) : json_null());
		json_object_set_new(o, "since", g->since ? json_integer(g->since) : json_null());
		json_object_set_new(o, "transitions", json_integer((json_int_t)g->transitions));
		json_object_set_new(o, "master_rx_lower_pri", json_integer((json_int_t)g->rx_lower_pri));
		json_array_append_new(groups, o);
		nmaster += g->role == VRRP_ROLE_MASTER;
	}
	/* The node's summary: MASTER when it holds every group. */
	node = v->ngroups == 0 ? "NONE" : nmaster == v->ngroups ? "MASTER" :
	       nmaster == 0 ? "BACKUP" : "MIXED";
	ka = json_pack("{s:b,s:s,s:I,s:I}", "running", v->pid > 0, "config", v->conf_path,
		       "starts", (json_int_t)v->starts,
		       "bad_notify_lines", (json_int_t)v->fifo_bad);
	json_object_set_new(ka, "pid", v->pid > 0 ? json_integer(v->pid) : json_null());
	return json_pack("{s:b,s:s,s:b,s:o,s:o}", "enabled", v->live_text != NULL, "role", node,
			 "gated", v->gated, "keepalived", ka, "groups", groups);
}
