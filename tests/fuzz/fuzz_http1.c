/*
 * libFuzzer driver for daemon/l7/l7_http1: the request and response head
 * parsers and the body framing decoder.
 *
 * The first input byte picks the target and how the rest is split:
 *   bit 0-1: 0 request head (then its body), 1 response head (then its
 *            body), 2 chunked body alone (also through l7_http1_body_take,
 *            which must end where the plain decoder ends), 3 request head
 *            fed as a growing
 *            prefix (every length must agree with the whole)
 *   bit 2-7: feed size for bodies (1..64 bytes per call)
 * Beyond "no crash, no sanitizer report", it checks the invariants the
 * proxy relies on: spans inside the head, head_len within the input, a
 * body never claiming more bytes than it was given.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "l7_http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(const struct l7_http1_msg *m, struct l7_http1_span s)
{
	if ((size_t)s.off + s.len > m->head_len)
		abort();
}

static void
check_msg(const struct l7_http1_msg *m, size_t len)
{
	size_t i;

	if (m->head_len > len || m->start > m->head_len || m->nheaders > L7_HTTP1_MAX_HEADERS)
		abort();
	check_span(m, m->target);
	check_span(m, m->path);
	check_span(m, m->authority);
	check_span(m, m->reason);
	for (i = 0; i < m->nheaders; i++) {
		check_span(m, m->headers[i].name);
		check_span(m, m->headers[i].value);
		if (m->headers[i].name.len == 0)
			abort();
	}
	if (m->framing == L7_HTTP1_BODY_LENGTH && m->content_length == 0)
		abort();
}

static void
feed_body(struct l7_http1_body *b, const char *p, size_t len, size_t step)
{
	size_t off = 0;

	while (off < len && !b->done) {
		size_t n = len - off < step ? len - off : step;
		ssize_t r = l7_http1_body_feed(b, p + off, n);

		if (r < 0)
			return;
		if ((size_t)r > n)
			abort();
		if ((size_t)r < n && !b->done)
			abort();	/* bytes are left over only after the end */
		off += (size_t)r;
		if (r == 0)
			break;
	}
	l7_http1_body_eof(b);
}

/* The payload-only decoder with a small payload buffer the consumer
 * empties after each call: it must consume the same message. */
static void
take_body(const struct l7_http1_msg *m, const char *p, size_t len, size_t cap, bool done)
{
	struct l7_http1_body b;
	struct buf d = { 0 }, t = { 0 };
	size_t off = 0;
	ssize_t r = 0;

	l7_http1_body_init(&b, m);
	if (buf_init(&d, cap) < 0 || buf_init(&t, L7_HTTP1_MAX_TRAILERS + 8) < 0)
		goto out;
	while (off < len && !b.done) {
		r = l7_http1_body_take(&b, p + off, len - off, &d, &t);
		if (r < 0)
			break;
		if ((size_t)r > len - off || (r == 0 && !b.done))
			abort();
		off += (size_t)r;
		d.rpos = d.wpos = 0;
	}
	if (b.done != done)
		abort();
out:
	buf_release(&d);
	buf_release(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l7_http1_msg m, m2;
	struct l7_http1_body b;
	const char *p;
	size_t len, step, k;
	int st, rc, mode;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	step = (size_t)(data[0] >> 2) + 1;
	/* a private copy: reads past the end show up under ASan */
	len = size - 1;
	p = malloc(len ? len : 1);
	if (p == NULL)
		return 0;
	memcpy((char *)p, data + 1, len);

	switch (mode) {
	case 0:
		rc = l7_http1_parse_request(p, len, &m, &st);
		if (rc == L7_HTTP1_DONE) {
			check_msg(&m, len);
			l7_http1_body_init(&b, &m);
			feed_body(&b, p + m.head_len, len - m.head_len, step);
			for (k = 0; k < m.nheaders; k++)
				(void)l7_http1_conn_lists(p, &m, &m.headers[k]);
		} else if (rc == L7_HTTP1_ERROR && st != 400 && st != 414 && st != 431 &&
			   st != 501 && st != 505) {
			abort();
		}
		break;
	case 1:
		rc = l7_http1_parse_response(p, len, (enum l7_http1_method)(step % 10), &m, &st);
		if (rc == L7_HTTP1_DONE) {
			check_msg(&m, len);
			if (m.status < 100 || m.status > 599)
				abort();
			l7_http1_body_init(&b, &m);
			feed_body(&b, p + m.head_len, len - m.head_len, step);
		} else if (rc == L7_HTTP1_ERROR && st != 502) {
			abort();
		}
		break;
	case 2:
		memset(&m, 0, sizeof(m));
		m.framing = L7_HTTP1_BODY_CHUNKED;
		l7_http1_body_init(&b, &m);
		feed_body(&b, p, len, step);
		take_body(&m, p, len, step * 4, b.done);
		break;
	default:
		rc = l7_http1_parse_request(p, len, &m, &st);
		/* a DONE prefix must be the same head as the whole's */
		for (k = 0; k < len && k < 512; k++) {
			int st2, rc2 = l7_http1_parse_request(p, k, &m2, &st2);

			if (rc2 == L7_HTTP1_DONE && (rc != L7_HTTP1_DONE || m2.head_len != m.head_len))
				abort();
			if (rc2 == L7_HTTP1_ERROR && rc != L7_HTTP1_ERROR)
				abort();
		}
		break;
	}
	free((char *)p);
	return 0;
}
