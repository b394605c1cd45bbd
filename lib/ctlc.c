/*
 * ctlc - control socket client (see ctlc.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlc.h"
#include "jh.h"

static long
ctlc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
ctlc_wait(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long left = deadline - ctlc_now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)left);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

int
ctlc_call(const char *path, const json_t *req, json_t **resp, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = ctlc_now_ms() + timeout_ms;
	char *line = NULL, *in = NULL;
	size_t off = 0, len, inlen = 0, incap = 4096;
	json_error_t jerr;
	int fd = -1, rc = 0;

	*resp = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	line = jh_dump_line(req);
	if (line == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	len = strlen(line);
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if ((rc = ctlc_wait(fd, POLLOUT, deadline)) < 0)
				goto out;
			continue;
		}
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	in = malloc(incap);
	if (in == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (inlen + 1 >= incap) {
			char *nin;

			if (incap >= CTLC_MAX_ANSWER) {
				rc = -EPROTO;
				goto out;
			}
			nin = realloc(in, incap * 2);
			if (nin == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			in = nin;
			incap *= 2;
		}
		n = recv(fd, in + inlen, incap - inlen - 1, 0);
		if (n < 0 && errno == EAGAIN) {
			if ((rc = ctlc_wait(fd, POLLIN, deadline)) < 0)
				goto out;
			continue;
		}
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0) {
			rc = -EPROTO;
			goto out;
		}
		inlen += (size_t)n;
		in[inlen] = '\0';
		if (memchr(in, '\n', inlen) != NULL)
			break;
	}
	*resp = json_loads(in, JSON_DISABLE_EOF_CHECK, &jerr);
	if (*resp == NULL || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		rc = -EPROTO;
	}
out:
	free(line);
	free(in);
	if (fd >= 0)
		close(fd);
	return rc;
}
