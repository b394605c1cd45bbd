/*
 * fuzz_h2 - libFuzzer driver for the HTTP/2 front end (l7_h2.c on nghttp2,
 * with l7_http1 for the responses): the input, after the client preface,
 * is what a client sends, fed in pieces; requests are played by stubs of
 * the l7__h2_* hooks that answer each stream with one of three canned
 * HTTP/1.1 responses (length, chunked, close-delimited) as the proxy would.
 */
#include "config.h"

#define _GNU_SOURCE	/* memmem */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "l7_freelist.h"
#include "l7_h2.h"
#include "l7_mpool.h"

struct fake {
	struct l7_h2_stream *s;
	struct buf in, out;
	bool answered;
	struct fake *prev, *next;
};

static struct fake *fakes;
static unsigned variant;
static struct l7_freelist *fbufs;	/* a request's in buffer comes from here, as in the proxy */

static void
fake_free(struct fake *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		fakes = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	l7_buf_give(fbufs, &f->in);
	buf_release(&f->out);
	free(f);
}

void *
l7__h2_request_new(void *owner, struct l7_h2_stream *s)
{
	struct fake *f = calloc(1, sizeof(*f));

	(void)owner;
	/* in: no storage yet; l7_h2_stream_fill hands over the head's buffer */
	if (f == NULL || buf_init(&f->out, 16896) < 0) {
		free(f);
		return NULL;
	}
	f->s = s;
	f->next = fakes;
	if (fakes != NULL)
		fakes->prev = f;
	fakes = f;
	return f;
}

void
l7__h2_request_kick(void *req)
{
	(void)req;
}

void
l7__h2_request_detach(void *req)
{
	fake_free(req);
}

void
l7__h2_conn_kick(void *owner)
{
	(void)owner;
}

static const char *const responses[3] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n"
	"Connection: close\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close",
};

/* Plays every request once, as the proxy's step would. */
static void
run_requests(void)
{
	struct fake *f, *next;

	for (f = fakes; f != NULL; f = next) {
		next = f->next;
		if (l7_h2_stream_fill(f->s, &f->in) < 0) {
			l7_h2_stream_gone(&f->s, 0);
			fake_free(f);
			continue;
		}
		if (!f->answered && memmem(buf_head(&f->in), buf_len(&f->in), "\r\n\r\n", 4)) {
			f->answered = true;
			f->in.rpos = f->in.wpos = 0;
			buf_append(&f->out, responses[variant % 3], strlen(responses[variant % 3]));
			variant++;
		}
		f->in.rpos = f->in.wpos = 0;	/* the body goes nowhere */
		if (buf_len(&f->out) > 0 && l7_h2_stream_drain(f->s, &f->out) < 0) {
			l7_h2_stream_gone(&f->s, 0);
			fake_free(f);
			continue;
		}
		if (f->answered && buf_len(&f->out) == 0) {
			l7_h2_stream_gone(&f->s, 1);
			fake_free(f);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct conf_l7_h2 lim = {
		.h2c = true, .max_streams = 8, .max_header_list = 4096, .window = 65535,
		.max_continuations = 8, .resets_per_s = 50, .pings_per_s = 20,
		.settings_per_s = 20, .empty_frames_per_s = 50,
	};
	/* the proxy's L7_BUF_SIZE blocks; every one must come back */
	struct l7_freelist bufs;
	struct l7_mpool mp;	/* streams and nghttp2's objects: all back at the end too */
	struct l7_h2_conn *h;
	struct buf out;
	uint64_t now = 1000;
	size_t off = 0;

	l7_freelist_init(&bufs, 16384 + 512, 4);
	l7_mpool_init(&mp, 4);
	fbufs = &bufs;
	h = l7_h2_conn_new(&lim, NULL, &bufs, &mp);
	if (h == NULL || buf_init(&out, 16384) < 0) {
		l7_h2_conn_free(&h);
		l7_freelist_release(&bufs);
		l7_mpool_release(&mp);
		return 0;
	}
	variant = size;
	if (l7_h2_conn_input(h, magic, sizeof(magic) - 1, now) >= 0) {
		/* pieces of 1..64 bytes, sized by the byte at the cut, so frames
		 * arrive split at every offset */
		while (off < size) {
			size_t n = (size_t)(data[off] & 63) + 1;

			if (n > size - off)
				n = size - off;
			if (l7_h2_conn_input(h, (const char *)data + off, n, now) < 0)
				break;
			off += n;
			now += 7;
			run_requests();
			l7_h2_conn_output(h, &out);
			out.rpos = out.wpos = 0;
			run_requests();
			l7_h2_conn_output(h, &out);
			out.rpos = out.wpos = 0;
		}
	}
	l7_h2_conn_output(h, &out);
	l7_h2_conn_alive(h);
	l7_h2_conn_free(&h);
	buf_release(&out);
	if (bufs.in_use != 0)
		__builtin_trap();	/* a stream kept a buffer after the session ended */
	if (l7_mpool_in_use(&mp) != 0)
		__builtin_trap();	/* a stream or nghttp2 object outlived the session */
	l7_freelist_release(&bufs);
	l7_mpool_release(&mp);
	return 0;
}
