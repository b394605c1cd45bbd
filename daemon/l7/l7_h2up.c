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
 *
 * Streams find themselves through nghttp2's stream user data; a stream
 * whose owner closed it early has none, and what still arrives for it is
 * consumed and dropped.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dlist.h"
#include "l7_h2__priv.h"
#include "l7_h2up.h"
#include "l7_http1.h"

#define H2UP_WINDOW	(128 * 1024)	/* per stream; the response waits here at most this */
#define H2UP_CONN_WINDOW_MAX (64 * 1024 * 1024)
#define H2UP_BODY	65536		/* request payload waiting for DATA frames */
#define H2UP_HEAD	(L7_HTTP1_MAX_HEAD + 64)
#define H2UP_SPARE	32		/* closed streams kept with their buffers for reuse */
#define H2UP_BUF0	16384		/* body and rdata start this small, grow to the above */

struct l7_h2up {
	nghttp2_session *ng;
	struct buf *out;		/* during l7_h2up_output */
	bool fatal;
	unsigned max_streams, nstreams, nspare;
	struct dlist streams;		/* open struct l7_h2up_st (link), newest first */
	struct dlist spare;		/* closed ones, buffers kept: a stream per
					 * request would otherwise cost ~200 KiB of
					 * malloc and free */
};

struct l7_h2up_st {
	struct l7_h2up *u;		/* NULL once the session is gone */
	void *owner;
	struct dlist_node link;		/* in u->streams, or u->spare when closed */
	bool woken, blocked;		/* blocked: take said "not now" */
	int32_t sid;			/* 0 before the head went in */
	/* request */
	bool req_head, req_eof, deferred;
	struct l7_http1_body reqb;
	struct buf body;
	struct buf qtrl;		/* the request's trailer lines (chunked body) */
	/* response */
	int status;
	bool is_head;
	bool resp_head;			/* rhead holds the final head */
	bool chunked, ended, final_out, failed, closed, refused;
	struct buf hdrs;		/* fields of the head being received */
	struct buf rhead;		/* head text still to move */
	struct buf rdata;		/* payload still to move (no framing) */
	struct buf trl;			/* trailer lines */
};

/* Makes room for len more bytes in b, growing it up to max; 0 or -1. */
static int
h2up_room(struct buf *b, size_t len, size_t max)
{
	size_t cap;
	char *d;

	if (buf_room(b) >= len)
		return 0;
	buf_compact(b);
	if (buf_room(b) >= len || b->cap >= max)
		return buf_room(b) >= len ? 0 : -1;
	for (cap = b->cap * 2; cap < buf_len(b) + len && cap < max; cap *= 2)
		;
	if (cap > max)
		cap = max;
	if ((d = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = d;
	b->cap = cap;
	return buf_room(b) >= len ? 0 : -1;
}

static struct l7_h2up_st *
h2up_st(nghttp2_session *ng, int32_t id)
{
	return id > 0 ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

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
	struct l7_h2up_st *s = h2up_st(ng, id);
	ssize_t n;

	(void)src;
	(void)ud;
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* owner gone: reset */
	n = l7_h2__read_buf(&s->body, out, len, flags, s->req_eof, &s->deferred);
	if (n > 0 && s->blocked) {
		s->blocked = false;	/* room again: the owner may take more */
		s->woken = true;
	}
	/* the request's trailers (gRPC client streaming) end the stream */
	if ((*flags & NGHTTP2_DATA_FLAG_EOF) && buf_len(&s->qtrl) > 0) {
		nghttp2_nv nv[64];
		size_t k = l7_h2__fields_nv(buf_head(&s->qtrl), buf_len(&s->qtrl), nv, 64);

		if (k > 0 && nghttp2_submit_trailer(ng, id, nv, k) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		s->qtrl.rpos = s->qtrl.wpos = 0;
	}
	return n;
}

static int
h2up_header_cb(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
	       const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct l7_h2up_st *s = h2up_st(ng, f->hd.stream_id);
	struct buf *b;

	(void)flags;
	(void)ud;
	if (s == NULL || s->failed)
		return 0;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
		s->status = vlen == 3 ? (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0') : 0;
		return 0;
	}
	if (nlen > 0 && name[0] == ':')
		return 0;
	/* we frame the body ourselves; a trailers-only answer says 0 itself */
	if (nlen == 14 && memcmp(name, "content-length", 14) == 0 && !s->is_head)
		return 0;
	b = f->headers.cat == NGHTTP2_HCAT_HEADERS && s->resp_head ? &s->trl : &s->hdrs;
	if (buf_append(b, name, nlen) < 0 || buf_append(b, ": ", 2) < 0 ||
	    buf_append(b, value, vlen) < 0 || buf_append(b, "\r\n", 2) < 0)
		s->failed = true;	/* larger than we can hand on: 502 */
	return 0;
}

static int
h2up_frame_recv_cb(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct l7_h2up_st *s = h2up_st(ng, f->hd.stream_id);
	int es = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	if (f->hd.stream_id == 0) {
		/* SETTINGS, WINDOW_UPDATE, GOAWAY: may concern every stream */
		if (f->hd.type != NGHTTP2_PING)
			l7_h2up_wake_all(ud);
		return 0;
	}
	if (s == NULL)
		return 0;
	s->woken = true;
	if (s->failed)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && !s->resp_head) {
		if (s->status < 200) {
			s->hdrs.rpos = s->hdrs.wpos = 0;	/* 1xx: not passed on */
			return 0;
		}
		s->chunked = !es && !s->is_head && s->status != 204 && s->status != 304;
		if (buf_appendf(&s->rhead, "HTTP/1.1 %d %s\r\n", s->status,
				l7_http1_reason(s->status)) < 0 ||
		    buf_append(&s->rhead, buf_head(&s->hdrs), buf_len(&s->hdrs)) < 0 ||
		    buf_append(&s->rhead, s->chunked ? "transfer-encoding: chunked\r\n\r\n" :
				    es && !s->is_head ? "content-length: 0\r\n\r\n" : "\r\n",
				    s->chunked ? 30 : es && !s->is_head ? 21 : 2) < 0) {
			s->failed = true;
			return 0;
		}
		s->resp_head = true;
	}
	if (es && s->resp_head)
		s->ended = true;
	return 0;
}

static int
h2up_data_cb(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
	     void *ud)
{
	struct l7_h2up_st *s = h2up_st(ng, id);

	(void)flags;
	(void)ud;
	if (s == NULL || !s->resp_head || !s->chunked || h2up_room(&s->rdata, len, H2UP_WINDOW) < 0 ||
	    buf_append(&s->rdata, data, len) < 0) {
		/* not ours (any more), or beyond the window (a broken member): drop it */
		nghttp2_session_consume(ng, id, len);
		if (s != NULL)
			s->failed = true;
	}
	if (s != NULL)
		s->woken = true;
	return 0;
}

static int
h2up_stream_close_cb(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct l7_h2up_st *s = h2up_st(ng, id);

	(void)ud;
	if (s == NULL)
		return 0;
	s->closed = true;
	s->woken = true;
	if (!s->ended) {
		s->failed = true;	/* reset, refused or cut before the end */
		/* nghttp2 closes the streams above a GOAWAY's last id with
		 * REFUSED_STREAM too: the member never saw them */
		s->refused = code == NGHTTP2_REFUSED_STREAM && !s->resp_head;
	}
	return 0;
}

struct l7_h2up *
l7_h2up_new(unsigned max_streams)
{
	struct l7_h2up *u = calloc(1, sizeof(*u));
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[2] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2UP_WINDOW },
	};
	uint64_t cw;
	int rc = -1;

	if (u == NULL || nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		goto out;
	u->max_streams = max_streams > 0 ? max_streams : 1;
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
	/* the connection window covers every stream's window: a stream
	 * whose client reads slowly holds only its own */
	cw = (uint64_t)u->max_streams * H2UP_WINDOW;
	if (cw > H2UP_CONN_WINDOW_MAX)
		cw = H2UP_CONN_WINDOW_MAX;
	if (cw > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE &&
	    nghttp2_session_set_local_window_size(u->ng, NGHTTP2_FLAG_NONE, 0, (int32_t)cw) != 0)
		goto out;
	rc = 0;
out:
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rc < 0)
		l7_h2up_free(&u);
	return u;
}

static void
h2up_unlink(struct l7_h2up_st *s)
{
	struct l7_h2up *u = s->u;

	if (u == NULL)
		return;
	dlist_remove(&u->streams, &s->link);
	u->nstreams--;
	if (s->sid > 0)
		nghttp2_session_set_stream_user_data(u->ng, s->sid, NULL);
	s->u = NULL;
}

static void
h2up_st_free(struct l7_h2up_st *s)
{
	buf_release(&s->body);
	buf_release(&s->hdrs);
	buf_release(&s->rhead);
	buf_release(&s->rdata);
	buf_release(&s->trl);
	buf_release(&s->qtrl);
	free(s);
}

void
l7_h2up_free(struct l7_h2up **up)
{
	struct l7_h2up *u = *up;

	*up = NULL;
	if (u == NULL)
		return;
	while (!dlist_empty(&u->streams)) {
		struct l7_h2up_st *s = DLIST_ENTRY(u->streams.first, struct l7_h2up_st, link);

		s->failed = s->woken = true;
		h2up_unlink(s);
	}
	while (!dlist_empty(&u->spare)) {
		struct l7_h2up_st *s = DLIST_ENTRY(u->spare.first, struct l7_h2up_st, link);

		dlist_remove(&u->spare, &s->link);
		h2up_st_free(s);
	}
	nghttp2_session_del(u->ng);
	free(u);
}

struct l7_h2up_st *
l7_h2up_open(struct l7_h2up *u, void *owner)
{
	struct l7_h2up_st *s;

	if (!l7_h2up_can_open(u))
		return NULL;
	if (!dlist_empty(&u->spare)) {
		struct buf b[6];

		s = DLIST_ENTRY(u->spare.first, struct l7_h2up_st, link);
		dlist_remove(&u->spare, &s->link);
		u->nspare--;
		b[0] = s->body, b[1] = s->hdrs, b[2] = s->rhead, b[3] = s->rdata, b[4] = s->trl;
		b[5] = s->qtrl;
		memset(s, 0, sizeof(*s));
		s->body = b[0], s->hdrs = b[1], s->rhead = b[2], s->rdata = b[3], s->trl = b[4];
		s->qtrl = b[5];
		s->body.rpos = s->body.wpos = s->hdrs.rpos = s->hdrs.wpos = 0;
		s->rhead.rpos = s->rhead.wpos = s->rdata.rpos = s->rdata.wpos = 0;
		s->trl.rpos = s->trl.wpos = s->qtrl.rpos = s->qtrl.wpos = 0;
	} else if ((s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	} else if (buf_init(&s->body, H2UP_BUF0) < 0 || buf_init(&s->hdrs, H2UP_HEAD) < 0 ||
	    buf_init(&s->rhead, H2UP_HEAD + 64) < 0 || buf_init(&s->rdata, H2UP_BUF0) < 0 ||
	    buf_init(&s->trl, L7_HTTP1_MAX_TRAILERS) < 0) {
		h2up_st_free(s);
		return NULL;
	}
	s->owner = owner;
	s->u = u;
	dlist_push_front(&u->streams, &s->link);
	u->nstreams++;
	return s;
}

void
l7_h2up_close(struct l7_h2up_st **sp)
{
	struct l7_h2up_st *s = *sp;
	struct l7_h2up *u;

	*sp = NULL;
	if (s == NULL)
		return;
	if (s->u != NULL && s->sid > 0 && !s->closed &&
	    nghttp2_session_find_stream(s->u->ng, s->sid) != NULL)
		nghttp2_submit_rst_stream(s->u->ng, NGHTTP2_FLAG_NONE, s->sid, NGHTTP2_CANCEL);
	/* what the member already sent for it still counts against the
	 * connection window: give it back */
	if (s->u != NULL && s->sid > 0 && buf_len(&s->rdata) > 0)
		nghttp2_session_consume_connection(s->u->ng, buf_len(&s->rdata));
	u = s->u;
	h2up_unlink(s);
	if (u != NULL && u->nspare < H2UP_SPARE) {
		dlist_push_front(&u->spare, &s->link);
		u->nspare++;
		return;
	}
	h2up_st_free(s);
}

/* Submits the request whose head is m in p; 0 or -1. */
static int
h2up_submit(struct l7_h2up_st *s, const char *p, const struct l7_http1_msg *m)
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
	l7_http1_body_init(&s->reqb, m);
	s->req_eof = s->reqb.done;
	sid = nghttp2_submit_request(s->u->ng, NULL, nv, k, s->req_eof ? NULL : &dp, s);
	free(lower);
	if (sid < 0)
		return -1;
	s->sid = sid;
	return 0;
}

ssize_t
l7_h2up_take(struct l7_h2up_st *s, const char *p, size_t n)
{
	ssize_t used = 0;

	if (s->u == NULL || s->u->fatal || s->failed || (s->req_eof && n > 0))
		return -1;	/* a second request on the stream is an error too */
	if (!s->req_head) {
		struct l7_http1_msg *m;
		int st, rc;

		if (s->sid != 0)
			return -1;	/* one exchange per stream */
		m = malloc(sizeof(*m));
		if (m == NULL)
			return -1;
		rc = l7_http1_parse_request(p, n, m, &st);
		if (rc == L7_HTTP1_DONE) {
			s->is_head = m->method == L7_HTTP1_M_HEAD;
			rc = h2up_submit(s, p, m) < 0 ? L7_HTTP1_ERROR : L7_HTTP1_DONE;
			used = (ssize_t)m->head_len;
		}
		free(m);
		if (rc == L7_HTTP1_AGAIN)
			return 0;
		if (rc == L7_HTTP1_ERROR)
			return -1;
		s->req_head = true;
	}
	if (!s->req_eof && (size_t)used < n) {
		ssize_t k;

		if (s->reqb.framing == L7_HTTP1_BODY_CHUNKED && s->qtrl.data == NULL &&
		    buf_init(&s->qtrl, L7_HTTP1_MAX_TRAILERS + 8) < 0)
			return -1;
		/* grow towards H2UP_BODY while there is more to take */
		(void)h2up_room(&s->body, n - (size_t)used < H2UP_BODY ? n - (size_t)used : H2UP_BODY,
				H2UP_BODY);
		k = l7_http1_body_take(&s->reqb, p + used, n - (size_t)used, &s->body, &s->qtrl);

		if (k < 0)
			return -1;
		used += k;
		s->req_eof = s->reqb.done;
		if (s->deferred && (buf_len(&s->body) > 0 || s->req_eof)) {
			s->deferred = false;
			nghttp2_session_resume_data(s->u->ng, s->sid);
		}
	}
	if (used == 0)
		s->blocked = true;
	return used;
}

int
l7_h2up_want_take(const struct l7_h2up_st *s)
{
	return s->u != NULL && !s->u->fatal && !s->failed &&
	       (!s->req_head || (!s->req_eof && buf_len(&s->body) < H2UP_BODY));
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
		l7_h2up_wake_all(u);
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
		l7_h2up_wake_all(u);
		return -1;
	}
	return 0;
}

ssize_t
l7_h2up_response(struct l7_h2up_st *s, struct buf *rb)
{
	size_t before = buf_len(rb), k;
	bool dead = s->u == NULL || s->u->fatal;

	if (buf_room(rb) < 64)
		buf_compact(rb);
	k = buf_len(&s->rhead) < buf_room(rb) ? buf_len(&s->rhead) : buf_room(rb);
	if (k > 0) {
		buf_append(rb, buf_head(&s->rhead), k);
		buf_consume(&s->rhead, k);
	}
	while (buf_len(&s->rhead) == 0 && buf_len(&s->rdata) > 0) {
		if (buf_room(rb) < 64)
			buf_compact(rb);
		if (buf_room(rb) < 64)
			break;
		k = buf_len(&s->rdata);
		if (k > buf_room(rb) - 16)
			k = buf_room(rb) - 16;
		buf_appendf(rb, "%zx\r\n", k);	/* fits: room checked */
		buf_append(rb, buf_head(&s->rdata), k);
		buf_append(rb, "\r\n", 2);
		buf_consume(&s->rdata, k);
		if (s->u != NULL)
			nghttp2_session_consume(s->u->ng, s->sid, k);
	}
	if (s->ended && !s->failed && !s->final_out && buf_len(&s->rhead) == 0 &&
	    buf_len(&s->rdata) == 0) {
		if (!s->chunked) {
			s->final_out = true;
		} else {
			if (buf_room(rb) < buf_len(&s->trl) + 8)
				buf_compact(rb);
			if (buf_room(rb) >= buf_len(&s->trl) + 8) {
				buf_append(rb, "0\r\n", 3);
				buf_append(rb, buf_head(&s->trl), buf_len(&s->trl));
				buf_append(rb, "\r\n", 2);
				s->final_out = true;
			}
		}
	}
	if (buf_len(rb) == before && (s->failed || dead) && !s->final_out)
		return -1;
	return (ssize_t)(buf_len(rb) - before);
}

int
l7_h2up_done(const struct l7_h2up_st *s)
{
	return s->final_out && !s->failed;
}

int
l7_h2up_refused(const struct l7_h2up_st *s)
{
	return s->refused;
}

void
l7_h2up_kill(struct l7_h2up *u)
{
	u->fatal = true;
	l7_h2up_wake_all(u);
}

void
l7_h2up_wake_all(struct l7_h2up *u)
{
	struct l7_h2up_st *s;

	DLIST_FOREACH(s, &u->streams, link)
		s->woken = true;
}

void *
l7_h2up_next_woken(struct l7_h2up *u)
{
	struct l7_h2up_st *s;

	DLIST_FOREACH(s, &u->streams, link)
		if (s->woken) {
			s->woken = false;
			return s->owner;
		}
	return NULL;
}

unsigned
l7_h2up_streams(const struct l7_h2up *u)
{
	return u->nstreams;
}

int
l7_h2up_alive(const struct l7_h2up *u)
{
	return !u->fatal && (nghttp2_session_want_read(u->ng) || nghttp2_session_want_write(u->ng));
}

int
l7_h2up_goaway_seen(const struct l7_h2up *u)
{
	return nghttp2_session_check_request_allowed(u->ng) == 0;
}

int
l7_h2up_can_open(const struct l7_h2up *u)
{
	uint32_t peer = nghttp2_session_get_remote_settings(u->ng,
					NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
	unsigned lim = peer < u->max_streams ? peer : u->max_streams;

	return !u->fatal && u->nstreams < lim && nghttp2_session_check_request_allowed(u->ng) &&
	       nghttp2_session_want_read(u->ng);
}
