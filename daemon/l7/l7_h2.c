/*
 * l7_h2 - downstream HTTP/2 on nghttp2 (see l7_h2.h for the contract).
 *
 * A stream's life: HEADERS open it (on_begin_headers); the head is written
 * as HTTP/1.1 text as the fields arrive (the request line once the first
 * regular field comes: HTTP/2 sends the pseudo-fields first), in a buffer
 * the request then takes over whole; at END_HEADERS the owner creates a
 * request for it, which pulls the head and the body with l7_h2_stream_fill and
 * pushes the response with l7_h2_stream_drain. The stream object is freed
 * when both nghttp2 has closed the stream and the request is gone.
 *
 * Abuse: nghttp2 enforces the protocol (and its own CONTINUATION and
 * outbound-ACK limits); on top of that we count, per connection and per
 * second, RST_STREAM, PING, SETTINGS and empty frames (DATA without payload
 * or END_STREAM, PRIORITY): over a limit the client gets GOAWAY with
 * ENHANCE_YOUR_CALM and the connection closes. Other connections are not
 * affected: nothing here is shared.
 */
#include "config.h"

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dlist.h"
#include "l7_freelist.h"
#include "l7_h2.h"
#include "l7_h2__priv.h"
#include "l7_http1.h"
#include "l7_mpool.h"

enum {
	H2_FLOOD_RST = 0,
	H2_FLOOD_PING,
	H2_FLOOD_SETTINGS,
	H2_FLOOD_EMPTY,
	H2_FLOOD_N,
};

enum { H2_TX_SMALL = 4000 };	/* bodies up to this size wait in a pool block */

static const char *const h2_flood_names[H2_FLOOD_N] = {
	"RST_STREAM flood (rapid reset)", "PING flood", "SETTINGS flood", "empty frame flood",
};

struct l7_h2_stream {
	struct l7_h2_conn *h;
	int32_t id;
	void *req;			/* the owner's request; NULL before END_HEADERS and once gone */
	/* request, as HTTP/1.1 */
	char *method, *path, *authority;
	size_t method_len, path_len, authority_len;
	bool line_out;			/* the request line (and host) is in fields */
	struct buf fields;		/* the head: request line, then "name: value\r\n"
					 * lines, cookies apart (from bufs) */
	char *cookie;			/* cookie fields joined with "; " (RFC 9113 8.2.3) */
	size_t cookie_len;
	size_t hdr_bytes;		/* header list size as SETTINGS counts it */
	bool has_cl, too_big, is_head;
	bool head_out;			/* the head went to the request */
	bool chunked;			/* body handed on with chunked framing */
	bool req_end;			/* END_STREAM received */
	bool end_out;			/* the body's end went to the request */
	struct buf rx;			/* request body not yet taken (bounded by the window) */
	struct buf qtrl;		/* the request's trailers, as HTTP/1.1 lines */
	/* response */
	bool resp_head, resp_eof, deferred;
	bool tx_small;			/* tx is a pool block sized to the body, not from bufs */
	struct l7_http1_body respb;
	struct buf tx;			/* response body waiting for DATA frames (from bufs) */
	struct buf trl;			/* the response's trailer section, as HTTP/1.1 lines */
	bool closed;			/* nghttp2 closed the stream */
	struct dlist_node link;		/* in h->streams */
};

struct l7_h2_conn {
	nghttp2_session *ng;
	void *owner;
	struct l7_freelist *bufs;	/* the owner's I/O buffers: a stream's fields and tx */
	struct l7_mpool *mp;		/* the owner's small objects: streams, nghttp2's own */
	struct conf_l7_h2 lim;
	struct buf *out;		/* during l7_h2_conn_output */
	struct dlist streams;		/* struct l7_h2_stream (link), newest first */
	unsigned nreq;
	uint64_t now_ms, sec;
	unsigned flood[H2_FLOOD_N];
	const char *error;
	bool dying;
	struct l7_http1_msg msg;	/* scratch: the response head being turned into HEADERS */
};


/* The response body waits in tx for its DATA frames: a pool block of the
 * body's size when it is short and sized (most answers: no 16 KiB buffer
 * per stream), else an I/O buffer. 0, or -1 when out of memory. */
static int
h2_tx_take(struct l7_h2_stream *s)
{
	if (s->tx.data != NULL)
		return 0;
	if (s->respb.framing == L7_HTTP1_BODY_LENGTH && s->respb.remaining > 0 &&
	    s->respb.remaining <= H2_TX_SMALL) {
		s->tx.data = l7_mpool_alloc(s->h->mp, (size_t)s->respb.remaining);
		if (s->tx.data == NULL)
			return -1;
		s->tx.cap = (size_t)s->respb.remaining;
		s->tx.rpos = s->tx.wpos = 0;
		s->tx_small = true;
		return 0;
	}
	return l7_buf_take(s->h->bufs, &s->tx);
}

static void
h2_tx_give(struct l7_h2_stream *s)
{
	if (s->tx_small) {
		l7_mpool_free(s->tx.data);
		s->tx = (struct buf){ 0 };
		s->tx_small = false;
	} else {
		l7_buf_give(s->h->bufs, &s->tx);
	}
}

static void
h2_stream_free(struct l7_h2_stream *s)
{
	struct l7_h2_conn *h = s->h;

	dlist_remove(&h->streams, &s->link);
	l7_mpool_free(s->method);
	l7_mpool_free(s->path);
	l7_mpool_free(s->authority);
	l7_mpool_free(s->cookie);
	l7_buf_give(h->bufs, &s->fields);
	buf_release(&s->rx);
	buf_release(&s->qtrl);
	h2_tx_give(s);
	buf_release(&s->trl);
	l7_mpool_free(s);
}

static void
h2_kick_req(struct l7_h2_stream *s)
{
	if (s->req != NULL)
		l7__h2_request_kick(s->req);
}

/* Counts one frame of kind k; 1 when the connection went over its limit. */
static int
h2_flood(struct l7_h2_conn *h, int k)
{
	static const size_t off[H2_FLOOD_N] = {
		offsetof(struct conf_l7_h2, resets_per_s), offsetof(struct conf_l7_h2, pings_per_s),
		offsetof(struct conf_l7_h2, settings_per_s),
		offsetof(struct conf_l7_h2, empty_frames_per_s),
	};
	unsigned limit = *(const unsigned *)((const char *)&h->lim + off[k]);

	if (h->now_ms / 1000 != h->sec) {
		h->sec = h->now_ms / 1000;
		memset(h->flood, 0, sizeof(h->flood));
	}
	if (++h->flood[k] <= limit || h->error != NULL)
		return 0;
	h->error = h2_flood_names[k];
	return 1;
}

/* Sends the response's trailers; 0, or -1 when there are none to send. */
static int
h2_submit_trailers(struct l7_h2_stream *s)
{
	nghttp2_nv nv[64];
	size_t n = l7_h2__fields_nv(buf_head(&s->trl), buf_len(&s->trl), nv, 64);

	if (n == 0 || nghttp2_submit_trailer(s->h->ng, s->id, nv, n) != 0)
		return -1;
	return 0;
}

/* ---- responses we make ourselves ---- */

static ssize_t
h2_read_body(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
	     nghttp2_data_source *src, void *ud)
{
	struct l7_h2_stream *s = src->ptr;
	size_t before = buf_len(&s->tx);
	ssize_t n = l7_h2__read_buf(&s->tx, out, len, flags, s->resp_eof, &s->deferred);

	(void)ng;
	(void)id;
	(void)ud;
	if (buf_len(&s->tx) < before)
		h2_kick_req(s);	/* room for more of the response */
	if (*flags & NGHTTP2_DATA_FLAG_EOF) {
		h2_tx_give(s);	/* all sent: back to the worker now */
		if (buf_len(&s->trl) > 0 && h2_submit_trailers(s) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return n;
}

/* Answers stream s ourselves with status and a short text body. */
static void
h2_answer(struct l7_h2_stream *s, int status)
{
	char st[4], body[64];
	nghttp2_data_provider dp = { .source.ptr = s, .read_callback = h2_read_body };
	nghttp2_nv nv[2] = {
		{ (uint8_t *)":status", (uint8_t *)st, 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10, NGHTTP2_NV_FLAG_NONE },
	};
	int n = snprintf(body, sizeof(body), "%d %s\n", status, l7_http1_reason(status));

	snprintf(st, sizeof(st), "%03d", status);
	s->resp_head = true;
	s->resp_eof = true;
	if (l7_buf_take(s->h->bufs, &s->tx) < 0 ||
	    buf_append(&s->tx, body, (size_t)n) < 0 ||
	    nghttp2_submit_response(s->h->ng, s->id, nv, 2, s->is_head ? NULL : &dp) != 0)
		nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
}

/* ---- nghttp2 callbacks ---- */

static ssize_t
h2_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct l7_h2_conn *h = ud;

	(void)ng;
	(void)flags;
	return l7_h2__send_buf(h->out, data, len);
}

static int
h2_begin_headers_cb(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct l7_h2_conn *h = ud;
	struct l7_h2_stream *s;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = l7_mpool_calloc(h->mp, sizeof(*s));
	if (s == NULL || l7_buf_take(h->bufs, &s->fields) < 0) {
		l7_mpool_free(s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* resets this stream */
	}
	s->h = h;
	s->id = f->hd.stream_id;
	dlist_push_front(&h->streams, &s->link);
	nghttp2_session_set_stream_user_data(ng, s->id, s);
	return 0;
}

/* Appends "name: value\r\n" to b; -1 (b unchanged) when it does not fit. */
static int
h2_field_line(struct buf *b, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	char *p;

	if (buf_room(b) < nlen + vlen + 4)
		return -1;
	p = buf_tail(b);
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value, vlen);
	p += vlen;
	*p++ = '\r';
	*p++ = '\n';
	b->wpos += nlen + vlen + 4;
	return 0;
}

/* One field of the request's trailers: kept for the chunked body's end
 * (a body with content-length cannot carry them: dropped, doc/http2.md).
 * More than an HTTP/1.1 trailer section may hold resets the stream. */
static int
h2_trailer(struct l7_h2_stream *s, const uint8_t *name, size_t nlen, const uint8_t *value,
	   size_t vlen)
{
	if (!s->chunked || s->req == NULL)
		return 0;
	if (s->qtrl.data == NULL && buf_init(&s->qtrl, L7_HTTP1_MAX_TRAILERS) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (h2_field_line(&s->qtrl, name, nlen, value, vlen) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

/* Starts the head with the request line and host (from :authority) once
 * the pseudo-fields are in; -1 without :method or :path (the stream is
 * answered at END_HEADERS, its fields are not kept). */
static int
h2_request_line(struct l7_h2_stream *s)
{
	struct buf *b = &s->fields;

	if (s->method == NULL || s->path == NULL)
		return -1;
	s->line_out = true;
	/* fits: the pseudo-fields count in hdr_bytes, 32 more each */
	if (buf_append(b, s->method, s->method_len) < 0 || buf_append(b, " ", 1) < 0 ||
	    buf_append(b, s->path, s->path_len) < 0 || buf_append(b, " HTTP/1.1\r\n", 11) < 0 ||
	    (s->authority != NULL &&
	     (buf_append(b, "host: ", 6) < 0 || buf_append(b, s->authority, s->authority_len) < 0 ||
	      buf_append(b, "\r\n", 2) < 0)))
		s->too_big = true;
	return 0;
}

static int
h2_header_cb(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
	     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct l7_h2_conn *h = ud;
	struct l7_h2_stream *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	char **slot = NULL;

	(void)flags;
	if (s == NULL)
		return 0;
	if (f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return h2_trailer(s, name, nlen, value, vlen);
	s->hdr_bytes += nlen + vlen + 32;
	if (s->hdr_bytes > h->lim.max_header_list)
		s->too_big = true;
	if (s->too_big)
		return 0;
	if (nlen > 0 && name[0] == ':') {
		if (nlen == 7 && memcmp(name, ":method", 7) == 0)
			slot = &s->method;
		else if (nlen == 5 && memcmp(name, ":path", 5) == 0)
			slot = &s->path;
		else if (nlen == 10 && memcmp(name, ":authority", 10) == 0)
			slot = &s->authority;
		if (slot == NULL || *slot != NULL)
			return 0;	/* :scheme, :protocol; nghttp2 refuses duplicates */
		*slot = l7_mpool_strndup(h->mp, value, vlen);
		if (*slot == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		*(slot == &s->method ? &s->method_len : slot == &s->path ? &s->path_len :
		  &s->authority_len) = vlen;
		return 0;
	}
	if (!s->line_out && h2_request_line(s) < 0)
		return 0;	/* no :method or :path: answered 400 at the end */
	if (nlen == 6 && memcmp(name, "cookie", 6) == 0) {
		char *c = l7_mpool_realloc(h->mp, s->cookie, s->cookie_len + vlen + 3);

		if (c == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		if (s->cookie_len > 0) {
			memcpy(c + s->cookie_len, "; ", 2);
			s->cookie_len += 2;
		}
		memcpy(c + s->cookie_len, value, vlen);
		s->cookie_len += vlen;
		s->cookie = c;
		return 0;
	}
	/* :authority wins over host (RFC 9113 8.3.1) */
	if (nlen == 4 && memcmp(name, "host", 4) == 0 && s->authority != NULL)
		return 0;
	if (nlen == 14 && memcmp(name, "content-length", 14) == 0)
		s->has_cl = true;
	/* fits: each field costs 32 more in hdr_bytes than its line here */
	if (h2_field_line(&s->fields, name, nlen, value, vlen) < 0)
		s->too_big = true;
	return 0;
}

/* The request head is complete: hand the stream to the owner. */
static void
h2_request_start(struct l7_h2_conn *h, struct l7_h2_stream *s, int end_stream)
{
	s->req_end = end_stream;
	/* no content-length and more to come: chunked (the member sees HTTP/1.1) */
	s->chunked = !end_stream && !s->has_cl;
	if (s->too_big) {
		h2_answer(s, 431);
		return;
	}
	if (s->method == NULL || s->path == NULL || s->path[0] == '\0') {
		/* CONNECT (no :path) is not proxied */
		h2_answer(s, s->method && strcmp(s->method, "CONNECT") == 0 ? 501 : 400);
		return;
	}
	s->is_head = strcmp(s->method, "HEAD") == 0;
	if (!s->line_out)
		h2_request_line(s);	/* no regular field came */
	if (s->too_big) {
		h2_answer(s, 431);
		return;
	}
	if (!end_stream && buf_init(&s->rx, h->lim.window) < 0) {
		h2_answer(s, 503);
		return;
	}
	s->req = l7__h2_request_new(h->owner, s);
	if (s->req == NULL) {
		h2_answer(s, 503);
		return;
	}
	h->nreq++;
	l7__h2_request_kick(s->req);
}

static int
h2_frame_recv_cb(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct l7_h2_conn *h = ud;
	struct l7_h2_stream *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	int es = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	switch (f->hd.type) {
	case NGHTTP2_DATA:
		if (f->hd.length == 0 && !es && h2_flood(h, H2_FLOOD_EMPTY))
			return 0;
		if (s != NULL && es) {
			s->req_end = true;
			h2_kick_req(s);
		}
		break;
	case NGHTTP2_HEADERS:
		if (s == NULL)
			break;
		if (f->headers.cat == NGHTTP2_HCAT_REQUEST)
			h2_request_start(h, s, es);
		else if (es) {
			s->req_end = true;	/* after trailers */
			h2_kick_req(s);
		}
		break;
	case NGHTTP2_RST_STREAM:
		h2_flood(h, H2_FLOOD_RST);
		break;
	case NGHTTP2_PING:
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
			h2_flood(h, H2_FLOOD_PING);
		break;
	case NGHTTP2_SETTINGS:
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
			h2_flood(h, H2_FLOOD_SETTINGS);
		break;
	case NGHTTP2_PRIORITY:
		h2_flood(h, H2_FLOOD_EMPTY);
		break;
	default:
		break;
	}
	return 0;
}

static int
h2_data_cb(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
	   void *ud)
{
	struct l7_h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)ud;
	if (s == NULL || s->req == NULL || s->rx.data == NULL || buf_append(&s->rx, data, len) < 0) {
		/* nobody takes it (answered already, or gone): reopen the window */
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	h2_kick_req(s);
	return 0;
}

static int
h2_stream_close_cb(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct l7_h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)code;
	(void)ud;
	if (s == NULL)
		return 0;
	s->closed = true;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	if (s->req != NULL)
		h2_kick_req(s);	/* its next fill says -1: the request ends */
	else
		h2_stream_free(s);
	return 0;
}

/* ---- the connection ---- */

/* nghttp2's allocations (streams, frames, header blocks) from the worker's
 * pool: hundreds per connection and second otherwise hit malloc */
static void *
h2_mem_malloc(size_t n, void *ud)
{
	return l7_mpool_alloc(ud, n);
}

static void
h2_mem_free(void *p, void *ud)
{
	(void)ud;
	l7_mpool_free(p);
}

static void *
h2_mem_calloc(size_t k, size_t n, void *ud)
{
	if (n != 0 && k > SIZE_MAX / n)
		return NULL;
	return l7_mpool_calloc(ud, k * n);
}

static void *
h2_mem_realloc(void *p, size_t n, void *ud)
{
	if (n == 0) {	/* realloc(p, 0) frees: nghttp2 never asks, be safe */
		l7_mpool_free(p);
		return NULL;
	}
	return l7_mpool_realloc(ud, p, n);
}

struct l7_h2_conn *
l7_h2_conn_new(const struct conf_l7_h2 *lim, void *owner, struct l7_freelist *bufs,
	       struct l7_mpool *mp)
{
	struct l7_h2_conn *h = calloc(1, sizeof(*h));
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[4];
	nghttp2_mem mem = { mp, h2_mem_malloc, h2_mem_free, h2_mem_calloc, h2_mem_realloc };
	int rc = -1;

	if (h == NULL || nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		goto out;
	h->owner = owner;
	h->bufs = bufs;
	h->mp = mp;
	h->lim = *lim;
	nghttp2_session_callbacks_set_send_callback(cb, h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_stream_close_cb);
	/* the window reopens as requests take their bodies (backpressure) */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_continuations(opt, lim->max_continuations);
	/* nghttp2's own rapid-reset guard stays as a backstop behind ours */
	nghttp2_option_set_stream_reset_rate_limit(opt, 2 * (uint64_t)lim->resets_per_s,
						   lim->resets_per_s);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_settings(opt, 32);
	/* closed streams are not kept in the priority tree (memory and work per
	 * stream). Not SETTINGS_NO_RFC7540_PRIORITIES: with it nghttp2 drops
	 * PRIORITY frames before our callback, and they must count as empty
	 * frames (the "priority" flood of 85-l7-h2.sh) */
	nghttp2_option_set_no_closed_streams(opt, 1);
	if (nghttp2_session_server_new3(&h->ng, cb, h, opt, &mem) != 0)
		goto out;
	iv[0] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lim->max_streams };
	iv[1] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, lim->window };
	iv[2] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, lim->max_header_list };
	iv[3] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, 4) != 0)
		goto out;
	/* the connection window covers every stream's window */
	if (nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0,
						  (int32_t)(lim->window * (lim->max_streams < 16 ?
									   lim->max_streams : 16))) != 0)
		goto out;
	rc = 0;
out:
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rc < 0 && h != NULL) {
		nghttp2_session_del(h->ng);
		free(h);
		h = NULL;
	}
	return h;
}

void
l7_h2_conn_free(struct l7_h2_conn **hp)
{
	struct l7_h2_conn *h = *hp;

	*hp = NULL;
	if (h == NULL)
		return;
	h->dying = true;
	while (!dlist_empty(&h->streams)) {
		struct l7_h2_stream *s = DLIST_ENTRY(h->streams.first, struct l7_h2_stream, link);
		void *req = s->req;

		s->req = NULL;
		if (req != NULL)
			l7__h2_request_detach(req);
		h2_stream_free(s);
	}
	nghttp2_session_del(h->ng);
	free(h);
}

ssize_t
l7_h2_conn_input(struct l7_h2_conn *h, const char *p, size_t n, uint64_t now_ms)
{
	ssize_t rc;

	h->now_ms = now_ms;
	if (h->error != NULL)
		return -1;
	rc = nghttp2_session_mem_recv(h->ng, (const uint8_t *)p, n);
	if (rc < 0) {
		h->error = nghttp2_strerror((int)rc);
		nghttp2_session_terminate_session(h->ng, rc == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ||
						  rc == NGHTTP2_ERR_FLOODED ?
						  NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
		return -1;
	}
	if (h->error != NULL) {
		nghttp2_session_terminate_session(h->ng, NGHTTP2_ENHANCE_YOUR_CALM);
		return -1;
	}
	return rc;
}

int
l7_h2_conn_output(struct l7_h2_conn *h, struct buf *out)
{
	int rc;

	h->out = out;
	rc = nghttp2_session_send(h->ng);
	h->out = NULL;
	if (rc != 0 && h->error == NULL)
		h->error = nghttp2_strerror(rc);
	return rc == 0 ? 0 : -1;
}

int
l7_h2_conn_alive(const struct l7_h2_conn *h)
{
	return nghttp2_session_want_read(h->ng) || nghttp2_session_want_write(h->ng);
}

unsigned
l7_h2_conn_nreq(const struct l7_h2_conn *h)
{
	return h->nreq;
}

void
l7_h2_conn_goaway(struct l7_h2_conn *h)
{
	nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
			      nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR,
			      NULL, 0);
}

const char *
l7_h2_conn_error(const struct l7_h2_conn *h)
{
	return h->error ? h->error : "connection error";
}

int
l7_h2_preface(const char *p, size_t n)
{
	static const char pri[] = NGHTTP2_CLIENT_MAGIC;
	size_t len = sizeof(pri) - 1;

	if (memcmp(p, pri, n < len ? n : len) != 0)
		return -1;
	return n >= len ? 1 : 0;
}

/* ---- the stream's request ---- */

/* Ends the HTTP/1.1 head in fields and hands it to in: the buffer itself
 * when in holds nothing (no copy), else a copy. -1 when it does not fit. */
static int
h2_write_head(struct l7_h2_stream *s, struct buf *in)
{
	struct buf *f = &s->fields;
	struct l7_freelist *bufs = s->h->bufs;

	if ((s->cookie_len > 0 && (buf_append(f, "cookie: ", 8) < 0 ||
				   buf_append(f, s->cookie, s->cookie_len) < 0 ||
				   buf_append(f, "\r\n", 2) < 0)) ||
	    (s->chunked && buf_append(f, "transfer-encoding: chunked\r\n", 28) < 0) ||
	    buf_append(f, "\r\n", 2) < 0)
		return -1;
	if (in->data == NULL || buf_len(in) == 0) {
		l7_buf_give(bufs, in);
		*in = *f;
		*f = (struct buf){ 0 };
		return 0;
	}
	buf_compact(in);
	if (buf_room(in) < buf_len(f) || buf_append(in, buf_head(f), buf_len(f)) < 0)
		return -1;
	l7_buf_give(bufs, f);
	return 0;
}

ssize_t
l7_h2_stream_fill(struct l7_h2_stream *s, struct buf *in)
{
	size_t before = buf_len(in), taken = 0;

	if (s->closed)
		return -1;
	if (!s->head_out) {
		if (h2_write_head(s, in) < 0)
			return -1;	/* cannot happen: the head limit is below the buffer */
		s->head_out = true;
		before = 0;	/* in may be the head's own buffer now */
	}
	if (l7_buf_take(s->h->bufs, in) < 0)
		return -1;
	while (buf_len(&s->rx) > 0) {
		size_t k = buf_len(&s->rx), room;

		if (buf_room(in) < 64)
			buf_compact(in);
		room = buf_room(in);
		if (room < 64)
			break;
		if (s->chunked) {
			if (k > room - 16)
				k = room - 16;
			buf_appendf(in, "%zx\r\n", k);	/* fits: room checked */
		} else if (k > room) {
			k = room;
		}
		buf_append(in, buf_head(&s->rx), k);
		if (s->chunked)
			buf_append(in, "\r\n", 2);
		buf_consume(&s->rx, k);
		taken += k;
	}
	if (taken > 0) {
		nghttp2_session_consume(s->h->ng, s->id, taken);
		l7__h2_conn_kick(s->h->owner);	/* WINDOW_UPDATE to send */
	}
	if (s->req_end && buf_len(&s->rx) == 0 && !s->end_out) {
		size_t need = 5 + buf_len(&s->qtrl);

		if (buf_room(in) < need)
			buf_compact(in);
		if (!s->chunked) {
			s->end_out = true;
		} else if (buf_room(in) >= need) {
			/* the last chunk, the trailers, the final CRLF */
			buf_append(in, "0\r\n", 3);
			if (buf_len(&s->qtrl) > 0)
				buf_append(in, buf_head(&s->qtrl), buf_len(&s->qtrl));
			buf_append(in, "\r\n", 2);
			buf_release(&s->qtrl);
			s->end_out = true;
		}
	}
	return (ssize_t)(buf_len(in) - before);
}

/* Lower-cased copy of the response's fields as an nghttp2 header list;
 * hop-by-hop fields dropped. Returns the count, or -1. */
static int
h2_resp_nv(const char *buf, const struct l7_http1_msg *m, char *lower, nghttp2_nv *nv,
	   char *status)
{
	size_t i, k = 0, o = 0;

	status[0] = (char)('0' + m->status / 100 % 10);	/* the parser took 3 digits */
	status[1] = (char)('0' + m->status / 10 % 10);
	status[2] = (char)('0' + m->status % 10);
	nv[k++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE };
	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *f = &m->headers[i];

		if (l7_h2__hop(buf, m, f, lower + o))
			continue;
		nv[k++] = (nghttp2_nv){ (uint8_t *)lower + o, (uint8_t *)buf + f->value.off,
					f->name.len, f->value.len, NGHTTP2_NV_FLAG_NONE };
		o += f->name.len;
	}
	return (int)k;
}

/* A response head is at the start of out: submit it. 1 done, 0 wait, -1 bad. */
static int
h2_response_head(struct l7_h2_stream *s, struct buf *out)
{
	struct l7_http1_msg *m = &s->h->msg;
	nghttp2_nv nv[L7_HTTP1_MAX_HEADERS + 1];
	nghttp2_data_provider dp = { .source.ptr = s, .read_callback = h2_read_body };
	char status[4], lower[L7_HTTP1_MAX_HEAD];	/* names lower-cased (< the head) */
	int rc = -1, st = 0, n;

	for (;;) {
		rc = l7_http1_parse_response(buf_head(out), buf_len(out),
					     s->is_head ? L7_HTTP1_M_HEAD : L7_HTTP1_M_GET, m, &st);
		if (rc != L7_HTTP1_DONE) {
			rc = rc == L7_HTTP1_AGAIN ? 0 : -1;
			goto out;
		}
		if (m->status >= 200)
			break;
		buf_consume(out, m->head_len);	/* 1xx: HTTP/2 clients need none */
	}
	rc = -1;
	if (m->head_len > sizeof(lower))
		goto out;
	l7_http1_body_init(&s->respb, m);
	if (!s->respb.done && h2_tx_take(s) < 0)
		goto out;
	n = h2_resp_nv(buf_head(out), m, lower, nv, status);
	s->resp_eof = s->respb.done;
	if (nghttp2_submit_response(s->h->ng, s->id, nv, (size_t)n, s->resp_eof ? NULL : &dp) != 0)
		goto out;
	s->resp_head = true;
	buf_consume(out, m->head_len);
	rc = 1;
out:
	return rc;
}

ssize_t
l7_h2_stream_drain(struct l7_h2_stream *s, struct buf *out)
{
	size_t before = buf_len(out);

	if (s->closed)
		return -1;
	if (!s->resp_head) {
		int rc = h2_response_head(s, out);

		if (rc <= 0)
			return rc < 0 ? -1 : (ssize_t)(before - buf_len(out));
		l7__h2_conn_kick(s->h->owner);
	}
	/* the body without its chunk framing; trailers (gRPC's grpc-status)
	 * become a HEADERS frame after the data */
	if (buf_len(out) > 0 && !s->respb.done) {
		ssize_t n;

		if (s->respb.framing == L7_HTTP1_BODY_CHUNKED && s->trl.data == NULL &&
		    buf_init(&s->trl, L7_HTTP1_MAX_TRAILERS + 8) < 0)
			return -1;
		n = l7_http1_body_take(&s->respb, buf_head(out), buf_len(out), &s->tx, &s->trl);
		if (n < 0)
			return -1;
		buf_consume(out, (size_t)n);
	}
	if (s->respb.done)
		s->resp_eof = true;
	if (s->deferred && (buf_len(&s->tx) > 0 || s->resp_eof)) {
		s->deferred = false;
		nghttp2_session_resume_data(s->h->ng, s->id);
		l7__h2_conn_kick(s->h->owner);
	}
	return (ssize_t)(before - buf_len(out));
}

void
l7_h2_stream_gone(struct l7_h2_stream **sp, int clean)
{
	struct l7_h2_stream *s = *sp;
	struct l7_h2_conn *h;

	*sp = NULL;
	if (s == NULL)
		return;
	h = s->h;
	s->req = NULL;
	h->nreq--;
	if (s->closed) {
		h2_stream_free(s);
	} else if (s->resp_head && !s->resp_eof && clean &&
		   s->respb.framing == L7_HTTP1_BODY_UNTIL_CLOSE) {
		s->resp_eof = true;	/* the member's close ends this body */
		if (s->deferred) {
			s->deferred = false;
			nghttp2_session_resume_data(h->ng, s->id);
		}
	} else if (!s->resp_head || !s->resp_eof) {
		nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
	}
	if (!h->dying)
		l7__h2_conn_kick(h->owner);
}
