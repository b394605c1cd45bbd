/*
 * buf - fixed-capacity I/O buffer (see buf-t.h).
 * Invariant: rpos <= wpos <= cap.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"

int
buf_init(struct buf *b, size_t cap)
{
	b->data = malloc(cap);
	if (b->data == NULL)
		return -ENOMEM;
	b->cap = cap;
	b->rpos = b->wpos = 0;
	return 0;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->rpos = b->wpos = 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->rpos += n;
	if (b->rpos >= b->wpos)
		b->rpos = b->wpos = 0;
}

void
buf_compact(struct buf *b)
{
	size_t len = buf_len(b);

	if (b->rpos == 0)
		return;
	memmove(b->data, b->data + b->rpos, len);
	b->rpos = 0;
	b->wpos = len;
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	if (buf_room(b) < len)
		buf_compact(b);
	if (buf_room(b) < len)
		return -ENOSPC;
	memcpy(b->data + b->wpos, p, len);
	b->wpos += len;
	return 0;
}

int
buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_compact(b);
	va_start(ap, fmt);
	n = vsnprintf(buf_tail(b), buf_room(b), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= buf_room(b))
		return -ENOSPC;
	b->wpos += (size_t)n;
	return 0;
}

ssize_t
buf_read_fd(struct buf *b, int fd)
{
	ssize_t n;

	if (buf_room(b) == 0)
		buf_compact(b);
	if (buf_room(b) == 0)
		return -ENOSPC;
	do
		n = read(fd, buf_tail(b), buf_room(b));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	b->wpos += (size_t)n;
	return n;
}

ssize_t
buf_write_fd(struct buf *b, int fd, size_t max)
{
	size_t len = buf_len(b);
	ssize_t n;

	if (max != 0 && max < len)
		len = max;
	do
		n = send(fd, buf_head(b), len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, buf_head(b), len);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	buf_consume(b, (size_t)n);
	return n;
}
