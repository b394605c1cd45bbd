/*
 * l7_syslog - the access log's syslog output.
 *
 * The target is a local unix datagram socket (the system's /dev/log, or
 * another path, e.g. a test's or a container's log collector). One datagram
 * per line, RFC 3164 framing as glibc's syslog(3) sends it, so rsyslog,
 * syslog-ng and journald parse it alike. Only the logger thread of l7_alog
 * calls this: a slow syslog daemon delays that thread, never a worker; a
 * send waits at most 200 ms before the line is dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "l7_syslog.h"

int
l7_syslog_parse(const char *target, int *pri, char *tag, size_t taglen, const char **path)
{
	const char *p, *colon;
	char *end;
	long v;

	if (strncmp(target, "syslog:", 7) != 0)
		return 0;
	p = target + 7;
	v = strtol(p, &end, 10);
	if (end == p || *end != ':' || v < 0 || v > 191)
		return -1;
	*pri = (int)v;
	p = end + 1;
	colon = strchr(p, ':');
	if (colon == NULL || colon == p || colon[1] != '/' || taglen == 0)
		return -1;
	snprintf(tag, taglen, "%.*s", (int)(colon - p), p);
	*path = colon + 1;
	return 1;
}

int
l7_syslog_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int
l7_syslog_send(int fd, int pri, const char *tag, const char *line, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	char msg[2048];
	time_t now = time(NULL);
	struct tm tm;
	int h;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	localtime_r(&now, &tm);	/* RFC 3164 stamps are local time */
	h = snprintf(msg, sizeof(msg), "<%d>%s %2d %02d:%02d:%02d %s[%d]: ", pri, mon[tm.tm_mon],
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tag, (int)getpid());
	if (h < 0 || (size_t)h >= sizeof(msg))
		return -EINVAL;
	if (len > sizeof(msg) - (size_t)h)
		len = sizeof(msg) - (size_t)h;
	memcpy(msg + h, line, len);
	if (send(fd, msg, (size_t)h + len, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}
