/*
 * Unit tests for daemon/l7/l7_http1: request and response heads, every
 * framing, and every refusal, each also fed one byte at a time, since the
 * proxy sees heads and bodies split at arbitrary points.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "l7_http1.h"

static struct l7_http1_msg msg;

/*
 * Parses text whole, then every proper prefix of it: a prefix must answer
 * AGAIN, or the same error as the whole (a limit or a bad byte can be seen
 * early), never DONE. Returns the result for the whole text.
 */
static int
parse_split(const char *text, size_t len, int is_req, enum l7_http1_method rm, int *status)
{
	struct l7_http1_msg *m = malloc(sizeof(*m));
	int rc, st_all = 0;
	size_t k;
	char *copy;

	assert_non_null(m);
	rc = is_req ? l7_http1_parse_request(text, len, &msg, &st_all)
		    : l7_http1_parse_response(text, len, rm, &msg, &st_all);
	for (k = 0; k < len; k++) {
		int st = 0, r;

		/* a copy of exactly k bytes, so reads past the end show in ASan */
		copy = malloc(k ? k : 1);
		assert_non_null(copy);
		memcpy(copy, text, k);
		r = is_req ? l7_http1_parse_request(copy, k, m, &st)
			   : l7_http1_parse_response(copy, k, rm, m, &st);
		free(copy);
		if (rc == L7_HTTP1_DONE && k < msg.head_len) {
			assert_int_equal(r, L7_HTTP1_AGAIN);
		} else if (rc == L7_HTTP1_ERROR) {
			if (r == L7_HTTP1_ERROR)
				assert_int_equal(st, st_all);
			else
				assert_int_equal(r, L7_HTTP1_AGAIN);
		}
	}
	free(m);
	*status = st_all;
	return rc;
}

static int
req(const char *text, int *status)
{
	return parse_split(text, strlen(text), 1, L7_HTTP1_M_OTHER, status);
}

static int
resp(const char *text, enum l7_http1_method rm, int *status)
{
	return parse_split(text, strlen(text), 0, rm, status);
}

static void
expect_req_ok(const char *text)
{
	int st = 0;

	assert_int_equal(req(text, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.head_len, strlen(text));
}

static void
expect_req_err(const char *text, int status)
{
	int st = 0;

	assert_int_equal(req(text, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, status);
}

static void
expect_resp_err(const char *text)
{
	int st = 0;

	assert_int_equal(resp(text, L7_HTTP1_M_GET, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 502);
}

static int
span_is(const char *buf, struct l7_http1_span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(buf + s.off, lit, s.len) == 0;
}

/* ---- requests ---- */

static void
test_req_simple(void **state)
{
	const char *t = "GET /a/b?c=d HTTP/1.1\r\nHost: Example.com:8080\r\nAccept: */*\r\n"
			"X-Empty:\r\nX-Spaces:  v  \r\n\r\n";

	expect_req_ok(t);
	assert_int_equal(msg.method, L7_HTTP1_M_GET);
	assert_true(span_is(t, msg.method_s, "GET"));
	assert_true(span_is(t, msg.target, "/a/b?c=d"));
	assert_true(span_is(t, msg.path, "/a/b?c=d"));
	assert_true(span_is(t, msg.authority, "Example.com:8080"));
	assert_int_equal(msg.version_minor, 1);
	assert_int_equal(msg.nheaders, 4);
	assert_true(span_is(t, msg.headers[2].value, ""));
	assert_true(span_is(t, msg.headers[3].value, "v"));
	assert_true(msg.has_host);
	assert_true(msg.keep_alive);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	assert_int_equal(msg.start, 0);
}

static void
test_req_leading_crlf(void **state)
{
	const char *t = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

	expect_req_ok(t);
	assert_int_equal(msg.start, 4);
	assert_true(span_is(t, msg.method_s, "GET"));
	expect_req_err("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_req_http10(void **state)
{
	expect_req_ok("GET / HTTP/1.0\r\n\r\n");
	assert_int_equal(msg.version_minor, 0);
	assert_false(msg.keep_alive);
	assert_false(msg.has_host);
	expect_req_ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_true(msg.keep_alive);
	/* a later 1.x minor reads as 1.1 */
	expect_req_ok("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
	assert_int_equal(msg.version_minor, 1);
}

static void
test_req_connection(void **state)
{
	const char *t = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
			"X-Keep: 2\r\n\r\n";

	expect_req_ok(t);
	assert_false(msg.keep_alive);
	assert_true(msg.conn_tokens & L7_HTTP1_CONN_CLOSE);
	assert_true(msg.conn_tokens & L7_HTTP1_CONN_OTHER);
	assert_true(l7_http1_conn_lists(t, &msg, &msg.headers[2]));
	assert_false(l7_http1_conn_lists(t, &msg, &msg.headers[3]));
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
		      "Expect: 100-continue\r\n\r\n");
	assert_true(msg.has_upgrade);
	assert_false(msg.upgrade_h2c);
	assert_true(msg.conn_tokens & L7_HTTP1_CONN_UPGRADE);
	assert_true(msg.expect_continue);
	assert_true(msg.keep_alive);
	/* h2c among the protocols, any case, with a version or not */
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		      "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
	assert_true(msg.has_upgrade);
	assert_true(msg.upgrade_h2c);
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket, H2C/1\r\nConnection: upgrade\r\n\r\n");
	assert_true(msg.upgrade_h2c);
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2cx, websocket/13\r\nConnection: upgrade\r\n\r\n");
	assert_false(msg.upgrade_h2c);
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_false(msg.has_upgrade);
	assert_false(msg.upgrade_h2c);
}

static void
test_req_content_length(void **state)
{
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_LENGTH);
	assert_int_equal(msg.content_length, 42);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	/* identical duplicates are one value (RFC 9110 §8.6) */
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n");
	assert_int_equal(msg.content_length, 7);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n");
	assert_int_equal(msg.content_length, 7);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n");
	assert_int_equal(msg.content_length, 999999999999999999ull);

	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 8\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +7\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7a\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7,\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551617\r\n\r\n", 400);
}

static void
test_req_transfer_encoding(void **state)
{
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_CHUNKED);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_CHUNKED);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_CHUNKED);
	expect_req_ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(msg.framing, L7_HTTP1_BODY_CHUNKED);

	/* CL with TE: the classic smuggling vector */
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
	/* chunked not final, twice, or absent */
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	expect_req_err("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400);
	/* HTTP/1.0 has no chunked framing (RFC 9112 §6.1) */
	expect_req_err("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

static void
test_req_bad_syntax(void **state)
{
	/* obs-fold */
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400);
	/* whitespace before the colon, in the name, empty name */
	expect_req_err("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400);
	/* bare LF and bare CR */
	expect_req_err("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400);
	expect_req_err("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	/* control characters in values */
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400);
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
		int st = 0;

		assert_int_equal(parse_split(nul, sizeof(nul) - 1, 1, L7_HTTP1_M_OTHER, &st),
				 L7_HTTP1_ERROR);
		assert_int_equal(st, 400);
	}
	/* obs-text in a value is allowed */
	expect_req_ok("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n");
	/* long values are checked 8 bytes at a time: one byte at each place
	 * of a 24-byte value, refused or allowed like a short value's */
	{
		static const unsigned char bad[] = { 0x00, 0x01, 0x08, 0x0b, 0x0d, 0x1f, 0x7f };
		static const unsigned char good[] = { '\t', ' ', '~', 0x80, 0xff };
		static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
		char t[128];
		size_t pos, k, n = sizeof(pre) - 1;
		int st;

		memcpy(t, pre, n);
		memset(t + n, 'v', 24);
		memcpy(t + n + 24, "\r\n\r\n", 4);
		for (pos = 1; pos < 23; pos++) {	/* not at the ends: OWS there */
			for (k = 0; k < sizeof(bad); k++) {
				t[n + pos] = (char)bad[k];
				st = 0;
				assert_int_equal(parse_split(t, n + 28, 1, L7_HTTP1_M_OTHER, &st),
						 L7_HTTP1_ERROR);
				assert_int_equal(st, 400);
			}
			for (k = 0; k < sizeof(good); k++) {
				t[n + pos] = (char)good[k];
				st = 0;
				assert_int_equal(parse_split(t, n + 28, 1, L7_HTTP1_M_OTHER, &st),
						 L7_HTTP1_DONE);
				assert_int_equal(msg.headers[1].value.len, 24);
			}
			t[n + pos] = 'v';
		}
	}
	/* request line */
	expect_req_err("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET /\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	expect_req_err("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
	expect_req_err("GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	expect_req_err("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501);
}

static void
test_req_host(void **state)
{
	expect_req_err("GET / HTTP/1.1\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	expect_req_err("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
	expect_req_ok("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
	expect_req_ok("GET / HTTP/1.1\r\nHost:\r\n\r\n");
	assert_int_equal(msg.authority.len, 0);
}

static void
test_req_target_forms(void **state)
{
	const char *t = "GET http://Example.com:81/p/q?x HTTP/1.1\r\nHost: other\r\n\r\n";

	expect_req_ok(t);
	assert_true(span_is(t, msg.authority, "Example.com:81"));
	assert_true(span_is(t, msg.path, "/p/q?x"));
	t = "GET https://h HTTP/1.1\r\nHost: h\r\n\r\n";
	expect_req_ok(t);
	assert_true(span_is(t, msg.authority, "h"));
	assert_int_equal(msg.path.len, 0);
	t = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
	expect_req_ok(t);
	assert_int_equal(msg.method, L7_HTTP1_M_OPTIONS);
	expect_req_err("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_req_err("GET http:/h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_req_err("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_req_err("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void
test_req_limits(void **state)
{
	size_t n = L7_HTTP1_MAX_LINE + 100, i;
	char *t = malloc(L7_HTTP1_MAX_HEAD + 4096);
	int st = 0;

	assert_non_null(t);
	/* 414 as soon as the line is too long, before its end arrives */
	memcpy(t, "GET /", 5);
	memset(t + 5, 'a', n - 5);
	assert_int_equal(l7_http1_parse_request(t, n, &msg, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 414);
	memcpy(t + n, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
	assert_int_equal(l7_http1_parse_request(t, n + 22, &msg, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 414);
	/* a line just under the limit is fine */
	n = (size_t)snprintf(t, 64, "GET /");
	memset(t + n, 'b', 8000);
	n += 8000;
	n += (size_t)snprintf(t + n, 64, " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(l7_http1_parse_request(t, n, &msg, &st), L7_HTTP1_DONE);

	/* 431: a huge field, complete or not */
	n = (size_t)snprintf(t, 64, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(t + n, 'c', L7_HTTP1_MAX_HEAD);
	assert_int_equal(l7_http1_parse_request(t, n + L7_HTTP1_MAX_HEAD, &msg, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 431);
	memcpy(t + n + L7_HTTP1_MAX_HEAD, "\r\n\r\n", 4);
	assert_int_equal(l7_http1_parse_request(t, n + L7_HTTP1_MAX_HEAD + 4, &msg, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 431);
	/* 431: too many fields */
	n = (size_t)snprintf(t, 64, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < L7_HTTP1_MAX_HEADERS; i++)
		n += (size_t)snprintf(t + n, 64, "X%zu: 1\r\n", i);
	memcpy(t + n, "\r\n", 2);
	assert_int_equal(l7_http1_parse_request(t, n + 2, &msg, &st), L7_HTTP1_ERROR);
	assert_int_equal(st, 431);
	free(t);
}

static void
test_req_methods(void **state)
{
	static const struct { const char *m; enum l7_http1_method v; } tab[] = {
		{ "GET", L7_HTTP1_M_GET }, { "HEAD", L7_HTTP1_M_HEAD }, { "POST", L7_HTTP1_M_POST },
		{ "PUT", L7_HTTP1_M_PUT }, { "DELETE", L7_HTTP1_M_DELETE },
		{ "OPTIONS", L7_HTTP1_M_OPTIONS }, { "TRACE", L7_HTTP1_M_TRACE },
		{ "PATCH", L7_HTTP1_M_PATCH }, { "PURGE", L7_HTTP1_M_OTHER },
		{ "get", L7_HTTP1_M_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char t[128];

		snprintf(t, sizeof(t), "%s / HTTP/1.1\r\nHost: a\r\n\r\n", tab[i].m);
		expect_req_ok(t);
		assert_int_equal(msg.method, tab[i].v);
	}
}

/* ---- responses ---- */

static void
test_resp_framing(void **state)
{
	int st;
	const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

	assert_int_equal(resp(t, L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.status, 200);
	assert_true(span_is(t, msg.reason, "OK"));
	assert_int_equal(msg.framing, L7_HTTP1_BODY_LENGTH);
	assert_int_equal(msg.content_length, 5);
	assert_true(msg.keep_alive);
	/* HEAD: no body whatever the fields say */
	assert_int_equal(resp(t, L7_HTTP1_M_HEAD, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	assert_true(msg.keep_alive);

	assert_int_equal(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", L7_HTTP1_M_GET, &st),
			 L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_CHUNKED);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_UNTIL_CLOSE);
	assert_false(msg.keep_alive);
	assert_int_equal(resp("HTTP/1.1 204 No Content\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	assert_true(msg.keep_alive);
	assert_int_equal(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", L7_HTTP1_M_GET, &st),
			 L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	assert_int_equal(resp("HTTP/1.1 100 Continue\r\n\r\n", L7_HTTP1_M_POST, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.status, 100);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.framing, L7_HTTP1_BODY_NONE);
	/* no reason phrase, with and without the SP */
	assert_int_equal(resp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(resp("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_int_equal(msg.status, 404);
}

static void
test_resp_keepalive(void **state)
{
	int st;

	assert_int_equal(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_false(msg.keep_alive);
	assert_int_equal(resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
			      L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_true(msg.keep_alive);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
			      L7_HTTP1_M_GET, &st), L7_HTTP1_DONE);
	assert_false(msg.keep_alive);
}

static void
test_resp_refusals(void **state)
{
	char *big;
	int st;

	expect_resp_err("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
	expect_resp_err("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nX : a\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n");
	expect_resp_err("HTTP/1.1 200 OK\rX\r\n\r\n");
	expect_resp_err("HTTP/1.1 200 O\x01K\r\n\r\n");
	expect_resp_err("HTTP/1.1 20 OK\r\n\r\n");
	expect_resp_err("HTTP/1.1 2000 OK\r\n\r\n");
	expect_resp_err("HTTP/1.1 600 OK\r\n\r\n");
	expect_resp_err("HTTP/1.1 099 OK\r\n\r\n");
	expect_resp_err("HTTP/2 200 OK\r\n\r\n");
	expect_resp_err("HTTP/2.0 200 OK\r\n\r\n");
	expect_resp_err("HTTP/1.1  200 OK\r\n\r\n");
	expect_resp_err("HTTP/1.1 200OK\r\n\r\n");
	expect_resp_err("ICY 200 OK\r\n\r\n");
	/* leading empty lines are tolerated in requests only */
	expect_resp_err("\r\nHTTP/1.1 200 OK\r\n\r\n");
	big = malloc(L7_HTTP1_MAX_HEAD + 64);
	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'x', L7_HTTP1_MAX_HEAD);
	assert_int_equal(l7_http1_parse_response(big, L7_HTTP1_MAX_HEAD + 20, L7_HTTP1_M_GET, &msg, &st),
			 L7_HTTP1_ERROR);
	assert_int_equal(st, 502);
	free(big);
}

/* ---- bodies ---- */

/*
 * Decodes in as the body after head (a request or response head text), fed
 * whole and then one byte at a time; both must agree. Returns the bytes
 * accepted, or -1 on a framing error; *done says whether the message ended.
 */
static ssize_t
decode(const char *head, int is_req, const char *in, size_t len, int *done)
{
	struct l7_http1_body b1, b2;
	ssize_t whole, total = 0;
	int st, err = 0;
	size_t i;

	if (is_req)
		assert_int_equal(l7_http1_parse_request(head, strlen(head), &msg, &st), L7_HTTP1_DONE);
	else
		assert_int_equal(l7_http1_parse_response(head, strlen(head), L7_HTTP1_M_GET, &msg, &st),
				 L7_HTTP1_DONE);
	l7_http1_body_init(&b1, &msg);
	b2 = b1;
	whole = l7_http1_body_feed(&b1, in, len);
	for (i = 0; i < len && !b2.done; i++) {
		ssize_t n = l7_http1_body_feed(&b2, in + i, 1);

		if (n < 0) {
			err = 1;
			break;
		}
		total += n;
		if (n == 0)
			break;
	}
	if (whole < 0) {
		assert_true(err);
		*done = 0;
		return -1;
	}
	assert_false(err);
	assert_int_equal(whole, total);
	assert_int_equal(b1.done, b2.done);
	*done = b1.done;
	return whole;
}

#define CHUNKED_REQ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNKED_RESP "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static void
expect_chunked(const char *body, size_t want, int want_done)
{
	int done;

	assert_int_equal(decode(CHUNKED_REQ, 1, body, strlen(body), &done), (ssize_t)want);
	assert_int_equal(done, want_done);
	assert_int_equal(decode(CHUNKED_RESP, 0, body, strlen(body), &done), (ssize_t)want);
	assert_int_equal(done, want_done);
}

static void
expect_chunked_err(const char *body)
{
	int done;

	assert_int_equal(decode(CHUNKED_REQ, 1, body, strlen(body), &done), -1);
	assert_int_equal(decode(CHUNKED_RESP, 0, body, strlen(body), &done), -1);
}

static void
test_body_length(void **state)
{
	int done;

	assert_int_equal(decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 1,
				"helloGET / HTTP/1.1\r\n", 21, &done), 5);
	assert_true(done);
	assert_int_equal(decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 1,
				"hel", 3, &done), 3);
	assert_false(done);
	assert_int_equal(decode("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", 0, "abcdef", 6, &done), 3);
	assert_true(done);
	/* no body: nothing belongs to the message, it is done at once */
	assert_int_equal(decode("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, "GET", 3, &done), 0);
	assert_true(done);
}

static void
test_body_until_close(void **state)
{
	struct l7_http1_body b;
	int done, st;

	assert_int_equal(decode("HTTP/1.1 200 OK\r\n\r\n", 0, "abcdef", 6, &done), 6);
	assert_false(done);
	assert_int_equal(l7_http1_parse_response("HTTP/1.1 200 OK\r\n\r\n", 19, L7_HTTP1_M_GET, &msg, &st),
			 L7_HTTP1_DONE);
	l7_http1_body_init(&b, &msg);
	assert_int_equal(l7_http1_body_feed(&b, "xyz", 3), 3);
	assert_int_equal(l7_http1_body_eof(&b), 1);
	assert_true(b.done);
	/* a Content-Length body cut short is not a clean end */
	assert_int_equal(l7_http1_parse_response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 38,
						 L7_HTTP1_M_GET, &msg, &st), L7_HTTP1_DONE);
	l7_http1_body_init(&b, &msg);
	assert_int_equal(l7_http1_body_feed(&b, "xyz", 3), 3);
	assert_int_equal(l7_http1_body_eof(&b), 0);
}

static void
test_body_chunked(void **state)
{
	expect_chunked("5\r\nhello\r\n0\r\n\r\n", 15, 1);
	/* the next message is not part of this one */
	expect_chunked("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 15, 1);
	expect_chunked("A\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", 26, 1);
	expect_chunked("a\r\n0123456789\r\n0\r\n\r\n", 20, 1);
	/* leading zeros do not count toward the size limit */
	expect_chunked("00000000000000000000005\r\nhello\r\n0\r\n\r\n", 37, 1);
	expect_chunked("0000\r\n\r\n", 8, 1);
	/* extensions, with BWS before ';' */
	expect_chunked("5;name=value;q=\"a b\"\r\nhello\r\n0;last\r\n\r\n", 39, 1);
	expect_chunked("5 ;x\r\nhello\r\n0\r\n\r\n", 18, 1);
	/* trailers */
	expect_chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\nY:2\r\n\r\n", 30, 1);
	/* incomplete: everything given belongs to the message */
	expect_chunked("5\r\nhel", 6, 0);
	expect_chunked("5\r\nhello\r\n0\r\n", 13, 0);
	expect_chunked("5\r\nhello\r\n0\r\nX: 1\r\n", 19, 0);
}

static void
test_body_chunked_errors(void **state)
{
	char *ext;

	expect_chunked_err("zz\r\n");
	expect_chunked_err("\r\nhello\r\n");
	expect_chunked_err("-5\r\nhello\r\n");
	expect_chunked_err("0x5\r\nhello\r\n");
	expect_chunked_err("5\nhello\r\n0\r\n\r\n");
	expect_chunked_err("5\r\nhelloX\r\n0\r\n\r\n");
	expect_chunked_err("5\r\nhello\n0\r\n\r\n");
	expect_chunked_err("5\r\nhello\r\r\n");
	expect_chunked_err("5 \r\nhello\r\n0\r\n\r\n");
	expect_chunked_err("5;a\x01\r\nhello\r\n");
	expect_chunked_err("5;a\nhello\r\n");
	/* 16 significant hex digits: would overflow our size type's safe range */
	expect_chunked_err("1000000000000000\r\n");
	expect_chunked_err("ffffffffffffffffff\r\n");
	/* trailers: obs-fold, no colon, whitespace before colon, bare LF, bad final */
	expect_chunked_err("0\r\nX: 1\r\n y\r\n\r\n");
	expect_chunked_err("0\r\nNoColon\r\n\r\n");
	expect_chunked_err("0\r\nX : 1\r\n\r\n");
	expect_chunked_err("0\r\nX: 1\n\r\n");
	expect_chunked_err("0\r\n\rX");
	expect_chunked_err("0\r\n\n");
	/* an endless extension */
	ext = malloc(L7_HTTP1_MAX_CHUNK_LINE + 16);
	assert_non_null(ext);
	memcpy(ext, "5;", 2);
	memset(ext + 2, 'e', L7_HTTP1_MAX_CHUNK_LINE + 8);
	ext[L7_HTTP1_MAX_CHUNK_LINE + 10] = '\0';
	expect_chunked_err(ext);
	free(ext);
}

static void
test_body_chunked_large(void **state)
{
	struct l7_http1_body b;
	int st;

	assert_int_equal(l7_http1_parse_request(CHUNKED_REQ, strlen(CHUNKED_REQ), &msg, &st), L7_HTTP1_DONE);
	l7_http1_body_init(&b, &msg);
	/* a 4 GiB chunk is streamed through, counted down */
	assert_int_equal(l7_http1_body_feed(&b, "100000000\r\n", 11), 11);
	assert_int_equal(b.remaining, 0x100000000ull);
	assert_int_equal(l7_http1_body_feed(&b, "abcd", 4), 4);
	assert_int_equal(b.remaining, 0x100000000ull - 4);
	assert_false(b.done);
	assert_int_equal(b.total, 15);
}

static void
test_helpers(void **state)
{
	assert_string_equal(l7_http1_reason(404), "Not Found");
	assert_string_equal(l7_http1_reason(502), "Bad Gateway");
	assert_string_equal(l7_http1_reason(299), "Unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_simple),
		cmocka_unit_test(test_req_leading_crlf),
		cmocka_unit_test(test_req_http10),
		cmocka_unit_test(test_req_connection),
		cmocka_unit_test(test_req_content_length),
		cmocka_unit_test(test_req_transfer_encoding),
		cmocka_unit_test(test_req_bad_syntax),
		cmocka_unit_test(test_req_host),
		cmocka_unit_test(test_req_target_forms),
		cmocka_unit_test(test_req_limits),
		cmocka_unit_test(test_req_methods),
		cmocka_unit_test(test_resp_framing),
		cmocka_unit_test(test_resp_keepalive),
		cmocka_unit_test(test_resp_refusals),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_body_until_close),
		cmocka_unit_test(test_body_chunked),
		cmocka_unit_test(test_body_chunked_errors),
		cmocka_unit_test(test_body_chunked_large),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
