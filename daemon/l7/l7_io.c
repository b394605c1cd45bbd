/*
 * l7_io - plain or TLS transport of a client connection (see l7_io.h).
 * OpenSSL stays behind l7_tls.h; this file maps its results to the
 * errno-style results the proxy already handles for plain sockets.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "l7_io.h"
#include "l7_tls.h"
#include "loop.h"

void
l7_io_init_plain(struct l7_io *io, int fd)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->hs_done = true;
	io->rd_wait = io->hs_wait = EPOLLIN;
	io->wr_wait = EPOLLOUT;
	io->rd_last = 1;
}

int
l7_io_init_tls(struct l7_io *io, int fd, struct l7_tls_ctx *ctx)
{
	l7_io_init_plain(io, fd);
	io->tls = l7_tls_conn_new(ctx, fd);
	if (io->tls == NULL)
		return -ENOMEM;
	io->hs_done = false;
	return 0;
}

void
l7_io_init_conn(struct l7_io *io, int fd, struct l7_tls_conn *tls)
{
	l7_io_init_plain(io, fd);
	io->tls = tls;
	io->hs_done = tls == NULL;
	if (tls != NULL)
		io->hs_wait = EPOLLOUT;	/* the client speaks first */
}

void
l7_io_free(struct l7_io *io)
{
	if (io->tls == NULL)
		return;
	if (io->hs_done && !io->failed && !io->shut)
		l7_tls_conn_shutdown(io->tls);
	l7_tls_conn_free(&io->tls);
}

/* Maps a WANT_* result to the event to wait for; other results to -errno. */
static ssize_t
l7_io_tls_wait(struct l7_io *io, ssize_t r, uint32_t *wait)
{
	switch (r) {
	case L7_TLS_WANT_READ:
		*wait = EPOLLIN;
		return -EAGAIN;
	case L7_TLS_WANT_WRITE:
		*wait = EPOLLOUT;
		return -EAGAIN;
	case L7_TLS_CLOSED:
		return 0;
	default:
		io->failed = true;
		return -ECONNRESET;
	}
}

int
l7_io_handshake(struct l7_io *io)
{
	int r;

	if (io->hs_done)
		return 1;
	r = l7_tls_conn_handshake(io->tls);
	if (r == L7_TLS_OK) {
		io->hs_done = true;
		return 1;
	}
	if (l7_io_tls_wait(io, r, &io->hs_wait) == -EAGAIN)
		return 0;
	io->failed = true;	/* an EOF mid-handshake too: nothing to close cleanly */
	return -1;
}

ssize_t
l7_io_recv(struct l7_io *io, void *p, size_t len)
{
	ssize_t n;

	if (io->tls == NULL) {
		n = read(io->fd, p, len);
		if (n < 0)
			return errno == EINTR ? -EAGAIN : -errno;
		return n;
	}
	if (io->rd_last != 1)
		return io->rd_last;	/* EOF or error met while draining */
	n = l7_tls_conn_read(io->tls, p, len);
	io->rd_starved = n == L7_TLS_WANT_READ;
	if (n > 0) {
		io->rd_wait = EPOLLIN;
		return n;
	}
	return l7_io_tls_wait(io, n, &io->rd_wait);
}

/* How much one TLS write may carry: small records while the connection is
 * young or was idle, full ones once it has sent a burst. */
static size_t
l7_io_record(struct l7_io *io)
{
	uint64_t now = loop_clock_ms();

	if (now - io->last_ms >= L7_IO_REC_IDLE_MS)
		io->burst = 0;
	io->last_ms = now;
	return io->burst >= L7_IO_REC_BOOST_BYTES ? L7_IO_REC_FULL : L7_IO_REC_SMALL;
}

ssize_t
l7_io_send(struct l7_io *io, const void *p, size_t len)
{
	size_t max;
	ssize_t n;

	if (io->tls == NULL) {
		n = send(io->fd, p, len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EINTR ? -EAGAIN : -errno;
		return n;
	}
	max = l7_io_record(io);
	if (max < io->wpend)
		max = io->wpend;	/* a retry must not shrink */
	if (len > max)
		len = max;
	n = l7_tls_conn_write(io->tls, p, len);
	if (n > 0) {
		io->wpend = 0;
		io->wr_wait = EPOLLOUT;
		io->burst += (uint64_t)n;
		return n;
	}
	io->wpend = len;
	n = l7_io_tls_wait(io, n, &io->wr_wait);
	return n == 0 ? -EPIPE : n;
}

ssize_t
l7_io_read_buf(struct l7_io *io, struct buf *b)
{
	ssize_t n;

	if (buf_room(b) == 0)
		buf_compact(b);
	if (buf_room(b) == 0)
		return -ENOSPC;
	n = l7_io_recv(io, buf_tail(b), buf_room(b));
	if (n <= 0)
		return n;
	b->wpos += (size_t)n;
	/* TLS reads ahead: records may wait inside the session while the
	 * socket is empty, and epoll would not report them. Take them now,
	 * so that a short read still means "nothing more until epoll says". */
	while (io->tls != NULL && buf_room(b) > 0 && l7_tls_conn_pending(io->tls)) {
		ssize_t m = l7_io_recv(io, buf_tail(b), buf_room(b));

		if (m <= 0) {
			/* EAGAIN: a partial record, its rest comes with an
			 * epoll event; EOF or an error: kept for the next
			 * call, l7_io_events() makes sure there is one */
			if (m != -EAGAIN)
				io->rd_last = m;
			break;
		}
		b->wpos += (size_t)m;
		n += m;
	}
	return n;
}

ssize_t
l7_io_write_buf(struct l7_io *io, struct buf *b)
{
	ssize_t n, total = 0;

	if (io->tls == NULL)
		return buf_write_fd(b, io->fd, 0);
	/* one record per call: loop until the socket or the buffer is done */
	while (buf_len(b) > 0) {
		n = l7_io_send(io, buf_head(b), buf_len(b));
		if (n <= 0)
			return total > 0 ? total : n;
		buf_consume(b, (size_t)n);
		total += n;
	}
	return total;
}

void
l7_io_shutdown(struct l7_io *io)
{
	if (io->tls != NULL && io->hs_done && !io->failed && !io->shut)
		l7_tls_conn_shutdown(io->tls);
	io->shut = true;
	shutdown(io->fd, SHUT_WR);
}

/* Does a read have something to return although the socket may be empty
 * (records read ahead, or the end met while draining)? epoll would not
 * report it: the caller then waits for EPOLLOUT, which a socket with room
 * reports at once. Not after a read that found only part of a record: its
 * rest arrives as EPOLLIN. */
static bool
l7_io_buffered(const struct l7_io *io)
{
	return io->tls != NULL && io->hs_done &&
	       (io->rd_last != 1 || (!io->rd_starved && l7_tls_conn_pending(io->tls)));
}

uint32_t
l7_io_events(const struct l7_io *io, bool want_read, bool want_write)
{
	uint32_t ev = 0;

	if (!io->hs_done)
		return io->hs_wait;
	if (want_read)
		ev |= io->rd_wait | (l7_io_buffered(io) ? EPOLLOUT : 0);
	if (want_write)
		ev |= io->wr_wait;
	return ev;
}

void
l7_io_ready(const struct l7_io *io, uint32_t events, bool *rready, bool *wready)
{
	if (!io->hs_done) {
		/* the handshake runs from the read side (l7_io_handshake) */
		if (events & io->hs_wait)
			*rready = true;
		return;
	}
	if ((events & io->rd_wait) || ((events & EPOLLOUT) && l7_io_buffered(io)))
		*rready = true;
	if (events & io->wr_wait)
		*wready = true;
}

const char *
l7_io_alpn(const struct l7_io *io)
{
	return io->tls != NULL && io->hs_done ? l7_tls_conn_alpn(io->tls) : NULL;
}

const char *
l7_io_sni(const struct l7_io *io)
{
	return io->tls != NULL && io->hs_done ? l7_tls_conn_sni(io->tls) : NULL;
}
