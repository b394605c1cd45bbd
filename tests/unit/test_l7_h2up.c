/* Unit tests for daemon/l7/l7_h2up: the stream bookkeeping of a
 * multiplexed member session, against a real nghttp2 server session as
 * the member (bytes passed in memory). Two streams share a session and
 * get their own answers; the stream limit is the smaller of ours and the
 * member's SETTINGS_MAX_CONCURRENT_STREAMS; the member's GOAWAY refuses
 * the streams above its last id (safe to send again) and lets the others
 * finish; its RST_STREAM fails only that stream; closing an unfinished
 * stream resets it (CANCEL); a dead connection fails every stream. */
#include "config.h"

#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "l7_h2up.h"

/* the member: answers each request stream it is told to */
struct member {
	nghttp2_session *ng;
	int32_t streams[16];
	size_t nstreams;
	uint32_t closed_code[16];	/* by stream id / 2 */
	struct buf wire;		/* member -> us */
};

static ssize_t
m_send(nghttp2_session *ng, const uint8_t *d, size_t len, int fl, void *ud)
{
	struct member *m = ud;

	(void)ng;
	(void)fl;
	return buf_append(&m->wire, d, len) < 0 ? NGHTTP2_ERR_WOULDBLOCK : (ssize_t)len;
}

static int
m_frame(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct member *m = ud;

	(void)ng;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		m->streams[m->nstreams++] = f->hd.stream_id;
	return 0;
}

static int
m_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct member *m = ud;

	(void)ng;
	if (id / 2 < 16)
		m->closed_code[id / 2] = code + 100;	/* 100: closed, NO_ERROR */
	return 0;
}

static void
member_init(struct member *m, uint32_t max_streams)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry iv[1] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams } };

	memset(m, 0, sizeof(*m));
	assert_int_equal(buf_init(&m->wire, 1 << 20), 0);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, m_send);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, m_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, m_close);
	assert_int_equal(nghttp2_session_server_new(&m->ng, cb, m), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(m->ng, NGHTTP2_FLAG_NONE, iv, max_streams ? 1 : 0), 0);
}

static void
member_free(struct member *m)
{
	nghttp2_session_del(m->ng);
	buf_release(&m->wire);
}

/* Moves frames both ways until neither side has more. */
static void
pump(struct l7_h2up *u, struct member *m)
{
	struct buf out;
	int i;

	assert_int_equal(buf_init(&out, 1 << 20), 0);
	for (i = 0; i < 8; i++) {
		out.rpos = out.wpos = 0;
		l7_h2up_output(u, &out);
		if (buf_len(&out) > 0)
			assert_true(nghttp2_session_mem_recv(m->ng, (uint8_t *)buf_head(&out),
							     buf_len(&out)) >= 0);
		nghttp2_session_send(m->ng);
		if (buf_len(&m->wire) > 0) {
			l7_h2up_input(u, buf_head(&m->wire), buf_len(&m->wire));
			m->wire.rpos = m->wire.wpos = 0;
		}
	}
	buf_release(&out);
}

static ssize_t
body_read(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
	  nghttp2_data_source *src, void *ud)
{
	const char *b = src->ptr;
	size_t n = strlen(b);

	(void)ng;
	(void)id;
	(void)ud;
	assert_true(n <= len);
	memcpy(out, b, n);
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void
reply(struct member *m, int32_t sid, const char *body)
{
	nghttp2_nv nv[] = { { (uint8_t *)":status", (uint8_t *)"200", 7, 3, 0 } };
	nghttp2_data_provider dp = { .source.ptr = (void *)body, .read_callback = body_read };

	assert_int_equal(nghttp2_submit_response(m->ng, sid, nv, 1, &dp), 0);
}

static const char req[] = "GET /x HTTP/1.1\r\nHost: m\r\n\r\n";

/* The whole HTTP/1.1 response of s as a string (static). */
static const char *
response(struct l7_h2up_st *s)
{
	static char text[4096];
	struct buf rb = { .data = text, .cap = sizeof(text) - 1 };

	while (l7_h2up_response(s, &rb) > 0)
		;
	text[rb.wpos] = '\0';
	return text;
}

/* Opens streams a and b (owners oa, ob) on u and sends their requests
 * to the member. */
static void
two_requests(struct l7_h2up *u, struct member *m, struct l7_h2up_st **a, void *oa,
	     struct l7_h2up_st **b, void *ob)
{
	*a = l7_h2up_open(u, oa);
	*b = l7_h2up_open(u, ob);
	assert_non_null(*a);
	assert_non_null(*b);
	assert_int_equal(l7_h2up_take(*a, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	assert_int_equal(l7_h2up_take(*b, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	pump(u, m);
	assert_int_equal(m->nstreams, 2);
}

/* Closes both streams, then the session and the member. */
static void
two_done(struct l7_h2up **u, struct member *m, struct l7_h2up_st **a, struct l7_h2up_st **b)
{
	l7_h2up_close(a);
	l7_h2up_close(b);
	l7_h2up_free(u);
	member_free(m);
}

static void
test_two_streams_one_session(void **state)
{
	struct member m;
	struct l7_h2up *u = l7_h2up_new(10);
	struct l7_h2up_st *a, *b;
	int owner_a, owner_b;
	void *w;

	(void)state;
	member_init(&m, 0);
	two_requests(u, &m, &a, &owner_a, &b, &owner_b);
	assert_int_equal(l7_h2up_streams(u), 2);
	/* one exchange per stream */
	assert_int_equal(l7_h2up_take(a, req, sizeof(req) - 1), -1);
	while (l7_h2up_next_woken(u) != NULL)
		;
	assert_int_equal(m.nstreams, 2);
	/* the second one is answered first: only its owner is woken */
	reply(&m, m.streams[1], "bee");
	pump(u, &m);
	w = l7_h2up_next_woken(u);
	assert_ptr_equal(w, &owner_b);
	assert_null(l7_h2up_next_woken(u));
	assert_non_null(strstr(response(b), "\r\n3\r\nbee\r\n0\r\n\r\n"));
	assert_true(l7_h2up_done(b));
	assert_false(l7_h2up_done(a));
	reply(&m, m.streams[0], "ay");
	pump(u, &m);
	assert_non_null(strstr(response(a), "HTTP/1.1 200 OK\r\n"));
	assert_true(l7_h2up_done(a));
	l7_h2up_close(&a);
	l7_h2up_close(&b);
	assert_int_equal(l7_h2up_streams(u), 0);
	assert_true(l7_h2up_can_open(u));
	l7_h2up_free(&u);
	member_free(&m);
}

static void
test_stream_limits(void **state)
{
	struct member m;
	struct l7_h2up *u = l7_h2up_new(3);
	struct l7_h2up_st *s[4];
	int i;

	(void)state;
	member_init(&m, 2);	/* the member allows fewer than we would */
	s[0] = l7_h2up_open(u, NULL);
	pump(u, &m);		/* its SETTINGS arrive */
	s[1] = l7_h2up_open(u, NULL);
	assert_non_null(s[1]);
	assert_false(l7_h2up_can_open(u));
	assert_null(l7_h2up_open(u, NULL));
	l7_h2up_close(&s[1]);
	assert_true(l7_h2up_can_open(u));
	l7_h2up_close(&s[0]);
	l7_h2up_free(&u);
	member_free(&m);

	/* and ours when it is the smaller */
	member_init(&m, 100);
	u = l7_h2up_new(3);
	pump(u, &m);
	for (i = 0; i < 3; i++)
		assert_non_null(s[i] = l7_h2up_open(u, NULL));
	assert_false(l7_h2up_can_open(u));
	for (i = 0; i < 3; i++)
		l7_h2up_close(&s[i]);
	l7_h2up_free(&u);
	member_free(&m);
}

static void
test_goaway_refuses_later_streams(void **state)
{
	struct member m;
	struct l7_h2up *u = l7_h2up_new(10);
	struct l7_h2up_st *a, *b;

	(void)state;
	member_init(&m, 0);
	two_requests(u, &m, &a, NULL, &b, NULL);
	/* the member processes the first only */
	assert_int_equal(nghttp2_submit_goaway(m.ng, NGHTTP2_FLAG_NONE, m.streams[0],
					       NGHTTP2_NO_ERROR, NULL, 0), 0);
	pump(u, &m);
	assert_true(l7_h2up_goaway_seen(u));
	assert_false(l7_h2up_can_open(u));
	assert_true(l7_h2up_refused(b));
	assert_int_equal(l7_h2up_response(b, &(struct buf){ .data = (char[64]){ 0 }, .cap = 64 }), -1);
	assert_false(l7_h2up_refused(a));
	reply(&m, m.streams[0], "ok");
	pump(u, &m);
	assert_non_null(strstr(response(a), "\r\n2\r\nok\r\n"));
	assert_true(l7_h2up_done(a));
	two_done(&u, &m, &a, &b);
}

static void
test_reset_fails_one_stream(void **state)
{
	struct member m;
	struct l7_h2up *u = l7_h2up_new(10);
	struct l7_h2up_st *a, *b;
	char tmp[64];

	(void)state;
	member_init(&m, 0);
	two_requests(u, &m, &a, NULL, &b, NULL);
	assert_int_equal(nghttp2_submit_rst_stream(m.ng, NGHTTP2_FLAG_NONE, m.streams[0],
						   NGHTTP2_INTERNAL_ERROR), 0);
	reply(&m, m.streams[1], "fine");
	pump(u, &m);
	assert_int_equal(l7_h2up_response(a, &(struct buf){ .data = tmp, .cap = sizeof(tmp) }), -1);
	assert_false(l7_h2up_refused(a));	/* processed: not sent again */
	assert_non_null(strstr(response(b), "fine"));
	assert_true(l7_h2up_can_open(u));
	two_done(&u, &m, &a, &b);
}

static void
test_close_cancels_and_kill_fails_all(void **state)
{
	struct member m;
	struct l7_h2up *u = l7_h2up_new(10);
	struct l7_h2up_st *a, *b;
	int owner_b;
	char tmp[64];

	(void)state;
	member_init(&m, 0);
	two_requests(u, &m, &a, NULL, &b, &owner_b);
	/* the client of a went away: the member hears CANCEL for it */
	l7_h2up_close(&a);
	pump(u, &m);
	assert_int_equal(m.closed_code[m.streams[0] / 2], 100 + NGHTTP2_CANCEL);
	assert_int_equal(m.closed_code[m.streams[1] / 2], 0);	/* b goes on */
	assert_int_equal(l7_h2up_streams(u), 1);
	/* what the member still sends for it is dropped */
	reply(&m, m.streams[0], "late");
	pump(u, &m);
	while (l7_h2up_next_woken(u) != NULL)
		;
	/* the connection dies: b fails and is woken */
	l7_h2up_kill(u);
	assert_ptr_equal(l7_h2up_next_woken(u), &owner_b);
	assert_int_equal(l7_h2up_response(b, &(struct buf){ .data = tmp, .cap = sizeof(tmp) }), -1);
	assert_false(l7_h2up_can_open(u));
	assert_int_equal(l7_h2up_take(b, req, sizeof(req) - 1), -1);
	/* a stream may outlive its session */
	l7_h2up_free(&u);
	l7_h2up_close(&b);
	member_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_streams_one_session),
		cmocka_unit_test(test_stream_limits),
		cmocka_unit_test(test_goaway_refuses_later_streams),
		cmocka_unit_test(test_reset_fails_one_stream),
		cmocka_unit_test(test_close_cancels_and_kill_fails_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
