#ifndef TANDEM_L7_H2UP_H
#define TANDEM_L7_H2UP_H

#include <stddef.h>
#include <sys/types.h>

#include "buf-t.h"

/*
 * l7_h2up - HTTP/2 (h2c, or h2 inside TLS) towards a pool member, for
 * pools with "upstream_protocol" "h2c" or "h2" (gRPC needs it;
 * doc/http2.md).
 *
 * One session (struct l7_h2up) is one member connection; it carries many
 * exchanges at once, each on a stream (struct l7_h2up_st) that one
 * request's upstream side holds. Each stream translates: the proxy writes
 * the HTTP/1.1 request it would send to an HTTP/1.1 member
 * (l7_h2up_take); it leaves as HEADERS and DATA. The member's HEADERS,
 * DATA and trailers come back as an HTTP/1.1 response (l7_h2up_response):
 * chunked, with the trailers (grpc-status, grpc-message) in the chunked
 * trailer section, or "content-length: 0" for a trailers-only answer; the
 * proxy parses it as from any member and the downstream HTTP/2 front end
 * turns the trailer section back into a trailing HEADERS frame. Flow
 * control: a response waits here only up to the stream window, reopened
 * as the proxy takes it; the connection window covers every stream's, so
 * one slow client never stalls the others.
 *
 * The owner does the socket I/O (l7_h2sess): frames out through
 * l7_h2up_output, bytes in through l7_h2up_input; then it asks
 * l7_h2up_next_woken which streams have news and wakes their owners.
 */

struct l7_h2up;
struct l7_h2up_st;

/* A new client session with our SETTINGS queued that opens at most
 * max_streams streams at once (and no more than the member allows), or
 * NULL (out of memory). */
struct l7_h2up *l7_h2up_new(unsigned max_streams);
/* Frees the session; streams still open are detached and fail. */
void l7_h2up_free(struct l7_h2up **up);

/* A new stream for one exchange (its request goes out with the first
 * l7_h2up_take), owned by owner; NULL when the session cannot take
 * another (l7_h2up_can_open) or out of memory. */
struct l7_h2up_st *l7_h2up_open(struct l7_h2up *u, void *owner);
/* Ends the owner's use of the stream: an unfinished one is reset
 * (RST_STREAM CANCEL) so the member stops working on it. */
void l7_h2up_close(struct l7_h2up_st **sp);

/* Takes HTTP/1.1 request bytes p[0..n) (borrowed): the head, then the body.
 * Returns bytes taken (0: not now), or -1 when the request is malformed,
 * a second request follows, or the stream or session failed. */
ssize_t l7_h2up_take(struct l7_h2up_st *s, const char *p, size_t n);

/* 1 when l7_h2up_take could take request bytes now (flow control). */
int l7_h2up_want_take(const struct l7_h2up_st *s);

/* Moves the response's next HTTP/1.1 bytes into rb (room permitting).
 * Returns bytes moved, or -1 when the member reset or refused the stream
 * (or the session died) before the response was complete. */
ssize_t l7_h2up_response(struct l7_h2up_st *s, struct buf *rb);

/* 1 when the whole response was moved out. */
int l7_h2up_done(const struct l7_h2up_st *s);
/* 1 when the member did not process the stream (REFUSED_STREAM, or above
 * a GOAWAY's last stream id): the request may be sent again elsewhere. */
int l7_h2up_refused(const struct l7_h2up_st *s);

/* Writes pending frames into out while it has room; 1 when more are
 * waiting, 0 when all went, -1 on a fatal session error. */
int l7_h2up_output(struct l7_h2up *u, struct buf *out);

/* Feeds bytes read from the member; 0, or -1 on a protocol error. */
int l7_h2up_input(struct l7_h2up *u, const char *p, size_t n);

/* The connection is gone: every stream fails (and is woken). */
void l7_h2up_kill(struct l7_h2up *u);

/* Marks every stream woken (the connection died, connected, ...). */
void l7_h2up_wake_all(struct l7_h2up *u);
/* The owner of a stream with news (response bytes, an end, a reset, room
 * to take request bytes) since it was last returned, or NULL. */
void *l7_h2up_next_woken(struct l7_h2up *u);

/* Streams open (opened and not closed by their owner). */
unsigned l7_h2up_streams(const struct l7_h2up *u);
/* 1 while another stream may be opened: alive, no GOAWAY either way, below
 * min(max_streams, the member's SETTINGS_MAX_CONCURRENT_STREAMS). */
int l7_h2up_can_open(const struct l7_h2up *u);
/* 1 while the session can still carry its open streams. */
int l7_h2up_alive(const struct l7_h2up *u);
/* 1 once the member sent GOAWAY. */
int l7_h2up_goaway_seen(const struct l7_h2up *u);

#endif
