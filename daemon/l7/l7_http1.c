/*
 * l7_http1 - strict HTTP/1.x head parser and body framing decoder.
 *
 * The proxy forwards what it parses, so every ambiguity one hop could read
 * differently from the next is refused instead of repaired (RFC 9112 §11.2
 * request smuggling): CL with TE, differing CLs, a TE whose final coding is
 * not chunked, obs-fold, whitespace before a colon, bare CR or LF, control
 * characters, and chunk sizes that overflow. Limits are checked while the
 * head is still incomplete, so a client cannot make us wait for 1 MB of
 * request line before answering 414.
 *
 * A head is reparsed from its first byte on every call until it is complete;
 * heads are at most L7_HTTP1_MAX_HEAD bytes, so this stays cheap and keeps the
 * parser free of saved state.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "l7_http1.h"

/* Character classes, one bit each, indexed by byte value. */
#define CC_TCHAR	0x01	/* token characters (RFC 9110 §5.6.2) */
#define CC_VALUE	0x02	/* field-vchar, SP, HTAB, obs-text */
#define CC_TARGET	0x04	/* request-target: visible ASCII */
#define CC_HEX		0x08
#define CC_HOST		0x10	/* reg-name, IP-literal and port characters */

static unsigned char l7_cc[256];
static int l7_cc_ready;

/* The table is computed once; racing threads write identical bytes. */
static void
l7_cc_init(void)
{
	const char *tspecial = "!#$%&'*+-.^_`|~";
	const char *hostsp = "-._~!$&'()*+,;=:[]%";
	int c;

	if (__atomic_load_n(&l7_cc_ready, __ATOMIC_ACQUIRE))
		return;
	for (c = 0; c < 256; c++) {
		unsigned char v = 0;
		int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (alnum || (c != 0 && strchr(tspecial, c) != NULL))
			v |= CC_TCHAR;
		if (c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80)
			v |= CC_VALUE;
		if (c >= 0x21 && c <= 0x7e)
			v |= CC_TARGET;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			v |= CC_HEX;
		if (alnum || (c != 0 && strchr(hostsp, c) != NULL))
			v |= CC_HOST;
		l7_cc[c] = v;
	}
	__atomic_store_n(&l7_cc_ready, 1, __ATOMIC_RELEASE);
}

#define IS(cls, ch) (l7_cc[(unsigned char)(ch)] & (cls))

static inline struct l7_http1_span
l7_span(size_t off, size_t len)
{
	struct l7_http1_span s = { (uint32_t)off, (uint32_t)len };

	return s;
}

/* p[0, len) equals the lower-case literal lit, ASCII letters folded: HTTP's
 * case rule whatever the locale, and no libc call per field (the length
 * test settles most fields; inlined, strlen of the literal is a constant). */
static inline int
l7_mem_ieq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit), i;

	if (len != n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + ('a' - 'A'));
		if (c != (unsigned char)lit[i])
			return 0;
	}
	return 1;
}

/* Per-parse scratch: what the fields said, before framing is decided. */
struct l7_fields {
	int ncl;			/* Content-Length fields seen */
	uint64_t cl;
	int nte;			/* Transfer-Encoding fields seen */
	int te_chunked_final;		/* the last coding so far is chunked */
	int te_chunked_count;
	int nhost;
	int status;			/* error status on failure */
};

/* Content-Length: 1*DIGIT, or a list of identical values (RFC 9110 §8.6). */
static int
l7_parse_cl(const char *p, size_t len, struct l7_fields *f)
{
	size_t i = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		uint64_t v = 0;
		size_t nd = 0;

		while (i < len && p[i] >= '0' && p[i] <= '9') {
			if (++nd > 18)	/* keeps v below 2^63: no overflow to check */
				return -1;
			v = v * 10 + (uint64_t)(p[i] - '0');
			i++;
		}
		if (nd == 0)
			return -1;
		if (f->ncl > 0 && v != f->cl)
			return -1;
		f->cl = v;
		f->ncl++;
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (p[i] != ',')
			return -1;
		i++;
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == len)
			return -1;
	}
	return 0;
}

/* Transfer-Encoding: a list of codings; chunked may appear once and last. */
static int
l7_parse_te(const char *p, size_t len, struct l7_fields *f)
{
	size_t i = 0;

	f->nte++;
	while (i < len) {
		size_t s;

		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && IS(CC_TCHAR, p[i]))
			i++;
		if (i == s)
			return -1;
		if (l7_mem_ieq(p + s, i - s, "chunked")) {
			if (f->te_chunked_count++ > 0)
				return -1;	/* chunked twice */
			f->te_chunked_final = 1;
		} else {
			if (f->te_chunked_count > 0)
				return -1;	/* a coding after chunked */
			f->te_chunked_final = 0;
		}
		/* transfer-parameters (";" name "=" value): skip to the next comma */
		while (i < len && p[i] != ',')
			i++;
	}
	return 0;
}

/* The next element of a comma-separated field value, from *i: skips
 * separators and returns where the element starts; *i ends at the first
 * comma, blank or `end` byte after it (end ',' when nothing else ends it). */
static size_t
l7_list_next(const char *p, size_t len, size_t *i, char end)
{
	size_t s;

	while (*i < len && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == ','))
		(*i)++;
	s = *i;
	while (*i < len && p[*i] != ',' && p[*i] != ' ' && p[*i] != '\t' && p[*i] != end)
		(*i)++;
	return s;
}

/* Connection: comma-separated tokens. */
static unsigned
l7_parse_connection(const char *p, size_t len)
{
	unsigned flags = 0;
	size_t i = 0;

	while (i < len) {
		size_t s = l7_list_next(p, len, &i, ',');

		if (i == s)
			continue;
		if (l7_mem_ieq(p + s, i - s, "close"))
			flags |= L7_HTTP1_CONN_CLOSE;
		else if (l7_mem_ieq(p + s, i - s, "keep-alive"))
			flags |= L7_HTTP1_CONN_KEEPALIVE;
		else if (l7_mem_ieq(p + s, i - s, "upgrade"))
			flags |= L7_HTTP1_CONN_UPGRADE | L7_HTTP1_CONN_OTHER;
		else
			flags |= L7_HTTP1_CONN_OTHER;
	}
	return flags;
}

/* Upgrade: comma-separated protocols, each "name[/version]": does one
 * name h2c (RFC 9113 3.1 deprecated that upgrade)? */
static bool
l7_upgrade_names_h2c(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t s = l7_list_next(p, len, &i, '/');

		if (l7_mem_ieq(p + s, i - s, "h2c"))
			return true;
		while (i < len && p[i] != ',')
			i++;	/* past the version and anything after it */
	}
	return false;
}

/* The end of the run from i of 8-byte words that need no per-byte look
 * (every byte 0x20-0x7e or >= 0x80: a field value's usual bytes); the
 * per-byte CC_VALUE check takes over from there (tabs, bad bytes, the
 * tail). Field values are the bulk of a head's bytes. */
static inline size_t
l7_value_run(const char *buf, size_t i, size_t e)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;

	while (e - i >= 8) {
		uint64_t x, del;

		memcpy(&x, buf + i, 8);
		del = x ^ (0x7f * ones);
		/* any byte < 0x20, any byte == 0x7f (exact "any" tests) */
		if (((x - 0x20 * ones) & ~x & high) != 0 || ((del - ones) & ~del & high) != 0)
			break;
		i += 8;
	}
	return i;
}

/*
 * One field line [s, e) (CRLF excluded). Stores it in m and applies the
 * fields that decide framing. bad is the status for a malformed line.
 */
static int
l7_parse_field(const char *buf, size_t s, size_t e, struct l7_http1_msg *m,
	       struct l7_fields *f, int is_req, int bad)
{
	struct l7_http1_header *h;
	size_t i = s, vs, ve;
	const char *name;
	size_t nlen;

	if (buf[s] == ' ' || buf[s] == '\t')
		goto fail;	/* obs-fold (RFC 9112 §5.2) */
	while (i < e && IS(CC_TCHAR, buf[i]))
		i++;
	if (i == s || i == e || buf[i] != ':')
		goto fail;	/* empty name, whitespace or junk before ':' */
	nlen = i - s;
	i++;
	while (i < e && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	vs = i;
	i = l7_value_run(buf, i, e);
	for (; i < e; i++)
		if (!IS(CC_VALUE, buf[i]))
			goto fail;
	ve = e;
	while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
		ve--;
	if (m->nheaders == L7_HTTP1_MAX_HEADERS) {
		f->status = is_req ? 431 : 502;
		return -1;
	}
	h = &m->headers[m->nheaders++];
	h->name = l7_span(s, nlen);
	h->value = l7_span(vs, ve - vs);

	name = buf + s;
	switch (name[0] | 0x20) {
	case 'c':
		if (l7_mem_ieq(name, nlen, "content-length")) {
			if (l7_parse_cl(buf + vs, ve - vs, f) < 0)
				goto fail;
		} else if (l7_mem_ieq(name, nlen, "connection")) {
			m->conn_tokens |= l7_parse_connection(buf + vs, ve - vs);
		}
		break;
	case 't':
		if (l7_mem_ieq(name, nlen, "transfer-encoding") && l7_parse_te(buf + vs, ve - vs, f) < 0)
			goto fail;
		break;
	case 'h':
		if (is_req && l7_mem_ieq(name, nlen, "host")) {
			size_t k;

			if (f->nhost++ > 0)
				goto fail;	/* two Host fields (RFC 9112 §3.2) */
			for (k = vs; k < ve; k++)
				if (!IS(CC_HOST, buf[k]))
					goto fail;
			m->has_host = true;
			if (m->authority.len == 0)
				m->authority = h->value;
		}
		break;
	case 'u':
		if (l7_mem_ieq(name, nlen, "upgrade")) {
			m->has_upgrade = true;
			if (l7_upgrade_names_h2c(buf + vs, ve - vs))
				m->upgrade_h2c = true;
		}
		break;
	case 'e':
		if (is_req && l7_mem_ieq(name, nlen, "expect") &&
		    l7_mem_ieq(buf + vs, ve - vs, "100-continue"))
			m->expect_continue = true;
		break;
	default:
		break;
	}
	return 0;
fail:
	f->status = bad;
	return -1;
}

static enum l7_http1_method
l7_method_of(const char *p, size_t n)
{
	static const struct { const char *s; enum l7_http1_method m; } tab[] = {
		{ "GET", L7_HTTP1_M_GET }, { "HEAD", L7_HTTP1_M_HEAD },
		{ "POST", L7_HTTP1_M_POST }, { "PUT", L7_HTTP1_M_PUT },
		{ "DELETE", L7_HTTP1_M_DELETE }, { "CONNECT", L7_HTTP1_M_CONNECT },
		{ "OPTIONS", L7_HTTP1_M_OPTIONS }, { "TRACE", L7_HTTP1_M_TRACE },
		{ "PATCH", L7_HTTP1_M_PATCH },
	};
	size_t i;

	/* methods are case-sensitive (RFC 9110 §9.1) */
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].s) == n && memcmp(tab[i].s, p, n) == 0)
			return tab[i].m;
	return L7_HTTP1_M_OTHER;
}

/* "HTTP/1.x" at p; returns the minor version (2..9 read as 1), -1 when
 * malformed, -2 for another major version. */
static int
l7_parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -1;
	if (p[5] != '1')
		return -2;
	return p[7] == '0' ? 0 : 1;
}

/* request-line = method SP request-target SP HTTP-version */
static int
l7_parse_request_line(const char *buf, size_t s, size_t e, struct l7_http1_msg *m, int *status)
{
	size_t i = s, ts, te;
	int v;

	*status = 400;
	while (i < e && IS(CC_TCHAR, buf[i]))
		i++;
	if (i == s || i == e || buf[i] != ' ')
		return -1;
	m->method_s = l7_span(s, i - s);
	m->method = l7_method_of(buf + s, i - s);
	ts = ++i;
	while (i < e && IS(CC_TARGET, buf[i]))
		i++;
	if (i == ts || i == e || buf[i] != ' ')
		return -1;
	te = i++;
	v = l7_parse_version(buf + i, e - i);
	if (v == -2) {
		*status = 505;
		return -1;
	}
	if (v < 0)
		return -1;
	m->version_minor = v;
	m->target = l7_span(ts, te - ts);

	if (m->method == L7_HTTP1_M_CONNECT) {
		*status = 501;	/* a reverse proxy does not tunnel */
		return -1;
	}
	if (buf[ts] == '/') {
		m->path = m->target;
	} else if (te - ts == 1 && buf[ts] == '*') {
		if (m->method != L7_HTTP1_M_OPTIONS)
			return -1;
		m->path = m->target;
	} else {
		/* absolute-form: scheme "://" authority [path-abempty] ["?" query] */
		size_t k = ts, as;

		while (k < te && buf[k] != ':')
			k++;
		if (!(l7_mem_ieq(buf + ts, k - ts, "http") || l7_mem_ieq(buf + ts, k - ts, "https")) ||
		    te - k < 3 || buf[k + 1] != '/' || buf[k + 2] != '/')
			return -1;
		as = k + 3;
		for (k = as; k < te && buf[k] != '/' && buf[k] != '?'; k++)
			if (!IS(CC_HOST, buf[k]) || buf[k] == '@')
				return -1;
		if (k == as)
			return -1;
		/* the target's authority replaces Host (RFC 9112 §3.2.2) */
		m->authority = l7_span(as, k - as);
		m->path = l7_span(k, te - k);
	}
	return 0;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
static int
l7_parse_status_line(const char *buf, size_t s, size_t e, struct l7_http1_msg *m)
{
	int v, st;
	size_t i;

	if (e - s < 12 || buf[s + 8] != ' ')
		return -1;
	v = l7_parse_version(buf + s, 8);
	if (v < 0)
		return -1;
	m->version_minor = v;
	for (i = s + 9, st = 0; i < s + 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		st = st * 10 + (buf[i] - '0');
	}
	if (st < 100 || st > 599)
		return -1;
	m->status = st;
	i = s + 12;
	if (i < e) {
		/* tolerated: "HTTP/1.1 200" without the SP when there is no reason */
		if (buf[i] != ' ')
			return -1;
		for (i++; i < e; i++)
			if (!IS(CC_VALUE, buf[i]))
				return -1;
		m->reason = l7_span(s + 13, e - (s + 13));
	}
	return 0;
}

/*
 * The shared head walk. Finds each CRLF-terminated line, refuses bare LF and
 * (through the per-line character checks) bare CR, enforces the limits as the
 * bytes arrive and hands each line to its parser.
 */
static int
l7_parse_head(const char *buf, size_t len, struct l7_http1_msg *m, int is_req,
	      enum l7_http1_method req_method, int *status)
{
	struct l7_fields f = { 0 };
	int bad = is_req ? 400 : 502;
	size_t pos = 0, ls;
	int first = 1;

	l7_cc_init();
	memset(m, 0, offsetof(struct l7_http1_msg, headers));
	m->nheaders = 0;
	m->framing = L7_HTTP1_BODY_NONE;
	m->content_length = 0;
	m->conn_tokens = 0;
	m->has_upgrade = false;
	m->upgrade_h2c = false;
	m->keep_alive = false;

	/* A server SHOULD ignore at least one empty line before a request
	 * (RFC 9112 §2.2); a few cover clients that add CRLF after a body. */
	if (is_req) {
		int skipped = 0;

		while (pos < len && buf[pos] == '\r') {
			if (pos + 1 == len)
				return L7_HTTP1_AGAIN;
			if (buf[pos + 1] != '\n' || ++skipped > 4)
				goto fail;
			pos += 2;
		}
	}
	m->start = pos;
	ls = pos;
	for (;;) {
		const char *nl = memchr(buf + ls, '\n', len - ls);
		size_t e;

		if (nl == NULL) {
			if (first && len - m->start > L7_HTTP1_MAX_LINE && is_req) {
				*status = 414;
				return L7_HTTP1_ERROR;
			}
			if (len - m->start >= L7_HTTP1_MAX_HEAD) {
				*status = is_req ? 431 : 502;
				return L7_HTTP1_ERROR;
			}
			return L7_HTTP1_AGAIN;
		}
		e = (size_t)(nl - buf);
		if (e == ls || buf[e - 1] != '\r')
			goto fail;	/* bare LF */
		e--;	/* line is [ls, e) */
		if (e + 2 - m->start > L7_HTTP1_MAX_HEAD) {
			*status = is_req ? 431 : 502;
			return L7_HTTP1_ERROR;
		}
		if (first) {
			if (is_req && e - ls > L7_HTTP1_MAX_LINE) {
				*status = 414;
				return L7_HTTP1_ERROR;
			}
			if (is_req) {
				if (l7_parse_request_line(buf, ls, e, m, status) < 0)
					return L7_HTTP1_ERROR;
			} else if (l7_parse_status_line(buf, ls, e, m) < 0) {
				goto fail;
			}
			first = 0;
		} else if (e == ls) {
			m->head_len = e + 2;
			break;
		} else if (l7_parse_field(buf, ls, e, m, &f, is_req, bad) < 0) {
			*status = f.status;
			return L7_HTTP1_ERROR;
		}
		ls = e + 2;
	}

	/* Framing (RFC 9112 §6.1 and §6.3). */
	if (f.nte > 0) {
		if (f.ncl > 0 || m->version_minor == 0 || !f.te_chunked_final)
			goto fail;
		m->framing = L7_HTTP1_BODY_CHUNKED;
	} else if (f.ncl > 0) {
		m->content_length = f.cl;
		m->framing = f.cl > 0 ? L7_HTTP1_BODY_LENGTH : L7_HTTP1_BODY_NONE;
	} else {
		m->framing = is_req ? L7_HTTP1_BODY_NONE : L7_HTTP1_BODY_UNTIL_CLOSE;
	}
	if (m->version_minor == 1)
		m->keep_alive = !(m->conn_tokens & L7_HTTP1_CONN_CLOSE);
	else
		m->keep_alive = (m->conn_tokens & L7_HTTP1_CONN_KEEPALIVE) &&
				!(m->conn_tokens & L7_HTTP1_CONN_CLOSE);
	if (is_req) {
		if (m->version_minor == 1 && f.nhost == 0)
			goto fail;	/* RFC 9112 §3.2 */
	} else {
		if (req_method == L7_HTTP1_M_HEAD || m->status < 200 ||
		    m->status == 204 || m->status == 304)
			m->framing = L7_HTTP1_BODY_NONE;
		if (m->framing == L7_HTTP1_BODY_UNTIL_CLOSE)
			m->keep_alive = false;
	}
	return L7_HTTP1_DONE;
fail:
	*status = bad;
	return L7_HTTP1_ERROR;
}

int
l7_http1_parse_request(const char *buf, size_t len, struct l7_http1_msg *m, int *status)
{
	return l7_parse_head(buf, len, m, 1, L7_HTTP1_M_OTHER, status);
}

int
l7_http1_parse_response(const char *buf, size_t len, enum l7_http1_method req_method,
			struct l7_http1_msg *m, int *status)
{
	return l7_parse_head(buf, len, m, 0, req_method, status);
}

void
l7_http1_body_init(struct l7_http1_body *b, const struct l7_http1_msg *m)
{
	memset(b, 0, sizeof(*b));
	l7_cc_init();
	b->framing = m->framing;
	b->cstate = L7_HTTP1_CH_SIZE;
	if (m->framing == L7_HTTP1_BODY_LENGTH)
		b->remaining = m->content_length;
	b->done = m->framing == L7_HTTP1_BODY_NONE ||
		  (m->framing == L7_HTTP1_BODY_LENGTH && m->content_length == 0);
}

/* The chunked state machine; one byte per step except inside chunk data. */
static ssize_t
l7_body_chunked(struct l7_http1_body *b, const char *in, size_t len)
{
	size_t i = 0;

	while (i < len && b->cstate != L7_HTTP1_CH_DONE) {
		unsigned char c = (unsigned char)in[i];

		switch (b->cstate) {
		case L7_HTTP1_CH_SIZE:
		case L7_HTTP1_CH_SIZE_MORE:
			if (IS(CC_HEX, c)) {
				unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

				if (b->ndigits > 0 || d != 0)
					b->ndigits++;
				/* 15 significant digits: below 2^60, no overflow */
				if (b->ndigits > 15)
					return -1;
				b->remaining = b->remaining * 16 + d;
				b->cstate = L7_HTTP1_CH_SIZE_MORE;
			} else if (b->cstate == L7_HTTP1_CH_SIZE) {
				return -1;	/* no digits */
			} else if (c == ';') {
				b->cstate = L7_HTTP1_CH_EXT;
			} else if (c == ' ' || c == '\t') {
				b->cstate = L7_HTTP1_CH_EXT_WS;
			} else if (c == '\r') {
				b->cstate = L7_HTTP1_CH_SIZE_LF;
			} else {
				return -1;
			}
			break;
		case L7_HTTP1_CH_EXT_WS:
			/* BWS is allowed only before ';' (RFC 9112 §7.1.1) */
			if (c == ';')
				b->cstate = L7_HTTP1_CH_EXT;
			else if (c != ' ' && c != '\t')
				return -1;
			break;
		case L7_HTTP1_CH_EXT:
			if (c == '\r')
				b->cstate = L7_HTTP1_CH_SIZE_LF;
			else if (!IS(CC_VALUE, c))
				return -1;
			break;
		case L7_HTTP1_CH_SIZE_LF:
			if (c != '\n')
				return -1;
			b->line_len = 0;
			b->ndigits = 0;
			b->cstate = b->remaining == 0 ? L7_HTTP1_CH_TRAILER_START : L7_HTTP1_CH_DATA;
			i++;
			continue;
		case L7_HTTP1_CH_DATA: {
			size_t n = len - i;

			if (n > b->remaining)
				n = (size_t)b->remaining;
			b->remaining -= n;
			i += n;
			if (b->remaining == 0)
				b->cstate = L7_HTTP1_CH_DATA_CR;
			continue;
		}
		case L7_HTTP1_CH_DATA_CR:
			if (c != '\r')
				return -1;
			b->cstate = L7_HTTP1_CH_DATA_LF;
			break;
		case L7_HTTP1_CH_DATA_LF:
			if (c != '\n')
				return -1;
			b->cstate = L7_HTTP1_CH_SIZE;
			i++;
			continue;
		case L7_HTTP1_CH_TRAILER_START:
			if (c == '\r')
				b->cstate = L7_HTTP1_CH_FINAL_LF;
			else if (IS(CC_TCHAR, c))
				b->cstate = L7_HTTP1_CH_TRAILER_NAME;
			else
				return -1;	/* obs-fold, bare LF, junk */
			break;
		case L7_HTTP1_CH_TRAILER_NAME:
			if (c == ':')
				b->cstate = L7_HTTP1_CH_TRAILER_VALUE;
			else if (!IS(CC_TCHAR, c))
				return -1;
			break;
		case L7_HTTP1_CH_TRAILER_VALUE:
			if (c == '\r')
				b->cstate = L7_HTTP1_CH_TRAILER_LF;
			else if (!IS(CC_VALUE, c))
				return -1;
			break;
		case L7_HTTP1_CH_TRAILER_LF:
			if (c != '\n')
				return -1;
			b->cstate = L7_HTTP1_CH_TRAILER_START;
			break;
		case L7_HTTP1_CH_FINAL_LF:
			if (c != '\n')
				return -1;
			b->cstate = L7_HTTP1_CH_DONE;
			b->done = true;
			break;
		case L7_HTTP1_CH_DONE:
			break;
		}
		/* size lines and trailers are bounded; data is not */
		if (++b->line_len > (b->cstate >= L7_HTTP1_CH_TRAILER_START ?
				     L7_HTTP1_MAX_TRAILERS : L7_HTTP1_MAX_CHUNK_LINE))
			return -1;
		i++;
	}
	return (ssize_t)i;
}

ssize_t
l7_http1_body_feed(struct l7_http1_body *b, const char *in, size_t len)
{
	ssize_t n;

	if (b->done)
		return 0;
	switch (b->framing) {
	case L7_HTTP1_BODY_LENGTH:
		n = (ssize_t)(len < b->remaining ? len : b->remaining);
		b->remaining -= (uint64_t)n;
		b->done = b->remaining == 0;
		break;
	case L7_HTTP1_BODY_CHUNKED:
		n = l7_body_chunked(b, in, len);
		break;
	case L7_HTTP1_BODY_UNTIL_CLOSE:
		n = (ssize_t)len;
		break;
	default:
		n = 0;
		break;
	}
	if (n > 0)
		b->total += (uint64_t)n;
	return n;
}

ssize_t
l7_http1_body_take(struct l7_http1_body *b, const char *in, size_t len, struct buf *data,
		   struct buf *trl)
{
	size_t used = 0;

	while (used < len && !b->done) {
		int payload = b->framing != L7_HTTP1_BODY_CHUNKED ||
			      (b->cstate == L7_HTTP1_CH_DATA && b->remaining > 0);
		int trailer = b->framing == L7_HTTP1_BODY_CHUNKED &&
			      b->cstate >= L7_HTTP1_CH_TRAILER_START;
		size_t k = len - used;
		ssize_t n;

		if (payload) {
			if (buf_room(data) < k)
				buf_compact(data);
			if (k > buf_room(data))
				k = buf_room(data);
			if (b->framing == L7_HTTP1_BODY_CHUNKED && k > b->remaining)
				k = (size_t)b->remaining;
			if (k == 0)
				break;	/* data is full */
		} else {
			k = 1;	/* framing: a byte at a time (short lines) */
		}
		n = l7_http1_body_feed(b, in + used, k);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (payload)
			buf_append(data, in + used, (size_t)n);	/* fits: room checked */
		else if (trailer && trl != NULL && buf_append(trl, in + used, (size_t)n) < 0)
			return -1;	/* cannot happen: trailers are capped below trl's size */
		used += (size_t)n;
	}
	return (ssize_t)used;
}

int
l7_http1_body_eof(struct l7_http1_body *b)
{
	if (b->framing == L7_HTTP1_BODY_UNTIL_CLOSE)
		b->done = true;
	return b->done;
}

int
l7_http1_conn_lists(const char *buf, const struct l7_http1_msg *m,
		    const struct l7_http1_header *h)
{
	size_t i;

	if (!(m->conn_tokens & L7_HTTP1_CONN_OTHER))
		return 0;
	for (i = 0; i < m->nheaders; i++) {
		const struct l7_http1_header *c = &m->headers[i];
		const char *p = buf + c->value.off;
		size_t len = c->value.len, k = 0;

		if (!l7_http1_span_eq(buf, c->name, "connection"))
			continue;
		while (k < len) {
			size_t s;

			while (k < len && (p[k] == ' ' || p[k] == '\t' || p[k] == ','))
				k++;
			s = k;
			while (k < len && p[k] != ',' && p[k] != ' ' && p[k] != '\t')
				k++;
			if (k > s && h->name.len == k - s &&
			    strncasecmp(buf + h->name.off, p + s, k - s) == 0)
				return 1;
		}
	}
	return 0;
}

const char *
l7_http1_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
