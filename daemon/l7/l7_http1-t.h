#ifndef TANDEM_L7_HTTP1_T_H
#define TANDEM_L7_HTTP1_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Types of the HTTP/1.x message parser (l7_http1.h). A parsed head refers to
 * the caller's buffer by offsets (struct l7_http1_span), so the parser never
 * allocates and the caller may move the buffer as long as it keeps the bytes.
 */

/* Longest request line before the parser answers 414. */
#define L7_HTTP1_MAX_LINE	8192
/* Largest head (start line + fields + blank line) before 431 (502 upstream). */
#define L7_HTTP1_MAX_HEAD	16384
/* Most header fields in one head; more is answered with 431. */
#define L7_HTTP1_MAX_HEADERS	100
/* Longest chunk-size line (extensions included) and trailer section. */
#define L7_HTTP1_MAX_CHUNK_LINE	4096
#define L7_HTTP1_MAX_TRAILERS	8192

/* Outcome of the head parsers and the body decoder. */
enum l7_http1_rc {
	L7_HTTP1_ERROR = -1,	/* malformed: *status tells the answer; close after it */
	L7_HTTP1_AGAIN = 0,	/* need more bytes */
	L7_HTTP1_DONE = 1,	/* head complete / body complete */
};

enum l7_http1_method {
	L7_HTTP1_M_OTHER = 0,
	L7_HTTP1_M_GET,
	L7_HTTP1_M_HEAD,
	L7_HTTP1_M_POST,
	L7_HTTP1_M_PUT,
	L7_HTTP1_M_DELETE,
	L7_HTTP1_M_CONNECT,
	L7_HTTP1_M_OPTIONS,
	L7_HTTP1_M_TRACE,
	L7_HTTP1_M_PATCH,
};

/* How the body that follows a head is delimited (RFC 9112 section 6.3). */
enum l7_http1_framing {
	L7_HTTP1_BODY_NONE = 0,
	L7_HTTP1_BODY_LENGTH,		/* Content-Length bytes */
	L7_HTTP1_BODY_CHUNKED,		/* final transfer coding is chunked */
	L7_HTTP1_BODY_UNTIL_CLOSE,	/* responses only: ends when the server closes */
};

/* Tokens seen in Connection header fields. */
#define L7_HTTP1_CONN_CLOSE	0x1u
#define L7_HTTP1_CONN_KEEPALIVE	0x2u
#define L7_HTTP1_CONN_UPGRADE	0x4u
#define L7_HTTP1_CONN_OTHER	0x8u	/* other names: fields to drop as hop-by-hop */

/* Bytes [off, off + len) of the buffer the head was parsed from. */
struct l7_http1_span {
	uint32_t off;
	uint32_t len;
};

struct l7_http1_header {
	struct l7_http1_span name;
	struct l7_http1_span value;	/* without leading and trailing whitespace */
};

/* A parsed request or response head. */
struct l7_http1_msg {
	size_t start;			/* offset of the start line (empty lines before it are skipped) */
	size_t head_len;		/* bytes from offset 0 through the blank line */
	int version_minor;		/* HTTP/1.<minor>: 0 or 1 */

	/* requests */
	enum l7_http1_method method;
	struct l7_http1_span method_s;
	struct l7_http1_span target;	/* as sent */
	struct l7_http1_span path;	/* path and query of the target ("/" for "*" and authority-form) */
	struct l7_http1_span authority;	/* absolute-form authority, or the Host value */
	bool has_host;
	bool expect_continue;

	/* responses */
	int status;
	struct l7_http1_span reason;

	struct l7_http1_header headers[L7_HTTP1_MAX_HEADERS];
	size_t nheaders;

	enum l7_http1_framing framing;
	uint64_t content_length;	/* when framing is L7_HTTP1_BODY_LENGTH */
	unsigned conn_tokens;		/* L7_HTTP1_CONN_* */
	bool has_upgrade;		/* an Upgrade field is present */
	bool upgrade_h2c;		/* ... and it names h2c (never tunnelled, see l7_proxy) */
	bool keep_alive;		/* the connection may carry another message after this one */
};

enum l7_http1_chunk_state {
	L7_HTTP1_CH_SIZE = 0,		/* first hex digit of a chunk size */
	L7_HTTP1_CH_SIZE_MORE,		/* further hex digits */
	L7_HTTP1_CH_EXT_WS,		/* whitespace after the size, before ';' or CR */
	L7_HTTP1_CH_EXT,		/* inside chunk extensions */
	L7_HTTP1_CH_SIZE_LF,		/* CR seen after the size line */
	L7_HTTP1_CH_DATA,
	L7_HTTP1_CH_DATA_CR,
	L7_HTTP1_CH_DATA_LF,
	L7_HTTP1_CH_TRAILER_START,	/* start of a trailer line or the final CRLF */
	L7_HTTP1_CH_TRAILER_NAME,
	L7_HTTP1_CH_TRAILER_VALUE,
	L7_HTTP1_CH_TRAILER_LF,
	L7_HTTP1_CH_FINAL_LF,
	L7_HTTP1_CH_DONE,
};

/*
 * Incremental body framing decoder. It never copies: it tells the caller
 * how many input bytes belong to the message, which the caller forwards
 * unchanged.
 */
struct l7_http1_body {
	enum l7_http1_framing framing;
	uint64_t remaining;		/* LENGTH: bytes left; CHUNKED: bytes left in the chunk */
	enum l7_http1_chunk_state cstate;
	unsigned ndigits;		/* significant hex digits of the chunk size */
	size_t line_len;		/* bytes of the current size line or of the trailers */
	uint64_t total;			/* bytes accepted so far */
	bool done;
};

#endif
