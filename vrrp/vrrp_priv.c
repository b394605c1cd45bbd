/*
 * vrrp_priv - the privilege split: a minimal root supervisor for keepalived
 * and an unprivileged data plane (doc/ha.md "Privileges").
 *
 * `tandemd --user USER` started as root forks at once, before it reads its
 * config. The child is the data plane: it drops to USER keeping only
 * CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and CAP_NET_RAW (bounding set too) and
 * runs tandemd as usual. The parent stays root and does nothing but this:
 *
 *   - answer five requests from the data plane over a SOCK_SEQPACKET pair:
 *     CHECK (keepalived -t on the candidate file), START, HUP, TERM/KILL
 *     (signal keepalived) and WAIT (reap it). START answers with a pidfd
 *     (SCM_RIGHTS) so the data plane sees keepalived exit on its own loop;
 *   - forward SIGTERM, SIGINT and SIGHUP to the data plane;
 *   - when the data plane exits or the socket closes for any reason (crash,
 *     kill -9, OOM), SIGTERM keepalived (it sends a priority-0 advert and
 *     drops the VIPs), SIGKILL it after 5 s, and exit with the data plane's
 *     status. keepalived is the supervisor's child with PDEATHSIG SIGKILL,
 *     the data plane has PDEATHSIG SIGKILL too: no process outlives the
 *     supervisor, and keepalived never outlives the data plane.
 *
 * The supervisor trusts nothing the data plane wrote. It never takes a
 * command line from it: the keepalived binary, the run dir and the paths
 * are fixed at start. The rendered files live in the data plane's run dir
 * (USER-writable), so the supervisor copies each one into its own dir
 * (--priv-dir, root's, 0711, in a parent only root can write) and checks the copy line by line against the
 * keywords tandemd renders (no scripts, no includes, the FIFO path fixed)
 * before keepalived (root) reads it. The notify FIFO and keepalived's pid
 * files live in that dir too, so the data plane cannot point keepalived's
 * writes at another file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include <syslog.h>
#include "vrrp.h"
#include "vrrp__child.h"

#define VRRP_PRIV_MAX_CONF (1024 * 1024)
#define VRRP_PRIV_STOP_MS 5000
#define VRRP_PRIV_CHECK_MS 5000

struct vrrp_priv {
	const char *keepalived;
	char priv_dir[PATH_MAX];
	char run_conf[PATH_MAX], run_new[PATH_MAX];	/* the data plane's files */
	char conf[PATH_MAX], check_conf[PATH_MAX], fifo[PATH_MAX];
	char pid[PATH_MAX], vrrp_pid[PATH_MAX], chk_pid[PATH_MAX], bfd_pid[PATH_MAX];
	pid_t plane;		/* the data plane */
	pid_t ka;		/* keepalived, 0 when not running */
	int ka_status;		/* its wait status once reaped, -1 before */
	int fd;
	int sigfd;
	/* binary upgrade (doc/tandemd.md): the old data plane while the new
	 * one starts and takes over, then while it drains */
	pid_t old_plane;
	int old_fd;
	int took;		/* the new plane said TOOK: the old one only drains */
	int adopt;		/* keepalived runs from before the exec: START adopts it */
};

/* The command line and binary to exec for an upgrade (vrrp_priv_exec_args). */
static char **vrrp_priv_argv;
static char vrrp_priv_exe[PATH_MAX];
#define VRRP_PRIV_UPGRADE_ENV "TANDEMD_UPGRADE_PRIV"

void
vrrp_priv_exec_args(char **argv)
{
	ssize_t n = readlink("/proc/self/exe", vrrp_priv_exe, sizeof(vrrp_priv_exe) - 1);

	vrrp_priv_exe[n > 0 ? n : 0] = '\0';
	vrrp_priv_argv = argv;
}

static int
vrrp_priv_path(char *out, const char *dir, const char *file)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------ the split */

/* Drops to uid/gid keeping the data plane's three capabilities. 0/-errno. */
static int
vrrp_priv_drop(uid_t uid, gid_t gid)
{
	const unsigned long keep = (1UL << CAP_NET_ADMIN) | (1UL << CAP_NET_BIND_SERVICE) |
				   (1UL << CAP_NET_RAW);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	unsigned long c;

	/* Nothing outside the three can come back, even through exec. */
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & (1UL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(1, &gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	data[0].effective = data[0].permitted = (unsigned)keep;
	if (syscall(SYS_capset, &hdr, data) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	/* setresuid made us non-dumpable; the data plane may be, as before. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

/* ------------------------------------------------- checking the file */

/* The first word of each line tandemd renders (vrrp_render.c); address
 * lines inside virtual_ipaddress and unicast_peer start with a hex digit. */
static const char *const vrrp_priv_words[] = {
	"global_defs", "router_id", "vrrp_version", "vrrp_notify_fifo",
	"fifo_write_vrrp_states_on_reload", "script_user", "enable_script_security",
	"vrrp_priority", "vrrp_no_swap",
	"vrrp_instance", "state", "interface", "virtual_router_id", "priority",
	"advert_int", "nopreempt", "unicast_src_ip", "unicast_peer", "virtual_ipaddress",
	"}", NULL,
};

static unsigned
vrrp_priv_tokens(const char *line)
{
	unsigned n = 0;

	while (*line != '\0') {
		line += strspn(line, " \t\r");
		if (*line == '\0')
			break;
		n++;
		line += strcspn(line, " \t\r");
	}
	return n;
}

/* 0 when every line of text is one tandemd renders, with the FIFO being
 * ours and no script user but root; else -EPERM and the line in why. */
static int
vrrp_priv_scan(const struct vrrp_priv *p, char *text, char *why, size_t whylen)
{
	char *save = NULL, *line;
	unsigned n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char word[64] = "", arg[PATH_MAX] = "", extra[8] = "";
		const char *const *w;
		int k;

		n++;
		while (*line == ' ')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		k = sscanf(line, "%63s %4095s %7s", word, arg, extra);
		if (vrrp_priv_tokens(line) > 3)
			goto bad;
		/* "192.0.2.10/24 dev eth0" (a VIP) or "192.0.2.12" (a peer) */
		if (strspn(word, "0123456789abcdefABCDEF:./") == strlen(word) &&
		    strpbrk(word, "0123456789:") != NULL && (k == 1 || strcmp(arg, "dev") == 0))
			continue;
		for (w = vrrp_priv_words; *w != NULL && strcmp(*w, word) != 0; w++)
			;
		if (*w == NULL || strchr(line, '"') != NULL || strchr(line, '\\') != NULL)
			goto bad;
		if (strcmp(word, "vrrp_notify_fifo") == 0 && strcmp(arg, p->fifo) != 0)
			goto bad;
		if (strcmp(word, "script_user") == 0 && strcmp(arg, "root") != 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(why, whylen, "line %u is not one tandemd renders", n);
	return -EPERM;
}

/* Copies src (the data plane's file) to dst (ours, 0600) if it passes the
 * scan. 0, or -errno with the reason in why. */
static int
vrrp_priv_install(const struct vrrp_priv *p, const char *src, const char *dst, char *why,
		  size_t whylen)
{
	char *text = NULL, *copy = NULL, tmp[PATH_MAX + 8];
	ssize_t n, got = 0;
	int fd, out = -1, rc;

	fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot open %s: %s", src, strerror(errno));
		return rc;
	}
	text = malloc(VRRP_PRIV_MAX_CONF + 1);
	copy = malloc(VRRP_PRIV_MAX_CONF + 1);
	rc = -ENOMEM;
	if (text == NULL || copy == NULL)
		goto out;
	while ((n = read(fd, text + got, (size_t)(VRRP_PRIV_MAX_CONF - got))) > 0)
		got += n;
	rc = -EFBIG;
	if (n < 0 || got >= VRRP_PRIV_MAX_CONF) {
		snprintf(why, whylen, "cannot read %s", src);
		goto out;
	}
	text[got] = '\0';
	memcpy(copy, text, (size_t)got + 1);
	rc = vrrp_priv_scan(p, copy, why, whylen);
	if (rc < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	rc = -errno;
	if (out < 0 || write(out, text, (size_t)got) != got || fsync(out) < 0 ||
	    rename(tmp, dst) < 0) {
		snprintf(why, whylen, "cannot write %s", dst);
		goto out;
	}
	rc = 0;
out:
	if (out >= 0)
		close(out);
	close(fd);
	free(text);
	free(copy);
	return rc;
}

/* ------------------------------------------------------- keepalived */

/* keepalived -t on our copy of the candidate: status, output into msg. */
static int
vrrp_priv_check(struct vrrp_priv *p, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (vrrp_priv_install(p, p->run_new, p->check_conf, msg, msglen) < 0)
		return 1;
	return vrrp_keepalived_check(p->keepalived, p->check_conf, VRRP_PRIV_CHECK_MS, msg, msglen);
}

/* Starts keepalived on our copy of the live file; pid or -errno. */
static int
vrrp_priv_start(struct vrrp_priv *p, char *why, size_t whylen)
{
	char *const argv[] = { (char *)p->keepalived, "-n", "-P", "-l", "-G", "-f", p->conf,
			       "-p", p->pid, "-r", p->vrrp_pid, "-c", p->chk_pid, "-b", p->bfd_pid,
			       NULL };
	pid_t parent = getpid(), pid;
	int rc;

	if (p->ka > 0)
		return -EBUSY;
	rc = vrrp_priv_install(p, p->run_conf, p->conf, why, whylen);
	if (rc < 0)
		return rc;
	unlink(p->pid);
	unlink(p->vrrp_pid);
	unlink(p->chk_pid);
	unlink(p->bfd_pid);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		vrrp_child_setup(parent);
		execvp(argv[0], argv);
		_exit(127);
	}
	p->ka = pid;
	p->ka_status = -1;
	return pid;
}

/* Reaps keepalived if it exited (block: wait for it). */
static void
vrrp_priv_reap_ka(struct vrrp_priv *p, int block)
{
	int status;

	if (p->ka <= 0)
		return;
	if (waitpid(p->ka, &status, block ? 0 : WNOHANG) == p->ka) {
		p->ka_status = status;
		p->ka = 0;
	}
}

/* SIGTERM keepalived, SIGKILL after VRRP_PRIV_STOP_MS. */
static void
vrrp_priv_stop_ka(struct vrrp_priv *p)
{
	int i;

	if (p->ka <= 0)
		return;
	kill(p->ka, SIGTERM);
	for (i = 0; i < VRRP_PRIV_STOP_MS / 10 && p->ka > 0; i++) {
		usleep(10000);
		vrrp_priv_reap_ka(p, 0);
	}
	if (p->ka > 0) {
		kill(p->ka, SIGKILL);
		vrrp_priv_reap_ka(p, 1);
	}
}

/* ----------------------------------------------------- the protocol */

/* Sends "R <n>\n<text>", with fd attached when fd >= 0. */
static void
vrrp_priv_reply_to(int to, long n, const char *text, int fd)
{
	char buf[8192], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int len = snprintf(buf, sizeof(buf), "R %ld\n%s", n, text ? text : "");

	iov.iov_len = len < 0 ? 0 : (size_t)len >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)len;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(to, &m, MSG_NOSIGNAL) < 0)
		log_warn("vrrp supervisor: cannot answer the data plane: %s", strerror(errno));
}

#define vrrp_priv_reply(p, n, text, pass) vrrp_priv_reply_to((p)->fd, n, text, pass)

/* 1 when files a and b hold the same bytes (both readable). */
static int
vrrp_priv_same(const char *a, const char *b)
{
	FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
	int ca, cb, same = fa != NULL && fb != NULL;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		if (ca != cb)
			same = 0;
		else if (ca == EOF)
			break;
	}
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	return same;
}

/* UPGRADE: exec the binary we were started from (the package replaced it)
 * in place: same pid for systemd, keepalived stays our child, the data
 * plane's socket survives the exec. Returns only on failure (-errno). */
static long
vrrp_priv_upgrade(struct vrrp_priv *p, char *msg, size_t msglen)
{
	char env[64];
	int flags;

	if (vrrp_priv_argv == NULL || vrrp_priv_exe[0] == '\0' || p->old_plane > 0) {
		snprintf(msg, msglen, "%s", p->old_plane > 0 ? "an upgrade is in progress" :
			 "the supervisor does not know its binary");
		return -EBUSY;
	}
	if (access(vrrp_priv_exe, X_OK) < 0) {
		snprintf(msg, msglen, "%.200s: %s", vrrp_priv_exe, strerror(errno));
		return -errno;
	}
	snprintf(env, sizeof(env), "%d:%d:%d", p->fd, (int)p->plane, (int)p->ka);
	flags = fcntl(p->fd, F_GETFD);
	if (flags < 0 || fcntl(p->fd, F_SETFD, flags & ~FD_CLOEXEC) < 0 ||
	    setenv(VRRP_PRIV_UPGRADE_ENV, env, 1) < 0)
		return -errno;
	log_notice("vrrp supervisor: binary upgrade: exec %s (keepalived pid %d stays)",
		   vrrp_priv_exe, (int)p->ka);
	execv(vrrp_priv_exe, vrrp_priv_argv);
	snprintf(msg, msglen, "exec %.200s: %s", vrrp_priv_exe, strerror(errno));
	unsetenv(VRRP_PRIV_UPGRADE_ENV);
	fcntl(p->fd, F_SETFD, flags);
	return -errno;
}

/* One request on fd (the data plane's, or the old one's during an
 * upgrade); 0, or -1 when the socket closed. */
static int
vrrp_priv_request(struct vrrp_priv *p, int fd)
{
	char req[64], msg[4096] = "";
	ssize_t n = recv(fd, req, sizeof(req) - 1, 0);
	long rc;

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	req[n] = '\0';
	if (fd != p->fd) {
		/* the old data plane: anything but keepalived's life */
		if (strcmp(req, "CHECK") == 0) {
			rc = vrrp_priv_check(p, msg, sizeof(msg));
			vrrp_priv_reply_to(fd, rc, msg, -1);
		} else {
			vrrp_priv_reply_to(fd, -EPERM, "keepalived belongs to the new data plane", -1);
		}
		return 0;
	}
	if (strcmp(req, "UPGRADE") == 0) {
		rc = vrrp_priv_upgrade(p, msg, sizeof(msg));
		vrrp_priv_reply(p, rc, msg, -1);
	} else if (strcmp(req, "TOOK") == 0) {
		p->took = 1;
		vrrp_priv_reply(p, 0, NULL, -1);
	} else if (strcmp(req, "START") == 0 && p->adopt && p->ka > 0) {
		/* the new data plane finds keepalived running from before the
		 * exec: take its (checked) file, reload only if it changed */
		int pidfd = -1;

		p->adopt = 0;
		rc = vrrp_priv_install(p, p->run_conf, p->check_conf, msg, sizeof(msg));
		if (rc == 0 && !vrrp_priv_same(p->check_conf, p->conf)) {
			rename(p->check_conf, p->conf);
			kill(p->ka, SIGHUP);
			log_notice("vrrp supervisor: keepalived adopted, its config changed: reloaded");
		} else if (rc == 0) {
			log_notice("vrrp supervisor: keepalived (pid %d) adopted unchanged", (int)p->ka);
		}
		if (rc == 0) {
			rc = p->ka;
			pidfd = (int)syscall(SYS_pidfd_open, p->ka, 0);
		}
		vrrp_priv_reply(p, rc, msg, pidfd);
		if (pidfd >= 0)
			close(pidfd);
	} else if (strcmp(req, "CHECK") == 0) {
		rc = vrrp_priv_check(p, msg, sizeof(msg));
		vrrp_priv_reply(p, rc, msg, -1);
	} else if (strcmp(req, "START") == 0) {
		int pidfd = -1;

		rc = vrrp_priv_start(p, msg, sizeof(msg));
		if (rc > 0) {
			pidfd = (int)syscall(SYS_pidfd_open, (pid_t)rc, 0);
			log_notice("vrrp supervisor: keepalived started (pid %ld)", rc);
		}
		vrrp_priv_reply(p, rc, msg, pidfd);
		if (pidfd >= 0)
			close(pidfd);
	} else if (strcmp(req, "HUP") == 0) {
		/* The data plane renamed the checked file into place: take our
		 * checked copy of it, then tell keepalived. */
		rc = vrrp_priv_install(p, p->run_conf, p->conf, msg, sizeof(msg));
		if (rc == 0 && p->ka > 0 && kill(p->ka, SIGHUP) < 0)
			rc = -errno;
		vrrp_priv_reply(p, rc, msg, -1);
	} else if (strcmp(req, "TERM") == 0 || strcmp(req, "KILL") == 0) {
		rc = p->ka > 0 ? kill(p->ka, req[0] == 'T' ? SIGTERM : SIGKILL) : -ESRCH;
		vrrp_priv_reply(p, rc < 0 ? -errno : 0, NULL, -1);
	} else if (strcmp(req, "WAIT") == 0) {
		vrrp_priv_reap_ka(p, 1);
		vrrp_priv_reply(p, p->ka_status, NULL, -1);
	} else {
		vrrp_priv_reply(p, -EINVAL, "unknown request", -1);
	}
	return 0;
}

/* The old data plane is gone (it drained, or died): forget it. */
static void
vrrp_priv_old_gone(struct vrrp_priv *p)
{
	if (p->old_fd >= 0)
		close(p->old_fd);
	p->old_fd = -1;
}

/* The new data plane died before it took over: the old one, still
 * serving, is the data plane again. 1 when that happened. */
static int
vrrp_priv_revert(struct vrrp_priv *p)
{
	if (p->took || p->old_plane <= 0 || p->old_fd < 0)
		return 0;
	log_err("vrrp supervisor: the new data plane (pid %d) exited before taking over; "
		"the old one (pid %d) keeps serving", (int)p->plane, (int)p->old_plane);
	close(p->fd);
	p->fd = p->old_fd;
	p->plane = p->old_plane;
	p->old_fd = -1;
	p->old_plane = 0;
	p->adopt = 0;
	return 1;
}

/* SIGCHLD: reaps keepalived, the data plane, the old data plane and a new
 * one that died before taking over (*done: the data plane is gone). */
static void
vrrp_priv_reap(struct vrrp_priv *p, int *status, int *done)
{
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == p->ka) {
			p->ka_status = st;
			p->ka = 0;
		} else if (w == p->old_plane) {
			log_notice("vrrp supervisor: the old data plane (pid %d) exited", (int)w);
			p->old_plane = 0;
			vrrp_priv_old_gone(p);
		} else if (w == p->plane) {
			*status = st;
			if (!vrrp_priv_revert(p)) {
				p->plane = 0;
				*done = 1;
			}
		}
	}
}

/* The supervisor's life: never returns. */
static void __attribute__((noreturn))
vrrp_priv_serve(struct vrrp_priv *p)
{
	int status = 0, done = 0;

	log_notice("vrrp supervisor: data plane pid %d; keepalived runs from here as root",
		   (int)p->plane);
	while (!done) {
		struct pollfd pfd[3] = { { .fd = p->fd, .events = POLLIN },
					 { .fd = p->sigfd, .events = POLLIN },
					 { .fd = p->old_fd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			continue;
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR) && p->old_fd >= 0 &&
		    vrrp_priv_request(p, p->old_fd) < 0)
			vrrp_priv_old_gone(p);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) && vrrp_priv_request(p, p->fd) < 0 &&
		    !vrrp_priv_revert(p))
			break;	/* the data plane is gone (or closed on us) */
		while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD) {
				kill(p->plane, (int)si.ssi_signo);
				if (p->old_plane > 0)
					kill(p->old_plane, (int)si.ssi_signo);
				continue;
			}
			vrrp_priv_reap(p, &status, &done);
		}
	}
	/* The data plane died or is dying: keepalived goes first, so the peer
	 * takes the VIPs now rather than after the master-down timer. */
	if (p->ka > 0)
		log_notice("vrrp supervisor: data plane gone; stopping keepalived (pid %d)", (int)p->ka);
	vrrp_priv_stop_ka(p);
	if (p->plane > 0)
		while (waitpid(p->plane, &status, 0) < 0 && errno == EINTR)
			;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* 0 when dir's parent cannot be changed by anyone but root: the data
 * plane must not be able to swap our dir for a link. */
static int
vrrp_priv_parent_safe(const char *dir)
{
	char parent[PATH_MAX], *slash;
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		return -EINVAL;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (lstat(parent, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
		return -EPERM;
	return 0;
}

int
vrrp_priv_split(const char *user, const char *run_dir, const char *priv_dir,
		const char *keepalived, const char *socket_path, int *fd_out, char *fifo_out,
		size_t fifo_len)
{
	struct vrrp_priv p = { .keepalived = keepalived, .ka_status = -1, .fd = -1, .sigfd = -1,
			       .old_fd = -1 };
	const char *up = getenv(VRRP_PRIV_UPGRADE_ENV);
	struct passwd *pw = getpwnam(user);
	char sockdir[PATH_MAX], *slash;
	struct stat st;
	sigset_t mask;
	pid_t parent = getpid(), pid;
	int sv[2], rc;

	*fd_out = -1;
	if (pw == NULL) {
		log_err("--user %s: no such user", user);
		return -ENOENT;
	}
	if (getuid() != 0 || geteuid() != 0) {
		if (getuid() == pw->pw_uid)
			return 0;	/* started as the user already: no split */
		log_err("--user %s: tandemd must start as root (or as %s) for the privilege split",
			user, user);
		return -EPERM;
	}
	if (snprintf(p.priv_dir, sizeof(p.priv_dir), "%s", priv_dir) >= (int)sizeof(p.priv_dir) ||
	    vrrp_priv_path(p.run_conf, run_dir, "keepalived.conf") < 0 ||
	    vrrp_priv_path(p.run_new, run_dir, "keepalived.conf.new") < 0 ||
	    vrrp_priv_path(p.conf, p.priv_dir, "keepalived.conf") < 0 ||
	    vrrp_priv_path(p.check_conf, p.priv_dir, "check.conf") < 0 ||
	    vrrp_priv_path(p.fifo, p.priv_dir, "notify.fifo") < 0 ||
	    vrrp_priv_path(p.pid, p.priv_dir, "keepalived.pid") < 0 ||
	    vrrp_priv_path(p.vrrp_pid, p.priv_dir, "vrrp.pid") < 0 ||
	    vrrp_priv_path(p.chk_pid, p.priv_dir, "checkers.pid") < 0 ||
	    vrrp_priv_path(p.bfd_pid, p.priv_dir, "bfd.pid") < 0 ||
	    snprintf(fifo_out, fifo_len, "%s", p.fifo) >= (int)fifo_len)
		return -ENAMETOOLONG;
	/* Our dir: root's, traversable so the data plane can open the FIFO,
	 * which is the data plane's (it reads it) but in a dir it cannot
	 * change. A leftover dir from a previous run is reused only if it is
	 * still root's and not a link. */
	if (p.priv_dir[0] != '/' || vrrp_priv_parent_safe(p.priv_dir) < 0) {
		log_err("vrrp supervisor: %s must be an absolute path whose parent directory is "
			"root's and writable by root only", p.priv_dir);
		return -EPERM;
	}
	if (mkdir(p.priv_dir, 0711) < 0 && errno != EEXIST)
		goto sys;
	if (lstat(p.priv_dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    chmod(p.priv_dir, 0711) < 0) {
		log_err("vrrp supervisor: %s must be a directory owned by root", p.priv_dir);
		return -EPERM;
	}
	/* Started by our own exec (UPGRADE): the old data plane's socket, its
	 * pid and keepalived's come in the environment; keepalived keeps
	 * writing to the FIFO it has open, so that one stays. */
	if (up != NULL) {
		int ofd, oplane, oka;

		if (sscanf(up, "%d:%d:%d", &ofd, &oplane, &oka) != 3 || ofd < 0 || oplane <= 0) {
			log_err("vrrp supervisor: bad %s=%s", VRRP_PRIV_UPGRADE_ENV, up);
			return -EINVAL;
		}
		unsetenv(VRRP_PRIV_UPGRADE_ENV);
		fcntl(ofd, F_SETFD, FD_CLOEXEC);
		p.old_fd = ofd;
		p.old_plane = oplane;
		p.ka = oka > 0 ? oka : 0;
		p.adopt = p.ka > 0;
		log_notice("vrrp supervisor: upgraded in place; old data plane pid %d, keepalived "
			   "pid %d", oplane, oka);
	} else {
		unlink(p.fifo);
		if (mkfifo(p.fifo, 0600) < 0 || chown(p.fifo, pw->pw_uid, pw->pw_gid) < 0)
			goto sys;
	}
	/* The control socket's directory belongs to the data plane, which
	 * creates the socket; hand it over when it is still root's. */
	snprintf(sockdir, sizeof(sockdir), "%s", socket_path);
	slash = strrchr(sockdir, '/');
	if (slash != NULL && slash != sockdir) {
		*slash = '\0';
		if (stat(sockdir, &st) == 0 && st.st_uid == 0 && strcmp(sockdir, "/") != 0 &&
		    (chmod(sockdir, 0750) < 0 || chown(sockdir, pw->pw_uid, pw->pw_gid) < 0))
			log_warn("vrrp supervisor: cannot hand %s to %s: %s", sockdir, user,
				 strerror(errno));
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		goto sys;
	/* SIGCHLD and the forwarded signals are read from a signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (pid == 0) {
		sigset_t none;

		close(sv[0]);
		if (p.old_fd >= 0) {
			close(p.old_fd);
			setenv("TANDEMD_UPGRADE", "1", 1);	/* take over from the old plane */
		}
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		rc = vrrp_priv_drop(pw->pw_uid, pw->pw_gid);
		if (rc < 0) {
			log_err("cannot drop to user %s: %s", user, strerror(-rc));
			_exit(1);
		}
		/* After the drop: a change of credentials clears the parent
		 * death signal. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		*fd_out = sv[1];
		log_notice("data plane running as %s with CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, "
			   "CAP_NET_RAW", user);
		return 0;
	}
	close(sv[1]);
	p.fd = sv[0];
	p.plane = pid;
	if (p.old_fd >= 0)	/* the old plane's UPGRADE call: the new plane's pid */
		vrrp_priv_reply_to(p.old_fd, pid, NULL, -1);
	p.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p.sigfd < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	log_init("tandemd-priv", LOG_INFO);
	vrrp_priv_serve(&p);
sys:
	rc = -errno;
	log_err("vrrp supervisor: %s: %s", p.priv_dir, strerror(errno));
	return rc;
}

/* ------------------------------------------- the data plane's side */

long
vrrp_priv_call(int fd, const char *req, char *text, size_t textlen, int *fd_out)
{
	char buf[8192], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	char *nl, *end;
	ssize_t n;
	long rc;

	if (fd_out != NULL)
		*fd_out = -1;
	if (text != NULL && textlen > 0)
		text[0] = '\0';
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -errno;
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	buf[n] = '\0';
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;

			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd_out != NULL)
				*fd_out = got;
			else
				close(got);
		}
	if (strncmp(buf, "R ", 2) != 0)
		return -EPROTO;
	rc = strtol(buf + 2, &end, 10);
	nl = strchr(buf, '\n');
	if (nl != NULL && text != NULL && textlen > 0)
		snprintf(text, textlen, "%s", nl + 1);
	return rc;
}
