#ifndef TANDEM_L7_IO_H
#define TANDEM_L7_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf-t.h"
#include "l7_tls-t.h"

/*
 * l7_io - the transport of one client connection: a plain TCP socket or a
 * TLS session on it. The proxy (and the HTTP/2 module) read and write
 * through these calls only, so they never care which one it is.
 *
 * Non-blocking contract: a call that cannot go on returns -EAGAIN and
 * records in rd_wait / wr_wait which epoll event it waits for. With TLS a
 * read may wait for EPOLLOUT (the handshake has bytes to send) and a write
 * for EPOLLIN; l7_io_events() and l7_io_ready() do that mapping, so the
 * caller keeps its "I want to read / write" logic unchanged. TLS reads
 * ahead (one read() for several records): l7_io_read_buf drains what the
 * session holds, and what it could not take (a full buffer, the end met
 * while draining) makes l7_io_events() ask for EPOLLOUT, so a wakeup comes
 * although the socket is empty.
 *
 * The handshake is driven explicitly (l7_io_handshake) so the caller can
 * branch on the ALPN protocol ("h2") before it reads the first byte of
 * application data. Plain connections are "handshaken" from the start.
 *
 * Record sizing (TLS writes): see L7_IO_REC_* below and doc/tls.md.
 */

/* Small records fit one TCP segment (1500-byte MTU, IPv6, TCP timestamps,
 * TLS overhead, some room for tunnels), so a browser can decrypt the first
 * bytes of a response before the rest of the congestion window arrives. */
#define L7_IO_REC_SMALL		1369
#define L7_IO_REC_FULL		16384
/* Full records once this many bytes went out since the connection started
 * or since it was idle: by then slow start has opened the window. */
#define L7_IO_REC_BOOST_BYTES	(64 * 1024)
/* A connection that wrote nothing this long starts small again (the
 * congestion window may have shrunk, and a new response wants a fast
 * first byte). */
#define L7_IO_REC_IDLE_MS	1000

struct l7_io {
	int fd;				/* borrowed: the owner closes it */
	struct l7_tls_conn *tls;	/* NULL: plain TCP */
	bool hs_done;			/* handshake finished (always true for plain) */
	bool failed;			/* a fatal TLS error: no close_notify at close */
	bool shut;			/* l7_io_shutdown done */
	bool rd_starved;		/* TLS: the last read wanted socket bytes */
	uint32_t rd_wait;		/* epoll event the last blocked read waits for */
	uint32_t wr_wait;		/* same for writes */
	uint32_t hs_wait;		/* same for the handshake */
	ssize_t rd_last;		/* TLS: 1, or the EOF (0) / -errno that ended a
					 * drain of read-ahead records, returned next */
	size_t wpend;			/* TLS: length of a write to retry after WANT_* */
	uint64_t burst;			/* bytes written since start or the last idle gap */
	uint64_t last_ms;		/* monotonic ms of the last write */
};

/* A plain TCP transport on fd. */
void l7_io_init_plain(struct l7_io *io, int fd);
/* A TLS server transport on fd (accepted, non-blocking). 0 or -ENOMEM. */
int l7_io_init_tls(struct l7_io *io, int fd, struct l7_tls_ctx *ctx);
/* A TLS client transport (towards a pool member) on fd with the connection
 * l7_tls_up_conn_new made, or plain when tls is NULL. */
void l7_io_init_conn(struct l7_io *io, int fd, struct l7_tls_conn *tls);
/* Frees the TLS state: sends close_notify first unless the connection
 * failed (so the session stays resumable from the server cache). The fd is
 * not closed. Safe to call twice. */
void l7_io_free(struct l7_io *io);

/* Drives the handshake: 1 done (plain: always), 0 wait for hs_wait,
 * -1 failed (drop the connection). */
int l7_io_handshake(struct l7_io *io);

/* Raw calls: > 0 bytes, 0 EOF (read only), -EAGAIN (wait for rd_wait /
 * wr_wait), or another -errno (drop the connection). A TLS write that
 * returned -EAGAIN must be retried with at least the same bytes at the
 * front (a moving buffer is fine). */
ssize_t l7_io_recv(struct l7_io *io, void *p, size_t len);
ssize_t l7_io_send(struct l7_io *io, const void *p, size_t len);
/* Buffer forms: like buf_read_fd (-ENOSPC when b is full) and
 * buf_write_fd (everything in b; TLS writes as many records as the
 * socket takes). */
ssize_t l7_io_read_buf(struct l7_io *io, struct buf *b);
ssize_t l7_io_write_buf(struct l7_io *io, struct buf *b);

/* Half close after our last byte: TLS close_notify, then SHUT_WR. */
void l7_io_shutdown(struct l7_io *io);

/* The epoll mask for "wants to read" / "has bytes to write" (during the
 * handshake: what the handshake waits for). */
uint32_t l7_io_events(const struct l7_io *io, bool want_read, bool want_write);
/* Which of the caller's directions an epoll event set unblocks. */
void l7_io_ready(const struct l7_io *io, uint32_t events, bool *rready, bool *wready);

static inline bool l7_io_is_tls(const struct l7_io *io) { return io->tls != NULL; }
/* After the handshake: "h2", "http/1.1" or NULL (plain, or no ALPN). */
const char *l7_io_alpn(const struct l7_io *io);
/* After the handshake: the SNI name or NULL. */
const char *l7_io_sni(const struct l7_io *io);

#endif
