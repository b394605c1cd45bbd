#ifndef TANDEM_L7_H2UP_H
#define TANDEM_L7_H2UP_H

#include <stddef.h>
#include <sys/types.h>

#include "buf-t.h"

/*
 * l7_h2up - HTTP/2 (cleartext, prior knowledge) towards a pool member, for
 * pools with "upstream_protocol": "h2c" (gRPC needs it; doc/http2.md).
 *
 * It sits between the proxy and one member connection and translates: the
 * proxy writes the HTTP/1.1 request it would send to an HTTP/1.1 member
 * (l7_h2up_take); this sends it as HEADERS and DATA on a new stream. The
 * member's HEADERS, DATA and trailers come back as an HTTP/1.1 response
 * (l7_h2up_response): chunked, with the trailers (grpc-status,
 * grpc-message) in the chunked trailer section, or "content-length: 0"
 * for a trailers-only answer; the proxy parses it as from any member and
 * the downstream HTTP/2 front end turns the trailer section back into a
 * trailing HEADERS frame. One exchange at a time per connection; the
 * session is kept in the idle pool and carries the next request on a new
 * stream. Flow control: the response waits here only up to the stream
 * window, reopened as the proxy takes it.
 *
 * The owner does the socket I/O: frames out through l7_h2up_output, bytes
 * in through l7_h2up_input.
 */

struct l7_h2up;

/* A new client session with our SETTINGS queued, or NULL (out of memory). */
struct l7_h2up *l7_h2up_new(void);
void l7_h2up_free(struct l7_h2up **up);

/* Takes HTTP/1.1 request bytes p[0..n) (borrowed): the head, then the body.
 * Returns bytes taken (0: not now), or -1 when the request is malformed or
 * the session cannot carry another stream. */
ssize_t l7_h2up_take(struct l7_h2up *u, const char *p, size_t n);

/* 1 when l7_h2up_take could take request bytes now (flow control). */
int l7_h2up_want_take(const struct l7_h2up *u);

/* Writes pending frames into out while it has room; 1 when more are
 * waiting, 0 when all went, -1 on a fatal session error. */
int l7_h2up_output(struct l7_h2up *u, struct buf *out);

/* Feeds bytes read from the member; 0, or -1 on a protocol error. */
int l7_h2up_input(struct l7_h2up *u, const char *p, size_t n);

/* Moves the response's next HTTP/1.1 bytes into rb (room permitting).
 * Returns bytes moved, or -1 when the member reset or refused the stream
 * (or went away) before the response was complete. */
ssize_t l7_h2up_response(struct l7_h2up *u, struct buf *rb);

/* 1 when the exchange is complete and the session may carry another. */
int l7_h2up_reusable(const struct l7_h2up *u);

#endif
