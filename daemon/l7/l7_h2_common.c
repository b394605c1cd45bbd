/*
 * l7_h2_common - helpers shared by the two nghttp2 files of l7: the
 * downstream front end (l7_h2.c) and the upstream translator (l7_h2up.c).
 * Declared in l7_h2__priv.h.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "l7_h2__priv.h"
#include "l7_http1.h"

ssize_t
l7_h2__read_buf(struct buf *b, uint8_t *out, size_t len, uint32_t *flags, int eof, bool *deferred)
{
	size_t n = buf_len(b) < len ? buf_len(b) : len;

	memcpy(out, buf_head(b), n);
	buf_consume(b, n);
	if (buf_len(b) == 0 && eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)n;
	}
	if (n == 0) {
		*deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

ssize_t
l7_h2__send_buf(struct buf *o, const uint8_t *data, size_t len)
{
	if (o == NULL)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (buf_room(o) < len)
		buf_compact(o);
	if (buf_room(o) == 0)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (len > buf_room(o))
		len = buf_room(o);
	memcpy(buf_tail(o), data, len);
	o->wpos += len;
	return (ssize_t)len;
}

int
l7_h2__hop(const char *buf, const struct l7_http1_msg *m, const struct l7_http1_header *f,
	   char *lower)
{
	size_t j;

	if (l7_http1_span_eq(buf, f->name, "connection") ||
	    l7_http1_span_eq(buf, f->name, "keep-alive") ||
	    l7_http1_span_eq(buf, f->name, "proxy-connection") ||
	    l7_http1_span_eq(buf, f->name, "transfer-encoding") ||
	    l7_http1_span_eq(buf, f->name, "upgrade") ||
	    l7_http1_span_eq(buf, f->name, "te") ||
	    l7_http1_conn_lists(buf, m, f))
		return 1;
	for (j = 0; j < f->name.len; j++) {
		char ch = buf[f->name.off + j];

		lower[j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	return 0;
}

size_t
l7_h2__fields_nv(char *p, size_t len, nghttp2_nv *nv, size_t max)
{
	char *end = p + len;
	size_t k = 0;

	while (p < end && k < max) {
		char *eol = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *ve, *c;

		if (eol == NULL)
			eol = end;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		colon = memchr(p, ':', (size_t)(ve - p));
		if (colon != NULL && colon > p) {
			for (c = p; c < colon; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + 32);
			for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
				;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			nv[k++] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)v, (size_t)(colon - p),
						(size_t)(ve - v), NGHTTP2_NV_FLAG_NONE };
		}
		p = eol + 1;
	}
	return k;
}
