/*
 * l7_h2up - HTTP/1.1 <-> HTTP/2 towards a member (see l7_h2up.h).
 *
 * Request: the head is parsed with l7_http1 (it is ours: the proxy wrote
 * it), turned into a header list (names lower-cased, hop-by-hop fields
 * dropped, "te: trailers" added: we carry trailers) and submitted; the body
 * loses its chunk framing (l7_http1_body_take) and leaves as DATA.
 *
 * Response: the head becomes "HTTP/1.1 <status>" plus the fields; the body
 * is re-framed as chunks when it leaves, so a burst of small DATA frames
 * costs no more room than its payload; the trailers end the chunked body.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "l7_h2__priv.h"
#include "l7_h2up.h"
#include "l7_http1.h"

#define H2UP_WINDOW	(256 * 1024)	/* per stream; the response waits here at most this */
#define H2UP_BODY	65536		/* request payload waiting for DATA frames */
#define H2UP_HEAD	(L7_HTTP1_MAX_HEAD + 64)

struct l7_h2up {
	nghttp2_session *ng;
	struct buf *out;		/* during l7_h2up_output */
	int32_t sid;			/* the exchange's stream, 0 before its head */
	bool fatal;
	/* request */
	bool req_head, req_eof, deferred;
	struct l7_http1_body reqb;
	struct buf body;
	struct buf qtrl;		/* the request's trailer lines (chunked body) */
	/* response */
	int status;
	bool is_head;
	bool resp_head;			/* rhead holds the final head */
	bool chunked, ended, final_out, failed, closed;
	struct buf hdrs;		/* fields of the head being received */
	struct buf rhead;		/* head text still to move */
	struct buf rdata;		/* payload still to move (no framing) */
	struct buf trl;			/* trailer lines */
};

static ssize_t
h2up_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct l7_h2up *u = ud;

	(void)ng;
	(void)flags;
	return l7_h2__send_buf(u->out, data, len);
}

static ssize_t
h2up_read_body(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
	       nghttp2_data_source *src, void *ud)
{
	struct l7_h2up *u = ud;

	ssize_t n;

	(void)ng;
	(void)src;
	n = l7_h2__read_buf(&u->body, out, len, flags, u->req_eof, &u->deferred);
	/* the request's trailers (gRPC client streaming) end the stream */
	if ((*flags & NGHTTP2_DATA_FLAG_EOF) && buf_len(&u->qtrl) > 0) {
		nghttp2_nv nv[64];
		size_t k = l7_h2__fields_nv(buf_head(&u->qtrl), buf_len(&u->qtrl), nv, 64);

		if (k > 0 && nghttp2_submit_trailer(u->ng, id, nv, k) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		u->qtrl.rpos = u->qtrl.wpos = 0;
	}
	return n;
}

static int
h2up_header_cb(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
	       const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct l7_h2up *u = ud;
	struct buf *b;

	(void)ng;
	(void)flags;
	if (f->hd.stream_id != u->sid || u->failed)
		return 0;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
		u->status = vlen == 3 ? (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0') : 0;
		return 0;
	}
	if (nlen > 0 && name[0] == ':')
		return 0;
	/* we frame the body ourselves; a trailers-only answer says 0 itself */
	if (nlen == 14 && memcmp(name, "content-length", 14) == 0 && !u->is_head)
		return 0;
	b = f->headers.cat == NGHTTP2_HCAT_HEADERS && u->resp_head ? &u->trl : &u->hdrs;
	if (buf_append(b, name, nlen) < 0 || buf_append(b, ": ", 2) < 0 ||
	    buf_append(b, value, vlen) < 0 || buf_append(b, "\r\n", 2) < 0)
		u->failed = true;	/* larger than we can hand on: 502 */
	return 0;
}

static int
h2up_frame_recv_cb(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct l7_h2up *u = ud;
	int es = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	(void)ng;
	if (f->hd.stream_id != u->sid || u->sid == 0 || u->failed)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && !u->resp_head) {
		if (u->status < 200) {
			u->hdrs.rpos = u->hdrs.wpos = 0;	/* 1xx: not passed on */
			return 0;
		}
		u->chunked = !es && !u->is_head && u->status != 204 && u->status != 304;
		if (buf_appendf(&u->rhead, "HTTP/1.1 %d %s\r\n", u->status,
				l7_http1_reason(u->status)) < 0 ||
		    buf_append(&u->rhead, buf_head(&u->hdrs), buf_len(&u->hdrs)) < 0 ||
		    buf_append(&u->rhead, u->chunked ? "transfer-encoding: chunked\r\n\r\n" :
				    es && !u->is_head ? "content-length: 0\r\n\r\n" : "\r\n",
				    u->chunked ? 30 : es && !u->is_head ? 21 : 2) < 0) {
			u->failed = true;
			return 0;
		}
		u->resp_head = true;
	}
	if (es && u->resp_head)
		u->ended = true;
	return 0;
}

static int
h2up_data_cb(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
	     void *ud)
{
	struct l7_h2up *u = ud;

	(void)flags;
	if (id != u->sid || !u->resp_head || !u->chunked || buf_append(&u->rdata, data, len) < 0) {
		/* not ours, or beyond the window (a broken member): drop it */
		nghttp2_session_consume(ng, id, len);
		if (id == u->sid)
			u->failed = true;
	}
	return 0;
}

static int
h2up_stream_close_cb(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct l7_h2up *u = ud;

	(void)ng;
	(void)code;
	if (id != u->sid)
		return 0;
	u->closed = true;
	if (!u->ended)
		u->failed = true;	/* reset, refused or cut before the end */
	return 0;
}

struct l7_h2up *
l7_h2up_new(void)
{
	struct l7_h2up *u = calloc(1, sizeof(*u));
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[2] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2UP_WINDOW },
	};
	int rc = -1;

	if (u == NULL || buf_init(&u->body, H2UP_BODY) < 0 || buf_init(&u->hdrs, H2UP_HEAD) < 0 ||
	    buf_init(&u->rhead, H2UP_HEAD + 64) < 0 || buf_init(&u->rdata, H2UP_WINDOW) < 0 ||
	    buf_init(&u->trl, L7_HTTP1_MAX_TRAILERS) < 0 ||
	    nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		goto out;
	nghttp2_session_callbacks_set_send_callback(cb, h2up_send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2up_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2up_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2up_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2up_stream_close_cb);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	if (nghttp2_session_client_new2(&u->ng, cb, u, opt) != 0)
		goto out;
	if (nghttp2_submit_settings(u->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		goto out;
	rc = 0;
out:
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rc < 0)
		l7_h2up_free(&u);
	return u;
}

void
l7_h2up_free(struct l7_h2up **up)
{
	struct l7_h2up *u = *up;

	*up = NULL;
	if (u == NULL)
		return;
	nghttp2_session_del(u->ng);
	buf_release(&u->body);
	buf_release(&u->hdrs);
	buf_release(&u->rhead);
	buf_release(&u->rdata);
	buf_release(&u->trl);
	buf_release(&u->qtrl);
	free(u);
}

/* Submits the request whose head is m in p; 0 or -1. */
static int
h2up_submit(struct l7_h2up *u, const char *p, const struct l7_http1_msg *m)
{
	nghttp2_nv nv[L7_HTTP1_MAX_HEADERS + 5];
	nghttp2_data_provider dp = { .read_callback = h2up_read_body };
	char *lower = malloc(m->head_len + 1);
	size_t k = 0, o = 0, i;
	int32_t sid;

	if (lower == NULL)
		return -1;
#define NV(n, nl, v, vl) (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), (nl), (vl), NGHTTP2_NV_FLAG_NONE }
	nv[k++] = NV(":method", 7, p + m->method_s.off, m->method_s.len);
	nv[k++] = NV(":scheme", 7, "http", 4);
	nv[k++] = NV(":authority", 10, p + m->authority.off, m->authority.len);
	nv[k++] = NV(":path", 5, p + m->target.off, m->target.len);
	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *f = &m->headers[i];

		/* te: ours is added below */
		if (l7_http1_span_eq(p, f->name, "host") || l7_h2__hop(p, m, f, lower + o))
			continue;
		nv[k++] = NV(lower + o, f->name.len, p + f->value.off, f->value.len);
		o += f->name.len;
	}
	nv[k++] = NV("te", 2, "trailers", 8);	/* we pass trailers on (gRPC asks for it) */
#undef NV
	l7_http1_body_init(&u->reqb, m);
	u->req_eof = u->reqb.done;
	sid = nghttp2_submit_request(u->ng, NULL, nv, k, u->req_eof ? NULL : &dp, NULL);
	free(lower);
	if (sid < 0)
		return -1;
	u->sid = sid;
	return 0;
}

ssize_t
l7_h2up_take(struct l7_h2up *u, const char *p, size_t n)
{
	ssize_t used = 0;

	if (u->fatal)
		return -1;
	if (!u->req_head) {
		struct l7_http1_msg *m;
		int st, rc;

		if (u->sid != 0) {
			/* a new exchange on a kept session: forget the last one */
			u->sid = 0;
			u->status = 0;
			u->resp_head = u->chunked = u->ended = u->final_out = u->failed = false;
			u->closed = false;
			u->deferred = false;
			u->hdrs.rpos = u->hdrs.wpos = u->rhead.rpos = u->rhead.wpos = 0;
			u->rdata.rpos = u->rdata.wpos = u->trl.rpos = u->trl.wpos = 0;
			u->body.rpos = u->body.wpos = 0;
			u->qtrl.rpos = u->qtrl.wpos = 0;
		}
		m = malloc(sizeof(*m));
		if (m == NULL)
			return -1;
		rc = l7_http1_parse_request(p, n, m, &st);
		if (rc == L7_HTTP1_DONE) {
			u->is_head = m->method == L7_HTTP1_M_HEAD;
			rc = h2up_submit(u, p, m) < 0 ? L7_HTTP1_ERROR : L7_HTTP1_DONE;
			used = (ssize_t)m->head_len;
		}
		free(m);
		if (rc == L7_HTTP1_AGAIN)
			return 0;
		if (rc == L7_HTTP1_ERROR)
			return -1;
		u->req_head = true;
	}
	if (!u->req_eof && (size_t)used < n) {
		ssize_t k;

		if (u->reqb.framing == L7_HTTP1_BODY_CHUNKED && u->qtrl.data == NULL &&
		    buf_init(&u->qtrl, L7_HTTP1_MAX_TRAILERS + 8) < 0)
			return -1;
		k = l7_http1_body_take(&u->reqb, p + used, n - (size_t)used, &u->body, &u->qtrl);

		if (k < 0)
			return -1;
		used += k;
		u->req_eof = u->reqb.done;
		if (u->deferred && (buf_len(&u->body) > 0 || u->req_eof)) {
			u->deferred = false;
			nghttp2_session_resume_data(u->ng, u->sid);
		}
	}
	if (u->req_eof)
		u->req_head = false;	/* the next bytes are the next request's */
	return used;
}

int
l7_h2up_want_take(const struct l7_h2up *u)
{
	return !u->fatal && (!u->req_head || buf_len(&u->body) < u->body.cap);
}

int
l7_h2up_output(struct l7_h2up *u, struct buf *out)
{
	int rc;

	u->out = out;
	rc = nghttp2_session_send(u->ng);
	u->out = NULL;
	if (rc != 0) {
		u->fatal = true;
		return -1;
	}
	return nghttp2_session_want_write(u->ng) ? 1 : 0;
}

int
l7_h2up_input(struct l7_h2up *u, const char *p, size_t n)
{
	ssize_t rc = nghttp2_session_mem_recv(u->ng, (const uint8_t *)p, n);

	if (rc < 0) {
		u->fatal = true;
		return -1;
	}
	return 0;
}

ssize_t
l7_h2up_response(struct l7_h2up *u, struct buf *rb)
{
	size_t before = buf_len(rb), k;

	if (buf_room(rb) < 64)
		buf_compact(rb);
	k = buf_len(&u->rhead) < buf_room(rb) ? buf_len(&u->rhead) : buf_room(rb);
	if (k > 0) {
		buf_append(rb, buf_head(&u->rhead), k);
		buf_consume(&u->rhead, k);
	}
	while (buf_len(&u->rhead) == 0 && buf_len(&u->rdata) > 0) {
		if (buf_room(rb) < 64)
			buf_compact(rb);
		if (buf_room(rb) < 64)
			break;
		k = buf_len(&u->rdata);
		if (k > buf_room(rb) - 16)
			k = buf_room(rb) - 16;
		buf_appendf(rb, "%zx\r\n", k);	/* fits: room checked */
		buf_append(rb, buf_head(&u->rdata), k);
		buf_append(rb, "\r\n", 2);
		buf_consume(&u->rdata, k);
		nghttp2_session_consume(u->ng, u->sid, k);
	}
	if (u->ended && !u->failed && !u->final_out && buf_len(&u->rhead) == 0 &&
	    buf_len(&u->rdata) == 0) {
		if (!u->chunked) {
			u->final_out = true;
		} else {
			if (buf_room(rb) < buf_len(&u->trl) + 8)
				buf_compact(rb);
			if (buf_room(rb) >= buf_len(&u->trl) + 8) {
				buf_append(rb, "0\r\n", 3);
				buf_append(rb, buf_head(&u->trl), buf_len(&u->trl));
				buf_append(rb, "\r\n", 2);
				u->final_out = true;
			}
		}
	}
	if (buf_len(rb) == before && (u->failed || u->fatal) && !u->final_out)
		return -1;
	return (ssize_t)(buf_len(rb) - before);
}

int
l7_h2up_reusable(const struct l7_h2up *u)
{
	return !u->fatal && !u->failed && u->final_out && !u->req_head &&
	       nghttp2_session_want_read(u->ng) &&
	       u->closed &&
	       nghttp2_session_check_request_allowed(u->ng);
}
