/*
 * vrrp_child - the fork/exec details of running keepalived (vrrp__child.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vrrp__child.h"

void
vrrp_child_setup(pid_t parent)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);	/* the parent died before prctl took effect */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

static long
vrrp_child_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int
vrrp_keepalived_check(const char *keepalived, const char *conf, int timeout_ms, char *msg,
		      size_t msglen)
{
	char *const argv[] = { (char *)keepalived, "-t", "-f", (char *)conf, NULL };
	pid_t parent = getpid(), pid;
	struct timespec t0;
	size_t used = 0;
	int fds[2], status = 0, rc;

	msg[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	if (pid == 0) {
		vrrp_child_setup(parent);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		long ms = vrrp_child_ms_since(&t0);
		char tmp[512];
		ssize_t n;

		if (ms >= timeout_ms) {
			kill(pid, SIGKILL);
			snprintf(msg, msglen, "keepalived -t did not finish in %d ms", timeout_ms);
			break;
		}
		if (poll(&pfd, 1, (int)(timeout_ms - ms)) < 0 && errno != EINTR)
			break;
		n = read(fds[0], tmp, sizeof(tmp));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (used + 1 < msglen) {
			size_t k = (size_t)n < msglen - used - 1 ? (size_t)n : msglen - used - 1;

			memcpy(msg + used, tmp, k);
			used += k;
			msg[used] = '\0';
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
