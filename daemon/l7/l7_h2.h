#ifndef TANDEM_L7_H2_H
#define TANDEM_L7_H2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf-t.h"
#include "conf-t.h"

/*
 * l7_h2 - the downstream HTTP/2 front end (nghttp2 stays inside l7_h2.c).
 *
 * One struct l7_h2_conn per client connection speaking HTTP/2 (h2c prior
 * knowledge, or h2 chosen by ALPN). Each stream becomes one request of the
 * proxy: the stream hands its request over as HTTP/1.1 bytes (head, then
 * the body, chunked when the client gave no content-length) and takes the
 * HTTP/1.1 response back, turning it into HEADERS and DATA frames. So every
 * stream goes through the same parser, routing, balancing, upstream pool and
 * access log as an HTTP/1.1 request (doc/http2.md).
 *
 * Flow control: request bodies wait in the stream (at most the stream
 * window) and the window is reopened only as the request takes them;
 * response bodies wait in the stream (one buffer) and the request refills it
 * only as DATA frames leave, which the client's windows pace.
 *
 * The proxy owns the sockets and buffers; the owner pointer and the request
 * pointers are opaque here and come back through the l7__h2_* hooks below.
 */

struct l7_freelist;
struct l7_mpool;
struct l7_h2_conn;
struct l7_h2_stream;

/* Creates the server session of one connection with the limits of lim
 * (copied) and queues our SETTINGS. owner is passed back to the hooks.
 * Streams take their header and response buffers from bufs (the worker's
 * free list of L7_BUF_SIZE blocks, which must outlive the session); the
 * stream objects and nghttp2's own allocations come from mp (the worker's
 * small-object pool, which must outlive the session too).
 * Returns NULL when out of memory. */
struct l7_h2_conn *l7_h2_conn_new(const struct conf_l7_h2 *lim, void *owner,
				  struct l7_freelist *bufs, struct l7_mpool *mp);

/* Frees the session; every request still attached to a stream is detached
 * first (l7__h2_request_detach). Sets *hp to NULL. */
void l7_h2_conn_free(struct l7_h2_conn **hp);

/* Feeds n bytes read from the client (borrowed). Returns how many were
 * taken (always n), or -1 when the connection must end: a protocol error or
 * a flood (GOAWAY is queued; flush l7_h2_conn_output, then close).
 * now_ms is the monotonic clock, for the per-second flood limits. */
ssize_t l7_h2_conn_input(struct l7_h2_conn *h, const char *p, size_t n, uint64_t now_ms);

/* Writes pending frames into out while it has room. 0, or -1 on a fatal
 * session error. */
int l7_h2_conn_output(struct l7_h2_conn *h, struct buf *out);

/* 1 while the session still wants to read or write. */
int l7_h2_conn_alive(const struct l7_h2_conn *h);

/* Streams that have a request attached (idle timeout only when 0). */
unsigned l7_h2_conn_nreq(const struct l7_h2_conn *h);

/* Queues GOAWAY (NO_ERROR): streams in progress finish, no new ones. */
void l7_h2_conn_goaway(struct l7_h2_conn *h);

/* Why the last l7_h2_conn_input returned -1 (static text). */
const char *l7_h2_conn_error(const struct l7_h2_conn *h);

/* 1 when p[0..n) is the whole client preface, 0 while it could still
 * become one, -1 when it cannot. */
int l7_h2_preface(const char *p, size_t n);

/* ---- called by a stream's request ---- */

/* Moves the request's next bytes into in (room permitting). in's storage
 * must be none or a block of the session's bufs: the head comes as the
 * stream's own block when in holds nothing (no copy), and in has storage
 * on return. Returns bytes moved (0: nothing yet), or -1 when the stream is
 * gone (client reset) or out of memory. */
ssize_t l7_h2_stream_fill(struct l7_h2_stream *s, struct buf *in);

/* Takes the HTTP/1.1 response from out as far as the stream can hold it.
 * Returns bytes taken, or -1 when it is malformed. */
ssize_t l7_h2_stream_drain(struct l7_h2_stream *s, struct buf *out);

/* The request ended; clean says its response was taken whole or ends with
 * this close (a body delimited by close). An unfinished response resets
 * the stream. Sets *sp to NULL; the stream may be freed. */
void l7_h2_stream_gone(struct l7_h2_stream **sp, int clean);

/* ---- hooks the owner implements (l7_proxy.c; the fuzzer stubs them) ---- */

/* A stream's request head is complete: returns the new request, or NULL
 * (out of memory: the stream is answered 503). */
void *l7__h2_request_new(void *owner, struct l7_h2_stream *s);
/* Asks for req to run again soon (not from inside this call). */
void l7__h2_request_kick(void *req);
/* The connection is going away: end req now, without calling back. */
void l7__h2_request_detach(void *req);
/* The connection has frames to send: run its owner soon. */
void l7__h2_conn_kick(void *owner);

#endif
