/*
 * jh - JSON helpers (see jh.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jh.h"

/* json_dumps(v, flags) plus a trailing '\n'. */
static char *
jh_dump_nl(const json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags);
	char *out;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	out = realloc(s, n + 2);
	if (out == NULL) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

char *
jh_dump_canonical(const json_t *v)
{
	return jh_dump_nl(v, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
}

char *
jh_dump_line(const json_t *v)
{
	return jh_dump_nl(v, JSON_SORT_KEYS | JSON_COMPACT);
}

static int
jh_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
jh_write_file_atomic(const char *path, const char *text, unsigned mode)
{
	return jh_write_buf_atomic(path, text, strlen(text), mode);
}

int
jh_write_buf_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4096], dir[4096];
	int fd = -1, dfd = -1, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	rc = jh_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	/* Make the rename itself durable. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
