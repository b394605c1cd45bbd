#ifndef TANDEM_L7_H2__PRIV_H
#define TANDEM_L7_H2__PRIV_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf-t.h"
#include "l7_http1-t.h"

/* Shared by the two nghttp2 files of l7 (l7_h2.c, l7_h2up.c) only. */

/* Parses "name: value\r\n" lines (a trailer section) at p[0..len) into at
 * most max entries of nv, lower-casing the names in place (nv points into
 * p). Lines without a colon (the final CRLF) are skipped. Returns the count. */
size_t l7_h2__fields_nv(char *p, size_t len, nghttp2_nv *nv, size_t max);

/* The body of an nghttp2 send callback: copies what fits into o
 * (compacting it), NGHTTP2_ERR_WOULDBLOCK when o is NULL or full. */
ssize_t l7_h2__send_buf(struct buf *o, const uint8_t *data, size_t len);

/* The body of a data source read callback over b: moves up to len bytes
 * to out; EOF once b is empty and eof is set; NGHTTP2_ERR_DEFERRED (and
 * *deferred set: resume when data comes) when there is nothing to send. */
ssize_t l7_h2__read_buf(struct buf *b, uint8_t *out, size_t len, uint32_t *flags, int eof,
			bool *deferred);

/* 1 when field f of m (parsed from buf) is hop-by-hop and must not be
 * sent in HTTP/2 (RFC 9113 8.2.2); else 0 with its name lower-cased into
 * lower (f->name.len bytes). */
int l7_h2__hop(const char *buf, const struct l7_http1_msg *m, const struct l7_http1_header *f,
	       char *lower);

#endif
