#ifndef TANDEM_L7_HTTP1_H
#define TANDEM_L7_HTTP1_H

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "buf-t.h"
#include "l7_http1-t.h"

/*
 * l7_http1 - strict HTTP/1.x parsing (RFC 9112): request and response heads
 * and body framing. Pure: bytes in, parsed message or error out; no I/O, no
 * allocation, no global state, so it is safe from any thread and fuzzable.
 */

/* Parses a request head at the start of buf[0..len). Returns L7_HTTP1_DONE
 * with *m filled (m->head_len bytes are the head), L7_HTTP1_AGAIN when the
 * head is not complete yet, or L7_HTTP1_ERROR with the status to answer in
 * *status (400, 414, 431, 501 or 505). Borrows buf; m is the caller's. */
int l7_http1_parse_request(const char *buf, size_t len, struct l7_http1_msg *m, int *status);

/* Parses a response head to a request made with method req_method (HEAD
 * responses have no body). Same returns as l7_http1_parse_request(); on
 * L7_HTTP1_ERROR *status is 502. */
int l7_http1_parse_response(const char *buf, size_t len, enum l7_http1_method req_method,
			    struct l7_http1_msg *m, int *status);

/* Starts decoding the body that follows head m. */
void l7_http1_body_init(struct l7_http1_body *b, const struct l7_http1_msg *m);

/* Feeds len bytes that follow what was fed before. Returns how many of them
 * belong to the message (0..len; the rest belongs to the next message), or
 * -1 when the framing is broken (bad chunk size, missing CRLF, oversized
 * extension or trailers). b->done is set once the last byte of the message
 * has been accepted. */
ssize_t l7_http1_body_feed(struct l7_http1_body *b, const char *in, size_t len);

/* Like l7_http1_body_feed, but copies only the payload into data (room
 * permitting: it stops when data is full), without chunk framing, and the
 * trailer section's bytes (fields and their CRLFs, at most
 * L7_HTTP1_MAX_TRAILERS) into trl when not NULL. Returns the bytes of in
 * consumed, or -1 when the framing is broken. */
ssize_t l7_http1_body_take(struct l7_http1_body *b, const char *in, size_t len, struct buf *data,
			   struct buf *trl);

/* Tells the decoder the peer closed; returns 1 when this ends the message
 * cleanly (read-until-close body, or a body already done), 0 if truncated. */
int l7_http1_body_eof(struct l7_http1_body *b);

/* 1 when the name of field h (in buf) is listed in a Connection field of m,
 * which makes it hop-by-hop. */
int l7_http1_conn_lists(const char *buf, const struct l7_http1_msg *m,
			const struct l7_http1_header *h);

/* Case-insensitive compare of span s of buf with the NUL-terminated lit.
 * Inline: with a literal the length is a constant, and most fields differ
 * in length (checked first, no call) - this runs for every field of every
 * request and response head. */
static inline int
l7_http1_span_eq(const char *buf, struct l7_http1_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(buf + s.off, lit, n) == 0;
}

/* The reason phrase we send with status (static text). */
const char *l7_http1_reason(int status);

#endif
